"""Run summaries: intervals per KPI and region, origin shares flattened."""
from pathlib import Path

import pytest

from supplysim import Simulation, load_model
from supplysim.experiment.summary import format_table, summarize

TUTORIAL = Path(__file__).resolve().parents[1] / "models" / "examples" / "tutorial.toml"


def test_summary_has_intervals_and_origin_shares():
    m = load_model(TUTORIAL)
    results = [Simulation(m, seed=4, replication=r).run(until=1095) for r in range(3)]
    s = summarize(results)["baseline"]
    assert s["replications"] == 3
    fr = s["kpis"]["fill_rate"]
    assert fr["n"] == 3 and fr["ci_low"] <= fr["mean"] <= fr["ci_high"]
    eu = s["regions"]["EU"]
    mining = {k: v["mean"] for k, v in eu.items() if k.startswith("origin_share.mining.")}
    assert mining and sum(mining.values()) == pytest.approx(1.0, abs=1e-6)
    # the tutorial's only mine is Australian: most of the EU's rare earth was mined there
    assert mining["origin_share.mining.AU"] > 0.5
    assert "fill_rate" in format_table(summarize(results))
