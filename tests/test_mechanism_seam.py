"""A new kind of disruption is one module plus its tests: the worked example of docs/architecture.md.

A strike cuts a plant's capacity to ``capacity_factor`` for a number of days drawn
uniformly in ``[min_days, max_days]`` from its own random stream. Its model half
(``disruption_kind``) validates its keys; its engine half (``disruption``) acts
through the plant's outage hook. Nothing in the engine or the parser changes.
"""
from __future__ import annotations

import textwrap

import pytest

from supplysim import Simulation, load_model
from supplysim.engine.mechanisms import DISRUPTIONS, disruption
from supplysim.model import ModelError
from supplysim.model import fields as F
from supplysim.model.disruptions import KINDS, disruption_kind


# -- the mechanism, as a module of its own would write it ----------------------------------------------

def _parse_strike(ck, t, p):
    lo = ck.get(t, p, "min_days", F.days(positive=True), 10.0)
    hi = ck.get(t, p, "max_days", F.days(positive=True), 30.0)
    if lo is not None and hi is not None and hi < lo:
        ck.error(p + ("max_days",), f"expected at least min_days ({lo:g}), found {hi:g}")
    return {"factor": ck.get(t, p, "capacity_factor", F.number(0, 1), 0.5),
            "params": {"min_days": lo, "max_days": hi}}


def _install_strike(sim, spec):
    """Each target plant strikes at ``spec.start`` for its own drawn number of days."""
    for t in spec.targets:
        plant = sim.nodes[t].plant
        rng = sim.stream(f"strike:{spec.id}:{t}")             # its own stream (rule R3)
        days = rng.uniform(spec.params["min_days"], spec.params["max_days"])
        sim.env.process(_strike(sim.env, plant, spec.start, days, spec.factor))
        sim.strikes = getattr(sim, "strikes", []) + [days]    # for the tests to read


def _strike(env, plant, start, days, factor):
    """A plain SimPy process on the kernel: wait for the strike, cut capacity, restore it."""
    yield env.timeout(start - env.now)
    window = plant.add_outage(env.now, env.now + days, factor)
    yield env.timeout(days)
    plant.end_outage(window)


@pytest.fixture
def strike():
    """Register the strike for one test, and only for it."""
    disruption_kind("strike", "facilities", {"capacity_factor", "min_days", "max_days"})(_parse_strike)
    disruption("strike")(_install_strike)
    yield
    del KINDS["strike"], DISRUPTIONS["strike"]


PLANT = """
[model]
name = "plant"
start = 2024-01-01

[commodities.oxide]
content = {NdPr = 0.85}

[facilities.plant]
stage = "separation"
country = "AU"
output = "oxide"
capacity = 3650

[demand.buyers]
region = "AU"
commodity = "oxide"
rate_per_day = 20
variability = "none"
order_interval_days = 1
at = "plant"
"""
STRIKE = """
[disruptions.walkout]
kind = "strike"
facilities = ["plant"]
start = 2024-03-01
capacity_factor = 0.5
min_days = 20
max_days = 40
"""


def _production(path, seed):
    """Tonnes made in 2024, and the strike's drawn days (if any)."""
    sim = Simulation(load_model(path), seed=seed)
    sim.run(until=365.0)
    return sim.nodes["plant"].produced, getattr(sim, "strikes", [None])[0]


def test_strike_at_half_capacity_costs_half_its_days_of_output(write_model, strike):
    """Closed form: a capacity-bound plant (10 t/day, demand 20 t/day) striking at half capacity
    for ``d`` days makes ``10 d / 2`` t less, to within the day's batch that straddles the strike's
    end (the plant makes one batch a day); ``d`` is drawn in [20, 40] per replication."""
    base, _ = _production(write_model(PLANT, "base.toml"), 1)
    assert base == pytest.approx(3650.0)
    path = write_model(PLANT + STRIKE, "strike.toml")
    runs = [_production(path, seed) for seed in range(1, 9)]
    for made, days in runs:
        assert 20.0 <= days <= 40.0
        assert abs((base - made) / (10.0 * 0.5) - days) <= 1.0, (made, days)
    assert len({days for _, days in runs}) == len(runs)         # each seed draws its own duration
    assert _production(path, 3) == runs[2]                      # and the same seed the same one


def test_strike_parameters_are_validated_by_their_kind(write_model, strike):
    bad = STRIKE.replace("max_days = 40", "max_days = 5").replace("capacity_factor = 0.5", "capacity_factor = 2")
    path = write_model(PLANT + bad)
    with pytest.raises(ModelError) as e:
        load_model(path)
    msg = str(e.value)
    assert "disruptions.walkout.max_days" in msg and "at least min_days (20)" in msg
    assert "disruptions.walkout.capacity_factor" in msg and str(path.name) in msg


def test_strike_keys_belong_to_the_strike(write_model, strike):
    """A key of another kind (or a misspelt one) is refused with the kind's own keys listed."""
    path = write_model(PLANT + STRIKE.replace("min_days = 20", "mindays = 20"))
    with pytest.raises(ModelError, match=r"disruptions\.walkout\.mindays"):
        load_model(path)


def test_unregistered_kind_names_the_known_ones(write_model):
    path = write_model(PLANT + STRIKE)
    with pytest.raises(ModelError, match=r"disruptions\.walkout\.kind.*facility_outage"):
        load_model(path)


def test_a_kind_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        disruption_kind("lane_closure", "lanes")(lambda ck, t, p: {})
    with pytest.raises(ValueError, match="targets must be one of"):
        disruption_kind("x", "ports")
