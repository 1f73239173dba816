"""Validation case 5: time to survive (Simchi-Levi, Schmidt & Wei 2014).

The main supplier is cut off for 270 days from day 0 (capacity factor 0). The
buyer holds 900 t on hand and 300 t in transit from it, demand is a
deterministic 10 t/day with lost sales, and an alternate source delivers
4 t/day (1,460 t/yr, no lead time). Stock falls by 10 - 4 = 6 t/day, so the
1,200 t last 200 days: the time to survive is 200 days, then 6 t/day is lost
for the remaining 70 days (420 t), and the fill rate over the 270 days is
(2,700 - 420) / 2,700 = 0.844444.
"""
from __future__ import annotations

import math

import pytest

from supplysim import Simulation, load_model

MODEL = """
[model]
name = "time-to-survive"
start = 2024-01-01

[commodities.magnet]
content = {NdPr = 0.3, Fe = 0.69, B = 0.01}

[facilities.main_supplier]
stage = "magnet"
country = "CN"
output = "magnet"
capacity = 36500

[facilities.alternate]
stage = "magnet"
country = "JP"
output = "magnet"
capacity = 1460                  # 4 t/day

[lanes.main-buyer]
from = "main_supplier"
to = "buyer"
commodity = "magnet"
lead_time = 20
in_transit = 300

[lanes.alternate-buyer]
from = "alternate"
to = "buyer"
commodity = "magnet"
lead_time = 0

[demand.buyer]
region = "US"
commodity = "magnet"
rate_per_day = 10
variability = "none"
unmet = "lost"
initial_stock = 900
sourcing = {policy = "base_stock", target = 5000}

[disruptions.cutoff]
kind = "facility_outage"
facilities = ["main_supplier"]
capacity_factor = 0
start = 2024-01-01
days = 270
"""

TTS = 200.0
LOST = 420.0
FILL = 2280.0 / 2700.0


@pytest.fixture
def model(write_model):
    return load_model(write_model(MODEL))


def test_time_to_survive(model):
    res = Simulation(model, seed=1).run(until=270)
    s = res.sinks["buyer"]
    assert s["first_unmet_day"] == TTS
    assert s["demand_t"] == pytest.approx(2700.0, rel=1e-12)
    assert s["lost_t"] == pytest.approx(LOST, rel=1e-12)
    assert s["unmet_demand_t"] == pytest.approx(LOST, rel=1e-12)
    assert s["fill_rate"] == pytest.approx(FILL, rel=1e-12)
    assert s["fill_rate"] == pytest.approx(0.844444, abs=5e-7)
    assert res.kpis["fill_rate"] == pytest.approx(FILL, rel=1e-12)
    assert res.kpis["lost_t"] == pytest.approx(LOST, rel=1e-12)
    assert s["backlog_end_t"] == 0.0
    # the cut-off supplier made and shipped nothing; the alternate ran flat out
    assert res.facilities["main_supplier"]["production_t"] == 0.0
    assert res.lanes["main-buyer"]["shipped_t"] == 0.0
    assert res.facilities["alternate"]["production_t"] == pytest.approx(4.0 * 270, rel=1e-12)
    assert res.lanes["alternate-buyer"]["shipped_t"] == pytest.approx(4.0 * 270, rel=1e-12)
    # regional view agrees
    assert res.regions["US"]["lost_t"] == pytest.approx(LOST, rel=1e-12)


def test_no_shortage_before_tts_and_six_a_day_after(model):
    """The monthly lost-sales series: nothing lost before day 200, 6 t/day from then on."""
    res = Simulation(model, seed=1).run(until=270)
    labels, lost = res.series["lost"]
    starts = model.calendar.month_starts(270) + [270.0]
    assert lost.shape == (len(starts) - 1, 1) and labels == ["buyer"]
    for i in range(len(starts) - 1):
        a, b = starts[i], starts[i + 1]
        expected = 6.0 * max(0.0, b - max(a, TTS))
        assert lost[i, 0] == pytest.approx(expected, abs=1e-9), res.months[i]
    assert lost.sum() == pytest.approx(LOST, rel=1e-12)


def test_shorter_horizon_has_no_shortage(model):
    res = Simulation(model, seed=1).run(until=TTS)
    s = res.sinks["buyer"]
    assert math.isnan(s["first_unmet_day"])
    assert s["fill_rate"] == 1.0
    assert s["lost_t"] == 0.0


def test_recovery_after_outage(model):
    """After day 270 the main supplier is back: no more lost sales once its first shipment lands."""
    res = Simulation(model, seed=1).run(until=400)
    s = res.sinks["buyer"]
    assert s["first_unmet_day"] == TTS
    assert res.facilities["main_supplier"]["production_t"] > 0
    assert res.lanes["main-buyer"]["shipped_t"] > 0
    # sales are lost only until the first post-outage shipment arrives (day 270 + 20 lead time)
    assert LOST <= s["lost_t"] <= LOST + 6.0 * 20 + 1e-9
