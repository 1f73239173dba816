"""Experiments: resumable store, executors that agree exactly, CRN, interval coverage."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from supplysim.experiment.experiment import Experiment, ExperimentResults
from supplysim.experiment.stats import mean_ci, t_quantile

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = str(ROOT / "models" / "examples" / "tutorial.toml")

SHOCK = """
[scenario]
name = "alloy-outage"
description = "The alloy plant runs at 40% for four months"
[disruptions.alloy-down]
kind = "facility_outage"
facilities = ["alloy_kr"]
capacity_factor = 0.4
start = 2025-03-01
days = 120
"""


@pytest.fixture
def shock(tmp_path):
    p = tmp_path / "alloy-outage.toml"
    p.write_text(SHOCK)
    return str(p)


def _rows(out):
    res = ExperimentResults(out)
    return {s: res.store.metrics(s) for s in res.scenarios}


def test_store_exports_and_summary_shape(tmp_path, shock):
    out = tmp_path / "e"
    res = Experiment(TUTORIAL, ["baseline", shock], reps=3, seed=5, days=300, out=out).run(progress=False)
    for f in ("results.sqlite", "summary.json", "replications.csv", "timeseries.csv", "run.log"):
        assert (out / f).stat().st_size > 0, f
    data = json.loads((out / "summary.json").read_text())
    assert data["manifest"]["entropy"] == 5
    st = data["scenarios"]["baseline"]["regions"]["EU"]["delivered_share"]
    assert set(st) >= {"estimate", "ci_low", "ci_high", "n", "kind"} and st["n"] == 3
    assert "EU" in data["scenarios"][shock]["regions"]
    assert data["metrics"]["demand_lost_t"]["unit"] == "t"
    head = (out / "timeseries.csv").read_text().splitlines()[0]
    assert head == "scenario,series,key,month,mean,p05,p50,p95"
    d = res.compare("baseline", shock, "demand_lost_t[JP]")
    assert d["n"] == 3 and d["mean"] > 0
    # the exported differences (each scenario read once) are the paired comparisons, metric by metric
    diffs = data["differences"][shock]
    assert "delivered_share[EU]" in diffs and "time_to_recover_days[JP]" in diffs
    for k, v in diffs.items():
        assert v == json.loads(json.dumps(res.compare("baseline", shock, k))), k


def test_serial_processes_and_resume_agree_exactly(tmp_path, shock):
    a = Experiment(TUTORIAL, ["baseline", shock], reps=4, seed=11, days=250, out=tmp_path / "a").run(progress=False)
    b = Experiment(TUTORIAL, ["baseline", shock], reps=4, seed=11, days=250, out=tmp_path / "b").run(
        jobs=2, progress=False)
    # a partial run (2 replications) resumed to 4 equals the full run
    Experiment(TUTORIAL, ["baseline", shock], reps=2, seed=11, days=250, out=tmp_path / "c").run(progress=False)
    c = Experiment(TUTORIAL, ["baseline", shock], reps=4, days=250, out=tmp_path / "c").run(
        resume=True, progress=False)
    ra, rb, rc = _rows(a.out), _rows(b.out), _rows(c.out)
    assert ra == rb == rc
    assert (a.out / "timeseries.csv").read_text() == (c.out / "timeseries.csv").read_text()


def test_store_series_round_trip_and_earlier_npz_blobs():
    import io

    from supplysim.experiment.store import Store
    series = {"fill_rate": (["CN", "EU"], np.array([[0.5, 1.0], [0.25, 0.75], [1.0, 0.0]])),
              "trade_t": (["CN>JP:magnet"], np.arange(3.0).reshape(3, 1)),
              "empty": ([], np.zeros((3, 0)))}
    st = Store(":memory:")
    st.add("baseline", 0, {"fill_rate": 0.5}, series, ["2025-01", "2025-02", "2025-03"], 0.1)
    # a store written by earlier versions keeps its series as numpy.savez bytes
    buf = io.BytesIO()
    np.savez(buf, **{f"{k}.{p}": (np.asarray(lab, dtype=str) if p == "labels" else v)
                     for k, (lab, v) in series.items() for p in ("labels", "values")})
    # (and no checksums: such rows are read unverified)
    st.db.execute("INSERT INTO replications (scenario, replication, metrics, series, months, wall_s) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
                  ("baseline", 1, "{}", buf.getvalue(), '["2025-01", "2025-02", "2025-03"]', 0.1))
    got = list(st.series("baseline"))
    assert [r for r, _, _ in got] == [0, 1]
    for _, months, ser in got:
        assert months == ["2025-01", "2025-02", "2025-03"]
        assert ser.keys() == series.keys()
        for k, (lab, v) in series.items():
            assert ser[k][0] == lab and all(type(x) is str for x in ser[k][0])
            assert ser[k][1].shape == v.shape and np.array_equal(ser[k][1], v)


def test_compare_without_invariant_checks_gives_the_same_results(tmp_path):
    from supplysim.cli import main
    out = {}
    for flag in ((), ("--no-check",)):
        d = tmp_path / ("off" if flag else "on")
        main(["compare", str(TUTORIAL), "--scenarios", "baseline", "--reps", "2", "--days", "200", "--seed", "4",
              "--out", str(d), "--quiet", "--no-report", *flag])
        out[bool(flag)] = ExperimentResults(d)
    assert out[False].manifest["invariant_checks"] == "yearly" and out[True].manifest["invariant_checks"] == "off"
    a, b = out[False].metrics("baseline"), out[True].metrics("baseline")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def test_existing_store_needs_resume(tmp_path):
    Experiment(TUTORIAL, ["baseline"], reps=2, seed=1, days=60, out=tmp_path / "x").run(progress=False)
    with pytest.raises(FileExistsError):
        Experiment(TUTORIAL, ["baseline"], reps=2, seed=1, days=60, out=tmp_path / "x").run(progress=False)


def test_killed_run_keeps_replications_and_resumes(tmp_path, shock):
    out = tmp_path / "k"
    cmd = [sys.executable, "-m", "supplysim.cli", "compare", TUTORIAL, "--scenarios", f"baseline,{shock}",
           "--reps", "10", "--days", "300", "--seed", "3", "--out", str(out), "--quiet", "--no-report"]
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / "results.sqlite"
    deadline = time.time() + 60
    import sqlite3
    n = 0
    while time.time() < deadline:
        if db.exists():
            try:
                n = sqlite3.connect(db).execute("SELECT COUNT(*) FROM replications").fetchone()[0]
            except sqlite3.Error:
                n = 0
            if n >= 3:
                break
        time.sleep(0.2)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert 3 <= n < 20
    r = subprocess.run(cmd + ["--resume"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    full = Experiment(TUTORIAL, ["baseline", shock], reps=10, seed=3, days=300, out=tmp_path / "full").run(
        progress=False)
    assert _rows(out) == _rows(full.out)


def test_dask_local_cluster_agrees_with_serial(tmp_path, shock):
    distributed = pytest.importorskip("distributed")
    serial = Experiment(TUTORIAL, ["baseline", shock], reps=3, seed=7, days=200, out=tmp_path / "s").run(
        progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        dask = Experiment(TUTORIAL, ["baseline", shock], reps=3, seed=7, days=200, out=tmp_path / "d").run(
            executor=client, progress=False)
    assert _rows(serial.out) == _rows(dask.out)


DELAY = """
[scenario]
name = "slow-alloy"
description = "Alloy shipments take 10 more days for three months"
[disruptions.slow]
kind = "lane_delay"
lanes = ["alloy-magnet"]
extra_days = 10
start = 2025-03-01
days = 90
"""


def test_common_random_numbers_reduce_variance_of_paired_difference(tmp_path):
    shock = tmp_path / "slow-alloy.toml"
    shock.write_text(DELAY)
    shock = str(shock)
    kw = dict(reps=8, seed=21, days=300)
    crn = Experiment(TUTORIAL, ["baseline", shock], out=tmp_path / "crn", **kw).run(progress=False)
    ind = Experiment(TUTORIAL, ["baseline", shock], out=tmp_path / "ind", crn=False, **kw).run(progress=False)
    metric = "mean_inventory_t[magnets_jp]"   # varies with the demand draws in both scenarios
    d_crn = crn.compare("baseline", shock, metric)
    d_ind = ind.compare("baseline", shock, metric)
    assert d_crn["half_width"] < d_ind["half_width"]
    assert d_crn["variance_reduction"] > 1.5


def test_student_t_interval_covers_known_mean_at_nominal_rate():
    # coverage of the 95% interval on a known answer (exponential mean 2, n = 10), 2,000 trials
    rng = np.random.default_rng(2024)
    x = rng.exponential(2.0, size=(2000, 10))
    hits = 0
    for row in x:
        s = mean_ci(row)
        hits += s["ci_low"] <= 2.0 <= s["ci_high"]
    cover = hits / 2000
    assert 0.90 <= cover <= 0.97          # skewed data under-covers slightly; normal data would be ~0.95
    z = rng.normal(5.0, 1.0, size=(2000, 10))
    cover_n = np.mean([(lambda s: s["ci_low"] <= 5.0 <= s["ci_high"])(mean_ci(r)) for r in z])
    assert abs(cover_n - 0.95) < 0.015
    assert abs(t_quantile(0.975, 9) - 2.262157) < 1e-6


def test_precision_control_adds_replications(tmp_path, shock):
    res = Experiment(TUTORIAL, ["baseline", shock], reps=3, seed=2, days=300, out=tmp_path / "p").run(
        precision=0.02, metric="on_time_fill", max_reps=8, progress=False)
    m = res.manifest
    n = len(res.replications(shock))
    assert 3 < n <= 8
    assert m["precision"]["achieved"] <= 0.02 or n == 8


def test_results_as_dataframes_and_parquet(tmp_path, shock):
    pd = pytest.importorskip("pandas")
    pq = pytest.importorskip("pyarrow.parquet")
    res = Experiment(TUTORIAL, ["baseline", shock], reps=2, seed=3, days=120, out=tmp_path / "f").run(progress=False)
    df = res.to_frame()
    assert list(df.index.names) == ["scenario", "replication"] and len(df) == 4
    assert df.loc[("baseline", 1), "demand_t[JP]"] == res.metrics("baseline")["demand_t[JP]"][1]
    sf = res.summary_frame()
    row = sf[(sf.scenario == shock) & (sf.region == "EU") & (sf.metric == "delivered_share")].iloc[0]
    assert row.unit == "fraction" and 0 <= row.ci_low <= row.estimate <= row.ci_high <= 1
    # every replication's monthly series, long form, readable by any Parquet reader
    t = pq.read_table(tmp_path / "f" / "series.parquet").to_pandas()
    assert set(t.columns) == {"scenario", "replication", "series", "key", "month", "value"}
    one = t[(t.scenario == shock) & (t.replication == 1) & (t.series == "delivered_t") & (t.key == "EU")]
    stored = dict(list(res.store.series(shock))[1][2])["delivered_t"]
    assert np.array_equal(one.sort_values("month").value.to_numpy(), stored[1][:, stored[0].index("EU")])
    assert set(t.series) >= {"demand_t", "delivered_t", "backlog_t", "lost_t", "on_time_t", "trade_t"}


def test_windowed_metrics_from_the_stored_series(tmp_path, shock):
    res = Experiment(TUTORIAL, ["baseline", shock], reps=2, seed=3, days=300, out=tmp_path / "w").run(progress=False)
    whole = res.metric_values(shock, "demand_lost_t[JP]")
    again = res.metric_values(shock, "demand_lost_t[JP]", window=("2025-01", "2025-12"))
    assert np.allclose(whole, again)       # the run is 2025-01 to 2025-10: the same window
    part = res.metric_values(shock, "demand_t[JP]", window=("2025-03", "2025-06"))
    assert np.all(part < res.metric_values(shock, "demand_t[JP]"))
    with pytest.raises(ValueError, match="windows"):
        res.metric_values(shock, "time_to_survive_days[JP]", window=("2025-03", "2025-06"))
