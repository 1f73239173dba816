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


def test_a_kind_the_engine_cannot_run_is_named_when_the_run_is_built(write_model):
    """The model half alone validates a file; building its run then says which half is missing."""
    disruption_kind("strike", "facilities", {"capacity_factor", "min_days", "max_days"})(_parse_strike)
    try:
        model = load_model(write_model(PLANT + STRIKE))
        with pytest.raises(ValueError, match=r"disruptions\.walkout: no mechanism for disruptions of kind 'strike' "
                                             r"\(known: .*facility_outage"):
            Simulation(model, seed=1)
    finally:
        del KINDS["strike"]


def test_a_kind_is_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        disruption_kind("lane_closure", "lanes")(lambda ck, t, p: {})
    with pytest.raises(ValueError, match="targets must be one of"):
        disruption_kind("x", "ports")


# -- a control mechanism of its own: a yearly cap per destination lane -----------------------------------
#
# A rule with ``mechanism = "lane_cap"`` lets each lane it controls ship at most ``cap_t`` tonnes per
# calendar year (licence volumes granted per destination, say). The model half validates
# ``cap_t``; the engine half is a RuleRT subclass: ``allow`` cuts what may ship, ``consume`` counts it.

from supplysim.engine.gate import RULE_CLASSES, RuleRT, control          # noqa: E402
from supplysim.model.controls import CONTROL_MECHANISMS, control_mechanism   # noqa: E402


def _parse_lane_cap(ck, t, p, cal):
    return {"params": {"cap_t": ck.get(t, p, "cap_t", F.tonnes(), 0.0)}}


class _LaneCap(RuleRT):
    def __init__(self, sim, spec, rng):
        super().__init__(sim, spec, rng)
        self.used = {}     # (lane id, year) -> tonnes shipped

    def allow(self, ln, req, now):
        left = self.spec.params["cap_t"] - self.used.get((ln.id, self._year(now)), 0.0)
        return min(req, max(left, 0.0))

    def consume(self, ln, q):
        key = (ln.id, self._year(self.sim.env.now))
        self.used[key] = self.used.get(key, 0.0) + q

    def _year(self, now):
        return self.sim.model.calendar.date(now).year


@pytest.fixture
def lane_cap():
    control_mechanism("lane_cap", {"cap_t"})(_parse_lane_cap)
    control("lane_cap")(_LaneCap)
    yield
    del CONTROL_MECHANISMS["lane_cap"], RULE_CLASSES["lane_cap"]


CAPPED = """
[model]
name = "capped"
start = 2024-01-01

[commodities.magnet]
content = {NdPr = 0.30, Dy = 0.01, Fe = 0.68}

[facilities.cn_mag]
stage = "magnet"
country = "CN"
output = "magnet"
capacity = 20000
target_cover_days = 30
initial_stock = {magnet = 500}

[facilities.jp_mag]
stage = "magnet"
country = "JP"
output = "magnet"
capacity = 20000
target_cover_days = 30
initial_stock = {magnet = 500}

[lanes.cn-us]
from = "cn_mag"
to = "us"
commodity = "magnet"
lead_time = 10

[lanes.jp-us]
from = "jp_mag"
to = "us"
commodity = "magnet"
lead_time = 10

[demand.us]
region = "US"
commodity = "magnet"
rate_per_day = 10
variability = "none"
order_interval_days = 1
initial_stock = 300
sourcing = {policy = "base_stock", target_days = 30}

[controls.cap_us]
issuer = "CN"
mechanism = "lane_cap"
elements = ["Dy"]
destinations = ["US"]
cap_t = 400
"""


def test_lane_cap_holds_a_lane_to_its_yearly_tonnes(write_model, lane_cap):
    """Closed form: half of the US's 3,650 t a year would come from China; the cap holds it to 400 t
    in each year, and the Japanese lane carries the rest."""
    res = Simulation(load_model(write_model(CAPPED)), seed=1).run(until=730.0)
    labels, shipped = res.series["shipped"]
    cn = shipped[:, labels.index("cn-us")]
    assert cn[:12].sum() == pytest.approx(400.0) and cn[12:].sum() == pytest.approx(400.0)
    assert res.lanes["jp-us"]["shipped_t"] > 2 * 3650.0 - 2 * 400.0 - 400.0
    free = Simulation(load_model(write_model(CAPPED.replace("cap_t = 400", "cap_t = 1e6"), "free.toml")),
                      seed=1).run(until=730.0)
    assert free.lanes["cn-us"]["shipped_t"] > 1000.0


def test_lane_cap_keys_are_validated_by_their_mechanism(write_model, lane_cap):
    path = write_model(CAPPED.replace("cap_t = 400", "cap_t = -5\nleakage = 0.1"))
    with pytest.raises(ModelError) as e:
        load_model(path)
    msg = str(e.value)
    assert "controls.cap_us.cap_t" in msg
    assert "controls.cap_us.leakage: belongs to mechanism 'ban', not 'lane_cap'" in msg


def test_unregistered_control_mechanism_names_the_known_ones(write_model):
    with pytest.raises(ModelError, match=r"controls\.cap_us\.mechanism.*licence"):
        load_model(write_model(CAPPED))
