"""The experiment report: it answers first (one table, then the headline figure), every figure is
present as PNG and SVG at the size shown, every name is escaped in report.html and report.md, and
``supplysim report DIR`` rebuilds it without simulating."""
from __future__ import annotations

import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest

from supplysim.experiment.experiment import Experiment, ExperimentResults
from supplysim.plots.report import FIGURES, HEADLINE_FIGURE, Block, build_report

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "models" / "examples" / "tutorial.toml"
PNG = b"\x89PNG\r\n\x1a\n"
EVIL = '<img src=x onerror=alert(1)> *bold* | pipe & [link](http://x) `code` _u_'

SCENARIO = """
[scenario]
name = "{name}"
description = "Malaysia bans Dy exports for 4 months; the separator is down for 2 <b>really</b>"
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
    scen.write_text(textwrap.dedent(SCENARIO.format(name=EVIL.replace('"', "'"))))
    out = tmp / "exp"
    return Experiment(str(TUTORIAL), scenarios=["baseline", str(scen)], reps=3, seed=7, days=300, out=out,
                      command="pytest test_report").run(progress=False, quiet=True)


@pytest.fixture(scope="module")
def report(experiment):
    return build_report(experiment)


class _Page(HTMLParser):
    """The report's elements in document order: tags, image sources, text."""

    def __init__(self):
        super().__init__()
        self.order, self.images, self.text, self.tags = [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag in ("table", "img", "details", "h1", "h2", "figure"):
            self.order.append(tag)
        if tag == "img":
            self.images.append(a)

    def handle_data(self, data):
        self.text.append(data)


def _parse(path):
    p = _Page()
    p.feed(Path(path).read_text(encoding="utf-8"))
    return p


def test_report_answers_first_table_then_headline_figure(report):
    page = _parse(report)
    assert page.order[0] == "h1"
    first_table, first_img = page.order.index("table"), page.order.index("img")
    assert first_table < first_img, "the summary table comes before the first figure"
    assert "details" in page.order and page.order.index("details") > first_img, "details follow, folded"
    assert page.images[0]["alt"] == Path(HEADLINE_FIGURE).stem
    html_text = report.read_text(encoding="utf-8")
    head = html_text[:html_text.index("<details>")]
    # the first screen's table has the headline metrics for every region and scenario
    for col in ("delivered share", "demand lost t", "demand lost %", "worst month share", "months short",
                "recovery days"):
        assert col in head, col
    assert "is hurt most" in head or "no region loses demand" in head


def test_every_figure_present_png_and_svg_at_its_shown_size(report):
    out = report.parent
    page = _parse(report)
    assert len(page.images) == len(FIGURES)
    for img, (name, _, _) in zip(page.images, FIGURES):
        src = img["src"]
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1])
        assert data.startswith(PNG) and len(data) > 2000, name
        w, h = struct.unpack(">II", data[16:24])
        assert (int(img["width"]), int(img["height"])) == (w, h), name
        assert w <= 1140, f"{name} is {w} px wide: wider than the report, so shown shrunk"
        assert (out / "figures" / name).read_bytes() == data
        svg = (out / "figures" / name).with_suffix(".svg")
        assert svg.exists() and svg.read_text().lstrip().startswith(("<?xml", "<svg")), name
    # small multiples get at least 400 px per panel: 2 regions in the tutorial = one row
    data = (out / "figures" / "monthly_supply.png").read_bytes()
    assert struct.unpack(">II", data[16:24])[1] >= 400


def test_every_name_is_escaped_in_html_and_markdown(report):
    html_text = report.read_text(encoding="utf-8")
    assert "<img src=x" not in html_text and "<b>really</b>" not in html_text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_text
    page = _parse(report)
    assert page.tags.count("img") == len(FIGURES) and "b" not in page.tags and "script" not in page.tags
    md = (report.parent / "report.md").read_text(encoding="utf-8")
    assert "<img src=x" not in md and "<b>really" not in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md
    assert r"\*bold\*" in md and r"\| pipe" in md and r"\[link\]" in md
    # every Markdown table row keeps its column count (a bare | in a name would add one)
    for block in md.split("\n\n"):
        rows = [ln for ln in block.splitlines() if ln.startswith("|")]
        if rows:
            n = {len(r.replace("\\|", "").split("|")) for r in rows}
            assert len(n) == 1, block[:200]


def test_report_is_self_contained(report):
    page = report.read_text(encoding="utf-8")
    assert page.lstrip().startswith("<!DOCTYPE html>")
    assert 'src="http' not in page and "<script" not in page and "<link" not in page
    assert "Manifest" in page and "SHA-256" in page


@pytest.mark.usefixtures("report")   # (its figures: under pytest-xdist this test may run first in its process)
def test_study_answer_comes_first(experiment, tmp_path):
    png = tmp_path / "answer.png"
    shutil.copy(Path(experiment.out) / "figures" / HEADLINE_FIGURE, png)
    path = build_report(experiment, figures=False, title="How long does the EU last?",
                        answer=[Block.text("The EU lasts 12 days."), Block.table(["a", "b"], [["x", "1"]]),
                                Block.figure(png, "the study's own figure")])
    page = _parse(path)
    assert [t for t in page.order if t != "figure"][:3] == ["h1", "table", "img"]
    text = "".join(page.text)
    assert text.index("How long does the EU last?") < text.index("The EU lasts 12 days.")
    md = (Path(experiment.out) / "report.md").read_text()
    assert md.index("The EU lasts 12 days.") < md.index("Every region and scenario")


def _copy(experiment, tmp_path):
    """The experiment's folder copied, for a test that changes it (the module's tests share the original)."""
    return Path(shutil.copytree(experiment.out, tmp_path / "exp"))


