"""``supplysim graph`` draws the network figure."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BAN = """
[scenario]
name = "my-ban"
description = "Malaysia bans Dy exports"
[controls.my-dy-ban]
issuer = "MY"
mechanism = "ban"
elements = ["Dy"]
effective = 2025-03-01
"""


def _png(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_graph_of_tutorial_with_flows_and_scenario(tmp_path):
    scen = tmp_path / "ban.toml"
    scen.write_text(BAN)
    out = tmp_path / "net.png"
    r = subprocess.run([sys.executable, "-m", "supplysim.cli", "graph", "models/examples/tutorial.toml",
                        "--scenario", str(scen), "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    _png(out)


def test_graph_highlights_lanes_of_control_issuer():
    from supplysim.model import load_model
    from supplysim.plots.cli import _highlight
    m = load_model(ROOT / "models/examples/tutorial.toml", scenario=None)
    assert _highlight(m) == set()
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "ban.toml"
        p.write_text(BAN)
        m = load_model(ROOT / "models/examples/tutorial.toml", scenario=str(p))
    assert _highlight(m) == {"sep-alloy-ndpr", "sep-alloy-dy"}


def test_graph_bad_model_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[facilities.x]\nstage = 1\n")
    r = subprocess.run([sys.executable, "-m", "supplysim.cli", "graph", str(bad), "--out", str(tmp_path / "x.png"),
                        "--no-flows"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
