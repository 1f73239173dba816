"""Export controls: bans, quotas, licences, content thresholds, extraterritorial reach.

Every case writes a small TOML model into ``tmp_path`` and loads it through the
public :func:`supplysim.load_model`. Where a check needs the instant of each
shipment (quota periods, rule boundaries), the simulation's shipment trace
records ``(day, lane, tonnes)``.

The base network: a Chinese and a Japanese magnet maker; US buyers take half
from each, EU buyers buy only from China. Rules are added per test.
"""
from __future__ import annotations

import math
import textwrap
from collections import defaultdict

import numpy as np
import pytest

from supplysim import Simulation, load_model
from supplysim.experiment.stats import wilson
from supplysim.materials import ELEMENT_INDEX

SEED = 20240917
Z90 = 1.2815515655446004   # standard normal 90th percentile
LEVEL = 0.999              # Wilson intervals: several per test, one fixed seed

BASE = """
[model]
name = "controls"
start = 2024-01-01

[commodities.magnet]
content = {NdPr = 0.30, Dy = 0.01, Fe = 0.68}

[facilities.cn_mag]
stage = "magnet"
country = "CN"
output = "magnet"
capacity = 20000
target_cover_days = 30
initial_stock = {magnet = 500}

[facilities.jp_mag]
stage = "magnet"
country = "JP"
output = "magnet"
capacity = 20000
target_cover_days = 30
initial_stock = {magnet = 500}

[lanes.cn-us]
from = "cn_mag"
to = "us"
commodity = "magnet"
lead_time = 10
share = 0.5

[lanes.jp-us]
from = "jp_mag"
to = "us"
commodity = "magnet"
lead_time = 10
share = 0.5

[lanes.cn-eu]
from = "cn_mag"
to = "eu"
commodity = "magnet"
lead_time = 10

[demand.us]
region = "US"
commodity = "magnet"
rate_per_day = 10
variability = "poisson"
order_interval_days = 1
initial_stock = 300
sourcing = {policy = "base_stock", target_days = 30}

[demand.eu]
region = "EU"
commodity = "magnet"
rate_per_day = 10
variability = "poisson"
order_interval_days = 1
initial_stock = 300
sourcing = {policy = "base_stock", target_days = 30}
"""


def _model(write_model, extra="", base=BASE, name="model.toml"):
    return write_model(base + textwrap.dedent(extra), name)


def _record(sim, node_ids):
    """Log every shipment leaving one of ``node_ids`` as (day, lane id, tonnes)."""
    log = []
    ids = set(node_ids)

    def seen(s, days):
        if s.lane.src.id in ids:
            log.append((sim.env.now, s.lane.id, s.qty))
    if ids:
        sim.on_shipment(seen)
    return log


def _run(path, scenario=None, until=365.0, seed=SEED, rep=0, record=()):
    sim = Simulation(load_model(path, scenario=scenario), seed=seed, replication=rep)
    log = _record(sim, record)
    res = sim.run(until=until)
    return sim, res, log


def _col(res, name, label):
    labels, arr = res.series[name]
    return arr[:, labels.index(label)]


# 2024 is a leap year: 1 April = day 91, 1 May = day 121, 1 July = day 182, 1 August = day 213
APR, MAY, JUL, AUG = 91.0, 121.0, 182.0, 213.0


# ---- bans -------------------------------------------------------------------------------------------
BAN_US = """
[controls.ban_us]
issuer = "CN"
mechanism = "ban"
elements = ["Dy"]
destinations = ["US"]
effective = 2024-04-01
end = 2024-07-01
"""


def test_ban_blocks_scoped_lane_only_in_its_window_monthly(write_model):
    """Monthly shipped series: CN->US zero in April-June, positive in every other month; other lanes keep shipping."""
    sim, res, _ = _run(_model(write_model, BAN_US))
    cn_us, jp_us, cn_eu = (_col(res, "shipped", lid) for lid in ("cn-us", "jp-us", "cn-eu"))
    assert len(cn_us) == 12
    inside = [3, 4, 5]
    outside = [i for i in range(12) if i not in inside]
    assert np.all(cn_us[inside] == 0.0), f"CN->US shipped inside the ban window: {cn_us[inside]}"
    assert np.all(cn_us[outside] > 0.0), f"CN->US should ship outside the ban: {cn_us[outside]}"
    # lanes out of scope keep shipping every month; the US share moves to Japan during the ban
    assert np.all(cn_eu > 0.0) and np.all(jp_us > 0.0)
    assert cn_eu[inside].mean() > 0.7 * cn_eu[outside].mean()
    assert jp_us[inside].mean() > 1.5 * jp_us[outside].mean()
    assert res.controls["ban_us"]["ban_blocks"] > 0
    assert res.controls["ban_us"]["applications"] == 0


