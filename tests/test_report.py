"""The experiment report: figures from the store, one self-contained report.html, report.md,
and ``supplysim report DIR`` rebuilding them without simulating."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from supplysim.experiment.experiment import Experiment, ExperimentResults
from supplysim.plots.report import FIGURES, build_report, load_bounds

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "models" / "examples" / "tutorial.toml"
PNG = b"\x89PNG\r\n\x1a\n"

SCENARIO = """
[scenario]
name = "my-dy-ban"
description = "Malaysia bans Dy exports for 4 months; the separator is down for 2"
references = ["illustrative test scenario"]

[controls.my-dy-ban]
issuer = "MY"
mechanism = "ban"
elements = ["Dy"]
threshold = 0.01
effective = 2025-04-01
end = 2025-08-01

[disruptions.sep-fire]
kind = "facility_outage"
facilities = ["separator"]
start = 2025-04-01
end = 2025-06-01
"""


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    scen = tmp / "ban.toml"
    scen.write_text(textwrap.dedent(SCENARIO))
    out = tmp / "exp"
    res = Experiment(str(TUTORIAL), scenarios=["baseline", str(scen)], reps=3, seed=7, days=300, out=out,
                     command="pytest test_report").run(progress=False, quiet=True)
    return res


def _check_outputs(out: Path):
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.lstrip().startswith("<!DOCTYPE html>")
    # self-contained: no external images, scripts, stylesheets or fonts
    assert 'src="http' not in page and "src='http" not in page
    assert not re.search(r'<link[^>]+href=', page)
    assert "<script" not in page
    assert page.count("data:image/png;base64,") == len(FIGURES)
    # the question, the scenarios and the tables
    assert "my-dy-ban" in page and "baseline" in page
    assert "Malaysia bans Dy exports" in page
    assert "Key results (mean [95% interval])" in page and "<table>" in page
    assert "fill_rate" in page and "unmet_demand_t" in page
    assert "Paired differences against the baseline" in page and "variance reduction" in page
    assert "Manifest" in page and "SHA-256" in page
    for name, _, _ in FIGURES:
        p = out / "figures" / name
        assert p.exists(), name
        data = p.read_bytes()
        assert len(data) > 1000 and data.startswith(PNG), name
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "my-dy-ban" in md and "| fill_rate |" in md
    for name, _, _ in FIGURES:
        assert f"(figures/{name})" in md


def test_report_is_self_contained(experiment):
    out = Path(experiment.out)
    path = build_report(experiment)
    assert path == out / "report.html"
    _check_outputs(out)
    # the experiment wrote its static bounds: the bound sits beside the simulated delivery
    page = path.read_text(encoding="utf-8")
    assert (out / "bounds.json").exists()
    assert "Static bound vs simulated long-run delivery" in page
    (out / "bounds.json").rename(out / "bounds.json.bak")
    try:
        assert "Static bound" not in build_report(experiment, figures=False).read_text(encoding="utf-8")
    finally:
        (out / "bounds.json.bak").rename(out / "bounds.json")


def test_static_bounds_table(experiment, tmp_path):
    out = Path(experiment.out)
    doc = {"scenarios": {"baseline": {"bounds": {"EU": {"bound_t_yr": 1500.0}, "JP": {"bound_t_yr": 3000.0},
                                                 "all": {"bound_t_yr": 4500.0}}}}}
    saved = (out / "bounds.json").read_text() if (out / "bounds.json").exists() else None
    (out / "bounds.json").write_text(json.dumps(doc))
    try:
        assert load_bounds(out) == {"baseline": {"EU": 1500.0, "JP": 3000.0, "all": 4500.0}}
        page = build_report(ExperimentResults(out), figures=False).read_text(encoding="utf-8")
        assert "Static bound vs simulated long-run delivery" in page
        assert "1,500" in page and "3,000" in page
    finally:
        if saved is None:
            (out / "bounds.json").unlink()
        else:
            (out / "bounds.json").write_text(saved)
    (tmp_path / "bounds.json").write_text("not json")
    assert load_bounds(tmp_path) is None
    assert load_bounds(tmp_path / "nowhere") is None


def test_cli_report_rebuilds_from_store(experiment, tmp_path):
    out = Path(experiment.out)
    for name, _, _ in FIGURES:
        (out / "figures" / name).unlink(missing_ok=True)
    (out / "report.html").unlink(missing_ok=True)
    (out / "report.md").unlink(missing_ok=True)
    # from another working directory: the model is rebuilt from the manifest if its path does not resolve
    r = subprocess.run([sys.executable, "-m", "supplysim.cli", "report", str(out)], capture_output=True, text=True,
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    _check_outputs(out)


_TWO_PROCESSES = r"""
import json, os, sys
from pathlib import Path
from supplysim.experiment.experiment import ExperimentResults
from supplysim.plots import report as R
res, tmp = ExperimentResults(sys.argv[1]), Path(sys.argv[2])
draw, pids = R._draw_one, tmp / "pids"
def traced(res, figdir, fname):
    with open(pids, "a") as fh:
        fh.write(f"{os.getpid()}\n")
    return draw(res, figdir, fname)
R._draw_one = traced
out = {"can_fork": R._can_fork(), "serial": R.draw_figures(res, tmp / "serial", jobs=1)}
out["serial_pids"] = sorted(set(pids.read_text().split()))
pids.unlink()
out["forked"] = R.draw_figures(res, tmp / "forked", jobs=2)
out["forked_pids"] = sorted(set(pids.read_text().split()))
out["me"] = str(os.getpid())
print(json.dumps(out))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="figures are drawn in a forked process on Linux")
def test_figures_drawn_in_two_processes_equal_serial(experiment, tmp_path):
    # in a fresh interpreter: threads other tests leave behind (a Dask cluster's) rightly stop the fork
    r = subprocess.run([sys.executable, "-c", _TWO_PROCESSES, str(experiment.out), str(tmp_path)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    none = {name: None for name, _, _ in FIGURES}
    assert out["can_fork"] and out["serial"] == none and out["forked"] == none
    assert out["serial_pids"] == [out["me"]]
    assert len(out["forked_pids"]) == 2 and out["me"] in out["forked_pids"]   # two processes drew
    for name, _, _ in FIGURES:
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "forked" / name).read_bytes(), name


def test_a_failing_figure_is_named_in_the_report(experiment, monkeypatch):
    from supplysim.plots import report as R

    def broken(res, path):
        raise RuntimeError("no ink")
    # one figure drawn by each process fails; the report names both and keeps the others
    first = next(i for i, (n, _, _) in enumerate(R.FIGURES) if n in R._SECOND)
    other = next(i for i, (n, _, _) in enumerate(R.FIGURES) if n not in R._SECOND)
    figs = list(R.FIGURES)
    for i in (first, other):
        figs[i] = (figs[i][0], broken, figs[i][2])
    monkeypatch.setattr(R, "FIGURES", figs)
    for jobs in (1, 2):
        page = build_report(experiment, jobs=jobs).read_text(encoding="utf-8")
        assert page.count("data:image/png;base64,") == len(FIGURES) - 2
        assert f"{figs[first][0]} (RuntimeError: no ink)" in page
        assert f"{figs[other][0]} (RuntimeError: no ink)" in page
