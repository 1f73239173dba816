"""Disruptions and responses that unfold during a run: random outages, expansions with
delay risk, strategic stockpile releases, supplier qualification and substitution."""
from __future__ import annotations

from simpy.events import Timeout

from ..model.specs import Schedule
from .events import Call
from .stock import EPS

__all__ = ["random_outages", "expansion", "release_check", "release_room", "start_qualification", "substitution_factor"]


def random_outages(sim, d, node, rng):
    """Outages with exponential up times (mean ``mtbf``) and repair times (mean ``mttr``) in [start, end)."""
    env = sim.env
    mtbf, mttr = d.params["mtbf"], d.params["mttr"]
    buf, i = [], 0
    t = d.start
    if t > env.now:
        yield Timeout(env, t - env.now)
    while True:
        if i + 2 > len(buf):
            buf, i = rng.standard_exponential(1024).tolist(), 0
        up, down = buf[i] * mtbf, buf[i + 1] * mttr
        i += 2
        if env.now + up >= d.end:
            return
        yield Timeout(env, up)
        w = (env.now, min(env.now + down, d.end), d.factor)
        node.windows.append(w)
        node.capacity_changed()
        yield Timeout(env, w[1] - env.now)
        node.windows.remove(w)
        node.capacity_changed()
        node.wake()


def expansion(sim, d, node, rng):
    """A capacity step or ramp starting at ``start``, late by a drawn delay with probability ``delay_prob``."""
    env = sim.env
    p = d.params
    u = rng.random(2)
    delay = 0.0
    if u[0] < p["delay_prob"]:
        delay = float(p["delay"].transform(u[1:2], rng.standard_normal(1))[0])
    t0 = d.start + delay
    if t0 > env.now:
        yield Timeout(env, t0 - env.now)
    sched = node.schedule
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
    node.schedule = Schedule(tuple(T), tuple(V))
    node.capacity_changed()
    sim.expansions.append((d.id, node.id, d.start, now))
    node.wake()


def release_check(buyer, c):
    """Ask the stockpiles feeding ``buyer`` to release ``c`` when its cover is below their trigger."""
    now = buyer.sim.env.now
    st = buyer.stocks[c]
    for ln in buyer.release_lanes.get(c, ()):
        cover_days, max_pd = ln.src.spec.release
        rate = buyer.rate(c, now)
        if rate <= 0:
            continue
        want = cover_days * rate - st.qty - ln.open - ln.in_transit
        if want > EPS and ln.src.stocks[c].qty > EPS:
            buyer.inbound[c] += want
            ln.src.order_in(ln, want)
        elif st.qty >= cover_days * rate and ln.open > EPS:
            # cover is back above the trigger: what is not yet released stays in the stockpile
            x = ln.open
            ln.open = 0.0
            ln.src.open_out[c] -= x
            buyer.inbound[c] -= x


def release_room(ln, now):
    """What a stockpile may still release on ``ln`` now: up to the buyer's trigger cover."""
    buyer, c = ln.dst, ln.commodity
    room = ln.src.spec.release[0] * buyer.rate(c, now) - buyer.stocks[c].qty - ln.in_transit
    return room if room > 0 else 0.0


def start_qualification(buyer, c):
    """The buyer is running short: start qualifying the suppliers it has not yet qualified."""
    env = buyer.sim.env
    for ln in buyer.in_lanes.get(c, ()):
        if not ln.qualified and not ln.qualifying:
            ln.qualifying = True
            Call(env, ln.spec.qualification_days, _qualified, ln)


def _qualified(ev):
    ln = ev._value
    ln.qualified = True
    buyer = ln.dst
    buyer.sim.qualifications.append((ln.id, buyer.sim.env.now))
    buyer.touch(ln.commodity)


def substitution_factor(subs, now):
    """Share of demand still served by the original grade: 1 minus substitution so far."""
    f = 1.0
    for start, rate, cap, _ in subs:
        if start is not None and now > start:
            f *= 1.0 - min(cap, rate * (now - start) / 365.0)
    return f