def test_ban_blocks_exactly_inside_window_by_shipment_time(write_model):
    """Shipment instants: no CN->US shipment in [1 Apr, 1 Jul); CN->US ships before and from 1 Jul on."""
    sim, res, log = _run(_model(write_model, BAN_US), record=("cn_mag", "jp_mag"))
    cn_us = [t for t, lid, q in log if lid == "cn-us"]
    assert not [t for t in cn_us if APR <= t < JUL], "CN->US shipped while the ban was in force"
    assert any(t < APR for t in cn_us) and any(t >= JUL for t in cn_us)
    # the ban ends at 1 July 00:00: the backlog it held back leaves at once
    assert min(t for t in cn_us if t >= JUL) == JUL
    assert sum(q for t, lid, q in log if lid == "cn-eu" and APR <= t < JUL) > 0
    assert sum(q for t, lid, q in log if lid == "jp-us" and APR <= t < JUL) > 0


def test_leaky_ban_lets_through_its_share_of_the_lanes_earlier_trade(write_model):
    """``leakage = 0.15``: in every period of the ban the lane ships at most 15% of its mean daily trade
    before the ban times the period, and over the ban close to it (the buyer keeps ordering on it)."""
    leaky = BAN_US.replace('effective = 2024-04-01', 'effective = 2024-04-01\nleakage = 0.15')
    sim, res, log = _run(_model(write_model, leaky), record=("cn_mag",))
    before = sum(q for t, lid, q in log if lid == "cn-us" and t < APR) / APR
    periods = sim.periods
    by_period = defaultdict(float)
    for t, lid, q in log:
        if lid == "cn-us" and APR <= t < JUL:
            by_period[periods.index(t)] += q
    assert by_period and all(q <= 0.15 * before * periods.length(k) * (1 + 1e-9) for k, q in by_period.items())
    P = max(periods.length(k) for k in by_period)
    leaked = sum(by_period.values())
    assert res.controls["ban_us"]["leaked_t"] == pytest.approx(leaked, rel=1e-9)
    assert 0.7 * 0.15 * before * (JUL - APR) <= leaked <= 0.15 * before * (JUL - APR + P)
    assert res.controls["ban_us"]["ban_blocks"] > 0
    # without leakage nothing crosses
    _, res0, log0 = _run(_model(write_model, BAN_US), record=("cn_mag",))
    assert not [q for t, lid, q in log0 if lid == "cn-us" and APR <= t < JUL]
    assert "leaked_t" not in res0.controls["ban_us"]


def test_leakage_belongs_to_bans(write_model):
    bad = BAN_US.replace('mechanism = "ban"', 'mechanism = "licence"').replace(
        'effective = 2024-04-01', 'effective = 2024-04-01\nleakage = 0.1')
    with pytest.raises(Exception, match="controls.ban_us.leakage: belongs to mechanism 'ban', not 'licence'"):
        load_model(_model(write_model, bad))


def test_no_rule_no_gate(write_model):
    """Sanity for the ban tests: without the rule CN->US ships in every month."""
    sim, res, _ = _run(_model(write_model))
    assert np.all(_col(res, "shipped", "cn-us") > 0)
    assert res.controls == {}


# ---- quotas -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("destinations, quota", [('"all"', 400.0), ('["US"]', 200.0)],
                         ids=["two-lanes", "one-lane"])