@pytest.mark.usefixtures("report")   # (the report and figures it removes and rebuilds)
def test_cli_report_rebuilds_from_store_in_another_folder(experiment, tmp_path):
    out = _copy(experiment, tmp_path)
    shutil.rmtree(out / "figures")
    (out / "report.html").unlink()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    r = subprocess.run([sys.executable, "-m", "supplysim.cli", "report", str(out)], capture_output=True, text=True,
                       cwd=cwd, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (out / "report.html").exists() and len(list((out / "figures").glob("*.png"))) == len(FIGURES)
    assert not list(cwd.iterdir()), "nothing written outside the experiment's folder"
    data = json.loads((out / "summary.json").read_text())
    assert data["metrics"]["delivered_share"]["unit"] == "fraction"


def test_a_failing_figure_is_named_in_the_report(experiment, monkeypatch, tmp_path):
    from supplysim.plots import report as R

    def broken(res, path):
        raise RuntimeError("no ink")
    first = next(i for i, (n, _, _) in enumerate(R.FIGURES) if n in R._SECOND)
    other = next(i for i, (n, _, _) in enumerate(R.FIGURES) if n not in R._SECOND)
    figs = list(R.FIGURES)
    for i in (first, other):
        figs[i] = (figs[i][0], broken, figs[i][2])
    monkeypatch.setattr(R, "FIGURES", figs)
    copy = ExperimentResults(_copy(experiment, tmp_path))
    for jobs in (1, 2):
        page = build_report(copy, jobs=jobs).read_text(encoding="utf-8")
        assert page.count("data:image/png;base64,") == len(FIGURES) - 2
        assert f"{figs[first][0]} (RuntimeError: no ink)" in page
        assert f"{figs[other][0]} (RuntimeError: no ink)" in page


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
    r = subprocess.run([sys.executable, "-c", _TWO_PROCESSES, str(experiment.out), str(tmp_path)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    none = {name: None for name, _, _ in FIGURES}
    assert out["can_fork"] and out["serial"] == none and out["forked"] == none
    assert out["serial_pids"] == [out["me"]]
    assert len(out["forked_pids"]) == 2 and out["me"] in out["forked_pids"]
    for name, _, _ in FIGURES:
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "forked" / name).read_bytes(), name


CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)), None)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_report_renders_in_headless_chromium(experiment, tmp_path):
    """Chromium lays the page out: the first figure starts within the first two screens and every image
    decodes (a broken image would render at its alt text's size, not at its width and height)."""
    probe = tmp_path / "probe.html"
    page = build_report(experiment).read_text(encoding="utf-8")
    script = ("<script>window.onload=function(){var i=document.images,r=[];for(var k=0;k<i.length;k++)"
              "r.push([i[k].naturalWidth,i[k].getBoundingClientRect().top+window.scrollY]);"
              "document.title=JSON.stringify({h:document.documentElement.scrollHeight,img:r});}</script>")
    probe.write_text(page.replace("</body>", script + "</body>"), encoding="utf-8")
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                        "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    import re
    m = re.search(r"<title>(\{.*?\})</title>", r.stdout)
    assert m, r.stdout[:500]
    info = json.loads(m.group(1).replace("&quot;", '"'))
    assert len(info["img"]) == len(FIGURES)
    assert all(w > 0 for w, _ in info["img"]), "every image decodes"
    assert info["img"][0][1] < 1800, f"first figure at {info['img'][0][1]} px"


def _drawn_figures(experiment, monkeypatch, tmp_path):
    """Every report figure of ``experiment`` as a drawn matplotlib figure (kept open), by file name."""
    import supplysim.plots.figures as F
    from supplysim.plots.report import OPTIONAL_FIGURES
    kept = {}

    def keep(fig, out_path):
        fig.canvas.draw()
        kept[Path(out_path).name] = fig
        return Path(out_path)

    monkeypatch.setattr(F, "_save", keep)
    for name, fn, _ in FIGURES + OPTIONAL_FIGURES:
        fn(experiment, tmp_path / name)
    return kept


def _overlaps(labels):
    boxes = [t.get_window_extent() for t in labels if t.get_visible() and t.get_text()]
    return [(a, b) for a, b in zip(boxes, boxes[1:]) if a.overlaps(b)]


def test_figures_tick_labels_do_not_overlap_and_titles_do_not_repeat_units(monkeypatch, tmp_path):
    """Three years of monthly data: date ticks stay readable at the report's width; a panel's title
    names its unit once ("demand lost (t)", not "demand lost t (t)"); parentheses balance."""
    import matplotlib.pyplot as plt
    res = Experiment(str(TUTORIAL), scenarios=["baseline"], reps=2, seed=3, days=3 * 365, out=tmp_path / "exp",
                     command="pytest test_report").run(progress=False, quiet=True)
    figs = _drawn_figures(res, monkeypatch, tmp_path)
    try:
        for name, fig in figs.items():
            for ax in fig.axes:
                if not ax.get_visible():
                    continue
                assert not _overlaps(ax.get_xticklabels()), f"{name}: x tick labels overlap"
                title = ax.get_title(loc="left") + ax.get_title()
                for unit in ("t", "%", "months", "days", "fraction"):
                    assert f" {unit} ({unit})" not in title, f"{name}: {title!r}"
            whole = " ".join(t.get_text() for t in fig.texts) + fig.get_suptitle() + " ".join(
                ax.get_title() for ax in fig.axes)
            assert whole.count("(") == whole.count(")"), f"{name}: unbalanced parentheses in {whole!r}"
    finally:
        for fig in figs.values():
            plt.close(fig)
