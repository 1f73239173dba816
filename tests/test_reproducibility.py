"""Reproducibility, common random numbers and conservation on random networks.

* the same root seed and replication give identical results (KPIs and series);
* another replication gives other draws;
* results do not depend on the number of worker processes;
* a scenario that only adds a disruption sees exactly the baseline's demand;
* random small networks keep the element balance and never hold negative stock.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from supplysim import InvariantError, Simulation, load_model
from supplysim.experiment import Task, run_replications
from supplysim.random import BLOCK, stream

TUTORIAL = Path(__file__).resolve().parents[1] / "models" / "examples" / "tutorial.toml"
SEED = 20250101
DAYS = 365.0


def _same(a, b):
    """Assert two replication results are identical (except wall-clock time)."""
    ka = {k: v for k, v in a.kpis.items() if k != "wall_s"}
    kb = {k: v for k, v in b.kpis.items() if k != "wall_s"}
    for part, x, y in (("kpis", ka, kb), ("sinks", a.sinks, b.sinks), ("facilities", a.facilities, b.facilities),
                       ("lanes", a.lanes, b.lanes), ("regions", a.regions, b.regions)):
        assert _nan_equal(x, y), f"{part} differ:\n{x}\n{y}"
    assert a.months == b.months
    assert set(a.series) == set(b.series)
    for name in a.series:
        la, xa = a.series[name]
        lb, xb = b.series[name]
        assert la == lb, name
        np.testing.assert_array_equal(xa, xb, err_msg=name)
    assert a.entropy == b.entropy and a.replication == b.replication


def _nan_equal(x, y):
    if isinstance(x, dict):
        return x.keys() == y.keys() and all(_nan_equal(x[k], y[k]) for k in x)
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


@pytest.fixture(scope="module")
def tutorial():
    return load_model(TUTORIAL)


def test_same_seed_same_results(tutorial):
    a = Simulation(tutorial, seed=SEED, replication=3).run(until=DAYS)
    b = Simulation(tutorial, seed=SEED, replication=3).run(until=DAYS)
    _same(a, b)
    # and a freshly loaded model gives the same numbers too
    c = Simulation(load_model(TUTORIAL), seed=SEED, replication=3).run(until=DAYS)
    _same(a, c)


def test_same_seed_same_results_with_warmup(tutorial):
    a = Simulation(tutorial, seed=SEED, replication=1).run(until=DAYS, warmup=60)
    b = Simulation(tutorial, seed=SEED, replication=1).run(until=DAYS, warmup=60)
    _same(a, b)


def test_different_replication_differs(tutorial):
    a = Simulation(tutorial, seed=SEED, replication=0).run(until=DAYS)
    b = Simulation(tutorial, seed=SEED, replication=1).run(until=DAYS)
    assert a.kpis["demand_t"] != b.kpis["demand_t"]
    assert not np.array_equal(a.series["demand"][1], b.series["demand"][1])


def test_different_seed_differs(tutorial):
    a = Simulation(tutorial, seed=SEED, replication=0).run(until=DAYS)
    b = Simulation(tutorial, seed=SEED + 1, replication=0).run(until=DAYS)
    assert not np.array_equal(a.series["demand"][1], b.series["demand"][1])


def test_fresh_entropy_is_recorded_and_reproduces(tutorial):
    a = Simulation(tutorial, seed=None, replication=2).run(until=120)
    assert isinstance(a.entropy, int) and a.entropy >= 0
    assert a.manifest["entropy"] == a.entropy and a.manifest["replication"] == 2
    b = Simulation(tutorial, seed=a.entropy, replication=2).run(until=120)
    _same(a, b)


def test_demand_uses_its_named_stream(write_model):
    """Demand of sink X is drawn from stream(entropy, replication, "demand:X"), in blocks."""
    path = write_model("""
        [model]
        name = "streams"
        start = 2024-01-01
        [commodities.widget]
        content = {NdPr = 1.0}
        [facilities.src]
        stage = "source"
        country = "XX"
        output = "widget"
        unlimited = true
        [lanes.src-shop]
        from = "src"
        to = "shop"
        commodity = "widget"
        lead_time = 2
        [demand.shop]
        region = "R"
        commodity = "widget"
        rate_per_day = 3
        variability = "poisson"
        order_interval_days = 1
        initial_stock = 10
        sourcing = {policy = "base_stock", target = 10}
    """)
    m = load_model(path)
    for rep in (0, 5):
        res = Simulation(m, seed=SEED, replication=rep).run(until=60)
        draws = stream(SEED, rep, "demand:shop").poisson(np.full(BLOCK, 3.0))
        _, dem = res.series["demand"]
        assert dem[0, 0] == draws[:31].sum()          # January: days 0..30
        assert dem[1, 0] == draws[31:60].sum()        # February 2024: days 31..59


@pytest.mark.slow
def test_jobs_do_not_change_results():
    tasks = [Task(str(TUTORIAL), None, SEED, r, 200.0) for r in range(4)]
    serial = {t.replication: r for t, r in run_replications(tasks, jobs=1)}
    parallel = {t.replication: r for t, r in run_replications(tasks, jobs=2)}
    assert sorted(serial) == sorted(parallel) == [0, 1, 2, 3]
    for rep in serial:
        _same(serial[rep], parallel[rep])
    # the replications are distinct
    assert len({serial[r].kpis["demand_t"] for r in serial}) == 4


SCENARIOS = {
    "magnet_outage": """
        [scenario]
        name = "magnet_outage"
        description = "magnet maker down for 200 days"

        [disruptions.magnets_down]
        kind = "facility_outage"
        facilities = ["magnets_jp"]
        capacity_factor = 0
        start = 2025-02-01
        days = 200
    """,
    "slow_ships": """
        [scenario]
        name = "slow_ships"
        description = "the EU lane takes 40 days longer"

        [disruptions.slow]
        kind = "lane_delay"
        lanes = ["magnets-eu-buyers", "mine-sep"]
        extra_days = 40
        start = 2025-01-15
        days = 250
    """,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_crn_disruption_keeps_demand(tutorial, write_model, name):
    """Common random numbers: a supply-side disruption does not change a single demand draw."""
    sc = load_model(TUTORIAL, scenario=str(write_model(SCENARIOS[name], f"{name}.toml")))
    assert sc.scenario_name == name
    assert len(sc.disruptions) == 1
    for rep in (0, 1):
        base = Simulation(tutorial, seed=SEED, replication=rep).run(until=500.0)
        dis = Simulation(sc, seed=SEED, replication=rep).run(until=500.0)
        assert dis.scenario == name and base.scenario == "baseline"
        lb, db = base.series["demand"]
        ld, dd = dis.series["demand"]
        assert lb == ld
        np.testing.assert_array_equal(db, dd)
        assert base.kpis["demand_t"] == dis.kpis["demand_t"]
        # ... while the supply side did change
        assert not np.array_equal(base.series["shipped"][1], dis.series["shipped"][1])
    if name == "magnet_outage":
        assert dis.kpis["fill_rate"] < base.kpis["fill_rate"]


# ----------------------------------------------------------------------------------------------------
# property test: random small networks conserve every element and never hold negative stock

ELEMS = ("NdPr", "Dy", "Tb", "other_re", "Fe", "B")


@st.composite
def lead_times(draw):
    kind = draw(st.sampled_from(["zero", "constant", "uniform", "triangular", "empirical"]))
    if kind == "zero":
        return "0"
    if kind == "constant":
        return str(draw(st.integers(1, 12)))
    if kind == "uniform":
        a = draw(st.integers(0, 8))
        return f'{{dist = "uniform", min = {a}, max = {a + draw(st.integers(1, 10))}}}'
    if kind == "triangular":
        a = draw(st.integers(0, 5))
        c = a + draw(st.integers(0, 5))
        return f'{{dist = "triangular", min = {a}, mode = {c}, max = {c + draw(st.integers(1, 5))}}}'
    return '{dist = "empirical", values = [1, 3, 7], weights = [0.5, 0.3, 0.2]}'


@st.composite
def networks(draw):
    """TOML text of a random network: sources -> 0..2 processing stages -> sinks."""
    n_src = draw(st.integers(1, 3))
    n_stage = draw(st.integers(0, 2))
    n_sink = draw(st.integers(1, 3))
    # raw material: a few elements summing to at most 0.4, so recipes may concentrate it
    els = draw(st.lists(st.sampled_from(ELEMS), min_size=1, max_size=4, unique=True))
    fr = [draw(st.floats(0.01, 0.4 / len(els))) for _ in els]
    content = dict(zip(els, fr))
    out = ['[model]\nname = "random"\nstart = 2024-01-01\n']
    out.append("[commodities.c0]\ncontent = {" + ", ".join(f"{e} = {x!r}" for e, x in content.items()) + "}\n")
    inputs = []
    for k in range(1, n_stage + 1):
        a = draw(st.floats(1.0, 1.5))
        content = {e: x * a for e, x in content.items()}
        inputs.append(a)
        out.append(f"[commodities.c{k}]\ncontent = {{" + ", ".join(f"{e} = {x!r}" for e, x in content.items()) + "}\n")
    for i in range(n_src):
        unlimited = draw(st.booleans())
        out.append(f'[facilities.src{i}]\nstage = "mine"\ncountry = "C{i}"\noutput = "c0"\n')
        if unlimited:
            out.append("unlimited = true\n")
        else:
            out.append(f"capacity = {draw(st.integers(200, 5000))}\n"
                       f"initial_stock = {{c0 = {draw(st.integers(0, 300))}}}\n"
                       f"processing_days = {draw(st.integers(0, 3))}\n")
    upstream = [f"src{i}" for i in range(n_src)]
    lanes = []
    for k in range(1, n_stage + 1):
        fid = f"stage{k}"
        y = draw(st.floats(0.3, 1.0))
        pol = draw(st.sampled_from(["base_stock", "sS"]))
        levels = (f"s_days = {draw(st.integers(1, 10))}, S_days = {draw(st.integers(11, 40))}" if pol == "sS"
                  else f"target_days = {draw(st.integers(5, 40))}")
        out.append(f'[facilities.{fid}]\nstage = "stage{k}"\ncountry = "P"\noutput = "c{k}"\n'
                   f"capacity = {draw(st.integers(300, 8000))}\n"
                   f"processing_days = {draw(st.integers(0, 10))}\n"
                   f"initial_stock = {{c{k} = {draw(st.integers(0, 100))}, c{k - 1} = {draw(st.integers(0, 100))}}}\n"
                   f"recipe = {{inputs = {{c{k - 1} = {inputs[k - 1]!r}}}, yield = {y!r}}}\n"
                   f'sourcing.c{k - 1} = {{policy = "{pol}", {levels}}}\n')
        for u in upstream:
            lanes.append((u, fid, f"c{k - 1}"))
        upstream = [fid]
    last = f"c{n_stage}"
    for j in range(n_sink):
        sid = f"sink{j}"
        var = draw(st.sampled_from(["poisson", "none", "gamma", "normal"]))
        extra = f"cv = {draw(st.floats(0.1, 1.0))!r}\n" if var in ("gamma", "normal") else ""
        out.append(f'[demand.{sid}]\nregion = "R{j % 2}"\ncommodity = "{last}"\n'
                   f"rate_per_day = {draw(st.floats(0.1, 10.0))!r}\nvariability = \"{var}\"\n{extra}"
                   f"order_interval_days = {draw(st.sampled_from([1, 7]))}\n"
                   f'unmet = "{draw(st.sampled_from(["backorder", "lost"]))}"\n'
                   f"initial_stock = {draw(st.integers(0, 50))}\n"
                   f'sourcing = {{policy = "base_stock", target = {draw(st.integers(1, 200))}, '
                   f"review_days = {draw(st.sampled_from([0, 1, 7]))}}}\n")
        for u in upstream:
            lanes.append((u, sid, last))
    for n, (a, b, c) in enumerate(lanes):
        out.append(f'[lanes.l{n}]\nfrom = "{a}"\nto = "{b}"\ncommodity = "{c}"\nlead_time = {draw(lead_times())}\n'
                   f"in_transit = {draw(st.sampled_from([0, 0, 5, 40]))}\n")
        if draw(st.booleans()):
            out.append(f"capacity = {draw(st.integers(100, 5000))}\n")
    return "".join(out)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(text=networks(), rep=st.integers(0, 1000))
def test_random_networks_conserve_elements(tmp_path_factory, text, rep):
    path = tmp_path_factory.mktemp("net") / "model.toml"
    path.write_text(text)
    m = load_model(path)
    sim = Simulation(m, seed=7, replication=rep, check=True)
    for t in (0.5, 3.0, 17.5, 45.0, 90.0, 150.0, 240.0):
        sim.env.run(until=t)
        b = sim.balance()
        held = b["on_hand"] + b["in_transit"] + b["in_process"] + b["delivered"] + b["losses"]
        scale = max(float(np.abs(b["sourced"]).max()), 1.0)
        err = float(np.abs(held - b["sourced"]).max())
        assert err <= 1e-9 * scale, f"balance off by {err} at day {t}\n{text}"
        for k, v in b.items():
            assert (v >= -1e-9 * scale).all(), f"negative {k} at day {t}: {v}\n{text}"
        for node in sim.nodes.values():
            for c, stk in node.stocks.items():
                assert stk.qty >= -1e-9, f"negative stock of {c} at {node.id} on day {t}\n{text}"
        try:
            sim.check_invariants()
        except InvariantError as exc:  # pragma: no cover - reported with the model text
            raise AssertionError(f"{exc}\n{text}") from None


def test_property_generator_covers_processing(tmp_path):
    """The random-network generator yields valid models that produce something (sanity of the property)."""
    from hypothesis import find
    found = find(networks(), lambda t: "recipe" in t and "lost" in t,
                 settings=settings(max_examples=200, database=None, deadline=None, phases=[Phase.generate]))
    p = tmp_path / "m.toml"
    p.write_text(found)
    m = load_model(p)
    res = Simulation(m, seed=1).run(until=200)
    assert res.kpis["demand_t"] > 0