def test_quota_never_exceeded(write_model, destinations, quota):
    """Shipments under the quota in each period sum to at most quota_t, and the quota binds."""
    period, eff = 60.0, 31.0   # from 1 February 2024
    path = _model(write_model, f"""
    [controls.quota]
    issuer = "CN"
    mechanism = "quota"
    elements = ["NdPr"]
    destinations = {destinations}
    quota_t = {quota}
    quota_period_days = {period}
    effective = 2024-02-01
    """)
    until = 730.0
    sim, res, log = _run(path, until=until, record=("cn_mag",))
    lanes = {"cn-us", "cn-eu"} if destinations == '"all"' else {"cn-us"}
    per = defaultdict(float)
    before = 0.0
    for t, lid, q in log:
        if lid not in lanes:
            continue
        if t >= eff:
            per[math.floor((t - eff) / period)] += q
        else:
            before += q
    n_full = int((until - eff) // period)
    over = {k: v for k, v in per.items() if v > quota + 1e-9}
    assert not over, f"quota {quota} t per {period} d exceeded in periods {over}"
    # the quota binds: before it these lanes carry well over quota_t per 60 days
    assert before / eff * period > 1.2 * quota
    for k in range(n_full):
        assert per[k] > 0.95 * quota, f"period {k}: only {per[k]:.1f} t shipped under a binding quota"


# ---- licences -----------------------------------------------------------------------------------------
def _ks_normal(z):
    """Kolmogorov-Smirnov statistic of a sample against the standard normal."""
    z = np.sort(np.asarray(z, float))
    n = len(z)
    cdf = np.array([0.5 * (1.0 + math.erf(x / math.sqrt(2.0))) for x in z])
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n)))


def test_licence_delays_follow_lognormal(write_model):
    """With no customs hold, delays are lognormal(median 55, p90 110): KS at 1% and the quantiles."""
    path = _model(write_model, """
    [controls.lic]
    issuer = "CN"
    mechanism = "licence"
    elements = ["Dy"]
    review_days = {dist = "lognormal", median = 55, p90 = 110}
    customs_hold_days = 0
    """)
    until = 1400.0
    sim, res, _ = _run(path, until=until)
    log = sim.gate.rules[0].log
    # only applications that had time to be decided (P(delay > 600 d) ~ 1e-5): no censoring bias
    d = np.array([x[2] for x in log if x[1] < until - 600.0])
    n = len(d)
    assert n >= 300, f"too few applications for the fit: {n}"
    assert np.all(d > 0)
    sigma = math.log(110 / 55) / Z90
    z = (np.log(d) - math.log(55.0)) / sigma
    ks = _ks_normal(z)
    assert ks < 1.63 / math.sqrt(n), f"KS {ks:.4f} over the 1% critical value {1.63 / math.sqrt(n):.4f} (n={n})"
    assert abs(np.median(d) / 55.0 - 1) < 0.12
    assert abs(np.quantile(d, 0.9) / 110.0 - 1) < 0.15
    assert abs(np.mean(np.log(d)) - math.log(55.0)) < 4 * sigma / math.sqrt(n)
    assert abs(np.std(np.log(d), ddof=1) / sigma - 1) < 0.1
    assert {x[0] for x in log} == {"cn-us", "cn-eu"}
    assert res.controls["lic"]["applications"] == len(log)


def test_licence_delay_is_review_plus_customs_hold(write_model):
    """Constant review 20 d plus a uniform(0, 28) customs hold: delays uniform on [20, 48]."""
    path = _model(write_model, """
    [controls.lic]
    issuer = "CN"
    mechanism = "licence"
    elements = ["Dy"]
    review_days = 20
    customs_hold_days = {dist = "uniform", min = 0, max = 28}
    """)
    sim, res, _ = _run(path, until=730.0)
    d = np.array([x[2] for x in sim.gate.rules[0].log])
    assert len(d) >= 300
    assert d.min() >= 20.0 - 1e-9 and d.max() <= 48.0 + 1e-9
    u = np.sort((d - 20.0) / 28.0)
    n = len(u)
    i = np.arange(1, n + 1)
    ks = float(max(np.max(i / n - u), np.max(u - (i - 1) / n)))
    assert ks < 1.63 / math.sqrt(n)


