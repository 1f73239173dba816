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
