"""Disruptions and responses: random outages, expansions, release stockpiles, supplier
qualification, substitution, lane delays and closures, demand shocks.

Each case writes a small TOML model into ``tmp_path`` and loads it through the
public :func:`supplysim.load_model`. Demand is deterministic (``variability =
"none"``) wherever the expected figure is exact. Where a check needs the
instant of each shipment and its time in transit, the simulation's shipment
trace records them.
"""
from __future__ import annotations

import math
import textwrap
from collections import defaultdict

import numpy as np
import pytest

from supplysim import Simulation, load_model

SEED = 4242
# 2024 is a leap year: 1 April = day 91, 1 July = day 182, 1 September = day 244
APR, JUL, SEP = 91.0, 182.0, 244.0


def _run(write_model, text, until=365.0, seed=SEED, rep=0, name="model.toml"):
    sim = Simulation(load_model(write_model(textwrap.dedent(text), name)), seed=seed, replication=rep)
    return sim


def _col(res, name, label):
    labels, arr = res.series[name]
    return arr[:, labels.index(label)]


def _record(sim, node_id, extra=None):
    """Log every shipment leaving ``node_id`` as (day, lane id, tonnes, extra(now))."""
    log = []

    def seen(s, days):
        if s.lane.src.id == node_id:
            now = sim.env.now
            log.append((now, s.lane.id, s.qty, extra(now) if extra else None))
    sim.on_shipment(seen)
    return log


# ---- random outages ------------------------------------------------------------------------------------
PLANT = """
[model]
name = "plant"
start = 2024-01-01

[commodities.oxide]
content = {NdPr = 0.85}

[facilities.plant]
stage = "separation"
country = "AU"
output = "oxide"
capacity = 3650

[demand.buyers]
region = "AU"
commodity = "oxide"
rate_per_day = 20
variability = "none"
order_interval_days = 1
at = "plant"
"""
OUTAGES = """
[disruptions.breakdowns]
kind = "facility_outage"
facilities = ["plant"]
start = 2024-01-01
mtbf_days = 40
mttr_days = 10
capacity_factor = 0.25
"""


def test_random_outages_cut_production_by_downtime_share(write_model):
    """Capacity-bound plant: production lost ~ mttr/(mtbf+mttr) x (1 - capacity_factor) = 0.15."""
    days = 1095.0
    full = 3650.0 / 365.0 * days
    base = _run(write_model, PLANT).run(until=days)
    assert base.facilities["plant"]["production_t"] == pytest.approx(full)   # demand 20/d > capacity 10/d
    lost = []
    for rep in range(30):
        sim = _run(write_model, PLANT + OUTAGES, rep=rep)
        res = sim.run(until=days)
        lost.append(1.0 - res.facilities["plant"]["production_t"] / full)
    lost = np.array(lost)
    expected = 10.0 / (40.0 + 10.0) * (1.0 - 0.25)
    assert abs(lost.mean() - expected) < 0.03, f"mean loss {lost.mean():.3f}, expected {expected:.3f}"
    assert lost.min() >= 0.0 and lost.max() <= 0.75
    assert lost.std() > 0.005   # replications see different outages
    # the plant never makes more than its capacity, and never less than capacity_factor of it
    assert np.all(lost <= 1.0 - 0.25 + 1e-9)


def test_random_outage_window_limits_outages(write_model):
    """Outages only inside [start, end): with a window of the first half-year, the second half runs at capacity."""
    text = PLANT + OUTAGES.replace("start = 2024-01-01", "start = 2024-01-01\nend = 2024-07-01")
    sim = _run(write_model, text)
    res = sim.run(until=366.0)
    prod = _col(res, "production", "plant")
    days = np.diff(sim.model.calendar.month_starts(366.0) + [366.0])
    np.testing.assert_allclose(prod[7:], 10.0 * days[7:])
    assert prod[:6].sum() < 10.0 * days[:6].sum() - 1.0


# ---- expansions -----------------------------------------------------------------------------------------
EXPANSION = """
[disruptions.new_line]
kind = "expansion"
facilities = ["plant"]
start = 2024-07-01
capacity = 7300
delay_prob = {p}
delay_days = {{dist = "uniform", min = 30, max = 90}}
"""