def test_licence_approval_fraction_in_wilson_interval(write_model):
    """Constant approval 0.3, and 0.8 for the EU by destination: each fraction's 99.9% Wilson interval holds it."""
    path = _model(write_model, """
    [controls.lic]
    issuer = "CN"
    mechanism = "licence"
    elements = ["Dy"]
    review_days = {dist = "lognormal", median = 10, p90 = 20}
    approval = [{from = 2024-01-01, prob = 0.3}]
    approval_by_destination = {EU = [{from = 2024-01-01, prob = 0.8}]}
    """)
    sim, res, _ = _run(path, until=730.0)
    log = sim.gate.rules[0].log
    for lane, p in (("cn-us", 0.3), ("cn-eu", 0.8)):
        dec = [x[3] for x in log if x[0] == lane]
        n, k = len(dec), sum(dec)
        assert n >= 200, f"{lane}: too few applications ({n})"
        lo, hi = wilson(k, n, LEVEL)
        assert lo <= p <= hi, f"{lane}: {k}/{n} approved, {LEVEL:.1%} Wilson [{lo:.3f}, {hi:.3f}] misses {p}"
    c = res.controls["lic"]
    assert c["approved"] + c["refused"] == c["applications"] == len(log)
    assert c["refused_t"] == pytest.approx(sum(x[4] for x in log if not x[3]))
    # shipped under licence never exceeds what was approved
    shipped = res.lanes["cn-us"]["shipped_t"] + res.lanes["cn-eu"]["shipped_t"]
    assert shipped <= c["approved_t"] + 1e-6


def test_licence_approval_uses_decision_date(write_model):
    """Approval 0.9 in 2024 then 0.1: what counts is the date of the decision, not of the application."""
    path = _model(write_model, """
    [controls.lic]
    issuer = "CN"
    mechanism = "licence"
    elements = ["Dy"]
    review_days = {dist = "lognormal", median = 20, p90 = 40}
    customs_hold_days = {dist = "uniform", min = 0, max = 10}
    approval = [{from = 2024-01-01, prob = 0.9}, {from = 2025-01-01, prob = 0.1}]
    """)
    sim, res, _ = _run(path, until=730.0)
    log = sim.gate.rules[0].log
    T = 366.0
    groups = {
        "decided 2024": ([x for x in log if x[1] + x[2] < T], 0.9),
        "decided 2025": ([x for x in log if x[1] + x[2] >= T], 0.1),
        "applied 2024, decided 2025": ([x for x in log if x[1] < T <= x[1] + x[2]], 0.1),
    }
    for name, (g, p) in groups.items():
        n, k = len(g), sum(x[3] for x in g)
        assert n >= 20, f"{name}: too few applications ({n})"
        lo, hi = wilson(k, n, LEVEL)
        assert lo <= p <= hi, f"{name}: {k}/{n} approved, {LEVEL:.1%} Wilson [{lo:.3f}, {hi:.3f}] misses {p}"
    g = groups["applied 2024, decided 2025"][0]
    lo, hi = wilson(sum(x[3] for x in g), len(g), LEVEL)
    assert hi < 0.9, "decisions in 2025 on 2024 applications used the application date's probability"


# ---- content thresholds ----------------------------------------------------------------------------------
THRESHOLD_MODEL = """
[model]
name = "thresholds"
start = 2024-01-01
"""
_GRADES = {"lo": {"Dy": 0.0005, "Tb": 0.0004},   # Dy + Tb = 0.0009
           "hi": {"Dy": 0.0006, "Tb": 0.0005},   # 0.0011
           "at": {"Dy": 0.001}}                  # exactly the threshold


def _threshold_model():
    out = THRESHOLD_MODEL
    for g, content in _GRADES.items():
        c = ", ".join(f"{k} = {v}" for k, v in content.items())
        out += f"""
[commodities.magnet_{g}]
content = {{NdPr = 0.30, {c}, Fe = 0.68}}

[facilities.cn_{g}]
stage = "magnet"
country = "CN"
output = "magnet_{g}"
capacity = 20000
initial_stock = {{magnet_{g} = 200}}

[lanes.cn-us-{g}]
from = "cn_{g}"
to = "us_{g}"
commodity = "magnet_{g}"
lead_time = 5

[demand.us_{g}]
region = "US"
commodity = "magnet_{g}"
rate_per_day = 5
variability = "none"
order_interval_days = 1
initial_stock = 100
sourcing = {{policy = "base_stock", target_days = 30}}
"""
    return out


