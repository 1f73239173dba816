"""Validation case 1: continuous-review base stock with Poisson demand (Hadley & Whitin).

Unit orders arrive in a Poisson process at rate 4/day; the buyer reviews
continuously and orders up to S; replenishment takes a constant 5 days from an
unlimited source; shortages are backordered. The inventory position is always
S, so net inventory is S - D where D ~ Poisson(lambda L = 20) is the demand in
one lead time (Hadley & Whitin 1963; Zipkin 2000, ch. 6):

* fill rate (share of unit orders served from stock) = P(D <= S - 1)
* expected backorders = E[(D - S)+]
* expected on hand = S - lambda L + E[backorders]
* expected in transit = lambda L = 20 (Little's law)
"""
from __future__ import annotations

import numpy as np
import pytest

from supplysim import Simulation, load_model
from supplysim.materials import ELEMENT_INDEX

RATE, LEAD = 4.0, 5.0
SEED = 20240101
WARMUP = 100.0

# S: (fill rate, E backorders, E on hand)
EXACT = {
    20: (0.470257, 1.776706, 1.776706),
    25: (0.843227, 0.330828, 5.330828),
    28: (0.947519, 0.088276, 8.088276),
}

MODEL = """
[model]
name = "base-stock-poisson"
start = 2024-01-01

[commodities.widget]
content = {{NdPr = 1.0}}

[facilities.supplier]
stage = "source"
country = "XX"
output = "widget"
unlimited = true

[lanes.supplier-buyer]
from = "supplier"
to = "buyer"
commodity = "widget"
lead_time = {{dist = "constant", days = {lead}}}

[demand.buyer]
region = "R"
commodity = "widget"
rate_per_day = {rate}
variability = "poisson"
order_interval_days = 0          # Poisson process of unit orders
unmet = "backorder"
initial_stock = {S}
sourcing = {{policy = "base_stock", target = {S}, review_days = 0}}
costs = {{holding_per_t_day = 1.0}}
"""


def _model(write_model, S):
    return load_model(write_model(MODEL.format(S=S, rate=RATE, lead=LEAD), f"bs{S}.toml"))


def _plan(full):
    # full plan: 20 replications x 5,100 days; reduced: 10 x 5,100 with looser precision
    if full:
        return 20, 5100.0, {"fill": 0.05, "on_hand": 0.05, "backorders": {20: 0.10, 25: 0.10, 28: 0.15}}
    return 10, 5100.0, {"fill": 0.10, "on_hand": 0.10, "backorders": {20: 0.25, 25: 0.25, 28: 0.30}}


def test_exact_values_are_the_poisson_formulas():
    """The constants of this case follow from the Poisson(20) lead-time demand."""
    from math import exp, lgamma, log
    mu = RATE * LEAD
    pmf = np.array([exp(k * log(mu) - mu - lgamma(k + 1)) for k in range(200)])
    k = np.arange(200)
    for S, (fill, bo, oh) in EXACT.items():
        assert pmf[:S].sum() == pytest.approx(fill, abs=1e-6)
        ebo = float((np.maximum(k - S, 0) * pmf).sum())
        assert ebo == pytest.approx(bo, abs=1e-6)
        assert S - mu + ebo == pytest.approx(oh, abs=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("S", sorted(EXACT))
def test_base_stock_fill_backorders_on_hand(write_model, exact_in_ci, full_plan, S):
    reps, until, prec = _plan(full_plan)
    model = _model(write_model, S)
    fill, bo, oh, oh_cost = [], [], [], []
    for r in range(reps):
        res = Simulation(model, seed=SEED, replication=r).run(until=until, warmup=WARMUP)
        fill.append(res.kpis["fill_rate"])
        bo.append(res.kpis["mean_backlog_t"])
        oh.append(res.facilities["buyer"]["mean_inventory_t"])
        oh_cost.append(res.kpis["cost_holding"] / (until - WARMUP))
        # only the buyer's buffer holds stock and it is charged 1 per t-day
        assert oh_cost[-1] == pytest.approx(oh[-1], rel=1e-9)
        # unit orders: every demand is an integer and so is every fill
        assert res.kpis["demand_t"] == round(res.kpis["demand_t"])
        assert res.kpis["filled_t"] == round(res.kpis["filled_t"])
        assert res.kpis["lost_t"] == 0.0
    f_exact, bo_exact, oh_exact = EXACT[S]
    exact_in_ci(fill, f_exact, prec["fill"], label=f"S={S} fill rate")
    exact_in_ci(bo, bo_exact, prec["backorders"][S], label=f"S={S} mean backorders")
    exact_in_ci(oh, oh_exact, prec["on_hand"], label=f"S={S} mean on hand")
    # the replications are independent streams, not copies
    assert len(set(fill)) == reps


@pytest.mark.slow
def test_in_transit_littles_law(write_model, exact_in_ci, full_plan):
    """Time-average quantity in transit = arrival rate x lead time = 20 (Little).

    Sampled once a day (at half-days, away from event times) by stepping the
    environment and reading the element balance.
    """
    reps, days = (10, 5000) if full_plan else (5, 2000)
    model = _model(write_model, 25)
    nd = ELEMENT_INDEX["NdPr"]
    means = []
    for r in range(reps):
        sim = Simulation(model, seed=SEED, replication=r)
        samples = []
        for t in WARMUP + 0.5 + np.arange(days):
            sim.env.run(until=float(t))
            samples.append(sim.balance()["in_transit"][nd])
        sim.check_invariants()
        means.append(float(np.mean(samples)))
    exact_in_ci(means, RATE * LEAD, 0.05, label="mean in transit")
