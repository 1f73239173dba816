"""Composition vectors: interned vectors, and models that follow elements without origin."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from supplysim import Simulation, load_model
from supplysim.materials import ELEMENT_INDEX, Layout, content_vector
from supplysim.model.errors import ModelError
from supplysim.paths import models_dir

TUTORIAL = models_dir() / "examples" / "tutorial.toml"


def _tutorial(tmp_path, track_origin):
    text = TUTORIAL.read_text(encoding="utf-8")
    if track_origin is not None:
        text = text.replace("[model]\n", f"[model]\ntrack_origin = {str(track_origin).lower()}\n", 1)
    p = tmp_path / f"tutorial-{track_origin}.toml"
    p.write_text(text, encoding="utf-8")
    return p


def _same(a, b):
    # (NaN entries such as an unreached time-to-survive compare equal as text)
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def test_equal_vectors_are_one_read_only_array():
    lay = Layout(["AU", "CN"])
    dy = content_vector({"Dy": 0.01})
    a = lay.stamp(lay.embed(dy), "mining", "CN")
    b = lay.stamp(lay.embed(content_vector({"Dy": 0.01})), "mining", "CN")
    c = lay.stamp(lay.embed(dy), "mining", "AU")
    assert a is b and a is not c
    assert not a.flags.writeable
    assert lay.embed(dy) is lay.embed(dy)


def test_a_layout_of_no_countries_holds_elements_only():
    lay = Layout(())
    v = lay.stamp(lay.embed(content_vector({"Dy": 0.01})), "separation", "CN")
    assert not lay.tracks_origin and Layout(["CN"]).tracks_origin
    assert v.shape == (len(ELEMENT_INDEX),) and v[ELEMENT_INDEX["Dy"]] == 0.01


def test_not_following_origin_changes_nothing_but_the_origin_shares(tmp_path):
    """Origin is read by no rule of the tutorial: flows, stocks and fills are bit-identical without it."""
    on = Simulation(load_model(_tutorial(tmp_path, None)), seed=11, check=True).run(until=730.0)
    off = Simulation(load_model(_tutorial(tmp_path, False)), seed=11, check=True).run(until=730.0)
    assert any("origin_share" in r for r in on.regions.values())
    assert not any("origin_share" in r for r in off.regions.values())
    strip = {r: {k: v for k, v in d.items() if k != "origin_share"} for r, d in on.regions.items()}
    assert _same(strip, off.regions)
    for part in ("lanes", "facilities", "sinks", "months"):
        assert _same(getattr(on, part), getattr(off, part)), part
    for name, (labels, arr) in on.series.items():
        assert off.series[name][0] == labels and (off.series[name][1] == arr).all(), name


def test_an_extraterritorial_rule_needs_origin(tmp_path):
    text = _tutorial(tmp_path, False).read_text(encoding="utf-8") + """
[controls.fdpr]
issuer = "CN"
mechanism = "licence"
elements = ["Dy"]
threshold = 0.001
extraterritorial = true
review_days = 10
"""
    p = tmp_path / "fdpr.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ModelError) as e:
        load_model(p)
    msg = str(e.value)
    assert "fdpr.toml" in msg and "model.track_origin" in msg and "controls.fdpr" in msg and "expected true" in msg


def test_track_origin_must_be_true_or_false(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(TUTORIAL.read_text(encoding="utf-8").replace("[model]\n", '[model]\ntrack_origin = "no"\n', 1),
                 encoding="utf-8")
    with pytest.raises(ModelError) as e:
        load_model(p)
    assert "model.track_origin" in str(e.value) and "bad.toml" in str(e.value)


def test_a_recipe_whose_tonne_holds_more_than_a_tonne_of_elements_is_refused(tmp_path):
    """Inputs given in units rather than per tonne of mix (three tonnes of input per tonne of alloy at
    yield 1) would make alloy carrying 2.9 t of elements per tonne."""
    text = TUTORIAL.read_text(encoding="utf-8").replace(
        "recipe = {inputs = {ndpr_oxide = 0.353, dy_oxide = 0.0115, ferroboron = 0.686}, yield = 0.97}",
        "recipe = {inputs = {ndpr_oxide = 1.059, dy_oxide = 0.0345, ferroboron = 2.058}, yield = 1}")
    p = tmp_path / "units.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ModelError) as e:
        load_model(p)
    msg = str(e.value)
    assert "units.toml" in msg and "facilities.alloy_kr.recipe.inputs" in msg and "expected at most 1" in msg


def test_the_peer_networks_stocks_hold_their_suppliers_vectors():
    """The peer benchmark network follows no origin and its alloy content is its recipe's: every stock of a
    commodity holds one interned vector, so no receipt mixes."""
    m = load_model(Path(__file__).resolve().parents[1] / "benchmarks" / "models" / "peer_network.toml")
    sim = Simulation(m, seed=2, check=True)
    sim.run(until=400.0)
    by_commodity = {}
    for n in sim.nodes.values():
        for c, st in n.stocks.items():
            by_commodity.setdefault(c, set()).add(id(st.comp))
    assert by_commodity.keys() >= {"oxide", "feb", "alloy"}
    assert all(len(ids) == 1 for ids in by_commodity.values()), by_commodity