def _threshold_run(write_model, mechanism):
    extra = 'review_days = 15' if mechanism == "licence" else ""
    path = _model(write_model, f"""
    [controls.dytb]
    issuer = "CN"
    mechanism = "{mechanism}"
    elements = ["Dy", "Tb"]
    threshold = 0.001
    {extra}
    """, base=_threshold_model())
    sim, res, ships = _run(path, until=180.0, record=[f"cn_{g}" for g in _GRADES])
    shipped = {g: res.lanes[f"cn-us-{g}"]["shipped_t"] for g in _GRADES}
    return sim, res, ships, shipped


@pytest.mark.parametrize("mechanism", ["licence", "ban"])
def test_content_threshold(write_model, mechanism):
    """Threshold 0.001 t Dy+Tb per t: Dy+Tb = 0.0009 ships freely; 0.0011 is controlled."""
    sim, res, ships, shipped = _threshold_run(write_model, mechanism)
    assert shipped["lo"] > 5 * 180 - 100
    # the free grade is never delayed: its buyer never runs short, and it ships from the first day
    assert res.sinks["us_lo"]["fill_rate"] == pytest.approx(1.0)
    assert min(t for t, lid, q in ships if lid == "cn-us-lo") <= 1.0
    if mechanism == "licence":
        lanes = {x[0] for x in sim.gate.rules[0].log}
        assert "cn-us-lo" not in lanes
        assert "cn-us-hi" in lanes
        assert shipped["hi"] > 0   # licences approved (prob 1), after the 15-day review
        assert min(t for t, lid, q in ships if lid == "cn-us-hi") >= 15.0
    else:
        assert res.controls["dytb"]["applications"] == 0   # a ban takes no applications
        assert shipped["hi"] == 0.0
        assert res.controls["dytb"]["ban_blocks"] > 0


@pytest.mark.parametrize("mechanism", ["licence", "ban"])
def test_content_exactly_at_threshold_is_controlled(write_model, mechanism):
    """Content exactly at the threshold (Dy = 0.001) is controlled ("at or above"), for the whole run."""
    sim, res, ships, shipped = _threshold_run(write_model, mechanism)
    first = [t for t, lid, q in ships if lid == "cn-us-at"]
    if mechanism == "licence":
        assert "cn-us-at" in {x[0] for x in sim.gate.rules[0].log}
        assert first and min(first) >= 15.0, f"Dy = 0.001 shipped before any licence was decided (day {min(first)})"
        # every tonne shipped was licensed
        approved = sum(x[4] for x in sim.gate.rules[0].log if x[0] == "cn-us-at" and x[3])
        assert shipped["at"] <= approved + 1e-6
    else:
        assert shipped["at"] == 0.0, f"{shipped['at']:.1f} t at exactly the threshold passed a ban"


