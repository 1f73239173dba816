"""The ``supplysim`` command line: validate, run, scenarios, help."""
from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from supplysim import Simulation, load_model

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "models" / "examples" / "tutorial.toml"
RUN_OPTIONS = ("--scenario", "--reps", "--seed", "--years", "--days", "--jobs", "--out", "--quiet", "--no-check")


def cli(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "supplysim.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert "Traceback" not in r.stderr
    return r


# -- validate -----------------------------------------------------------------------------------------

def test_validate_tutorial_prints_stages():
    r = _ok(cli("validate", TUTORIAL))
    out = r.stdout
    assert "tutorial" in out and "valid" in out
    for stage in ("mine", "separation", "alloying", "magnet", "recycling"):
        assert stage in out, stage
    # capacity by stage, as in the model file
    assert "20,000" in out and "4,000" in out and "6,000" in out
    assert "9 lanes" in out and "2 demand sinks" in out


def test_validate_json():
    r = _ok(cli("validate", TUTORIAL, "--json"))
    data = json.loads(r.stdout)
    assert data["name"] == "tutorial"
    assert data["stages"]["separation"]["capacity_t_yr"] == 4000
    assert data["demand_t_yr_by_region"] == {"JP": 2500, "EU": 1200}


@pytest.mark.skipif(shutil.which("supplysim") is None, reason="console script not installed")
def test_entry_point():
    r = subprocess.run(["supplysim", "validate", str(TUTORIAL)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "separation" in r.stdout


# -- run ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run_serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    r = _ok(cli("run", TUTORIAL, "--reps", 3, "--seed", 1, "--days", 200, "--quiet", "--out", out))
    return r, out


def test_run_prints_kpis(run_serial):
    r, out = run_serial
    assert "fill_rate" in r.stdout
    assert "summary.json" in r.stdout
    # --quiet: no progress bar on stderr
    assert "rep/s" not in r.stderr and "it/s" not in r.stderr


def test_run_summary_json_shape(run_serial):
    _, out = run_serial
    data = json.loads((out / "summary.json").read_text())
    assert set(data) >= {"manifest", "scenarios"}
    man = data["manifest"]
    assert man["entropy"] == 1 and man["replications"] == 3 and man["horizon_days"] == 200
    assert man["scenario"] == "baseline" and man["model"] == "tutorial"
    assert len(man["model_sha256"]) == 64
    assert list(data["scenarios"]) == ["baseline"]
    sc = data["scenarios"]["baseline"]
    for kpi in ("fill_rate", "demand_t", "filled_t", "unmet_demand_t", "lost_t", "backlog_end_t",
                "mean_backlog_t", "production_t", "cost_total"):
        s = sc["kpis"][kpi]
        assert {"mean", "ci_low", "ci_high", "n"} <= set(s), kpi
        assert s["n"] == 3
        assert s["ci_low"] <= s["mean"] <= s["ci_high"], kpi
    assert "wall_s" not in sc["kpis"]
    assert set(sc["regions"]) == {"JP", "EU"}
    for reg in sc["regions"].values():
        assert reg["fill_rate"]["n"] == 3
        assert 0.0 <= reg["fill_rate"]["mean"] <= 1.0


def test_run_replications_csv(run_serial):
    _, out = run_serial
    with open(out / "replications.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    assert [int(r["replication"]) for r in rows] == [0, 1, 2]
    assert all(r["scenario"] == "baseline" and int(r["entropy"]) == 1 for r in rows)
    # the summary's mean is the mean of the rows
    data = json.loads((out / "summary.json").read_text())
    for kpi in ("fill_rate", "demand_t", "production_t"):
        m = sum(float(r[kpi]) for r in rows) / 3
        assert data["scenarios"]["baseline"]["kpis"][kpi]["mean"] == pytest.approx(m, rel=1e-12)


def test_run_matches_library(run_serial):
    """The command runs replication r with the documented streams: the same numbers as the library."""
    _, out = run_serial
    with open(out / "replications.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    m = load_model(TUTORIAL)
    for row in rows:
        res = Simulation(m, seed=1, replication=int(row["replication"])).run(until=200)
        for kpi in ("demand_t", "filled_t", "production_t", "fill_rate"):
            assert float(row[kpi]) == pytest.approx(res.kpis[kpi], rel=1e-12), kpi


def test_run_jobs_identical(run_serial, tmp_path):
    _, out = run_serial
    _ok(cli("run", TUTORIAL, "--reps", 3, "--seed", 1, "--days", 200, "--quiet", "--jobs", 2, "--out", tmp_path))
    a = json.loads((out / "summary.json").read_text())["scenarios"]
    b = json.loads((tmp_path / "summary.json").read_text())["scenarios"]
    assert a == b
    with open(out / "replications.csv", newline="") as f1, open(tmp_path / "replications.csv", newline="") as f2:
        r1 = [{k: v for k, v in r.items() if k != "wall_s"} for r in csv.DictReader(f1)]
        r2 = [{k: v for k, v in r.items() if k != "wall_s"} for r in csv.DictReader(f2)]
    assert r1 == r2


def test_run_other_seed_differs(run_serial, tmp_path):
    _, out = run_serial
    _ok(cli("run", TUTORIAL, "--reps", 3, "--seed", 2, "--days", 200, "--quiet", "--out", tmp_path))
    a = json.loads((out / "summary.json").read_text())["scenarios"]["baseline"]["kpis"]["demand_t"]["mean"]
    b = json.loads((tmp_path / "summary.json").read_text())["scenarios"]["baseline"]["kpis"]["demand_t"]["mean"]
    assert a != b


def test_run_with_scenario(tmp_path):
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "model.toml").write_text(TUTORIAL.read_text())
    (model_dir / "scenarios").mkdir()
    (model_dir / "scenarios" / "outage.toml").write_text(
        '[scenario]\nname = "outage"\ndescription = "magnet maker down"\n'
        '[disruptions.down]\nkind = "facility_outage"\nfacilities = ["magnets_jp"]\ncapacity_factor = 0\n'
        'start = 2025-01-10\ndays = 150\n')
    r = _ok(cli("scenarios", model_dir))
    assert "outage" in r.stdout and "magnet maker down" in r.stdout
    out = tmp_path / "out"
    _ok(cli("run", model_dir, "--scenario", "outage", "--reps", 2, "--seed", 3, "--days", 200, "--quiet",
            "--out", out))
    data = json.loads((out / "summary.json").read_text())
    assert list(data["scenarios"]) == ["outage"]
    fill = data["scenarios"]["outage"]["kpis"]["fill_rate"]["mean"]
    assert fill < 1.0


def test_scenarios_none(tmp_path):
    (tmp_path / "model.toml").write_text(TUTORIAL.read_text())
    r = _ok(cli("scenarios", tmp_path))
    assert "no scenarios" in r.stdout


def test_run_broken_model_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TUTORIAL.read_text().replace("capacity = 20000", "capacity = -20000"))
    r = cli("run", bad, "--reps", 2, "--seed", 1, "--days", 50, "--quiet", "--out", tmp_path / "o")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "facilities.mine.capacity" in r.stderr
    assert not (tmp_path / "o" / "summary.json").exists()


@pytest.mark.parametrize("args", [("--reps", 0), ("--jobs", 0), ("--days", -5)])
def test_run_bad_arguments(tmp_path, args):
    r = cli("run", TUTORIAL, "--seed", 1, "--quiet", "--out", tmp_path, *args)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr


# -- help -------------------------------------------------------------------------------------------

def test_help_lists_commands():
    r = _ok(cli("--help"))
    for word in ("validate", "run", "scenarios", "--version"):
        assert word in r.stdout, word


def test_run_help_mentions_every_option():
    r = _ok(cli("run", "--help"))
    for opt in RUN_OPTIONS:
        assert opt in r.stdout, opt
    assert "model" in r.stdout.lower()


def test_help_text_has_no_format_escapes():
    """Help text is shown as written: no doubled '%%' from argparse escaping."""
    for args in (("--help",), ("run", "--help"), ("validate", "--help"), ("scenarios", "--help")):
        r = _ok(cli(*args))
        assert "%%" not in r.stdout, (args, [ln for ln in r.stdout.splitlines() if "%%" in ln])


def test_validate_help():
    r = _ok(cli("validate", "--help"))
    for opt in ("--scenario", "--json"):
        assert opt in r.stdout


def test_version():
    import supplysim
    r = _ok(cli("--version"))
    assert supplysim.__version__ in r.stdout


def test_no_nan_in_summary(run_serial):
    _, out = run_serial
    text = (out / "summary.json").read_text()
    data = json.loads(text)

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, float):
            assert math.isfinite(x)
    walk(data["scenarios"])
