"""The market layer on networks: hooks, responses, the default model, reproducibility and bad input.

The closed-form cases are in ``tests/validation/test_market_*.py``.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from supplysim import Simulation, load_model
from supplysim.engine.market import reference_covers, schedule_add_step, schedule_max
from supplysim.experiment import Task, run_replications
from supplysim.model import ModelError
from supplysim.model.specs import Schedule

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "models" / "rare_earths"
TUTORIAL = ROOT / "models" / "examples" / "tutorial.toml"

# a maker, a trader abroad and its demand: the trader's cover sets the price of widgets abroad
NET = """
[model]
name = "market-net"
start = 2024-01-01

[commodities.widget]
content = {{NdPr = 1.0}}

[facilities.maker]
stage = "magnet"
country = "CN"
output = "widget"
capacity = 7300
target_cover_days = 10
initial_stock = {{widget = 100}}

[facilities.spare]
stage = "magnet"
country = "JP"
output = "widget"
capacity = 365
target_cover_days = 10

[facilities.buyer]
stage = "buyer"
country = "JP"
output = "widget"
initial_stock = {{widget = 300}}
sourcing.widget = {{policy = "base_stock", target_days = 30, review_days = 0}}

[lanes.maker-buyer]
from = "maker"
to = "buyer"
commodity = "widget"
lead_time = 0
share = 9

[lanes.spare-buyer]
from = "spare"
to = "buyer"
commodity = "widget"
lead_time = 0
share = 1

[demand.users]
region = "JP"
sector = "motors"
commodity = "widget"
at = "buyer"
rate_per_day = 10
variability = "none"
order_interval_days = 1

[market.markets.CN]
countries = ["CN"]

[market.markets.ex_cn]
name = "Outside China"
countries = "others"

[market.prices.widget]
reference = {{CN = 40.0, ex_cn = 50.0}}
{extra}
"""

BAN = """
[controls.ban]
issuer = "CN"
mechanism = "ban"
commodities = ["widget"]
effective = 2025-01-01
end = 2025-07-01
"""


def _net(write_model, extra="", name="net.toml"):
    return load_model(write_model(NET.format(extra=extra), name))


def _prices(res, key):
    labels, p = res.series["price"]
    return p[:, labels.index(key)]


# -- the model without a market ---------------------------------------------------------------------
def test_a_model_without_market_has_no_market_series():
    m = load_model(TUTORIAL)
    assert m.market is None
    sim = Simulation(m, seed=1)
    res = sim.run(until=200)
    assert not hasattr(sim, "market") and "price" not in res.series and "cover_days" not in res.series


# -- prices on a network ----------------------------------------------------------------------------------
def test_prices_rise_under_a_ban_and_fall_back(write_model):
    res = Simulation(_net(write_model, BAN), seed=1).run(years=3)
    p = _prices(res, "widget@ex_cn")
    months = res.months
    before = p[months.index("2024-12")]
    peak = p[months.index("2025-01"): months.index("2025-08")].max()
    after = p[months.index("2026-06"):]
    assert before == pytest.approx(50.0, rel=0.05)
    assert peak > 3 * 50.0                       # the buyer runs out: the price nears its cap
    np.testing.assert_allclose(after, 50.0, rtol=0.05)   # cover restored: back to the reference
    cn = _prices(res, "widget@CN")
    assert np.all(cn == 40.0)                    # no holder in China: no signal, no move
    assert res.series["cover_days"][0] == res.series["price"][0]
    assert res.kpis["lost_t"] == 0.0


def test_prices_are_signals(write_model):
    m = _net(write_model, BAN)
    sim = Simulation(m, seed=1)
    seen = []
    sim.signals.subscribe("price:widget@ex_cn", lambda name, v: seen.append(v))
    res = sim.run(years=1)
    assert len(seen) == 12 and seen[0] == pytest.approx(50.0)
    np.testing.assert_allclose(seen, _prices(res, "widget@ex_cn"))
    assert sim.signals.get("price:widget@CN") == 40.0


# -- responses on a network ---------------------------------------------------------------------------------
DEMAND = """
[market.demand.motors]
elasticity_short = -0.1
elasticity_long = -0.4
adjust_years = 0.5
patience_days = 45
"""


def test_demand_response_and_patience_under_a_ban(write_model):
    plain = Simulation(_net(write_model, BAN, "a.toml"), seed=1).run(years=3)
    resp = Simulation(_net(write_model, BAN + DEMAND, "b.toml"), seed=1).run(years=3)
    d0, d1 = plain.series["demand"][1][:, 0], resp.series["demand"][1][:, 0]
    np.testing.assert_allclose(d0[:12], d1[:12])      # before the ban: reference price, same demand
    assert d1[13:20].sum() < 0.97 * d0[13:20].sum()    # high prices cut demand
    # patience: the backlog is written off instead of waiting for the ban's end
    assert plain.kpis["lost_t"] == 0.0 and resp.kpis["lost_t"] > 0.0
    assert resp.sinks["users"]["backlog_end_t"] == 0.0


SUBST = """
[market.substitution.ferrite]
sectors = ["motors"]
rate_per_year = 0.5
max_share = 0.2
trigger_price_ratio = 2.0
lag_days = 60
"""


def test_substitution_grows_after_its_lag_up_to_its_cap(write_model):
    sim = Simulation(_net(write_model, BAN.replace("2025-07-01", "2026-07-01") + SUBST), seed=1)
    res = sim.run(years=3)
    p = _prices(res, "widget@ex_cn")
    d = res.series["demand"][1][:, 0]
    days = np.diff(sim.model.calendar.month_starts(3 * 365) + [3 * 365])
    rate = d / days / 10.0
    first = int(np.argmax(p >= 100.0))                 # first month end at twice the reference
    assert np.all(rate[: first + 2] == 1.0)            # nothing before the lag has run
    assert rate.min() == pytest.approx(0.8)            # capped at 20%
    st = sim.market._sub_states[("ferrite", "ex_cn")]
    assert st.share == pytest.approx(0.2)              # no reversal: the share stays


def test_cover_factor_scales_days_of_cover(write_model):
    stocks = """
