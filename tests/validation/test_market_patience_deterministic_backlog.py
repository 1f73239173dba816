"""Market case 3: a patience distribution loses exactly the share it gives in a deterministic backlog.

A buyer with no stock orders 5 t at the start of every day; its only supplier is shut
for the first T = 60 days and then has ample capacity, so the whole backlog is served
at day 60. An order placed on day t is lost if its patience W runs out first
(``t + W < 60``) and is served on day 60 otherwise.

* Constant patience W = 20.5 days: the orders of days 0-39 are lost (200 t), those
  of days 40-59 are served on day 60 (100 t); later orders are served at once.
* Patience drawn from a distribution: each order is lost exactly when its own draw
  says so, and over replications the lost share of the outage's orders is
  ``mean over t of P(W < 60 - t)``: 37.5% for W uniform on {10.5, 30.5, 50.5, 70.5}.
"""
from __future__ import annotations

import numpy as np
import pytest

from supplysim import Simulation, load_model
from supplysim.random import BLOCK, stream

T, D = 60, 5.0

MODEL = """
[model]
name = "patience"
start = 2024-01-01

[commodities.widget]
content = {{NdPr = 1.0}}

[facilities.maker]
stage = "source"
country = "XX"
output = "widget"
capacity = 1000000
target_cover_days = 1

[lanes.maker-buyer]
from = "maker"
to = "buyer"
commodity = "widget"
lead_time = 0

[demand.buyer]
region = "R"
sector = "all"
commodity = "widget"
rate_per_day = {d}
variability = "none"
order_interval_days = 1
unmet = "backorder"
initial_stock = 0
sourcing = {{policy = "base_stock", target = 0, review_days = 0}}

[disruptions.shut]
kind = "facility_outage"
facilities = ["maker"]
capacity_factor = 0
start = 2024-01-01
days = {t}

[market.markets.home]
countries = "others"

[market.prices.widget]
reference = {{home = 50.0}}

[market.demand.all]
patience_days = {patience}
"""

VALUES = [10.5, 30.5, 50.5, 70.5]
EMPIRICAL = "{dist = \"empirical\", values = [10.5, 30.5, 50.5, 70.5]}"


def _model(write_model, patience):
    return load_model(write_model(MODEL.format(d=D, t=T, patience=patience)))


def test_constant_patience_loses_the_orders_that_wait_longer(write_model):
    res = Simulation(_model(write_model, 20.5), seed=1).run(until=90)
    assert res.kpis["demand_t"] == pytest.approx(90 * D)
    assert res.kpis["lost_t"] == pytest.approx(40 * D, abs=1e-9)
    # delivered: the 20 patient orders on day 60, then days 60-89 as they come
    assert res.sinks["buyer"]["lost_t"] + sum(res.series["delivered"][1][:, 0]) == pytest.approx(90 * D)
    assert sum(res.series["delivered"][1][:, 0]) == pytest.approx(50 * D, abs=1e-9)
    assert res.kpis["backlog_end_t"] == pytest.approx(0.0, abs=1e-9)
    lost = res.series["lost"][1][:, 0]
    # orders of days 0-10 run out of patience in January (days 20.5-30.5), those of days 11-39 in February
    assert lost[0] == pytest.approx(D * 11, abs=1e-9) and lost[1] == pytest.approx(D * 29, abs=1e-9)


def test_each_order_is_lost_exactly_when_its_draw_says_so(write_model):
    model = _model(write_model, EMPIRICAL)
    dist = model.market.demand["all"].patience
    for rep in range(5):
        res = Simulation(model, seed=7, replication=rep).run(until=90)
        rng = stream(7, rep, "patience:buyer")   # the sink's own stream (rule R3), one draw per order
        w = dist.transform(rng.random(BLOCK), rng.standard_normal(BLOCK))[:T]
        expect = D * float(np.sum(np.arange(T) + w < T))
        assert res.kpis["lost_t"] == pytest.approx(expect, abs=1e-9)


def test_lost_share_is_the_distribution_average(write_model, exact_in_ci):
    model = _model(write_model, EMPIRICAL)
    t = np.arange(T)
    share = float(np.mean([np.mean(np.asarray(VALUES) < T - x) for x in t]))
    assert share == pytest.approx(0.375)
    lost = [Simulation(model, seed=11, replication=r).run(until=T + 1).kpis["lost_t"] / (T * D) for r in range(200)]
    exact_in_ci(lost, share, 0.05, label="lost share of the outage's orders")
