"""Validation case 2: periodic-review (s, S) with zero lead time (Zheng & Federgruen 1991).

Each day the buyer reviews its inventory position and, if it is at or below s,
orders up to S (fixed cost K per order); the order arrives at once; Poisson
demand of the day follows and shortages are backordered. Costs are h per unit
on hand and p per unit backordered at the end of the period, so the engine's
time-average holding and backorder costs per day equal the textbook cost per
period. The exact average costs are from Zheng & Federgruen (1991, Table I,
h=1, p=9, K=64) and Snyder & Shen (2019, Example 4.7, h=1, p=4, K=5).
"""
from __future__ import annotations

import numpy as np
import pytest

from supplysim import Simulation, load_model

SEED = 31415
WARMUP = 100.0
PRECISION = 0.02

# (mean demand per day, s, S, h, p, K, exact cost per period)
CASES = [
    (10, 6, 40, 1, 9, 64, 35.0216),
    (15, 10, 49, 1, 9, 64, 42.6978),
    (20, 14, 62, 1, 9, 64, 49.1730),
    (6, 4, 10, 1, 4, 5, 8.034112),     # Snyder & Shen, Example 4.7
]

MODEL = """
[model]
name = "sS-periodic"
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
lead_time = 0

[demand.buyer]
region = "R"
commodity = "widget"
rate_per_day = {mu}
variability = "poisson"
order_interval_days = 1
unmet = "backorder"
initial_stock = {S}
sourcing = {{policy = "sS", s = {s}, S = {S}, review_days = 1, ordering_cost = {K}}}
costs = {{holding_per_t_day = {h}, backorder_per_t_day = {p}}}
"""


def _exact_cost(mu, s, S, h, p, K):
    """Average cost per period of the (s, S) chain, by its stationary distribution."""
    from math import exp, lgamma, log
    lo = -400
    d = np.arange(0, 400)
    pmf = np.array([exp(k * log(mu) - mu - lgamma(k + 1)) for k in d])
    ys = np.arange(lo, S + 1)
    n = len(ys)
    P = np.zeros((n, n))
    c = np.zeros(n)
    for i, x in enumerate(ys):
        y = S if x <= s else x
        c[i] = float((pmf * (h * np.maximum(y - d, 0) + p * np.maximum(d - y, 0))).sum()) + (K if x <= s else 0)
        nxt = np.maximum(y - d, lo) - lo
        np.add.at(P[i], nxt, pmf)
    A = np.vstack([P.T - np.eye(n), np.ones(n)])
    b = np.zeros(n + 1)
    b[-1] = 1.0
    pi = np.linalg.lstsq(A, b, rcond=None)[0]
    return float(pi @ c)


@pytest.mark.parametrize("mu,s,S,h,p,K,exact", CASES)
def test_exact_costs_match_markov_chain(mu, s, S, h, p, K, exact):
    """The published constants agree with the stationary Markov chain of the policy."""
    assert _exact_cost(mu, s, S, h, p, K) == pytest.approx(exact, abs=6e-5)


@pytest.mark.slow
@pytest.mark.parametrize("mu,s,S,h,p,K,exact", CASES)
def test_sS_average_cost_per_period(write_model, exact_in_ci, full_plan, mu, s, S, h, p, K, exact):
    reps, until = (20, 5100.0) if full_plan else (10, 5100.0)
    model = load_model(write_model(MODEL.format(mu=mu, s=s, S=S, h=h, p=p, K=K), f"sS_{mu}.toml"))
    periods = until - WARMUP
    costs = []
    for r in range(reps):
        res = Simulation(model, seed=SEED, replication=r).run(until=until, warmup=WARMUP)
        k = res.kpis
        costs.append(k["cost_total"] / periods)
        # only these three costs exist in this model
        assert k["cost_total"] == pytest.approx(k["cost_ordering"] + k["cost_holding"] + k["cost_shortage"])
        assert k["cost_transport"] == 0.0 and k["cost_production"] == 0.0
        # ordering cost is K per order placed after the warm-up, at most one order per review
        orders = res.facilities["buyer"]["orders"]
        assert k["cost_ordering"] == pytest.approx(K * orders)
        assert 0 < orders <= periods
        # an order brings the position up to S, so it covers at least S - s units of demand
        assert orders <= k["demand_t"] / (S - s) + 1
    exact_in_ci(costs, exact, PRECISION, label=f"(s,S)=({s},{S}) mean {mu} cost per period")
