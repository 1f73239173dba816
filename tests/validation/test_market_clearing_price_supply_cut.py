"""Market case 2: a fixed supply cut reaches the closed-form clearing price and quantity.

A maker supplies 10 t/day to a buyer whose deterministic demand is 10 t/day at the
reference price P0 = 50 $/kg. From 2025 its capacity is cut to Q = 8 t/day. Demand
responds to the price at once, with elasticity e = -0.5:

* linear demand ``D(P) = D0 (1 + e (P/P0 - 1))`` clears at ``P = P0 (1 + (Q/D0 - 1)/e) = 70``;
* constant-elasticity demand ``D(P) = D0 (P/P0)^e`` clears at ``P = P0 (Q/D0)^(1/e) = 78.125``.

In both, the quantity traded is the supply, Q = 8 t/day. The price rule moves the
price with the buyer's cover until demand equals supply, whatever its adjustment speed
and stock elasticity, so the run must settle at the closed-form price and quantity.
"""
from __future__ import annotations

import numpy as np
import pytest

from supplysim import Simulation, load_model

P0, D0, Q, E = 50.0, 10.0, 8.0, -0.5
CLEARING = {"linear": P0 * (1 + (Q / D0 - 1) / E), "constant": P0 * (Q / D0) ** (1 / E)}

MODEL = """
[model]
name = "supply-cut"
start = 2024-01-01

[commodities.widget]
content = {{NdPr = 1.0}}

[facilities.maker]
stage = "source"
country = "XX"
output = "widget"
capacity = 3650          # 10 t/day
target_cover_days = 5
initial_stock = {{widget = 50}}

[lanes.maker-buyer]
from = "maker"
to = "buyer"
commodity = "widget"
lead_time = 0

[demand.buyer]
region = "R"
sector = "all"
commodity = "widget"
rate_per_day = 10
variability = "none"
order_interval_days = 1
initial_stock = 300
sourcing = {{policy = "base_stock", target_days = 30, review_days = 0}}

[disruptions.cut]
kind = "facility_outage"
facilities = ["maker"]
capacity_factor = 0.8
start = 2025-01-01

[market.markets.home]
countries = "others"

[market.prices.widget]
reference = {{home = {p0}}}
adjustment = 0.5
stock_elasticity = 1.0

[market.demand.all]
form = "{form}"
elasticity_short = {e}
elasticity_long = {e}
"""


def test_clearing_values_follow_from_the_demand_curves():
    assert CLEARING["linear"] == pytest.approx(70.0)
    assert CLEARING["constant"] == pytest.approx(78.125)
    assert D0 * (1 + E * (CLEARING["linear"] / P0 - 1)) == pytest.approx(Q)
    assert D0 * (CLEARING["constant"] / P0) ** E == pytest.approx(Q)


@pytest.mark.parametrize("form", ["linear", "constant"])
def test_supply_cut_reaches_the_clearing_price_and_quantity(write_model, form):
    years = 12
    model = load_model(write_model(MODEL.format(p0=P0, e=E, form=form)))
    res = Simulation(model, seed=1).run(years=years)
    p = res.series["price"][1][:, 0]
    starts = model.calendar.month_starts(years * 365) + [years * 365]
    days = np.diff(starts)
    demand = res.series["demand"][1][:, 0] / days
    delivered = res.series["delivered"][1][:, 0] / days
    # before the cut the market holds its reference price and full demand
    np.testing.assert_allclose(p[:11], P0, rtol=1e-9)
    np.testing.assert_allclose(demand[:12], D0, rtol=1e-9)
    # the last two years: the closed-form price and quantity
    np.testing.assert_allclose(p[-24:], CLEARING[form], rtol=1e-4)
    np.testing.assert_allclose(demand[-24:], Q, rtol=1e-4)
    np.testing.assert_allclose(delivered[-24:], Q, rtol=1e-4)
    assert res.kpis["lost_t"] == 0.0
