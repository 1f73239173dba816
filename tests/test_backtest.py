"""Backtesting: observed data read and checked, measures with known answers, the command end to end.

The synthetic cases build their observations from the simulated replications themselves, so the
right answer is known: an observation equal to the replications' mean has no error; one 25% above
it has a MAPE of 20% and a bias of -20%; a fall written into it is found at its month and depth.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from supplysim import Simulation, load_model
from supplysim.backtest import ObservedDataError, compare, errors, largest_drop, read_observed
from supplysim.backtest.compare import simulated_value
from supplysim.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "models" / "examples" / "grades.toml"
DEFAULT = ROOT / "models" / "rare_earths"
OBSERVED_2024 = DEFAULT / "observed" / "china_magnets_2024.csv"
HEAD = "month,exporter,importer,commodity,tonnes,price,source\n"


@pytest.fixture(scope="module")
def runs():
    m = load_model(EXAMPLE)
    return [Simulation(m, seed=4, replication=r).run(until=365) for r in range(4)]


def _monthly_mean(runs, label_prefix="JP>US:magnet_"):
    labels, _ = runs[0].series["trade"]
    cols = [j for j, lab in enumerate(labels) if lab.startswith(label_prefix)]
    return np.mean([r.series["trade"][1][:, cols].sum(axis=1) for r in runs], axis=0)


def _write(tmp_path, rows, name="obs.csv"):
    p = tmp_path / name
    p.write_text(HEAD + "".join(rows), encoding="utf-8")
    return p


def _monthly_rows(runs, values):
    return [f"{m},JP,US,magnet,{float(v)!r},,synthetic\n" for m, v in zip(runs[0].months, values)]


# -- measures with known answers ------------------------------------------------------------------------

def test_errors_and_largest_drop_by_hand():
    e = errors([100.0, 200.0, 50.0], [110.0, 180.0, 50.0])
    assert e["mape"] == pytest.approx((0.1 + 0.1 + 0.0) / 3)
    assert e["bias"] == pytest.approx(-10.0 / 3) and e["bias_pct"] == pytest.approx(-10.0 / 350)
    assert e["rmse"] == pytest.approx(np.sqrt((100 + 400) / 3))
    m = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    assert largest_drop(m, [5.0, 8.0, 6.0, 9.0, 3.0]) == {"depth": pytest.approx(2 / 3), "peak": "2024-04",
                                                          "trough": "2024-05"}
    assert largest_drop(m, [1.0, 2.0, 3.0, 4.0, 5.0]) is None and largest_drop(m[:2], [2.0, 1.0]) is None


def test_observations_equal_to_the_simulated_mean_have_no_error(runs, tmp_path):
    obs = read_observed(_write(tmp_path, _monthly_rows(runs, _monthly_mean(runs))))
    [rep] = compare(obs, runs)
    assert rep["points"] == 12 and rep["series"] == "tonnes JP>US:magnet"
    assert rep["mape"] == pytest.approx(0.0, abs=1e-12) and rep["rmse"] == pytest.approx(0.0, abs=1e-9)
    assert rep["coverage"] == 1.0
    assert rep["drop_observed"] == rep["drop_simulated"]


def test_observations_a_quarter_above_give_a_mape_of_20_percent(runs, tmp_path):
    obs = read_observed(_write(tmp_path, _monthly_rows(runs, 1.25 * _monthly_mean(runs))))
    [rep] = compare(obs, runs)
    assert rep["mape"] == pytest.approx(0.2, rel=1e-12)
    assert rep["bias_pct"] == pytest.approx(-0.2, rel=1e-12)
    assert rep["coverage"] < 0.5   # 25% above is outside the spread of four replications most months


def test_a_drop_written_into_the_observations_is_found_at_its_month_and_depth(runs, tmp_path):
    y = _monthly_mean(runs).copy()
    y[6] = 0.3 * y[:6].max()            # July falls to 30% of the peak before it
    obs = read_observed(_write(tmp_path, _monthly_rows(runs, y)))
    [rep] = compare(obs, runs)
    d = rep["drop_observed"]
    assert d["trough"] == runs[0].months[6] and d["depth"] == pytest.approx(0.7, abs=1e-9)
    assert rep["drop_simulated"]["depth"] < 0.5


def test_period_rows_are_sums_of_tonnes_and_means_of_prices():
    labels = ["CN>US:magnet_n", "CN>US:magnet_gbd", "CN>CN:magnet_n", "CN>EU:alloy", "JP>US:magnet_n"]
    trade = np.arange(15, dtype=float).reshape(3, 5)   # three months
    price = np.array([[10.0, 20.0], [12.0, 22.0], [14.0, 24.0]])
    res = SimpleNamespace(months=["2025-01", "2025-02", "2025-03"],
                          series={"trade": (labels, trade), "price": (["magnet@ex_cn", "magnet@CN"], price)})
    rows = {r.series + (r.span,): r for r in read_observed_text(
        "2025-01/2025-03,CN,*,magnet,1,,\n2025-02,CN,US,magnet_gbd,1,,\n2025-02/2025-03,ex_cn,,magnet,,1,\n"
        "2025-01,KR,US,magnet,1,,\n")}
    star = rows[("tonnes", "CN", "*", "magnet", "2025-01/2025-03")]
    assert simulated_value(res, star) == trade[:, [0, 1]].sum()        # exports only, both grades
    assert simulated_value(res, rows[("tonnes", "CN", "US", "magnet_gbd", "2025-02")]) == trade[1, 1]
    assert simulated_value(res, rows[("price", "ex_cn", "", "magnet", "2025-02/2025-03")]) == 13.0
    assert simulated_value(res, rows[("tonnes", "KR", "US", "magnet", "2025-01")]) == 0.0   # no such trade


def read_observed_text(body, tmp=Path("/tmp")):
    import tempfile
    d = Path(tempfile.mkdtemp())
    return read_observed(_write(d, [body]))


def test_prices_without_a_market_are_reported_missing(runs, tmp_path):
    obs = read_observed(_write(tmp_path, ["2025-01/2025-06,ex_cn,,magnet,,49.2,\n"]))
    [rep] = compare(obs, runs)
    assert rep["points"] == 0 and rep["missing"] == 1 and rep["rows"][0]["simulated"] is None


# -- bad input --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, where, says", [
    ("2024-13,CN,US,magnet,10,,\n", "line 2, column month", "expected YYYY-MM or YYYY-MM/YYYY-MM, found '2024-13'"),
    ("2024-06/2024-01,CN,US,magnet,10,,\n", "line 2, column month", "first month before the last"),
    ("2024-01,CN,US,magnet,10,5,\n", "line 2, column price", "exactly one of 'tonnes' and 'price'"),
    ("2024-01,CN,US,magnet,,,\n", "line 2, column tonnes", "exactly one of 'tonnes' and 'price'"),
    ("2024-01,CN,US,magnet,-3,,\n", "line 2, column tonnes", "expected a number >= 0 (t), found '-3'"),
    ("2024-01,ex_cn,US,magnet,,50,\n", "line 2, column importer", "a price row takes no importer"),
    ("2024-01,CN,,magnet,10,,\n", "line 2, column importer", "a trade row needs an importer"),
    ("2024-01,CN,CN,magnet,10,,\n", "line 2, column importer", "must differ from the exporter"),
    ("2024-01,CN,US,magnet,10,,\n2024-01,CN,US,magnet,12,,\n", "line 3, column month", "same series and months as line 2"),
    ("2024-01,CN,US,,10,,\n", "line 2, column commodity", "expected a value"),
])
def test_bad_rows_are_named_by_file_line_and_column(tmp_path, body, where, says):
    p = _write(tmp_path, [body])
    with pytest.raises(ObservedDataError) as e:
        read_observed(p)
    line = next(ln for ln in str(e.value).splitlines() if f"{p}: {where}: " in ln)
    assert says in line, str(e.value)


def test_bad_headers_and_files(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("month,exporter,importer,comodity,tonnes\n2024-01,CN,US,magnet,1\n")
    with pytest.raises(ObservedDataError, match=r"line 1: unknown column\(s\) comodity"):
        read_observed(p)
    p.write_text(HEAD)
    with pytest.raises(ObservedDataError, match="no observations"):
        read_observed(p)
    with pytest.raises(ObservedDataError, match="observed-data file not found"):
        read_observed(tmp_path / "missing.csv")


# -- the command ------------------------------------------------------------------------------------------

def test_backtest_command_end_to_end(runs, tmp_path, capsys):
    obs = _write(tmp_path, _monthly_rows(runs, _monthly_mean(runs)) + ["2025-01/2025-12,ex_cn,,magnet,,49.2,x\n"])
    out = tmp_path / "bt"
    rc = main(["backtest", str(EXAMPLE), "--observed", str(obs), "--reps", "2", "--seed", "1", "--out", str(out),
               "--quiet"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "tonnes JP>US:magnet" in text and "no price series in the results" in text
    doc = json.loads((out / "backtest.json").read_text())
    assert doc["manifest"]["entropy"] == 1 and doc["manifest"]["replications"] == 2
    assert len(doc["manifest"]["observed_sha256"]) == 64
    assert {s["series"] for s in doc["series"]} == {"tonnes JP>US:magnet", "price magnet@ex_cn"}
    assert (out / "backtest.png").stat().st_size > 1000
    assert (out / "backtest.csv").read_text().count("\n") == 14   # header + 13 rows


def test_backtest_command_rejects_bad_data_with_exit_2(tmp_path):
    obs = _write(tmp_path, ["2024-01,CN,US,magnet,10,,\n", "2023-12,CN,US,magnet,10,,\n"])
    r = subprocess.run([sys.executable, "-m", "supplysim.cli", "backtest", str(EXAMPLE), "--observed", str(obs),
                        "--reps", "2", "--out", str(tmp_path / "x")], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"{obs}: line 2, column month: 2024-01 is before the model's start (2025-01)" in r.stderr
    assert not (tmp_path / "x").exists()


def test_backtest_of_the_2024_data_stays_within_the_calibration(tmp_path, capsys):
    """The default model against the reference's 2024 figures (its calibration targets): China's 2024
    magnet exports within 15%, the 2024 prices within 10% of the sourced levels."""
    out = tmp_path / "bt2024"
    rc = main(["backtest", str(DEFAULT), "--observed", str(OBSERVED_2024), "--reps", "2", "--seed", "2024",
               "--out", str(out), "--quiet"])
    assert rc == 0
    series = {s["series"]: s for s in json.loads((out / "backtest.json").read_text())["series"]}
    assert abs(series["tonnes CN>*:magnet"]["bias_pct"]) <= 0.15
    for key in ("price dy_oxide@ex_cn", "price tb_oxide@ex_cn", "price magnet@ex_cn"):
        assert series[key]["points"] == 1 and series[key]["mape"] <= 0.10, key
