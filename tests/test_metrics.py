"""The metric catalogue and the statistics that respect each metric's kind.

Every reported number is in the catalogue with a unit and a meaning; docs/metrics.md is generated
from it; the estimators reproduce hand-computed cases; intervals stay inside what the quantity can
be (a share in [0, 1], tonnes >= 0, a difference of shares in [-1, 1]); censored times are summarised
as censored.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from supplysim import Simulation, catalogue as cat, load_model
from supplysim.experiment.metrics import replication_metrics
from supplysim.experiment.stats import censored_median, difference, mean_ci, summarize, t_quantile, wilson

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "models" / "examples" / "tutorial.toml"


# -- the catalogue ------------------------------------------------------------------------------------

def test_docs_metrics_md_is_generated_from_the_catalogue():
    doc = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert doc == cat.markdown(), "docs/metrics.md is out of date: python -c 'from supplysim import catalogue; " \
                                  "open(\"docs/metrics.md\", \"w\").write(catalogue.markdown())'"
    for m in cat.METRICS:
        assert f"`{m.name}`" in doc


def test_every_metric_has_a_unit_a_meaning_and_a_known_kind():
    names = [m.name for m in cat.METRICS]
    assert len(names) == len(set(names))
    for m in cat.METRICS:
        assert m.kind in cat.KINDS, m.name
        assert m.unit and m.meaning.endswith(".") and m.estimator and m.label, m.name
        if m.unit == "fraction":
            assert m.bounds == (0.0, 1.0), m.name
        if m.unit in ("t", "days", "months"):
            assert m.bounds[0] == 0.0, m.name
    assert [m.name for m in cat.headline()][:3] == ["delivered_share", "demand_lost_t", "demand_lost_pct"]
    with pytest.raises(KeyError, match="not in the metric catalogue"):
        cat.get("fill_rate")


def test_every_stored_metric_is_in_the_catalogue():
    m = load_model(TUTORIAL)
    res = Simulation(m, seed=2).run(until=200)
    flat = replication_metrics(res)
    for k in flat:
        name, key = cat.split(k)
        if name.endswith("_censored"):
            assert cat.get(name[: -len("_censored")]).censored, k
            continue
        assert cat.get(name).scope, k
        assert key, k
    regional = {m.name for m in cat.of_scope("region")}
    assert {cat.split(k)[0] for k in flat if cat.split(k)[1] == "EU"} >= regional


# -- estimators, by hand -------------------------------------------------------------------------------

def _ser(demand, delivered, backlog, lost=None, on_time=None):
    d = np.asarray(demand, float)[:, None]
    col = lambda x: np.asarray(x, float)[:, None]  # noqa: E731
    return {"demand_t": (["R"], d), "delivered_t": (["R"], col(delivered)), "backlog_t": (["R"], col(backlog)),
            "lost_t": (["R"], col(lost if lost is not None else np.zeros(len(d)))),
            "on_time_t": (["R"], col(on_time if on_time is not None else delivered))}


MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]


def test_late_deliveries_count_as_delivered_not_lost():
    # 100 t a month; nothing in February, all of it caught up in March: nothing is lost
    ser = _ser([100, 100, 100, 100], [100, 0, 200, 100], [0, 100, 0, 0], on_time=[100, 0, 0, 100])
    m = cat.region_metrics(ser, MONTHS, "2026-01-01", 120.0, t_start=31.0)
    assert m["delivered_share"]["R"] == 1.0 and m["demand_lost_t"]["R"] == 0.0
    assert m["on_time_fill"]["R"] == 0.5           # on-time fill tells the other story
    assert m["months_short"]["R"] == 1.0 and m["worst_month_share"]["R"] == 0.0
    assert m["peak_backlog_t"]["R"] == 100.0
    assert m["time_to_recover_days"]["R"] == 59.0 - 31.0 and m["time_to_recover_days_censored"]["R"] == 0.0


def test_demand_lost_is_lost_sales_plus_what_is_still_owed_first_in_first_out():
    ser = _ser([100, 100, 100, 100], [100, 60, 60, 60], [0, 40, 80, 110], lost=[0, 0, 0, 10])
    m = cat.region_metrics(ser, MONTHS, "2026-01-01", 120.0, t_start=0.0)
    assert m["demand_lost_t"]["R"] == 10 + 110
    assert m["delivered_share"]["R"] == pytest.approx(1 - 120 / 400)
    assert m["demand_lost_pct"]["R"] == pytest.approx(30.0)
    assert m["time_to_recover_days_censored"]["R"] == 1.0      # still short in the last month
    # over a window, only the window's own demand can be lost: owed 110 t at the end of a 100 t window
    w = cat.region_metrics(ser, MONTHS, "2026-01-01", 120.0, window=("2026-04", "2026-04"))
    assert w["demand_t"]["R"] == 100 and w["demand_lost_t"]["R"] == 100 + 10 - 10 and w["delivered_share"]["R"] == 0.0


def test_without_a_disruption_times_are_undefined():
    m = cat.region_metrics(_ser([1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 0, 0]), MONTHS, "2026-01-01", 120.0)
    assert math.isnan(m["time_to_recover_days"]["R"])


def test_engine_result_times_to_survive_are_censored_where_no_demand_went_unmet(tmp_path):
    scen = tmp_path / "outage.toml"
    scen.write_text('[scenario]\nname = "outage"\n[disruptions.down]\nkind = "facility_outage"\n'
                    'facilities = ["magnets_jp"]\ncapacity_factor = 0\nstart = 2025-02-01\ndays = 120\n')
    res = Simulation(load_model(TUTORIAL, scenario=str(scen)), seed=1).run(until=300)
    m = res.region_metrics()
    t0 = res.manifest["disruption_start_day"]
    assert t0 == 31.0
    assert m["time_to_survive_days_censored"]["JP"] == 0.0 and 0 < m["time_to_survive_days"]["JP"] < 300 - t0
    assert res.sinks[next(s for s, d in res.sinks.items() if d["region"] == "JP")]["first_unmet_day"] >= t0
    base = Simulation(load_model(TUTORIAL), seed=1).run(until=300).region_metrics()
    assert math.isnan(base["time_to_survive_days"]["JP"]) and math.isnan(base["time_to_recover_days"]["JP"])


# -- intervals that respect the quantity ---------------------------------------------------------------

def test_fraction_interval_stays_in_0_1():
    # shares at and next to 1 gave upper bounds of 1.0001-1.0002 with a plain Student-t interval
    for x in ([1.0, 1.0, 0.9995, 1.0, 1.0], [0.999, 1.0], [0.0, 0.0, 0.002], [0.5, 0.99, 0.01]):
        s = summarize(x, "fraction")
        assert 0.0 <= s["ci_low"] <= s["estimate"] <= s["ci_high"] <= 1.0, x
        plain = mean_ci(x)
        assert s["ci_high"] - s["ci_low"] > 0 or plain["half_width"] == 0
    assert summarize([1.0, 1.0, 1.0], "fraction")["ci_high"] == 1.0
    p = summarize([99.9, 100.0, 100.0], "percent")
    assert 0 <= p["ci_low"] <= p["ci_high"] <= 100.0


def test_tonnes_interval_never_below_zero():
    for x in ([0.0, 0.0, 0.0, 390.0], [39.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 351.0], [5.0, 6.0, 7.0]):
        s = summarize(x, "nonnegative")
        assert 0.0 <= s["ci_low"] <= s["estimate"] <= s["ci_high"], x
    assert summarize([0.0, 0.0], "nonnegative")["ci_low"] == 0.0


def test_difference_of_fractions_stays_in_minus_1_1():
    a = [1.0, 1.0, 1.0, 1.0]
    b = [0.02, 0.0, 0.05, 0.9]      # nadir-like shares collapsing: the plain paired-t interval leaves [-1, 1]
    plain = difference(a, b, "signed")
    assert plain["ci_low"] < -1.0
    d = difference(a, b, "fraction")
    assert -1.0 <= d["ci_low"] <= d["mean"] <= d["ci_high"] <= 1.0


def test_censored_times_use_kaplan_meier_and_count_the_censored():
    # nothing censored: the Kaplan-Meier median is the sample's lower median
    c = censored_median([10.0, 20.0, 30.0, 40.0, 50.0], [0, 0, 0, 0, 0])
    assert c["median"] == 30.0 and c["n_censored"] == 0 and c["ci_low"] <= 30.0 <= c["ci_high"]
    # censored values are not averaged in: a censored 729 does not pull the median up
    c = censored_median([100.0, 110.0, 120.0, 729.0, 729.0], [0, 0, 0, 1, 1])
    assert c["median"] == 120.0 and c["n_censored"] == 2 and c["mean"] is None
    # most censored: no median within the horizon, and the summary says so
    c = summarize([729.0, 729.0, 729.0, 300.0], "censored", censored=[1, 1, 1, 0])
    assert c["estimate"] is None and c["censored_at"] == 729.0 and c["n_censored"] == 3
    d = difference([50.0, 60.0], [70.0, 729.0], "censored", censored_x=[0, 0], censored_y=[0, 1])
    assert d["mean"] is None and d["n_censored_pairs"] == 1


def test_logit_interval_covers_better_than_clipping_near_one():
    """Why the transformed intervals (stats module docstring): coverage of the 95% interval of a mean of
    10 shares near 1, over 1,500 samples."""
    rng = np.random.default_rng(7)
    true = 20 / 21
    hit_logit = hit_clip = 0
    q = t_quantile(0.975, 9)
    for _ in range(1500):
        x = rng.beta(20, 1, 10)
        s = summarize(x, "fraction")
        hit_logit += s["ci_low"] <= true <= s["ci_high"]
        m, se = x.mean(), x.std(ddof=1) / math.sqrt(10)
        hit_clip += max(m - q * se, 0) <= true <= min(m + q * se, 1)
    assert hit_logit / 1500 > hit_clip / 1500
    assert hit_logit / 1500 > 0.91


def test_wilson_from_scipy():
    lo, hi = wilson(3, 10)
    assert lo == pytest.approx(0.1078, abs=1e-4) and hi == pytest.approx(0.6032, abs=1e-4)
