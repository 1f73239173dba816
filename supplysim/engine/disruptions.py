"""The built-in disruptions: facility outages (dated or random), lane closures and delays,
demand shocks, capacity expansions and substitution away from a product.

Each is a mechanism (see :mod:`.mechanisms`): an ``install(sim, spec)`` that
acts through the engine's hooks. Dated windows ``[start, end)`` act before
reviews and shipments at their boundaries.
"""
from __future__ import annotations

import math

from ..model.specs import Schedule
from .kernel import URGENT
from .lane import ACCESS
from .mechanisms import disruption
from .stock import EPS

__all__ = []


def _plants(sim, spec):
    return [sim.nodes[t].plant for t in spec.targets if sim.nodes[t].plant is not None]


def _sinks(sim, spec):
    """Sinks named by id (a graded demand entry's id names all its grades' sinks), or by ``region:R``,
    in model order."""
    return [s for sid, s in sim.sinks.items() if sid in spec.targets or s.spec.group in spec.targets
            or f"region:{s.spec.region}" in spec.targets]


@disruption("facility_outage")
def facility_outage(sim, spec):
    """Capacity times ``capacity_factor`` over the window, or in random outages (``mtbf``/``mttr`` days)."""
    for t in spec.targets:
        plant = sim.nodes[t].plant
        if plant is None:
            continue
        if "mtbf" in spec.params:
            sim.env.loop(_random_outages(sim, spec, plant, sim.stream(f"outage:{spec.id}:{t}")))
        else:
            plant.add_outage(spec.start, spec.end, spec.factor)


def _random_outages(sim, d, plant, rng):
    """Exponential up times (mean ``mtbf``) and repair times (mean ``mttr``) within [start, end)."""
    env = sim.env
    mtbf, mttr = d.params["mtbf"], d.params["mttr"]
    buf, i = [], 0
    if d.start > env.now:
        yield d.start - env.now
    while True:
        if i + 2 > len(buf):
            buf, i = rng.standard_exponential(1024).tolist(), 0
        up, down = buf[i] * mtbf, buf[i + 1] * mttr
        i += 2
        if env.now + up >= d.end:
            return
        yield up
        w = plant.add_outage(env.now, min(env.now + down, d.end), d.factor)
        yield w[1] - env.now
        plant.end_outage(w)


def _closed(ln, comp, r, now):
    return 0.0 if ln.closed else r


@disruption("lane_closure")
def lane_closure(sim, spec):
    """Nothing ships on the lanes over the window; their buyers order elsewhere."""
    lanes = [sim.lanes[t] for t in spec.targets]
    for ln in lanes:
        if _closed not in ln.limits:
            ln.add_limit(_closed, ACCESS)
    sim.env.loop(_closure(sim, spec, lanes))


def _closure(sim, d, lanes):
    env = sim.env
    yield max(d.start - env.now, 0.0), URGENT
    for ln in lanes:
        ln.closed = True
        if ln.open > EPS:
            sim.orders.withdraw(ln)
        ln.dst.touch(ln.commodity)
    if math.isinf(d.end):
        return
    yield d.end - env.now, URGENT
    for ln in lanes:
        ln.closed = False
        ln.dst.touch(ln.commodity)
        ln.src.dispatch(ln.commodity)


@disruption("lane_delay")
def lane_delay(sim, spec):
    """Every shipment leaving on the lanes over the window takes ``extra_days`` longer."""
    sim.env.loop(_delay(sim, spec, [sim.lanes[t] for t in spec.targets]))


def _delay(sim, d, lanes):
    env = sim.env
    yield max(d.start - env.now, 0.0), URGENT
    for ln in lanes:
        ln.extra_days += d.extra_days
    if math.isinf(d.end):
        return
    yield d.end - env.now, URGENT
    for ln in lanes:
        ln.extra_days -= d.extra_days


@disruption("demand_shock")
def demand_shock(sim, spec):
    """The demand rate of the sinks times ``factor`` over the window."""
    for s in _sinks(sim, spec):
        s.add_shock(spec.start, spec.end, spec.factor)


@disruption("expansion")
def expansion(sim, spec):
    """New capacity from ``start``, late by a drawn delay with probability ``delay_prob``, reached
    in a step or over ``ramp_days``."""
    for t in spec.targets:
        plant = sim.nodes[t].plant
        if plant is not None:
            sim.env.loop(_expand(sim, spec, plant, sim.stream(f"expansion:{spec.id}:{t}")))


def _expand(sim, d, plant, rng):
    env = sim.env
    p = d.params
    u = rng.random(2)
    delay = 0.0
    if u[0] < p["delay_prob"]:
        delay = float(p["delay"].transform(u[1:2], rng.standard_normal(1))[0])
    t0 = d.start + delay
    if t0 > env.now:
        yield t0 - env.now
    sched = plant.schedule
    now = env.now
    cur = sched.at(now) if sched is not None else 0.0
    T = [x for x in (sched.times if sched is not None else (0.0,)) if x < now]
    V = [sched.at(x) for x in T] if sched is not None else [0.0]
    if p["ramp_days"] > 0:
        T += [now, now + p["ramp_days"]]
        V += [cur, p["capacity"]]
    else:
        T += [now, now]
        V += [cur, p["capacity"]]
    sim.expansions.append((d.id, plant.node.id, d.start, now))
    plant.set_schedule(Schedule(tuple(T), tuple(V)))


@disruption("substitution")
def substitution(sim, spec):
    """Demand moves to substitutes at ``rate_per_year`` (a share per year, up to ``max_share``), from
    ``start`` or from the first shortage after it."""
    for s in _sinks(sim, spec):
        _Substitution(s, spec)


class _Substitution:
    def __init__(self, sink, d):
        p = d.params
        self.after = d.start
        self.since = d.start if p["trigger"] == "date" else None
        self.rate, self.cap = p["rate"], p["max_share"]
        sink.add_factor(self.factor)
        if self.since is None:
            sink.shortage_hooks.append(self.shortage)

    def shortage(self, sink, now):
        if self.since is None and now >= self.after:
            self.since = now   # substitution triggered by the first shortage after its start

    def factor(self, now):
        """Share of demand still served by the original product."""
        if self.since is not None and now > self.since:
            return 1.0 - min(self.cap, self.rate * (now - self.since) / 365.0)
        return 1.0
