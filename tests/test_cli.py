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
RUN_OPTIONS = ("--scenario", "--reps", "--seed", "--years", "--days", "--jobs", "--out", "--resume", "--replace",
               "--quiet", "--no-check")


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


def test_run_prints_what_it_ran_and_what_each_region_received(run_serial):
    r, out = run_serial
    lines = r.stdout.splitlines()
    # model, scenario, horizon, seed and replications first
    assert lines[0].startswith("model tutorial (") and "scenario baseline" in lines[0]
    assert "horizon 200 days from 2025-01-01" in lines[1] and "seed 1" in lines[1] and "3 replications" in lines[1]
    # then the headline metrics, one region per row, each with its unit in the header
    head = next(ln for ln in lines if ln.startswith("region"))
    for col in ("delivered share", "demand lost t", "demand lost %", "worst month share", "months short",
                "recovery days"):
        assert col in head, col
    rows = {ln.split()[0] for ln in lines[lines.index(head) + 1:] if ln[:1].isupper() and len(ln.split()) > 3}
    assert {"EU", "JP"} <= rows
    for word in ("fill_rate", "production_t", "cost_total", "1.0000"):
        assert word not in r.stdout, word
    assert "supplysim compare" in r.stdout and "summary.json" in r.stdout
    assert "rep/s" not in r.stderr and "replications" not in r.stderr      # --quiet: no progress


def test_run_of_the_baseline_points_to_a_comparison_with_another_scenario(tmp_path):
    """On the default model (it has a market), ``run`` also prints each commodity's price per market after
    the regions, the market named as the model names it."""
    r = _ok(cli("run", "--reps", 1, "--days", 31, "--quiet", "--out", tmp_path / "o"))
    hint = next(ln for ln in r.stdout.splitlines() if "supplysim compare" in ln)
    assert "--scenarios baseline,cn-" in hint, hint
    lines = r.stdout.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("prices"))
    assert lines[head + 1].split()[:1] == ["price"] and "peak $/kg" in lines[head + 1]
    rows = {ln.split(" in ")[0] for ln in lines[head + 2:] if " in " in ln and not ln.startswith("wrote")}
    assert {"magnet", "dy_oxide", "ndpr_oxide"} <= rows
    assert "magnet in Outside China" in r.stdout and "magnet in China domestic" in r.stdout
    assert "in ex_cn" not in r.stdout


def test_run_is_a_one_scenario_experiment(run_serial):
    """`run` writes the store, manifest and exports of `compare`: one pipeline."""
    from supplysim.experiment import ExperimentResults
    _, out = run_serial
    assert (out / "results.sqlite").exists()
    data = json.loads((out / "summary.json").read_text())
    man = data["manifest"]
    assert man["entropy"] == 1 and man["horizon_days"] == 200 and man["replications"] == 3
    assert man["scenario_order"] == ["baseline"] and man["baseline"] == "baseline" and man["model"] == "tutorial"
    assert len(man["model_sha256"]["baseline"]) == 64 and man["versions"]["numpy"]
    sc = data["scenarios"]["baseline"]
    assert sc["replications"] == 3 and set(sc["regions"]) == {"JP", "EU"}
    for reg in sc["regions"].values():
        st = reg["delivered_share"]
        assert st["n"] == 3 and 0.0 <= st["ci_low"] <= st["estimate"] <= st["ci_high"] <= 1.0
        assert reg["demand_lost_t"]["ci_low"] >= 0.0
    res = ExperimentResults(out)
    assert res.summary()["baseline"]["regions"]["EU"]["delivered_share"]["estimate"] == \
        pytest.approx(sc["regions"]["EU"]["delivered_share"]["estimate"], rel=1e-12)