def test_expansion_without_delay_risk_starts_on_its_date(write_model):
    sim = _run(write_model, PLANT.replace("rate_per_day = 20", "rate_per_day = 30") + EXPANSION.format(p=0))
    res = sim.run(until=366.0)
    assert sim.expansions == [("new_line", "plant", JUL, JUL)]
    sched = sim.nodes["plant"].plant.schedule
    assert sched.at(JUL - 1e-6) == pytest.approx(3650.0) and sched.at(JUL) == pytest.approx(7300.0)
    prod = _col(res, "production", "plant")
    assert prod[5] == pytest.approx(10.0 * 30)    # June at the old capacity
    assert prod[7] == pytest.approx(20.0 * 31)    # August at the new one


def test_expansion_with_certain_delay_is_late_within_the_delay_distribution(write_model):
    text = PLANT.replace("rate_per_day = 20", "rate_per_day = 30") + EXPANSION.format(p=1)
    late = []
    for rep in range(8):
        sim = _run(write_model, text, rep=rep)
        res = sim.run(until=366.0)
        (eid, node, start, actual), = sim.expansions
        assert (eid, node, start) == ("new_line", "plant", JUL)
        late.append(actual - start)
        sched = sim.nodes["plant"].plant.schedule
        assert sched.at(actual - 1e-6) == pytest.approx(3650.0) and sched.at(actual) == pytest.approx(7300.0)
        assert res.facilities["plant"]["production_t"] < 10.0 * 366 + 10.0 * (366 - actual) + 20.0
    late = np.array(late)
    assert np.all((late >= 30.0) & (late <= 90.0)), late
    assert len(set(np.round(late, 6))) == len(late)   # drawn, not fixed


# ---- release stockpiles ---------------------------------------------------------------------------------
RELEASE = """
[model]
name = "release"
start = 2024-01-01

[commodities.oxide]
content = {NdPr = 0.85}

[facilities.mine_au]
stage = "separation"
country = "AU"
output = "oxide"
capacity = 7300
initial_stock = {oxide = 200}

[facilities.reserve]
stage = "stockpile"
country = "US"
output = "oxide"
initial_stock = {oxide = 2000}
release = {cover_below_days = 20, max_t_per_day = 4}

[lanes.au-us]
from = "mine_au"
to = "us"
commodity = "oxide"
lead_time = 10

[lanes.reserve-us]
from = "reserve"
to = "us"
commodity = "oxide"
lead_time = 2

[demand.us]
region = "US"
commodity = "oxide"
rate_per_day = 10
variability = "none"
order_interval_days = 1
initial_stock = 400
sourcing = {policy = "base_stock", target_days = 40}

[disruptions.cut]
kind = "lane_closure"
lanes = ["au-us"]
start = 2024-04-01
end = 2024-09-01
"""
TRIGGER_DAYS, MAX_PER_DAY, RATE = 20.0, 4.0, 10.0


def _release_run(write_model):
    sim = _run(write_model, RELEASE)
    buyer = sim.nodes["us"]
    log = _record(sim, "reserve", lambda now: buyer.stocks["oxide"].qty)
    res = sim.run(until=400.0)
    return sim, res, log


def test_release_stockpile_at_most_max_per_day(write_model):
    sim, res, log = _release_run(write_model)
    per_day = defaultdict(float)
    for t, lid, q, _ in log:
        per_day[math.floor(t)] += q
    assert per_day, "the stockpile never released"
    assert max(per_day.values()) <= MAX_PER_DAY + 1e-9
    released = sum(per_day.values())
    assert released > 0.5 * MAX_PER_DAY * (SEP - APR - 20)   # it ran at its cap through the closure
    st = sim.nodes["reserve"].stocks["oxide"]
    assert st.qty == pytest.approx(2000.0 - released)
    assert res.lanes["reserve-us"]["shipped_t"] == pytest.approx(released)


def test_release_stockpile_ships_only_while_cover_below_trigger(write_model):
    """Nothing while supply is normal; releases start once on-hand cover < 20 days and stop when it recovers."""
    sim, res, log = _release_run(write_model)
    assert log, "the stockpile never released"
    assert min(t for t, *_ in log) >= APR    # nothing before the closure
    # a release leaves only while the buyer's on-hand cover is below the trigger
    # (one day's release of slack for an order placed just before the cover recovered)
    late = [(t, round(qty / RATE, 1)) for t, lid, q, qty in log if qty >= TRIGGER_DAYS * RATE + MAX_PER_DAY]
    assert not late, (f"{len(late)} releases while the buyer held more than {TRIGGER_DAYS:g} days of cover, "
                      f"first (day, cover days): {late[:3]}")


