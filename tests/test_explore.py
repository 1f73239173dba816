"""Exploration: key-path overrides, specs, designs, the run pipeline, sensitivity, PRIM, exports."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from supplysim.model import ModelError, load_model
from supplysim.model.overlay import Overrides, parse_key_path

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = str(ROOT / "models" / "examples" / "tutorial.toml")


# ---- key-path overrides ----------------------------------------------------------------------------------
def test_override_sets_the_value_records_its_file_and_changes_the_digest():
    base = load_model(TUTORIAL)
    ov = Overrides.of({"facilities.alloy_kr.capacity": 2500, "lanes.sep-alloy-dy.lead_time.max": 40},
                      source="spec.toml")
    m = load_model(TUTORIAL, overrides=ov)
    assert m.facilities["alloy_kr"].capacity.at(0.0) == 2500
    assert base.facilities["alloy_kr"].capacity.at(0.0) == 5000
    assert m.lanes["sep-alloy-dy"].lead_time.params == {"min": 7.0, "max": 40.0}
    assert (m.files["spec.toml (overrides)"]
            == "facilities.alloy_kr.capacity = 2500\nlanes.sep-alloy-dy.lead_time.max = 40\n")
    assert m.digest() != base.digest()
    assert load_model(TUTORIAL, overrides=ov).digest() == m.digest()
    other = Overrides.of({"facilities.alloy_kr.capacity": 2501, "lanes.sep-alloy-dy.lead_time.max": 40},
                         source="spec.toml")
    assert load_model(TUTORIAL, overrides=other).digest() != m.digest()


def test_override_of_a_path_the_model_lacks_names_the_spec_file_and_the_key():
    with pytest.raises(ModelError) as e:
        load_model(TUTORIAL, overrides=Overrides.of({"facilities.alloy_kr.capacty": 1.0,
                                                     "facilities.nope.capacity": 1.0,
                                                     "facilities.alloy_kr": 3.0}, source="my-spec.toml"))
    text = str(e.value)
    assert "my-spec.toml: facilities.alloy_kr.capacty: no key 'capacty'" in text
    assert "did you mean 'capacity'" in text
    assert "my-spec.toml: facilities.nope.capacity: no key 'nope' in 'facilities'" in text
    assert "my-spec.toml: facilities.alloy_kr: 'facilities.alloy_kr' is a table" in text
    assert len(e.value.problems) == 3


def test_an_overridden_value_out_of_range_is_reported_by_validation_against_the_spec_file():
    with pytest.raises(ModelError) as e:
        load_model(TUTORIAL, overrides=Overrides.of({"facilities.alloy_kr.capacity": -5.0}, source="s.toml"))
    assert any(p.file == "s.toml" and p.path == "facilities.alloy_kr.capacity" for p in e.value.problems), e.value


@pytest.mark.parametrize("text, segs", [("a.b.0.c", ("a", "b", "0", "c")), ('a."x.y".z', ("a", "x.y", "z"))])
def test_key_paths_split_on_dots_and_quotes_keep_dotted_ids(text, segs):
    assert parse_key_path(text) == segs


@pytest.mark.parametrize("text", ["", "a..b", 'a."b', "a.", 3])
def test_malformed_key_paths_are_refused(text):
    with pytest.raises(ValueError):
        parse_key_path(text)


def test_an_experiment_task_runs_a_design_point_under_its_own_label():
    import dataclasses

    from supplysim.experiment.experiment import ExperimentTask, run_experiment_task
    t = ExperimentTask(TUTORIAL, "baseline", 3, 0, 300.0)
    base = run_experiment_task(t)
    ov = Overrides.of({"facilities.alloy_kr.capacity": 500.0}, "s.toml")
    point = run_experiment_task(dataclasses.replace(t, overrides=ov, label="x00001"))
    assert (base[0], point[0]) == ("baseline", "x00001")
    assert point[2]["delivered_share[JP]"] < base[2]["delivered_share[JP]"] - 0.1
    again = run_experiment_task(t)[2]                # the cache keeps the models apart (NaN-aware compare)
    assert json.dumps(again, sort_keys=True) == json.dumps(base[2], sort_keys=True)


# ---- specs, designs and runs -----------------------------------------------------------------------------
import numpy as np  # noqa: E402

from supplysim.explore.designs import DesignError, make_design  # noqa: E402
from supplysim.explore.prim import prim  # noqa: E402
from supplysim.explore.run import Exploration  # noqa: E402
from supplysim.explore.spec import load_spec, parse_spec  # noqa: E402
from supplysim.explore.testfunctions import ISHIGAMI_S1, ISHIGAMI_ST, ishigami  # noqa: E402

ISHIGAMI_SPEC = "\n".join(f"[uncertainties.x{i}]\nkeys = []\nrange = [-3.141592653589793, 3.141592653589793]"
                          for i in (1, 2, 3)) + '\n[outcomes.y]\nmetric = "y"\n'

TUTORIAL_SPEC = """
[explore]
question = "When does Japan go short of magnets in spring 2025?"