[market.stocks]
elasticity = -1.0
min_factor = 0.5
max_factor = 1.5
stages = ["buyer"]
"""
    sim = Simulation(_net(write_model, stocks), seed=1)
    buyer = sim.nodes["buyer"].buyer
    pol = buyer.policies["widget"]
    assert buyer.levels(pol, 0.0)["S"] == pytest.approx(30 * 10.0)
    price = sim.market.prices[("widget", "ex_cn")]
    price.log_p = price.log_p0 + math.log(2.0)         # twice the reference: half the cover
    assert buyer.levels(pol, 0.0)["S"] == pytest.approx(15 * 10.0)
    price.log_p = price.log_p0 + math.log(10.0)        # the factor stops at its floor
    assert buyer.levels(pol, 0.0)["S"] == pytest.approx(0.5 * 300.0)
    price.log_p = price.log_p0 - math.log(4.0)
    assert buyer.levels(pol, 0.0)["S"] == pytest.approx(1.5 * 300.0)


def test_buyers_stock_up_between_announcement_and_effective_date(write_model):
    stocks = """
[market.stocks]
prebuy_days = 20
"""
    ban = BAN.replace('effective = 2025-01-01', 'announced = 2024-11-01\neffective = 2025-01-01')
    m = _net(write_model, ban + stocks)
    assert m.controls[0].announced == m.calendar.day(__import__("datetime").date(2024, 11, 1))
    sim = Simulation(m, seed=1)
    res = sim.run(years=1)
    buyer = sim.nodes["buyer"].buyer
    pol = buyer.policies["widget"]
    stock = res.series["stock"]
    j = stock[0].index("buyer")
    nov = res.months.index("2024-11")
    assert stock[1][nov - 1, j] == pytest.approx(300.0, rel=1e-6)
    assert stock[1][nov, j] == pytest.approx(500.0, rel=0.01)           # 30 + 20 days of cover
    assert buyer.levels(pol, sim.env.now)["S"] == pytest.approx(500.0)  # still before 2025-01-01


def test_announced_after_effective_is_an_error(write_model):
    ban = BAN.replace('effective = 2025-01-01', 'announced = 2025-02-01\neffective = 2025-01-01')
    with pytest.raises(ModelError) as e:
        _net(write_model, ban)
    assert "controls.ban.announced" in str(e.value) and "net.toml" in str(e.value)


RESTART = """
[market.restart.spare]
facility = "spare"
capacity = 1825
price_ratio = 1.5
months = 2
lag_days = 30
ramp_days = 60
"""


def test_idle_capacity_restarts_at_high_prices(write_model):
    sim = Simulation(_net(write_model, BAN + RESTART), seed=1)
    res = sim.run(years=2)
    assert len(sim.restarts) == 1
    rid, fac, decided, started = sim.restarts[0]
    assert (rid, fac) == ("spare", "spare") and started == pytest.approx(decided + 30)
    p = _prices(res, "widget@ex_cn")
    first = int(np.argmax(p >= 75.0))
    ends = sim.model.calendar.month_starts(2 * 365)[1:]
    assert decided == ends[first + 1]                  # the second month end in a row
    plant = sim.nodes["spare"].plant
    assert plant.schedule.at(started + 30) == pytest.approx(365 + (1825 - 365) / 2)
    assert plant.schedule.at(started + 60) == pytest.approx(1825)


NEW = """
[market.new_supply.widgets]
commodity = "widget"
market = "ex_cn"
rate_of_market = 0.12
lag_days = 60
price_ratio = 1.5
groups = [["spare"]]
"""


def test_new_supply_adds_its_share_of_the_world_market(write_model):
    sim = Simulation(_net(write_model, BAN + NEW), seed=1)
    sim.run(years=2)
    adds = sim.new_capacity
    assert adds and all(a[0] == "widgets" for a in adds)
    world = 10 * 365.0                                 # the buyer's use (t/yr), no response
    for _, day, add in adds:
        assert add == pytest.approx(0.12 * world * 30.5 / 365, rel=0.05)   # one month's worth
    plant = sim.nodes["spare"].plant
    assert plant.schedule.at(sim.env.now) == pytest.approx(365 + sum(a for _, _, a in adds))


def test_schedule_helpers_are_exact():
    ramp = Schedule((0.0, 100.0, 200.0), (0.0, 0.0, 1000.0))
    flat = Schedule((0.0,), (300.0,))
    m = schedule_max(flat, ramp)
    for t in (0.0, 50.0, 130.0, 160.0, 250.0):
        assert m.at(t) == pytest.approx(max(flat.at(t), ramp.at(t)))
    s = schedule_add_step(ramp, 150.0, 10.0)
    for t in (0.0, 149.0, 150.0, 175.0, 300.0):
        assert s.at(t) == pytest.approx(ramp.at(t) + (10.0 if t >= 150.0 else 0.0))


# -- licence volumes ---------------------------------------------------------------------------------------
def test_licence_volumes_per_month_and_rule(write_model):
    lic = """