# ---- supplier qualification -------------------------------------------------------------------------------
QUAL = """
[model]
name = "qualification"
start = 2024-01-01

[commodities.oxide]
content = {NdPr = 0.85}

[facilities.sup_a]
stage = "separation"
country = "AU"
output = "oxide"
capacity = 7300
initial_stock = {oxide = 200}

[facilities.sup_b]
stage = "separation"
country = "JP"
output = "oxide"
capacity = 7300
initial_stock = {oxide = 200}

[lanes.a-us]
from = "sup_a"
to = "us"
commodity = "oxide"
lead_time = 10

[lanes.b-us]
from = "sup_b"
to = "us"
commodity = "oxide"
lead_time = 10
qualification_days = 60

[demand.us]
region = "US"
commodity = "oxide"
rate_per_day = 10
variability = "none"
order_interval_days = 1
initial_stock = 400
sourcing = {policy = "base_stock", target_days = 40}
"""
CUT_A = """
[disruptions.cut]
kind = "lane_closure"
lanes = ["a-us"]
start = 2024-04-01
"""


def test_unqualified_lane_unused_while_supply_is_normal(write_model):
    sim = _run(write_model, QUAL)
    res = sim.run(until=365.0)
    assert sim.qualifications == []
    assert res.lanes["b-us"]["shipped_t"] == 0.0
    assert res.sinks["us"]["fill_rate"] == pytest.approx(1.0)


def test_qualification_delay_before_a_new_supplier_is_used(write_model):
    """Supplier A is cut on 1 April: the buyer runs short, starts qualifying B, and B ships 60 days later."""
    started = []
    sim = _run(write_model, QUAL + CUT_A)
    buyer = sim.nodes["us"].buyer
    start_qualification, = buyer.short_hooks

    def spy(b, c):
        started.append((sim.env.now, b.node.id, b.node.stocks[c].qty))
        return start_qualification(b, c)
    buyer.short_hooks[0] = spy
    log = _record(sim, "sup_b")
    res = sim.run(until=365.0)
    assert len(sim.qualifications) == 1
    (lid, t_qual), = sim.qualifications
    assert lid == "b-us"
    t_start = started[0][0]
    assert t_start >= APR, "qualification started before the buyer ran short"
    # started when the position fell below half the base-stock level (400 t): on hand is below it then
    assert started[0][2] < 0.5 * 400.0
    assert t_qual == pytest.approx(t_start + 60.0)
    first = min(t for t, *_ in log)
    assert first >= t_qual, f"B shipped on day {first}, before it was qualified on day {t_qual}"
    assert first <= t_qual + 1.0   # the buyer reviews at once (next review time) on qualification
    b = _col(res, "shipped", "b-us")
    months = sim.model.calendar.month_starts(365.0)
    k = max(i for i, m in enumerate(months) if m <= t_qual)
    assert np.all(b[:k] == 0.0) and np.all(b[k + 1:] > 0.0)


# ---- substitution ----------------------------------------------------------------------------------------
SUPPLY = """
[model]
name = "substitution"
start = 2024-01-01

[commodities.magnet]
content = {NdPr = 0.30, Dy = 0.01, Fe = 0.68}

[facilities.maker]
stage = "magnet"
country = "JP"
output = "magnet"
capacity = 20000
initial_stock = {magnet = 500}

[demand.ev]
region = "JP"
commodity = "magnet"
rate_per_day = 10
variability = "none"
order_interval_days = 1
at = "maker"
"""


def test_substitution_lowers_demand_by_at_most_max_share(write_model):
    sim = _run(write_model, SUPPLY + """
    [disruptions.thrift]
    kind = "substitution"
    demand = ["ev"]
    start = 2024-07-01
    rate_per_year = 0.5
    max_share = 0.2
    """)
    res = sim.run(until=730.0)
    d = _col(res, "demand", "ev")
    starts = sim.model.calendar.month_starts(730.0)
    days = np.diff(starts + [730.0])
    base = 10.0 * days
    np.testing.assert_allclose(d[:6], base[:6])                 # untouched before the trigger
    assert np.all(d >= 0.8 * base - 1e-9)                        # never more than max_share substituted
    assert np.all(d[7:] < base[7:])                              # lowered after the trigger
    np.testing.assert_allclose(d[12:], 0.8 * base[12:])         # capped once 0.5/yr x t reaches 0.2
    # in between it follows 1 - 0.5 (t - t0) / 365 day by day
    t = np.arange(starts[7], starts[8])
    expect = (10.0 * (1.0 - np.minimum(0.2, 0.5 * (t - JUL) / 365.0))).sum()
    assert d[7] == pytest.approx(expect)