# ---- extraterritorial reach --------------------------------------------------------------------------------
def _chain_model(dy_country):
    return f"""
[model]
name = "re-export"
start = 2024-01-01

[commodities.dy_oxide]
content = {{Dy = 0.87}}

[commodities.ndpr_oxide]
content = {{NdPr = 0.85}}

[commodities.ferroboron]
content = {{Fe = 0.98, B = 0.02}}

[commodities.alloy]
content = {{NdPr = 0.30, Dy = 0.03, Fe = 0.66, B = 0.01}}

[commodities.magnet]
content = {{NdPr = 0.30, Dy = 0.03, Fe = 0.66, B = 0.01}}

[facilities.dy_src]
stage = "separation"
country = "{dy_country}"
output = "dy_oxide"
capacity = 2000

[facilities.ndpr_src]
stage = "separation"
country = "AU"
output = "ndpr_oxide"
capacity = 20000

[facilities.feb]
stage = "source"
country = "KR"
output = "ferroboron"
unlimited = true

[facilities.alloy_kr]
stage = "alloying"
country = "KR"
output = "alloy"
capacity = 8000
processing_days = 5
recipe = {{inputs = {{ndpr_oxide = 0.353, dy_oxide = 0.0345, ferroboron = 0.673}}, yield = 0.97}}
sourcing.ndpr_oxide = {{policy = "base_stock", target_days = 30}}
sourcing.dy_oxide = {{policy = "base_stock", target_days = 30}}
sourcing.ferroboron = {{policy = "base_stock", target_days = 30}}

[facilities.magnet_jp]
stage = "magnet"
country = "JP"
output = "magnet"
capacity = 6000
processing_days = 5
recipe = {{inputs = {{alloy = 1.0}}, yield = 0.9}}
sourcing.alloy = {{policy = "base_stock", target_days = 30}}

[lanes.dy-kr]
from = "dy_src"
to = "alloy_kr"
commodity = "dy_oxide"
lead_time = 7

[lanes.ndpr-kr]
from = "ndpr_src"
to = "alloy_kr"
commodity = "ndpr_oxide"
lead_time = 7

[lanes.feb-kr]
from = "feb"
to = "alloy_kr"
commodity = "ferroboron"
lead_time = 2

[lanes.kr-jp]
from = "alloy_kr"
to = "magnet_jp"
commodity = "alloy"
lead_time = 3

[lanes.jp-us]
from = "magnet_jp"
to = "us"
commodity = "magnet"
lead_time = 20

[lanes.jp-jp]
from = "magnet_jp"
to = "jp"
commodity = "magnet"
lead_time = 2

[lanes.jp-cn]
from = "magnet_jp"
to = "cn"
commodity = "magnet"
lead_time = 5

[demand.us]
region = "US"
commodity = "magnet"
rate_per_day = 5
variability = "none"
order_interval_days = 1
initial_stock = 100
sourcing = {{policy = "base_stock", target_days = 30}}

[demand.jp]
region = "JP"
commodity = "magnet"
rate_per_day = 3
variability = "none"
order_interval_days = 1
initial_stock = 60
sourcing = {{policy = "base_stock", target_days = 30}}

[demand.cn]
region = "CN"
commodity = "magnet"
rate_per_day = 2
variability = "none"
order_interval_days = 1
initial_stock = 40
sourcing = {{policy = "base_stock", target_days = 30}}

[controls.fdpr]
issuer = "CN"
mechanism = "licence"
elements = ["Dy"]
threshold = 0.001
extraterritorial = true
review_days = 10
"""


@pytest.mark.parametrize("dy_country", ["CN", "AU"])
def test_extraterritorial_follows_issuer_origin(write_model, dy_country):
    """Korean alloy and Japanese magnets made with Chinese Dy need China's licence; with Australian Dy they do not."""
    path = write_model(_chain_model(dy_country))
    sim, res, _ = _run(path, until=365.0)
    dy = (ELEMENT_INDEX["Dy"],)
    comp = sim.nodes["magnet_jp"].stocks["magnet"].comp
    cn_dy = sim.layout.issuer_content(comp, "CN", dy)
    log = sim.gate.rules[0].log
    lanes = {x[0] for x in log}
    for lid in ("kr-jp", "jp-us"):
        assert res.lanes[lid]["shipped_t"] > 0, f"{lid} never shipped"
    # domestic sales and sales back to the issuer are never controlled
    assert not lanes & {"jp-jp", "jp-cn", "dy-kr", "ndpr-kr", "feb-kr"}
    assert res.lanes["jp-jp"]["shipped_t"] > 0 and res.lanes["jp-cn"]["shipped_t"] > 0
    if dy_country == "CN":
        assert cn_dy == pytest.approx(comp[ELEMENT_INDEX["Dy"]]) and cn_dy > 0.001
        assert lanes == {"kr-jp", "jp-us"}
        assert all(x[3] for x in log)
        assert res.controls["fdpr"]["approved_t"] >= res.lanes["jp-us"]["shipped_t"] - 1e-6
    else:
        assert cn_dy == 0.0 and comp[ELEMENT_INDEX["Dy"]] > 0.001
        assert log == [] and res.controls["fdpr"]["applications"] == 0