[controls.lic]
issuer = "CN"
mechanism = "licence"
commodities = ["widget"]
effective = 2024-03-01
review_days = 40
approval = [{from = 2024-03-01, prob = 0.5}]
"""
    sim = Simulation(_net(write_model, lic), seed=3)
    res = sim.run(years=1)
    labels, v = res.series["licences"]
    assert labels == ["lic:applied_t", "lic:approved_t", "lic:refused_t"]
    rule = sim.gate.rules[0]
    assert v[:, 0].sum() == pytest.approx(sum(q for _, q in rule.applied))
    assert v[:, 1].sum() == pytest.approx(sum(x[4] for x in rule.log if x[3]))
    assert v[:, 2].sum() == pytest.approx(rule.refused_t)
    assert v[:2].sum() == 0.0 and v[2, 0] > 0 and v[2, 1:].sum() == 0.0   # decisions come 40 days later
    assert v[:, 1].sum() > 0 and v[:, 2].sum() > 0
    assert res.controls["lic"]["refused_t"] == pytest.approx(v[:, 2].sum())


# -- the default model -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def default_model():
    return load_model(DEFAULT)


def test_default_baseline_holds_its_2024_prices(default_model):
    m = default_model
    refs = {f"{c}@{k}": v for c, r in m.market.prices.items() for k, v in r.reference.items()}
    for rep in range(2):
        res = Simulation(m, seed=5, replication=rep).run(until=366)
        labels, p = res.series["price"]
        for j, k in enumerate(labels):
            np.testing.assert_allclose(p[2:, j], refs[k], rtol=0.10, err_msg=k)


def test_default_reference_covers_are_the_baseline_covers(default_model):
    got = reference_covers(default_model, seed=1, replications=2, months=(2, 11))
    for c, rule in default_model.market.prices.items():
        for mk, days in rule.reference_cover_days.items():
            assert got[f"{c}@{mk}"] == pytest.approx(days, rel=0.08), f"{c}@{mk}"


LICENCE_6M = """
[scenario]
name = "magnet-licence-6m"
description = "test: magnets exported from China licensed for six months at 25% approval"