def test_substitution_on_shortage_waits_for_the_first_shortage(write_model):
    text = SUPPLY + """
    [disruptions.thrift]
    kind = "substitution"
    demand = ["ev"]
    start = 2024-01-01
    trigger = "shortage"
    rate_per_year = 0.5
    max_share = 0.2
    """
    res = _run(write_model, text).run(until=365.0)
    assert res.sinks["ev"]["fill_rate"] == 1.0
    np.testing.assert_allclose(res.sinks["ev"]["demand_t"], 10.0 * 365)   # no shortage, no substitution


# ---- lane delays and closures -------------------------------------------------------------------------------
LANES = """
[model]
name = "lanes"
start = 2024-01-01

[commodities.oxide]
content = {NdPr = 0.85}

[facilities.sup_a]
stage = "separation"
country = "AU"
output = "oxide"
capacity = 7300
initial_stock = {oxide = 200}

[facilities.sup_b]
stage = "separation"
country = "JP"
output = "oxide"
capacity = 7300
initial_stock = {oxide = 200}

[lanes.a-us]
from = "sup_a"
to = "us"
commodity = "oxide"
lead_time = 5
share = 0.5

[lanes.b-us]
from = "sup_b"
to = "us"
commodity = "oxide"
lead_time = 5
share = 0.5

[demand.us]
region = "US"
commodity = "oxide"
rate_per_day = 10
variability = "none"
order_interval_days = 1
initial_stock = 200
sourcing = {policy = "base_stock", target_days = 30}
"""


def test_lane_delay_adds_days_to_shipments_leaving_in_its_window(write_model):
    sim = _run(write_model, LANES + """
    [disruptions.congestion]
    kind = "lane_delay"
    lanes = ["a-us"]
    start = 2024-04-01
    end = 2024-07-01
    extra_days = 12
    """)
    log = sim.trace()
    sim.run(until=365.0)
    trips = [(lid, t0, days) for t0, lid, q, days in log]
    a_in = [d for lid, t0, d in trips if lid == "a-us" and APR <= t0 < JUL]
    a_out = [d for lid, t0, d in trips if lid == "a-us" and not APR <= t0 < JUL]
    b_all = [d for lid, t0, d in trips if lid == "b-us"]
    assert len(a_in) > 30 and len(a_out) > 30 and len(b_all) > 100
    np.testing.assert_allclose(a_in, 17.0)
    np.testing.assert_allclose(a_out, 5.0)
    np.testing.assert_allclose(b_all, 5.0)


def test_lane_closure_stops_the_lane_in_its_window(write_model):
    sim = _run(write_model, LANES + """
    [disruptions.strike]
    kind = "lane_closure"
    lanes = ["a-us"]
    start = 2024-04-01
    end = 2024-07-01
    """)
    res = sim.run(until=365.0)
    a, b = _col(res, "shipped", "a-us"), _col(res, "shipped", "b-us")
    assert np.all(a[3:6] == 0.0), f"closed lane shipped: {a[3:6]}"
    assert np.all(a[:3] > 0.0) and np.all(a[6:] > 0.0)
    # the other supplier takes the whole demand meanwhile
    assert np.all(b[4:6] > 1.5 * b[:3].mean())
    assert res.sinks["us"]["fill_rate"] == pytest.approx(1.0)


def test_lane_closure_by_shipment_time(write_model):
    sim = _run(write_model, LANES + """
    [disruptions.strike]
    kind = "lane_closure"
    lanes = ["a-us"]
    start = 2024-04-01
    end = 2024-07-01
    """)
    log = _record(sim, "sup_a")
    sim.run(until=365.0)
    inside = [t for t, lid, q, _ in log if APR <= t < JUL]
    assert not inside, f"a-us shipped while closed, on days {sorted(set(inside))[:5]}"
    assert any(t >= JUL for t, *_ in log)


# ---- demand shocks -----------------------------------------------------------------------------------------------
def test_demand_shock_multiplies_demand_in_its_window(write_model):
    sim = _run(write_model, SUPPLY + """
    [disruptions.boom]
    kind = "demand_shock"
    regions = ["JP"]
    start = 2024-04-01
    end = 2024-07-01
    factor = 1.5
    """)
    res = sim.run(until=365.0)
    d = _col(res, "demand", "ev")
    days = np.diff(sim.model.calendar.month_starts(365.0) + [365.0])
    factor = np.where((np.arange(12) >= 3) & (np.arange(12) < 6), 1.5, 1.0)
    np.testing.assert_allclose(d, 10.0 * days * factor)