# ---- suspension -------------------------------------------------------------------------------------------------
def test_suspension_window_restores_flows(write_model):
    """A ban in force all year but suspended 1 May - 1 Aug: CN->US ships only inside the suspension."""
    path = _model(write_model, """
    [controls.ban_us]
    issuer = "CN"
    mechanism = "ban"
    elements = ["Dy"]
    destinations = ["US"]
    suspended = [{from = 2024-05-01, to = 2024-08-01}]
    """)
    sim, res, log = _run(path, record=("cn_mag",))
    cn_us = [(t, q) for t, lid, q in log if lid == "cn-us"]
    outside = [t for t, q in cn_us if not MAY <= t < AUG]
    assert not outside, f"CN->US shipped while the ban was in force, e.g. day {outside[0]}"
    inside = sum(q for t, q in cn_us if MAY <= t < AUG)
    assert inside > 0.5 * 5 * (AUG - MAY), "the suspension did not restore CN->US flows"
    assert min(t for t, q in cn_us) == MAY   # released at once when the suspension begins
    rows = _col(res, "shipped", "cn-us")
    assert rows[5] > 0 and rows[6] > 0 and rows[8:].sum() == 0.0 and rows[:3].sum() == 0.0


# ---- refusals keep material ---------------------------------------------------------------------------------
def test_refused_shipments_lose_no_material(write_model):
    """A stockpile exporter under a licence refused half the time: refused tonnes stay in its stock."""
    base = BASE + """
[lanes.jp-eu]
from = "jp_mag"
to = "eu"
commodity = "magnet"
lead_time = 10
share = 0.2
"""
    base = base.replace("""[facilities.cn_mag]
stage = "magnet"
country = "CN"
output = "magnet"
capacity = 20000
target_cover_days = 30
initial_stock = {magnet = 500}""", """[facilities.cn_mag]
stage = "stockist"
country = "CN"
output = "magnet"
initial_stock = {magnet = 3000}""")
    assert base != BASE
    path = _model(write_model, """
    [controls.lic]
    issuer = "CN"
    mechanism = "licence"
    elements = ["Dy"]
    review_days = {dist = "uniform", min = 5, max = 30}
    approval = [{from = 2024-01-01, prob = 0.5}]
    """, base=base)
    sim, res, _ = _run(path, until=365.0)
    c = res.controls["lic"]
    assert c["refused"] > 20 and c["refused_t"] > 100.0
    out = res.lanes["cn-us"]["shipped_t"] + res.lanes["cn-eu"]["shipped_t"]
    assert 0 < out <= c["approved_t"] + 1e-6
    st = sim.nodes["cn_mag"].stocks["magnet"]
    assert st.qty == pytest.approx(3000.0 - out, abs=1e-6)
    b = sim.balance()
    held = b["on_hand"] + b["in_transit"] + b["in_process"] + b["delivered"] + b["losses"]
    np.testing.assert_allclose(held, b["sourced"], rtol=1e-9, atol=1e-9)
    assert np.all(b["losses"] == 0.0)
    sim.check_invariants()


# ---- scenarios and common random numbers ------------------------------------------------------------------------
SCEN_A = """
[scenario]
name = "ban-us"

[controls.ban_us]
issuer = "CN"
mechanism = "ban"
elements = ["Dy"]
destinations = ["US"]
"""
SCEN_B = """
[scenario]
name = "licence-eu"

[controls.lic_eu]
issuer = "CN"
mechanism = "licence"
elements = ["Dy"]
destinations = ["EU"]
review_days = {dist = "lognormal", median = 30, p90 = 60}
"""


def test_scenario_composition_applies_both_rules(write_model):
    path = _model(write_model)
    a = write_model(SCEN_A, "scenarios/a.toml")
    b = write_model(SCEN_B, "scenarios/b.toml")
    m = load_model(path, scenario=f"{a}+{b}")
    assert {r.id for r in m.controls} == {"ban_us", "lic_eu"}
    assert m.scenario_name == "ban-us+licence-eu"
    res = Simulation(m, seed=SEED).run(until=365.0)
    assert res.lanes["cn-us"]["shipped_t"] == 0.0
    assert res.controls["lic_eu"]["applications"] > 0
    assert res.controls["ban_us"]["ban_blocks"] > 0
    # scenario names resolve under scenarios/ beside the model too
    m2 = load_model(path, scenario="a+b")
    assert {r.id for r in m2.controls} == {"ban_us", "lic_eu"}
    # each alone applies only its own rule
    ra = Simulation(load_model(path, scenario=str(a)), seed=SEED).run(until=365.0)
    assert ra.lanes["cn-us"]["shipped_t"] == 0.0 and set(ra.controls) == {"ban_us"}
    rb = Simulation(load_model(path, scenario=str(b)), seed=SEED).run(until=365.0)
    assert rb.lanes["cn-us"]["shipped_t"] > 0 and set(rb.controls) == {"lic_eu"}