[controls.magnet-licence]
issuer = "CN"
mechanism = "licence"
commodities = ["magnet_n", "magnet_gbd", "magnet_hd"]
effective = 2025-01-01
end = 2025-07-01
review_days = 45
approval = [{from = 2025-01-01, prob = 0.25}]
"""


def test_default_model_prices_rise_under_licences_and_fall_back(write_model):
    sc = write_model(LICENCE_6M, "lic6.toml")
    base = load_model(DEFAULT)
    lic = load_model(DEFAULT, scenario=str(sc))
    until = 365 * 3.5
    b = Simulation(base, seed=9).run(until=until)
    s = Simulation(lic, seed=9).run(until=until)
    pb, ps = _prices(b, "magnet@ex_cn"), _prices(s, "magnet@ex_cn")
    i = s.months.index
    assert ps[i("2025-01"): i("2025-12")].max() > 2.0 * pb[i("2025-01"): i("2025-12")].max()
    np.testing.assert_allclose(ps[i("2027-01"):], pb[i("2027-01"):], rtol=0.15)   # back with the baseline
    # inside China the magnet price does not rise: China's own users are not short
    assert _prices(s, "magnet@CN")[i("2025-01"): i("2025-12")].max() < 1.15 * 49.2
    # the mass balance is checked every month end (rule V1); the run finishing is the check
    assert s.kpis["demand_t"] > 0


def test_same_seed_same_results_on_one_and_two_workers():
    tasks = [Task(str(DEFAULT), "cn-2025-04-licensing", 77, r, 500.0) for r in range(2)]
    one = {t.replication: r for t, r in run_replications(tasks, jobs=1)}
    two = {t.replication: r for t, r in run_replications(tasks, jobs=2)}
    for r in one:
        for name in ("price", "cover_days", "demand", "lost", "licences"):
            assert one[r].series[name][0] == two[r].series[name][0]
            np.testing.assert_array_equal(one[r].series[name][1], two[r].series[name][1])
        assert one[r].kpis["lost_t"] == two[r].kpis["lost_t"]
    assert not np.array_equal(one[0].series["price"][1], one[1].series["price"][1])


# -- bad input ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("extra, path, words", [
    ("[market.prices.gadget]\nreference = {CN = 1.0, ex_cn = 1.0}", "market.prices.gadget", "unknown commodity"),
    ("[market.prices.widget]\nreference = {CN = 40.0}", "market.prices.widget.reference", "missing 'ex_cn'"),
    ("[market.prices.widget]\nreference = {CN = 40.0, ex_cn = -1}", "market.prices.widget.reference.ex_cn",
     "expected a number > 0"),
    ("[market.prices.widget]\nreference = {CN = 40.0, ex_cn = 1.0}\nadjustment = 1.5", "market.prices.widget.adjustment",
     "in (0, 1]"),
    ("[market.markets.JP]\ncountries = [\"CN\"]", "market.markets.JP.countries", "already in market 'CN'"),
    ("[market.demand.cars]\nelasticity_short = -0.1", "market.demand.cars", "no demand has sector 'cars'"),
    ("[market.demand.motors]\nelasticity_short = 0.3", "market.demand.motors.elasticity_short", "expected a number"),
    ("[market.demand.motors]\nelasticity_short = -0.3\nelasticity_long = -0.1", "market.demand.motors.elasticity_long",
     "at least as strong"),
    ("[market.demand.motors]\npatience_days = {dist = \"lognormal\", median = 10, p90 = 5}",
     "market.demand.motors.patience_days", "p90 > median"),
    ("[market.substitution.x]\nsectors = [\"motors\"]", "market.substitution.x.rate_per_year", "missing required key"),
    ("[market.restart.x]\nfacility = \"nowhere\"\ncapacity = 10\nprice_ratio = 2", "market.restart.x.facility",
     "unknown facility"),
    ("[market.new_supply.x]\ncommodity = \"widget\"\nmarket = \"moon\"\nrate_of_market = 0.04\nprice_ratio = 1.5\n"
     "groups = [[\"spare\"]]", "market.new_supply.x.market", "unknown market 'moon'"),
    ("[market.new_supply.x]\ncommodity = \"widget\"\nmarket = \"ex_cn\"\nrate_of_market = 0.04\nprice_ratio = 1.5\n"
     "groups = [[\"buyer\", \"spare\"]]", "market.new_supply.x.groups.0", "'buyer' makes nothing"),
    ("[market.stocks]\nmin_factor = 2", "market.stocks.min_factor", "in [0, 1]"),
    ("[market.colour]\nx = 1", "market.colour", "unknown key"),
])
def test_bad_market_input_names_file_key_and_expectation(write_model, extra, path, words):
    text = NET.format(extra="").replace('[market.prices.widget]\nreference = {CN = 40.0, ex_cn = 50.0}\n', "") \
        if extra.startswith("[market.prices.widget]") else NET.format(extra="")
    with pytest.raises(ModelError) as e:
        load_model(write_model(text + "\n" + extra + "\n", "bad.toml"))
    msg = str(e.value)
    assert f"bad.toml: {path}" in msg and words in msg, msg


def test_a_market_with_only_markets_and_prices_changes_nothing_else(write_model):
    """Prices without responses are observers: flows are those of the model without a market."""
    text = NET.format(extra=BAN)
    bare = text.split("[market.markets.CN]")[0] + BAN
    a = Simulation(load_model(write_model(text, "a.toml")), seed=2).run(years=2)
    b = Simulation(load_model(write_model(bare, "b.toml")), seed=2).run(years=2)
    for k in ("demand", "delivered", "lost", "backlog", "stock", "shipped"):
        np.testing.assert_array_equal(a.series[k][1], b.series[k][1])


# -- Dy-free designs: a grade substitution ------------------------------------------------------------
GRADES = (ROOT / "models" / "examples" / "grades.toml").read_text()
GRADE_MARKET = """
[disruptions.dy_cut]
kind = "facility_outage"
facilities = ["hre_separator"]
capacity_factor = 0
start = 2025-03-01

