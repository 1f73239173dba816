"""Market case 1: partial adjustment of the log price converges at its geometric rate.

The holder keeps exactly ``target_days`` of cover (an unlimited supplier with no lead
time refills it at every order), so its relative cover ``x`` is the constant
``target_days / reference_cover_days = 0.5``. The price rule's target is then
``P* = P0 x^-b = 2 P0`` (stock elasticity ``b = 1``) and each month the log price
closes ``a = 0.25`` of its gap to the target: after ``n`` month ends

    log P_n = log P* - (1 - a)^n (log P* - log P0).

With demand responding to the price at once with constant elasticity ``e = -0.3``,
the orders of month ``n + 1`` are the base demand times ``(P_n / P0)^e`` exactly, where
``P_n`` is the price set at the end of month ``n``. (The holder then sells down the
stock it no longer needs over a few days, so its cover, and the price path, move a
little: the geometric rate is checked without the response.)
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from supplysim import Simulation, load_model
from supplysim.engine.market import price_step

P0, A, B, E, RATE = 50.0, 0.25, 1.0, -0.3, 10.0

MODEL = """
[model]
name = "partial-adjustment"
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
sector = "all"
commodity = "widget"
rate_per_day = {rate}
variability = "none"
order_interval_days = 1
initial_stock = 300
sourcing = {{policy = "base_stock", target_days = 30, review_days = 0}}

[market.markets.home]
countries = "others"

[market.prices.widget]
reference = {{home = {p0}}}
reference_cover_days = {{home = 60}}
adjustment = {a}
stock_elasticity = {b}
{demand}
"""

DEMAND = """
[market.demand.all]
elasticity_short = {e}
elasticity_long = {e}
"""


def _run(write_model, with_demand, years=3):
    text = MODEL.format(rate=RATE, p0=P0, a=A, b=B, demand=DEMAND.format(e=E) if with_demand else "")
    model = load_model(write_model(text))
    return model, Simulation(model, seed=1).run(years=years)


def test_price_step_closes_its_share_of_the_gap():
    from types import SimpleNamespace as NS
    rule = NS(adjustment=A, stock_elasticity=B, cover_floor=0.1, cover_ceiling=2.0)
    lp, lp0 = math.log(P0), math.log(P0)
    for n in range(1, 25):
        lp = price_step(lp, lp0, 0.5, rule)
        assert lp == pytest.approx(math.log(2 * P0) - (1 - A) ** n * math.log(2), abs=1e-12)
    # relative cover is clipped before it sets the target: the floor caps the price at P0 / floor
    assert price_step(lp0, lp0, 0.0, NS(adjustment=1.0, stock_elasticity=1.0, cover_floor=0.1,
                                        cover_ceiling=2.0)) == pytest.approx(math.log(10 * P0))


def test_partial_adjustment_converges_at_its_geometric_rate(write_model):
    model, res = _run(write_model, False)
    labels, prices = res.series["price"]
    assert labels == ["widget@home"]
    p = prices[:, 0]
    n = np.arange(1, len(p) + 1)
    expect = 2 * P0 * np.exp(-((1 - A) ** n) * math.log(2))
    np.testing.assert_allclose(p, expect, rtol=1e-9)
    # the gap shrinks by exactly (1 - a) each month
    gaps = np.log(2 * P0) - np.log(p)
    np.testing.assert_allclose(gaps[1:] / gaps[:-1], 1 - A, rtol=1e-6)


def test_constant_elasticity_scales_demand_by_price_ratio_to_the_e(write_model):
    model, res = _run(write_model, True)
    p = res.series["price"][1][:, 0]
    d = res.series["demand"][1][:, 0]
    starts = model.calendar.month_starts(3 * 365) + [3 * 365]
    days = np.diff(starts)
    assert d[0] == pytest.approx(RATE * days[0], rel=1e-12)            # month 1: the reference price
    np.testing.assert_allclose(d[1:], RATE * days[1:] * (p[:-1] / P0) ** E, rtol=1e-12)
    assert res.kpis["fill_rate"] == 1.0