def test_baseline_and_scenario_share_demand_draws(write_model):
    """Common random numbers: controls change flows, never the demand drawn for a seed and replication."""
    path = _model(write_model)
    a = write_model(SCEN_A, "scenarios/a.toml")
    b = write_model(SCEN_B, "scenarios/b.toml")
    for rep in (0, 1):
        base = Simulation(load_model(path), seed=SEED, replication=rep).run(until=365.0)
        scen = Simulation(load_model(path, scenario=f"{a}+{b}"), seed=SEED, replication=rep).run(until=365.0)
        lb, db = base.series["demand"]
        ls, ds = scen.series["demand"]
        assert lb == ls
        np.testing.assert_array_equal(db, ds)
        # the scenario did change the flows
        assert scen.lanes["cn-us"]["shipped_t"] != base.lanes["cn-us"]["shipped_t"]
    other = Simulation(load_model(path), seed=SEED, replication=2).run(until=365.0)
    assert not np.array_equal(other.series["demand"][1], db)


def test_eu_member_states_form_one_customs_area():
    from supplysim.model.customs import same_customs_area
    assert same_customs_area("DE", "EU") and same_customs_area("EE", "FR") and same_customs_area("EU", "EU")
    assert not same_customs_area("DE", "US") and not same_customs_area("EU", "GB")
    assert not same_customs_area("VN", "ROW")


def test_value_basis_rule_needs_commodity_values(write_model):
    from supplysim.model import ModelError
    path = _model(write_model, """
    [controls.by_value]
    issuer = "CN"
    mechanism = "licence"
    elements = ["Dy"]
    basis = "value"
    element_value_per_t = {Dy = 300000}
    threshold = 0.001
    """)
    with pytest.raises(ModelError) as err:
        load_model(path)
    probs = [p for p in err.value.problems if p.path.endswith("value_per_t")]
    assert probs and all("by_value" in p.message for p in probs)


MIXED_END_USE = """
[model]
start = 2024-01-01

[commodities.magnet]
content = {NdPr = 0.3, Dy = 0.01}

[facilities.cn_mag]
stage = "magnet"
country = "CN"
output = "magnet"
capacity = 100000
initial_stock = {magnet = 500}

[facilities.buyer_us]
stage = "buyer"
country = "US"
output = "magnet"
initial_stock = {magnet = 50}
sourcing.magnet = {policy = "base_stock", target_days = 20}

[lanes.cn-us]
from = "cn_mag"
to = "buyer_us"
commodity = "magnet"
lead_time = 5

[demand.us_civil]
region = "US"
commodity = "magnet"
rate_per_day = 6
variability = "none"
at = "buyer_us"

[demand.us_defence]
region = "US"
end_use = "defence"
commodity = "magnet"
rate_per_day = 4
variability = "none"
at = "buyer_us"

[controls.lic]
issuer = "CN"
mechanism = "licence"
elements = ["Dy"]
review_days = 3
approval = [{from = 2024-01-01, prob = 1.0}]
defence_approval = 0.0
"""


def test_defence_demand_at_a_civil_buyer_lowers_the_approval_odds(write_model):
    """A buyer serving 60% civil and 40% defence demand gets ~60% of its applications approved."""
    from supplysim.experiment.stats import wilson
    sim = Simulation(load_model(write_model(MIXED_END_USE)), seed=SEED)
    res = sim.run(until=730.0)
    c = res.controls["lic"]
    k = c["approved"]
    decided = c["approved"] + c["refused"]
    assert decided > 100
    lo, hi = wilson(k, decided, level=0.999)
    assert lo <= 0.6 <= hi
    # a defence-only rule reaches the mixed buyer too
    only_def = MIXED_END_USE.replace('mechanism = "licence"', 'mechanism = "ban"\nend_use = ["defence"]').replace(
        "review_days = 3\napproval = [{from = 2024-01-01, prob = 1.0}]\ndefence_approval = 0.0\n", "")
    r2 = Simulation(load_model(write_model(only_def, "defence_ban.toml")), seed=SEED).run(until=60.0)
    assert r2.controls["lic"]["ban_blocks"] > 0