[market.markets.all]
countries = "others"

[market.prices.dy_oxide]
reference = {all = 260.0}

[market.prices.magnet]
commodities = ["magnet_n", "magnet_gbd", "magnet_hd"]
reference = {all = 49.2}

[market.substitution.dy_free]
kind = "grade"
sectors = ["motors"]
from = "magnet_hd"
to = "magnet_gbd"
commodity = "dy_oxide"
rate_per_year = 0.6
max_share = 0.5
trigger_price_ratio = 2.0
lag_days = 30
"""


def test_dy_free_designs_move_demand_between_grades(write_model):
    m = load_model(write_model(GRADES + GRADE_MARKET, "graded.toml"))
    assert m.market.price_of("magnet_gbd") == "magnet" and m.market.price_of("alloy") is None
    sim = Simulation(m, seed=1)
    res = sim.run(years=2)
    p = _prices(res, "dy_oxide@all")
    assert p.max() > 2 * 260.0                       # the Dy cut makes Dy dear
    gd = sim.grade_demands["motors"]
    move = sim.market.grade_moves[0]
    s = move.state.share
    assert 0 < s <= 0.5 and move.applied == s
    # the moved share of the high-Dy grade's nominal demand went to the GBD grade; electronics untouched
    assert gd.shares["magnet_hd"] == pytest.approx(0.15 * (1 - s))
    assert gd.shares["magnet_gbd"] == pytest.approx(0.75 + 0.15 * s)
    assert "electronics" not in sim.grade_demands
    # the graded sinks' demand follows: the high-Dy sink orders less than without the move
    plain = Simulation(load_model(write_model(GRADES + GRADE_MARKET.split("[market.substitution")[0], "p.toml")),
                       seed=1).run(years=2)
    i = res.series["demand"][0].index("motors/magnet_hd")
    assert res.series["demand"][1][-3:, i].sum() < 0.9 * plain.series["demand"][1][-3:, i].sum()


def test_a_grade_substitution_needs_graded_demand_with_both_grades(write_model):
    bad = GRADE_MARKET.replace('sectors = ["motors"]', 'sectors = ["electronics"]')
    with pytest.raises(ModelError) as e:
        load_model(write_model(GRADES + bad, "bad.toml"))
    assert "bad.toml: market.substitution.dy_free" in str(e.value) and "takes both" in str(e.value)


# -- prices in the store, exports and report -----------------------------------------------------------------
def test_prices_reach_summary_timeseries_and_report(write_model, tmp_path):
    import csv
    import json

    from supplysim.experiment import Experiment
    from supplysim.plots.report import FIGURES, build_report
    path = write_model(NET.format(extra=""), "net.toml")
    ban = write_model("[scenario]\nname = \"ban\"\n" + BAN, "scenarios/ban.toml")
    res = Experiment(str(path), scenarios=["baseline", str(ban)], reps=3, seed=4, days=700, out=tmp_path / "x",
                     command="pytest").run(progress=False, quiet=True)
    res.export()
    summ = json.loads((tmp_path / "x" / "summary.json").read_text())
    base, banned = (summ["scenarios"][s]["metrics"] for s in res.scenarios)
    assert base["peak_price[widget@ex_cn]"]["estimate"] < 1.2 * 50.0
    assert banned["peak_price[widget@ex_cn]"]["ci_low"] > 3 * 50.0
    assert banned["months_price_doubled[widget@ex_cn]"]["estimate"] >= 3
    assert summ["metrics"]["mean_price"]["unit"] == "$/kg"
    with open(tmp_path / "x" / "timeseries.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["series"] == "price" and r["key"] == "widget@ex_cn"]
    assert {r["scenario"] for r in rows} == set(res.scenarios) and len(rows) == 2 * 23   # 23 months in 700 days
    html = build_report(res, figures=True, jobs=1).read_text()
    assert "Prices" in html and html.count("<img") == len(FIGURES) + 1


def test_tables_name_a_market_by_its_name_and_keys_keep_its_id(write_model, tmp_path):
    """A reader sees the model's name for a market ("widget in Outside China") in the terminal table
    and the report; summary.json, timeseries.csv and the manifest keep the id (ex_cn) as the key."""
    import json

    from supplysim.experiment import Experiment
    from supplysim.experiment.summary import format_prices
    from supplysim.plots.report import build_report
    path = write_model(NET.format(extra=""), "net.toml")
    res = Experiment(str(path), scenarios=["baseline"], reps=2, seed=4, days=200, out=tmp_path / "x",
                     command="pytest").run(progress=False, quiet=True)
    res.export()
    assert res.manifest["markets"] == {"CN": "CN", "ex_cn": "Outside China"}
    table = format_prices(res)
    assert "widget in Outside China" in table and "widget in CN" in table and "@" not in table
    html = build_report(res, figures=False, jobs=1).read_text()
    assert "widget in Outside China" in html and "widget in ex_cn" not in html
    summ = json.loads((tmp_path / "x" / "summary.json").read_text())
    assert "peak_price[widget@ex_cn]" in summ["scenarios"]["baseline"]["metrics"]
    assert "widget@ex_cn" in (tmp_path / "x" / "timeseries.csv").read_text()


def test_option_no_market_runs_the_network_without_its_market():
    import dataclasses
    with_opt = load_model(DEFAULT, options=["no-market"])
    assert with_opt.market is None
    bare = dataclasses.replace(load_model(DEFAULT), market=None)
    a = Simulation(with_opt, seed=3).run(until=200)
    b = Simulation(bare, seed=3).run(until=200)
    assert "price" not in a.series
    for k in ("demand", "delivered", "lost", "backlog", "stock", "shipped"):
        np.testing.assert_array_equal(a.series[k][1], b.series[k][1])