def test_run_replications_csv(run_serial):
    _, out = run_serial
    with open(out / "replications.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["replication"]) for r in rows] == [0, 1, 2]
    assert all(r["scenario"] == "baseline" for r in rows)
    data = json.loads((out / "summary.json").read_text())
    m = sum(float(r["demand_t[EU]"]) for r in rows) / 3
    assert data["scenarios"]["baseline"]["regions"]["EU"]["demand_t"]["estimate"] == pytest.approx(m, rel=1e-12)


def test_run_matches_library(run_serial):
    """The command runs replication r with the documented streams: the same numbers as the library."""
    _, out = run_serial
    with open(out / "replications.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    m = load_model(TUTORIAL)
    for row in rows:
        res = Simulation(m, seed=1, replication=int(row["replication"])).run(until=200)
        rm = res.region_metrics()
        for name in ("demand_t", "delivered_share", "demand_lost_t", "on_time_fill"):
            assert float(row[f"{name}[JP]"]) == pytest.approx(rm[name]["JP"], rel=1e-12), name
        assert float(row["demand_t[JP]"]) + float(row["demand_t[EU]"]) == pytest.approx(res.kpis["demand_t"])


def test_run_jobs_identical(run_serial, tmp_path):
    _, out = run_serial
    _ok(cli("run", TUTORIAL, "--reps", 3, "--seed", 1, "--days", 200, "--quiet", "--jobs", 2, "--out", tmp_path))
    a = json.loads((out / "summary.json").read_text())["scenarios"]
    b = json.loads((tmp_path / "summary.json").read_text())["scenarios"]
    assert a == b


def test_run_other_seed_differs(run_serial, tmp_path):
    _, out = run_serial
    _ok(cli("run", TUTORIAL, "--reps", 3, "--seed", 2, "--days", 200, "--quiet", "--out", tmp_path))
    key = lambda p: json.loads((p / "summary.json").read_text())["scenarios"]["baseline"]["regions"]["JP"][  # noqa
        "demand_t"]["estimate"]
    assert key(out) != key(tmp_path)


def test_run_twice_needs_resume_or_replace(run_serial, tmp_path):
    out = tmp_path / "again"
    args = ("run", TUTORIAL, "--reps", 2, "--seed", 1, "--days", 60, "--quiet", "--out", out)
    _ok(cli(*args))
    r = cli(*args)
    assert r.returncode != 0 and "--resume" in r.stderr and "--replace" in r.stderr and "Traceback" not in r.stderr
    _ok(cli(*args, "--replace"))
    _ok(cli(*args[:3], 4, *args[4:], "--resume"))
    assert json.loads((out / "summary.json").read_text())["scenarios"]["baseline"]["replications"] == 4


def test_run_progress_is_plain_lines_when_not_a_terminal(tmp_path):
    r = _ok(cli("run", TUTORIAL, "--reps", 3, "--seed", 1, "--days", 60, "--out", tmp_path))
    assert "\r" not in r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("replications")]
    assert lines and lines[-1].startswith("replications 3/3 (100%)")


def test_scenarios_into_a_closed_pipe_is_quiet():
    """`supplysim scenarios | head -1`: no broken-pipe error."""
    import os
    r, w = os.pipe()
    p = subprocess.Popen([sys.executable, "-m", "supplysim.cli", "scenarios"], stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    os.read(r, 1)
    os.close(r)        # the reader goes away after one byte, as head does
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert b"BrokenPipe" not in err and b"Traceback" not in err and b"Exception ignored" not in err


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
    r = _ok(cli("run", model_dir, "--scenario", "outage", "--reps", 2, "--seed", 3, "--days", 200, "--quiet",
                "--out", out))
    assert "scenario outage" in r.stdout
    data = json.loads((out / "summary.json").read_text())
    assert list(data["scenarios"]) == ["outage"]
    jp = data["scenarios"]["outage"]["regions"]["JP"]
    assert jp["delivered_share"]["estimate"] < 1.0 and jp["months_short"]["estimate"] >= 1
    assert jp["time_to_survive_days"]["n"] == 2


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


def test_summary_json_is_strict_json(run_serial):
    """No NaN or Infinity literals: other tools read summary.json with strict parsers."""
    _, out = run_serial

    def refuse(x):
        raise ValueError(f"non-standard JSON constant {x}")
    json.loads((out / "summary.json").read_text(), parse_constant=refuse)
