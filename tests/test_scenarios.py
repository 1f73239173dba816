"""The scenario library of the default model: every file loads, describes itself and runs.

Tests are parametrised over ``models/rare_earths/scenarios/*.toml``, so a new
scenario file is covered without editing this module. Each scenario runs one
replication (seed 1, invariants checked) to about three months past its last
dated change; a scenario with export controls must see its rules act within
that horizon.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

from supplysim import Simulation, load_model
from supplysim.cli import main

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "rare_earths"
FILES = sorted((MODEL / "scenarios").glob("*.toml"))
NAMES = [p.stem for p in FILES]

AFTER_DAYS = 92          # run about three months past the scenario's last dated change
MIN_DAYS = 365           # scenarios without dated changes run one year
LONG_DAYS = 3 * 365      # longer horizons are marked slow (they still run by default)

#: Rules that cannot act in the default model, with the reason. A rule listed
#: here that starts acting makes no test fail; a rule not listed that stays
#: idle within its scenario's horizon does.
KNOWN_IDLE = {
    "cn-ann57": "scoped to commodity other_reo, which crosses no border in the default model "
                "(its only lane is cn_separation -> cn_alloy), and its elements are not tracked apart",
}


def _meta(path):
    return tomllib.loads(path.read_text(encoding="utf-8")).get("scenario", {})


def horizon(model) -> float:
    """Days to run: past the last disruption start, rule start and first quota period, plus ~3 months."""
    t = [d.start for d in model.disruptions]
    for r in model.controls:
        if math.isfinite(r.effective):
            t.append(r.effective)
            if r.mechanism == "quota":
                t.append(r.effective + r.quota_period_days)
    return max(MIN_DAYS, max(t, default=0.0) + AFTER_DAYS)


def _params():
    out = []
    for name in NAMES:
        marks = ()
        try:
            if horizon(load_model(MODEL, scenario=name)) > LONG_DAYS:
                marks = (pytest.mark.slow,)
        except Exception:  # noqa: BLE001 - a broken file fails in the tests, not at collection
            pass
        out.append(pytest.param(name, marks=marks, id=name))
    return out


PARAMS = _params()


@lru_cache(maxsize=None)
def _run(name):
    model = load_model(MODEL, scenario=name)
    until = horizon(model)
    sim = Simulation(model, seed=1)
    return model, until, sim.run(until=until)


@lru_cache(maxsize=None)
def _base_run(until):
    return Simulation(load_model(MODEL), seed=1).run(until=until)


# -- every file ------------------------------------------------------------------------------------

def test_library_is_not_empty():
    assert "baseline" in NAMES and len(NAMES) >= 2


@pytest.mark.parametrize("name", NAMES)
def test_scenario_loads_with_a_description(name):
    meta = _meta(MODEL / "scenarios" / f"{name}.toml")
    assert isinstance(meta.get("description"), str) and meta["description"].strip(), \
        f"{name}.toml: [scenario] description is missing or empty"
    model = load_model(MODEL, scenario=name)
    assert model.scenario_name == name, f"{name}.toml names itself '{model.scenario_name}'"
    assert model.scenario["description"].strip()
    for ref in model.scenario.get("references", []):
        assert isinstance(ref, str) and ref.strip()


@pytest.mark.parametrize("name", PARAMS)
def test_scenario_runs_one_replication(name):
    model, until, res = _run(name)
    assert res.scenario == name and res.manifest["scenario"] == name
    assert res.horizon_days == until
    k = res.kpis
    assert k["demand_t"] > 0 and 0.0 <= k["fill_rate"] <= 1.0
    assert k["filled_t"] <= k["demand_t"] * (1 + 1e-9)
    assert len(res.months) == len(model.calendar.month_starts(until))
    assert set(res.controls) == {r.id for r in model.controls}


def _month_bounds(model, until):
    starts = model.calendar.month_starts(until)
    return list(zip(starts, starts[1:] + [until]))


def _quota_lanes(model, rule):
    """Lanes a commodity-scoped quota caps: issuer -> foreign buyer in scope, listed commodity."""
    fac = model.facilities
    out = []
    for lid, ln in model.lanes.items():
        a, b = fac[ln.src], fac[ln.dst]
        if a.country != rule.issuer or b.country == a.country or ln.commodity not in rule.commodities:
            continue
        if rule.destinations is not None and b.country not in rule.destinations:
            continue
        if b.country in rule.except_destinations or b.end_use not in rule.end_uses:
            continue
        out.append(lid)
    return out


def _shipped(res, lanes, months):
    labels, arr = res.series["shipped"]
    cols = [labels.index(lid) for lid in lanes]
    return float(sum(arr[i, j] for i in months for j in cols))


def _quota_caps(model, until, res, rule):
    """Within the first quota period the capped lanes ship at most the quota, and without it more."""
    lanes = _quota_lanes(model, rule)
    assert lanes, f"{rule.id}: no cross-border lane carries a listed commodity"
    t0, t1 = rule.effective, rule.effective + rule.quota_period_days
    months = [i for i, (a, b) in enumerate(_month_bounds(model, until)) if a >= t0 and b <= t1]
    assert months, f"{rule.id}: no whole month inside the first quota period before day {until:g}"
    with_rule = _shipped(res, lanes, months)
    without = _shipped(_base_run(until), lanes, months)
    assert with_rule <= rule.quota_t * (1 + 1e-9) + 1e-6, \
        f"{rule.id}: {with_rule:.1f} t shipped in the quota period, quota {rule.quota_t:g} t"
    return without > rule.quota_t


@pytest.mark.parametrize("name", PARAMS)
def test_scenario_rules_act(name):
    model, until, res = _run(name)
    if not model.controls:
        assert res.controls == {}
        return
    acting, idle = [], []
    for rule in model.controls:
        if rule.effective >= until:
            continue
        st = res.controls[rule.id]
        if rule.mechanism == "licence":
            ok = st["applications"] > 0
            if ok:
                assert st["approved"] + st["refused"] == st["applications"]
                assert st["approved_t"] >= 0 and st["refused_t"] >= 0
                assert st["mean_delay_days"] >= 0
            assert st["ban_blocks"] == 0
        elif rule.mechanism == "ban":
            ok = st["ban_blocks"] > 0
            assert st["applications"] == 0
        else:
            ok = _quota_caps(model, until, res, rule)
            assert st["applications"] == 0 and st["ban_blocks"] == 0
        (acting if ok else idle).append(rule.id)
    assert acting, f"{name}: no rule acted within {until:g} days"
    unexplained = sorted(set(idle) - set(KNOWN_IDLE))
    assert not unexplained, f"{name}: rules in force that never acted within {until:g} days: {unexplained}"


@pytest.mark.parametrize("name", PARAMS)
def test_fixed_outages_hold_capacity_down(name):
    model, until, res = _run(name)
    labels, arr = res.series["production"]
    bounds = _month_bounds(model, until)
    step = model.period_days
    for d in model.disruptions:
        if d.kind != "facility_outage" or "mtbf" in d.params:
            continue
        for fid in d.targets:
            f = model.facilities[fid]
            if f.capacity is None:
                continue
            j = labels.index(fid)
            # output is counted when a batch (at most one period's capacity) leaves processing
            lag = f.processing_days + step
            inside = [i for i, (a, b) in enumerate(bounds) if a >= d.start + lag and b <= d.end]
            assert inside or d.end - d.start < 62 + lag, f"{d.id}: no whole month inside the outage"
            for i in inside:
                a, b = bounds[i]
                cap = max(f.capacity.at(a - lag), f.capacity.at(b - 1e-9))
                most = d.factor * cap * (b - a + step) / 365.0
                assert arr[i, j] <= most * (1 + 1e-6) + 1e-6, \
                    f"{d.id}: {fid} made {arr[i, j]:.1f} t in {res.months[i]}, at most {most:.1f} t"


# -- the library in reduced form: what each scenario moves --------------------------------------------
#
# docs/controls.md section 9 gives each scenario's measured effect (8 replications over 2024-2030).
# Here each claim is checked in reduced form: one replication paired with the baseline on the same
# seed, over the scenario's window (to three months past its last dated change, or past the end of
# its last disruption). A scenario either moves the regional outcome named here, or says in its
# description that it moves none, and then none moves.

def _regional(res):
    """Per region: (on-time fill, delivered share, China-separated share of the rare earths delivered)."""
    out = {}
    for r, v in res.regions.items():
        d = v["demand_t"]
        out[r] = (v["fill_rate"], 1 - (v["lost_t"] + v["backlog_end_t"]) / d if d else 1.0,
                  v.get("origin_share", {}).get("separation", {}).get("CN", math.nan))
    return out


def _window(model):
    """Days to run: the horizon above, or three months past the end of the last disruption if later."""
    ends = [d.end for d in model.disruptions if math.isfinite(d.end)]
    return max([horizon(model)] + [e + AFTER_DAYS for e in ends])


@lru_cache(maxsize=None)
def _paired(name, until=None):
    model = load_model(MODEL, scenario=name)
    until = until or _window(model)
    s = _regional(Simulation(model, seed=1).run(until=until))
    b = _regional(Simulation(load_model(MODEL), seed=1).run(until=until))
    return {r: tuple(x - y for x, y in zip(s[r], b[r])) for r in s}


EX_CHINA = ("EU", "US", "JP", "KR", "ROW")
FILL, DELIVERED, ORIGIN = 0, 1, 2

#: What each scenario moves in reduced form: (outcome, regions, at least this much, down or up).
MOVES = {
    "cn-2025-04-licensing": (FILL, ("KR", "ROW"), 0.02, "down"),
    "cn-2025-10-extraterritorial": (FILL, ("KR", "ROW"), 0.02, "down"),
    "cn-ndpr-escalation": (FILL, EX_CHINA, 0.02, "down"),
    "cn-us-embargo": (FILL, ("US",), 0.005, "down"),
    "cn-us-embargo-leakage": (FILL, ("US",), 0.003, "down"),
    "cn-2010-quota": (ORIGIN, ("JP",), 0.01, "down"),        # Japan's China-separated share, not its supply
}
#: Scenarios whose description says they move no regional outcome (with the measured reason).
MOVES_NOTHING = ("myanmar-shock", "suez-closure")
#: Scenarios too long to check in the default run (their effects come in 2028-2030).
LONG = {"western-buildout-2028": (ORIGIN, ("US",), 0.02, "down"),
        "western-buildout-2028+cn-ndpr-escalation": (FILL, EX_CHINA, 0.02, "down")}


def test_every_scenario_says_what_it_moves():
    assert set(MOVES) | set(MOVES_NOTHING) | set(LONG) == set(NAMES) - {"baseline"}
    for name in NAMES:
        desc = _meta(MODEL / "scenarios" / f"{name}.toml")["description"]
        if name in MOVES_NOTHING:
            assert "Moves no regional outcome" in desc and "Measured" in desc, name
        elif name != "baseline":
            assert "Measured" in desc and "Moves no regional outcome" not in desc, name


def _check_moves(name, claim, until=None):
    what, regions, least, way = claim
    d = _paired(name, until)
    for r in regions:
        moved = -d[r][what] if way == "down" else d[r][what]
        assert moved >= least, f"{name}: {('on-time fill', 'delivered share', 'origin share')[what]}[{r}] moved " \
                               f"{d[r][what]:+.4f}, expected {way} by at least {least}"


@pytest.mark.parametrize("name", sorted(MOVES))
def test_scenario_moves_its_regional_outcome_in_reduced_form(name):
    _check_moves(name, MOVES[name])


@pytest.mark.parametrize("name", MOVES_NOTHING)
def test_scenario_that_moves_nothing_moves_nothing_in_reduced_form(name):
    d = _paired(name)
    for r, (fill, delivered, _) in d.items():
        assert abs(fill) < 0.002 and abs(delivered) < 0.002, f"{name}: {r} moved {fill:+.4f} / {delivered:+.4f}"


def test_embargo_leakage_softens_the_embargo():
    assert 0 < -_paired("cn-us-embargo-leakage")["US"][FILL] < -_paired("cn-us-embargo")["US"][FILL]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LONG))
def test_long_scenario_moves_its_regional_outcome(name):
    _check_moves(name, LONG[name], until=6 * 365)


# -- composition -------------------------------------------------------------------------------------

def test_composed_suez_closure_and_april_licensing():
    name = "suez-closure+cn-2025-04-licensing"
    m = load_model(MODEL, scenario=name)
    assert m.scenario_name == name
    suez, lic = _meta(MODEL / "scenarios" / "suez-closure.toml"), \
        _meta(MODEL / "scenarios" / "cn-2025-04-licensing.toml")
    assert m.scenario["description"] == f"{suez['description']} + {lic['description']}"
    assert set(suez["references"]) | set(lic["references"]) <= set(m.scenario["references"])
    delays = [d for d in m.disruptions if d.kind == "lane_delay"]
    assert [d.id for d in delays] == ["suez"] and delays[0].extra_days == 15
    assert "cn_magnet-buyer_eu-gbd" in delays[0].targets
    rules = {r.id: r for r in m.controls}
    assert set(rules) == {"cn-ann18"} and rules["cn-ann18"].mechanism == "licence"
    until = max(delays[0].start, rules["cn-ann18"].effective) + AFTER_DAYS
    res = Simulation(m, seed=1).run(until=until)
    assert res.scenario == name
    assert res.controls["cn-ann18"]["applications"] > 0


def test_composite_file_sets_the_escalation_in_2028_after_the_buildout():
    m = load_model(MODEL, scenario="western-buildout-2028+cn-ndpr-escalation")
    rules = {r.id: r for r in m.controls}
    day = m.calendar.day
    import datetime as dt
    assert rules["cn-ndpr"].effective == day(dt.date(2028, 1, 1))
    assert rules["cn-ndpr"].end == day(dt.date(2029, 1, 1))
    assert "cn-ann18" in rules
    build = load_model(MODEL, scenario="western-buildout-2028")
    assert set(build.facilities) <= set(m.facilities)
    assert set(build.facilities) - set(load_model(MODEL).facilities), "the build-out adds no facility"


# -- command line ------------------------------------------------------------------------------------

def _cli(*args, timeout=120):
    r = subprocess.run([sys.executable, "-m", "supplysim.cli", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, cwd=ROOT)
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert "Traceback" not in r.stderr
    return r


def test_cli_lists_every_scenario_with_its_description():
    out = _cli("scenarios", "models/rare_earths").stdout.splitlines()
    listed = {ln.split(None, 1)[0]: (ln.split(None, 1) + [""])[1].strip() for ln in out if ln.strip()}
    assert set(listed) == set(NAMES)
    for p in FILES:
        assert listed[p.stem] == _meta(p)["description"].strip(), p.stem


def test_cli_runs_april_licensing(tmp_path):
    out = tmp_path / "run"
    _cli("run", "models/rare_earths", "--scenario", "cn-2025-04-licensing", "--reps", 2, "--days", 700,
         "--seed", 1, "--quiet", "--out", out)
    data = json.loads((out / "summary.json").read_text())
    assert data["manifest"]["scenario_order"] == ["cn-2025-04-licensing"]
    assert list(data["scenarios"]) == ["cn-2025-04-licensing"]
    assert data["scenarios"]["cn-2025-04-licensing"]["replications"] == 2
    assert (out / "replications.csv").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_cli_runs_every_scenario(name, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["run", str(MODEL), "--scenario", name, "--reps", "1", "--days", "31", "--seed", "1", "--quiet",
               "--out", str(out)])
    assert rc == 0
    assert f"scenario {name}" in capsys.readouterr().out
    data = json.loads((out / "summary.json").read_text())
    assert data["manifest"]["scenario_order"] == [name]