[uncertainties.alloy_capacity]
keys = ["facilities.alloy_kr.capacity"]
range = [800, 5000]
unit = "t/yr"

[uncertainties.eu_lead_max]
keys = [{key = "lanes.magnets-eu-buyers.lead_time.max", scale = 1.0}, {key = "lanes.magnets-eu-buyers.lead_time.mode", scale = 0.5, offset = 17}]
range = [38, 80]
unit = "days"

[levers.jp_buffer]
keys = ["demand.jp_ev.initial_stock"]
values = [250, 600]

[outcomes.jp_lost]
metric = "demand_lost_pct"
regions = ["JP"]
window = ["2025-03", "2025-07"]
threshold = 5

[outcomes.jp_fill]
metric = "on_time_fill[JP]"
"""


@pytest.fixture
def fast_dir(tmp_path):
    """A folder in memory where there is one: the store commits every row, and a disk's fsync per row
    would dominate thousands of microsecond evaluations."""
    import shutil
    import tempfile
    shm = Path("/dev/shm")
    if shm.is_dir():
        d = Path(tempfile.mkdtemp(dir=shm, prefix="supplysim-test-"))
        yield d
        shutil.rmtree(d, ignore_errors=True)
    else:
        yield tmp_path


@pytest.fixture
def tutorial_spec(tmp_path):
    p = tmp_path / "tutorial-explore.toml"
    p.write_text(TUTORIAL_SPEC)
    return p


def _rows(out):
    import sqlite3
    con = sqlite3.connect(Path(out) / "results.sqlite")
    try:
        return con.execute("SELECT scenario, replication, metrics, series, months FROM replications "
                           "ORDER BY scenario, replication").fetchall()
    finally:
        con.close()


def test_sobol_indices_of_the_ishigami_function_through_the_pipeline_match_the_analytic_values(fast_dir):
    pytest.importorskip("SALib")
    spec = parse_spec(ISHIGAMI_SPEC, "ishigami.toml")
    res = Exploration(None, spec, "sobol", 1024, reps=1, seed=3, out=fast_dir / "ish",
                      evaluator=ishigami).run(progress=False)
    assert len(res.points) == 1024 * 5 and res.completed() == 1024 * 5
    s = res.sensitivity("y")
    assert s["method"] == "sobol"
    for name in ("x1", "x2", "x3"):
        got = s["indices"][name]
        for idx, exact in (("S1", ISHIGAMI_S1[name]), ("ST", ISHIGAMI_ST[name])):
            assert abs(got[idx] - exact) <= max(got[f"{idx}_conf"], 0.01), (name, idx, got, exact)
            assert abs(got[idx] - exact) < 0.05, (name, idx, got[idx], exact)
    # x2 acts alone (ST = S1); x3 acts only through its interaction with x1 (S1 = 0 < ST)
    assert abs(s["indices"]["x2"]["ST"] - s["indices"]["x2"]["S1"]) < 0.03
    assert s["indices"]["x3"]["ST"] > 0.2 > abs(s["indices"]["x3"]["S1"])


def test_morris_screening_of_the_ishigami_function_ranks_x3_below_x1():
    pytest.importorskip("SALib")
    spec = parse_spec(ISHIGAMI_SPEC, "ishigami.toml")
    d = make_design(spec, "morris", 50, entropy=4)
    assert len(d) == 50 * 4
    np.testing.assert_allclose(np.unique(np.round(np.asarray(d.unit), 12)), [0, 1 / 3, 2 / 3, 1])
    from supplysim.explore.analysis import sensitivity
    y = [ishigami(r)["y"] for r in d.rows]
    s = sensitivity(d, y, entropy=4)["indices"]
    assert s["x1"]["mu_star"] > s["x3"]["mu_star"] and s["x2"]["mu_star"] > s["x3"]["mu_star"]
    assert s["x2"]["sigma"] < s["x3"]["sigma"]      # x2 is additive, x3 interacts with x1


def test_prim_recovers_a_known_box():
    rng = np.random.default_rng(7)
    X = rng.random((2000, 3))
    y = ((X[:, 0] > 0.6) & (X[:, 1] < 0.3)).astype(float)
    r = prim(X, y, ["a", "b", "c"])
    box = r.box
    assert box.restricted == ("a", "b") or set(box.restricted) == {"a", "b"}
    assert abs(box.limits["a"][0] - 0.6) < 0.04 and box.limits["a"][1] == X[:, 0].max()
    assert abs(box.limits["b"][1] - 0.3) < 0.04 and box.limits["b"][0] == X[:, 1].min()
    assert box.coverage > 0.95 and box.density > 0.9
    assert abs(box.mass - 0.12) < 0.03
    assert box.qp["a"] < 1e-10 and box.qp["b"] < 1e-10
    # the trajectory trades coverage for density step by step
    dens = [b.density for b in r.trajectory]
    assert dens[0] == pytest.approx(y.mean()) and max(dens) == 1.0
    assert "a >= 0.5" in box.describe() or "a >= 0.6" in box.describe()


def test_box_limits_in_tonnes_are_written_out_in_the_answer_and_the_figure(tmp_path, monkeypatch):
    """A box on a capacity in t/yr reads ``capacity <= 2,200 t/yr``, never ``2.2e+03``, in the text and in
    the box-limits figure; an index that is rounding noise next to the others reads 0."""
    import supplysim.explore.figures as EF
    from supplysim.explore.prim import fmt_number
    rng = np.random.default_rng(7)
    X = rng.random((2000, 2)) * [4200.0, 40.0] + [800.0, 40.0]
    y = (X[:, 0] < 2200).astype(float)
    box = prim(X, y, ["capacity", "lead"]).box
    text = box.describe(lambda n, v: fmt_number(v) + " t/yr")
    assert "e+0" not in text and "," in text, text
    assert fmt_number(box.limits["capacity"][1]).replace(",", "").isdigit()
    assert fmt_number(8e-15, 2, scale=20.0) == "0" and fmt_number(8e-15, 2) == "8e-15"
    kept = []
    monkeypatch.setattr(EF, "_save", lambda fig, path: kept.append(fig) or path)
    EF.box_limits({"all": box}, {"capacity": (800.0, 5000.0), "lead": (40.0, 80.0)}, {"capacity": "t/yr"},
                  "box", tmp_path / "b.png")
    labels = [t.get_text() for ax in kept[0].axes for t in ax.texts]
    assert "5,000 t/yr" in labels and not any("e+" in t for t in labels), labels
    import matplotlib.pyplot as plt
    plt.close(kept[0])


def test_prim_agrees_with_ema_workbench_on_the_known_box():
    pytest.importorskip("ema_workbench")
    import pandas as pd
    from ema_workbench.analysis import prim as eprim
    rng = np.random.default_rng(7)
    X = rng.random((2000, 3))
    y = (X[:, 0] > 0.6) & (X[:, 1] < 0.3)
    ours = prim(X, y.astype(float), ["a", "b", "c"], density=0.95).box
    theirs = eprim.Prim(pd.DataFrame(X, columns=["a", "b", "c"]), y, threshold=0.95).find_box()
    lims = theirs.box_lims[theirs._cur_box]
    assert abs(ours.limits["a"][0] - lims["a"][0]) < 0.03 and abs(ours.limits["b"][1] - lims["b"][1]) < 0.03


def test_designs_are_reproducible_from_the_seed_and_crossed_with_levers(tutorial_spec):
    pytest.importorskip("SALib")
    spec = load_spec(tutorial_spec)
    a, b, c = (make_design(spec, "lhs", 5, e) for e in (11, 11, 12))
    assert a.rows == b.rows and a.rows != c.rows
    assert len(a) == 10 and [p.policy for p in a.points()][4:6] == ["jp_buffer=250", "jp_buffer=600"]
    pts = list(a.points())
    assert pts[0].values["alloy_capacity"] == pts[5].values["alloy_capacity"]     # same future, other lever
    lo = [r["alloy_capacity"] for r in a.rows]
    assert all(800 <= v <= 5000 for v in lo)
    assert sorted(int((v - 800) / 4200 * 5) for v in lo) == [0, 1, 2, 3, 4]        # one per stratum
    with pytest.raises(DesignError, match="power of 2"):
        make_design(spec, "sobol", 48, 1)
    with pytest.raises(DesignError, match="unknown design"):
        make_design(spec, "grid", 4, 1)
    full = make_design(spec, "full", 3, 1)
    assert [r["alloy_capacity"] for r in full.rows][::3] == [800.0, 2900.0, 5000.0]


def test_a_resumed_exploration_equals_an_uninterrupted_one_bit_for_bit(tmp_path, tutorial_spec, monkeypatch):
    pytest.importorskip("SALib")
    from supplysim.experiment.store import Store
    kw = dict(design="lhs", n=3, reps=2, seed=21, days=200)
    full = Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "full", **kw).run(progress=False)
    real_add, calls = Store.add, []

    def dying_add(self, *a):
        if len(calls) == 5:
            raise KeyboardInterrupt
        calls.append(a[:2])
        return real_add(self, *a)
    monkeypatch.setattr(Store, "add", dying_add)
    with pytest.raises(KeyboardInterrupt):
        Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "cut", **kw).run(progress=False)
    monkeypatch.setattr(Store, "add", real_add)
    assert len(_rows(tmp_path / "cut")) == 5
    with pytest.raises(FileExistsError):
        Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "cut", **kw).run(progress=False)
    resumed = Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "cut", design=None, n=None, reps=2,
                          days=200).run(resume=True, progress=False)
    assert _rows(tmp_path / "full") == _rows(tmp_path / "cut") and len(_rows(tmp_path / "full")) == 12
    for o in ("jp_lost", "jp_fill"):
        np.testing.assert_array_equal(full.outcomes()[o], resumed.outcomes()[o])
    with pytest.raises(ValueError, match="--seed 22 differs"):
        Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "cut", **{**kw, "seed": 22}).run(resume=True,
                                                                                               progress=False)


def test_one_and_two_workers_store_the_same_numbers(tmp_path, tutorial_spec):
    pytest.importorskip("SALib")
    kw = dict(design="lhs", n=2, reps=2, seed=5, days=200)
    Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "j1", **kw).run(jobs=1, progress=False)
    Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "j2", **kw).run(jobs=2, progress=False)
    assert _rows(tmp_path / "j1") == _rows(tmp_path / "j2")


def test_a_dask_cluster_stores_the_same_numbers_as_one_process(tmp_path, tutorial_spec):
    pytest.importorskip("SALib")
    distributed = pytest.importorskip("distributed")
    kw = dict(design="lhs", n=2, reps=1, seed=5, days=200)
    Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "s", **kw).run(progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "d", **kw).run(executor=client, progress=False)
    assert _rows(tmp_path / "s") == _rows(tmp_path / "d")


def test_every_point_draws_the_same_random_numbers(tmp_path, tutorial_spec):
    """Common random numbers across design points: replication r of every point sees the same demand
    (no input touches demand), so points differ only by their inputs."""
    pytest.importorskip("SALib")
    res = Exploration(TUTORIAL, tutorial_spec, design="lhs", n=2, reps=2, seed=8, days=200,
                      out=tmp_path / "crn").run(progress=False)
    for r in (0, 1):
        dem = {p.label: dict(res.store.metrics(p.label))[r]["demand_t[EU]"] for p in res.points}
        assert len(set(dem.values())) == 1, dem
    assert dict(res.store.metrics("x00000@jp_buffer=250"))[0]["demand_t[EU]"] != \
        dict(res.store.metrics("x00000@jp_buffer=250"))[1]["demand_t[EU]"]


# ---- bad explore files -----------------------------------------------------------------------------------
BAD_SPECS = [
    ("[uncertainties.a]\nkeys = ['facilities.alloy_kr.capacity']\nrange = [5, 1]\n[outcomes.y]\nmetric = 'delivered_share[EU]'",
     "uncertainties.a.range", "low < high"),
    ("[uncertainties.a]\nkeys = ['facilities.alloy_kr.capacity']\nrange = [1, 5]\ndist = 'weibull'\n"
     "[outcomes.y]\nmetric = 'delivered_share[EU]'", "uncertainties.a.dist", "expected one of"),
    ("[uncertainties.a]\nkeys = ['facilities.alloy_kr.capacity']\nrange = [1, 5]\ndist = 'triangular'\n"
     "[outcomes.y]\nmetric = 'delivered_share[EU]'", "uncertainties.a.mode", "missing required key"),
    ("[uncertainties.a]\nkeys = ['facilities.alloy_kr.capacity']\n[outcomes.y]\nmetric = 'delivered_share[EU]'",
     "uncertainties.a", "range = [low, high]"),
    ("[uncertainties.a]\nrange = [1, 5]\n[outcomes.y]\nmetric = 'delivered_share[EU]'", "uncertainties.a.keys",
     "missing required key"),
    ("[uncertainties.a]\nkeys = ['facilities..capacity']\nrange = [1, 5]\n[outcomes.y]\nmetric = 'delivered_share[EU]'",
     "uncertainties.a.keys.0.key", "empty segment"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]\nranges = 3\n[outcomes.y]\nmetric = 'delivered_share[EU]'",
     "uncertainties.a.ranges", "did you mean 'range'"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]", "outcomes", "at least one outcome"),
    ("[outcomes.y]\nmetric = 'delivered_share[EU]'", "uncertainties", "at least one uncertainty"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]\n[outcomes.y]\nmetric = 'demand_lost_pct'\n"
     "regions = ['EU']\nwindow = ['2026-13', '2027-01']", "outcomes.y.window.0", "a month like"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]\n[outcomes.y]\nmetric = 'demand_lost_pct'\n"
     "regions = ['EU']\nthreshold = 150", "outcomes.y.threshold", "in [0, 100]"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]\n[outcomes.y]\nmetric = 'time_to_survive_days'\n"
     "regions = ['EU']", "outcomes.y.metric", "cannot be computed over a window"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]\n[outcomes.y]\nmetric = 'on_time_fill'\n"
     "window = ['2026-01', '2027-01']", "outcomes.y.regions", "a window needs the regions"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]\n[outcomes.y]\nseries = 'delivered_t'\nkeys = ['EU']\n"
     "stat = 'median'", "outcomes.y.stat", "expected one of"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]\n[levers.b]\nkeys = ['x.y']\nvalues = [1, 2]\n"
     "[outcomes.y]\nmetric = 'delivered_share[EU]'", "levers.b.keys", "also set by uncertainties.a"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]\n[levers.b]\nkeys = ['x.z']\nrange = [1, 2]\n"
     "[outcomes.y]\nmetric = 'delivered_share[EU]'", "levers.b.range", "unknown key"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]\n[outcomes.a]\nmetric = 'delivered_share[EU]'", "outcomes.a",
     "names must be distinct"),
    ("[uncertainties.'a b']\nkeys = ['x.y']\nrange = [1, 5]\n[outcomes.y]\nmetric = 'delivered_share[EU]'",
     "uncertainties.a b", "letters, digits and underscores"),
    ("[uncertainties.a]\nkeys = ['x.y']\nrange = [1, 5]\n[outcomes.y]\nmetric = 'delivered_share[EU]'\n[explore]\nyears = -1",
     "explore.years", "expected a number > 0"),
    ("[uncertainties.a\nkeys = 1", "", "not valid TOML"),
]


@pytest.mark.parametrize("text, key, message", BAD_SPECS, ids=[b[1] or "toml" for b in BAD_SPECS])
def test_a_bad_explore_file_is_an_error_naming_the_file_and_the_key(tmp_path, text, key, message):
    p = tmp_path / "bad-explore.toml"
    p.write_text(text)
    with pytest.raises(ModelError) as e:
        load_spec(p)
    hits = [q for q in e.value.problems if q.file == str(p) and q.path == key and message in q.message]
    assert hits, str(e.value)


MODEL_BAD_SPECS = [
    ("[uncertainties.a]\nkeys = ['facilities.alloy_kr.capacty']\nrange = [100, 500]\n[outcomes.y]\n"
     "metric = 'delivered_share[EU]'", "uncertainties.a.keys.0", "facilities.alloy_kr.capacty: no key 'capacty'"),
    ("[uncertainties.a]\nkeys = ['facilities.alloy_kr.capacity']\nrange = [-500, -100]\n[outcomes.y]\n"
     "metric = 'delivered_share[EU]'", "uncertainties.a.keys.0", "facilities.alloy_kr.capacity: expected a number"),
    ("[uncertainties.a]\nkeys = []\nrange = [1, 5]\n[outcomes.y]\nmetric = 'delivered_share[EU]'", "uncertainties.a.keys",
     "sets no model value"),
    ("[uncertainties.a]\nkeys = ['facilities.alloy_kr.capacity']\nrange = [100, 500]\n[outcomes.y]\n"
     "metric = 'demand_lost_pct'\nregions = ['EUR']", "outcomes.y.regions", "unknown region 'EUR'"),
    ("[uncertainties.a]\nkeys = ['facilities.alloy_kr.capacity']\nrange = [100, 500]\n[outcomes.y]\n"
     "metric = 'demand_lost_pct'\nregions = ['EU']\nwindow = ['2025-01', '2031-12']", "outcomes.y.window",
     "is not within the run"),
    ("[uncertainties.a]\nkeys = ['facilities.alloy_kr.capacity']\nrange = [100, 500]\n[levers.b]\n"
     "options = [[], ['no-such-option']]\n[outcomes.y]\nmetric = 'delivered_share[EU]'", "levers.b.options",
     "unknown option 'no-such-option'"),
]


@pytest.mark.parametrize("text, key, message", MODEL_BAD_SPECS, ids=[b[1] for b in MODEL_BAD_SPECS])
def test_an_explore_file_that_does_not_fit_the_model_fails_before_any_run(tmp_path, text, key, message):
    p = tmp_path / "bad-explore.toml"
    p.write_text(text)
    with pytest.raises(ModelError) as e:
        Exploration(TUTORIAL, p, out=tmp_path / "o")
    assert any(q.file == str(p) and q.path == key and message in q.message for q in e.value.problems), str(e.value)
    assert not (tmp_path / "o").exists()


def test_the_cli_reports_a_bad_explore_file_with_exit_2_and_no_traceback(tmp_path, capsys):
    from supplysim.cli import main
    p = tmp_path / "bad-explore.toml"
    p.write_text(MODEL_BAD_SPECS[0][0])
    code = main(["explore", TUTORIAL, "--spec", str(p), "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{p}: uncertainties.a.keys.0: facilities.alloy_kr.capacty: no key 'capacty'" in err
    assert "Traceback" not in err


# ---- the command, the report and the exports --------------------------------------------------------------
def test_explore_command_runs_reports_answer_first_and_exports_for_ema_and_salib(tmp_path, tutorial_spec, capsys):
    pytest.importorskip("SALib")
    import csv
    import html.parser
    import json
    import tarfile

    from supplysim.cli import main
    out = tmp_path / "run"
    code = main(["explore", TUTORIAL, "--spec", str(tutorial_spec), "--design", "lhs", "--n", "32", "--reps", "1",
                 "--days", "200", "--seed", "4", "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0 and printed.startswith("Answer: In ")
    for f in ("results.sqlite", "report.html", "report.md", "analysis.json", "points.csv", "ema_results.tar.gz",
              "salib/problem.txt", "salib/X.txt", "figures/jp_lost_pairs.png"):
        assert (out / f).stat().st_size > 0, f
    page = (out / "report.html").read_text()
    assert page.index("Answer.") < page.index("<table") < page.index("<img")
    html.parser.HTMLParser().feed(page)
    an = json.loads((out / "analysis.json").read_text())
    share = an["analysis"]["jp_lost"]["by_policy"]["jp_buffer=250"]["share_bad"]
    rows = list(csv.DictReader(open(out / "points.csv")))
    assert len(rows) == 64 and set(rows[0]) >= {"point", "alloy_capacity", "eu_lead_max", "jp_buffer",
                                                  "jp_lost", "jp_fill"}
    bad = sum(float(r["jp_lost"]) > 5 for r in rows if r["policy"] == "jp_buffer=250")
    assert bad == share["bad"] and share["n"] == 32
    with tarfile.open(out / "ema_results.tar.gz") as z:
        assert sorted(z.getnames()) == ["experiments.csv", "jp_fill.cls", "jp_lost.cls", "metadata.json"]
        meta = json.loads(z.extractfile("metadata.json").read())
        assert meta["experiments"]["policy"] == "category" and meta["outcomes"][0][0] == "ScalarOutcome"
    # the report is rebuilt from the store alone, with another threshold
    assert main(["explore-report", str(out), "--threshold", "jp_lost=50"]) == 0
    an2 = json.loads((out / "analysis.json").read_text())
    assert an2["analysis"]["jp_lost"]["threshold"] == 50
    with pytest.raises(SystemExit, match="no outcome 'nope'"):
        main(["explore-report", str(out), "--threshold", "nope=1"])


def test_the_salib_export_gives_the_same_indices_through_salib_alone(tmp_path, fast_dir):
    pytest.importorskip("SALib")
    from SALib.analyze import sobol
    from SALib.util import read_param_file

    from supplysim.explore.interop import export
    spec = parse_spec(ISHIGAMI_SPEC, "ishigami.toml")
    res = Exploration(None, spec, "sobol", 256, reps=1, seed=9, out=fast_dir / "s", evaluator=ishigami).run(
        progress=False)
    export(res)
    problem = read_param_file(str(fast_dir / "s" / "salib" / "problem.txt"))
    y = np.loadtxt(fast_dir / "s" / "salib" / "Y_y.txt")
    theirs = sobol.analyze(problem, y, calc_second_order=False, seed=5)
    ours = res.sensitivity("y")["indices"]
    np.testing.assert_allclose(theirs["ST"], [ours[n]["ST"] for n in ("x1", "x2", "x3")], rtol=1e-12)
    vals = np.loadtxt(fast_dir / "s" / "salib" / "values.txt")
    assert np.allclose([ishigami(dict(zip(("x1", "x2", "x3"), v)))["y"] for v in vals[:50]], y[:50])


def test_the_ema_archive_loads_in_ema_workbench_and_the_adapter_runs_supplysim(tmp_path, tutorial_spec):
    pytest.importorskip("SALib")
    ema = pytest.importorskip("ema_workbench")
    from supplysim.explore.interop import ema_model, export
    res = Exploration(TUTORIAL, tutorial_spec, design="full", n=2, reps=2, seed=6, days=200,
                      out=tmp_path / "e").run(progress=False)
    export(res)
    experiments, outcomes = ema.load_results(str(tmp_path / "e" / "ema_results.tar.gz"))
    assert len(experiments) == len(res.points) == 8
    np.testing.assert_array_equal(outcomes["jp_fill"], res.means("jp_fill"))
    assert list(experiments["alloy_capacity"][:2]) == [res.points[0].values["alloy_capacity"],
                                                       res.points[1].values["alloy_capacity"]]
    # ema-workbench drives the model: the same inputs and seed give the explore run's numbers
    m = ema_model(TUTORIAL, tutorial_spec, reps=2, seed=6, days=200)
    pt = res.points[3]
    sc = ema.Scenario("s", **{k: pt.values[k] for k in ("alloy_capacity", "eu_lead_max")})
    pol = ema.Policy("p", jp_buffer=pt.values["jp_buffer"])
    _, outs = ema.perform_experiments(m, scenarios=[sc], policies=[pol])
    assert outs["jp_fill"][0] == res.means("jp_fill")[3]
    assert outs["jp_lost"][0] == res.means("jp_lost")[3]


def test_a_damaged_row_is_dropped_and_rerun_on_resume_to_the_same_numbers(tmp_path, tutorial_spec, capsys):
    pytest.importorskip("SALib")
    import sqlite3
    kw = dict(design="lhs", n=2, reps=1, seed=13, days=200)
    Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "a", **kw).run(progress=False)
    clean = _rows(tmp_path / "a")
    con = sqlite3.connect(tmp_path / "a" / "results.sqlite")
    with con:
        con.execute("UPDATE replications SET metrics = replace(metrics, '\"demand_t[EU]\": ', '\"demand_t[EU]\": 1') "
                    "WHERE scenario = 'x00001@jp_buffer=600'")
    con.close()
    Exploration(TUTORIAL, tutorial_spec, out=tmp_path / "a", **kw).run(resume=True, progress=False)
    assert "was damaged" in capsys.readouterr().err
    assert _rows(tmp_path / "a") == clean


def test_an_options_lever_switches_the_models_named_options_on_per_point(tmp_path):
    model = tmp_path / "model.toml"
    model.write_text(Path(TUTORIAL).read_text() + '\n[options.small-alloy]\ndescription = "a small alloy plant"\n'
                     '[options.small-alloy.facilities.alloy_kr]\ncapacity = 600\n')
    spec = tmp_path / "spec.toml"
    spec.write_text('[uncertainties.eu_lead]\nkeys = ["lanes.magnets-eu-buyers.lead_time.max"]\nrange = [38, 60]\n'
                    '[levers.plant]\noptions = [[], ["small-alloy"]]\n'
                    '[outcomes.jp_fill]\nmetric = "on_time_fill[JP]"\n')
    res = Exploration(model, spec, design="full", n=1, reps=1, seed=2, days=200, out=tmp_path / "o").run(
        progress=False)
    assert [p.policy for p in res.points] == ["plant=none", "plant=small-alloy"]
    assert [p["options"] for p in res.manifest["points"]] == [[], ["small-alloy"]]
    assert len({p["model_sha256"] for p in res.manifest["points"]}) == 2
    fill = res.means("jp_fill")
    assert fill[1] < fill[0] - 0.05
