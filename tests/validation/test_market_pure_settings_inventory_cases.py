"""Market case 4: pure lost sales and pure backorders, set through a market, reproduce the inventory cases.

* Patience 0 is pure lost sales: the time-to-survive case (validation case 5; 900 t on
  hand + 300 t in transit, demand 10 t/day, an alternate source of 4 t/day, a 270-day
  cut) declared with ``unmet = "backorder"`` and a market whose patience is 0 gives the
  lost-sales answer: time to survive 200 days, 420 t lost, fill rate 0.844444.
* No patience (the sink's own backorders) or an effectively infinite one, and no price
  response, leave the (s, S) case (validation case 2, Zheng & Federgruen) exactly as it
  runs without a market: every result and series is the same, so it still meets the
  textbook costs that case checks.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from supplysim import Simulation, load_model

HERE = Path(__file__).parent


def _case(name, const):
    """The model text of another validation case (its module constant ``const``)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, const), mod


MARKET = """
[market.markets.all]
countries = "others"

[market.prices.{c}]
reference = {{all = 50.0}}

[market.demand.all]
{patience}
"""


def test_patience_zero_is_pure_lost_sales(write_model):
    text, mod = _case("test_time_to_survive", "MODEL")
    text = text.replace('unmet = "lost"', 'unmet = "backorder"') + MARKET.format(c="magnet", patience="patience_days = 0")
    res = Simulation(load_model(write_model(text)), seed=1).run(until=270)
    s = res.sinks["buyer"]
    assert s["tts_days"] == pytest.approx(mod.TTS, abs=1e-6)
    assert s["lost_t"] == pytest.approx(mod.LOST, abs=1e-6)
    assert s["fill_rate"] == pytest.approx(mod.FILL, abs=1e-9)
    assert s["backlog_end_t"] == 0.0


def _equal(x, y):
    return x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))


def _same(a, b):
    assert a.kpis.keys() == b.kpis.keys()
    for k in a.kpis:
        if k != "wall_s":
            assert _equal(a.kpis[k], b.kpis[k]), k
    for sid, s in a.sinks.items():
        assert all(_equal(v, b.sinks[sid][k]) for k, v in s.items()), sid
    assert a.facilities == b.facilities
    for k in ("demand", "filled", "lost", "delivered", "backlog", "stock"):
        np.testing.assert_array_equal(a.series[k][1], b.series[k][1])


@pytest.mark.parametrize("patience", ["", "patience_days = 1e5"])
def test_backorders_through_a_market_reproduce_the_sS_case(write_model, patience):
    text, mod = _case("test_periodic_review_sS_zheng_federgruen", "MODEL")
    mu, s, S, h, p, K, _ = mod.CASES[0]
    base = text.format(mu=mu, s=s, S=S, h=h, p=p, K=K)
    plain = load_model(write_model(base, "plain.toml"))
    marketed = load_model(write_model(base + MARKET.format(c="widget", patience=patience), "market.toml"))
    assert marketed.market is not None and plain.market is None
    a = Simulation(plain, seed=mod.SEED).run(until=2000, warmup=mod.WARMUP)
    b = Simulation(marketed, seed=mod.SEED).run(until=2000, warmup=mod.WARMUP)
    _same(a, b)
    assert a.kpis["lost_t"] == 0.0 and a.kpis["backlog_end_t"] >= 0.0
    # the price still moves with the buyer's cover; with no response it changes nothing else
    prices = b.series["price"][1]
    assert np.all(np.isfinite(prices)) and np.all(prices > 0) and len(set(prices[:, 0])) > 1
