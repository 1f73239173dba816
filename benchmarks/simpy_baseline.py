"""A lean, hand-written plain-SimPy implementation of the peer benchmark network.

This is the speed reference for ``bench_peers.py``: the same network and
ordering logic as ``models/peer_network.toml`` / ``supplynetpy_network.py``,
written directly against SimPy with plain floats, ``env.timeout`` and
``env.event``, no logging and no statistics beyond the fill rate.

Network (quantities in t, times in days)::

    S1 oxide 60/day --+                     +--> D1 --> d1, d2, d3
    S2 oxide 30/day --+--> M1, M2 (alloy) --+
    S3 Fe-B 150/day --+                     +--> D2 --> d4, d5

* Mines add their daily output while below their storage capacity and wait
  for a withdrawal when full. A buyer's order is filled whole, first in first
  out: an order larger than the stock waits (and blocks later orders).
* An alloy plant reviews its alloy position (on hand + planned production -
  orders waiting at it) whenever it drops; at or below s = 900 it plans
  S - position units (S = 1800, within its capacity of 2000) and orders
  1 oxide + 2 Fe-B per planned unit (oxide from S1, from S2 while S1 is cut).
  It makes at most 100 units a day from the inputs on hand; a batch takes 1 day.
* A distributor reviews its position (on hand + on order) after every sale;
  at or below s = 300 it orders up to S = 800 (capacity 1000) from its first
  plant whose link is up (D1: M1 then M2; D2: M2 then M1).
* Five customers order U{5..15} units a day each (d1-d3 at D1, d4-d5 at D2).
  An order the distributor cannot fill whole is lost.
* export_ban: S1 is cut for 365 days after every 730 days up (days 730-1095,
  1825-2190, 2920-3285); each M->D link fails with probability 0.002 a day
  while up and recovers after 10 days. The time to the next link failure is
  drawn as one geometric variate (the same law as a daily coin flip, with one
  event per outage instead of one per day).

Run ``python benchmarks/simpy_baseline.py --reps 3`` for a quick check.
"""
from __future__ import annotations

import argparse
import math
import random
import time
from collections import deque

import simpy

HORIZON = 3650


class Stock:
    """On-hand units with a first-in-first-out line of orders that wait to be filled whole."""

    __slots__ = ("env", "level", "cap", "line", "on_drop")

    def __init__(self, env, level, cap, on_drop=None):
        self.env = env
        self.level = float(level)
        self.cap = float(cap)
        self.line = deque()          # (quantity, event) waiting, oldest first
        self.on_drop = on_drop       # called after units leave or an order queues

    def request(self, q):
        """Take ``q`` now (returns None) or queue for it (returns the event to wait on)."""
        if not self.line and self.level >= q:
            self.level -= q
            if self.on_drop is not None:
                self.on_drop()
            return None
        ev = self.env.event()
        self.line.append((q, ev))
        if self.on_drop is not None:
            self.on_drop()
        return ev

    def add(self, q):
        self.level += q
        line = self.line
        served = False
        while line and line[0][0] <= self.level:
            x, ev = line.popleft()
            self.level -= x
            ev.succeed()
            served = True
        if served and self.on_drop is not None:
            self.on_drop()

    def queued(self):
        return sum(x for x, _ in self.line)


class Mine:
    def __init__(self, env, rate, cap, init):
        self.env = env
        self.rate = rate
        self.up = True
        self.wake = None
        self.stock = Stock(env, init, cap, self._dropped)
        env.process(self.run())

    def _dropped(self):
        w = self.wake
        if w is not None and not w.triggered:
            w.succeed()

    def run(self):
        env, st = self.env, self.stock
        while True:
            if st.level < st.cap:
                st.add(min(self.rate, st.cap - st.level))
                yield env.timeout(1)
            else:
                self.wake = env.event()
                yield self.wake
                self.wake = None


class Link:
    __slots__ = ("src", "lead", "up")

    def __init__(self, src, lead):
        self.src = src               # supplying node (Mine or Plant)
        self.lead = lead             # (low, mode, high) of a triangular lead time
        self.up = True


class Plant:
    """Alloy plant: (s, S) production planning, inputs ordered per planned unit."""

    def __init__(self, net, name, s=900, S=1800, cap=2000, init=1000, batch=100):
        self.net, self.env, self.name = net, net.env, name
        self.s, self.S, self.batch = s, S, batch
        self.alloy = Stock(self.env, init, cap, self.review)
        self.oxide = 0.0
        self.feb = 0.0
        self.planned = 0.0           # units planned, not yet started
        self.wip = 0.0               # units in the current batch
        self.oxide_links = []        # preferred first
        self.feb_link = None
        self.wake = None
        self.env.process(self.run())

    def position(self):
        return self.alloy.level + self.planned + self.wip - self.alloy.queued()

    def review(self):
        pos = self.position()
        if pos > self.s:
            return
        q = min(self.S - pos, self.alloy.cap - pos)
        if q <= 0:
            return
        ox = next((ln for ln in self.oxide_links if ln.src.up), None)
        if ox is None:
            return
        self.planned += q
        net = self.net
        net.order(ox, q, self._got_oxide)
        net.order(self.feb_link, 2 * q, self._got_feb)
        self._kick()

    def _got_oxide(self, q):
        self.oxide += q
        self._kick()

    def _got_feb(self, q):
        self.feb += q
        self._kick()

    def _kick(self):
        w = self.wake
        if w is not None and not w.triggered:
            w.succeed()

    def run(self):
        env = self.env
        while True:
            n = min(self.batch, self.planned, self.oxide, self.feb / 2)
            n = min(n, self.alloy.cap - self.alloy.level)
            if n > 1e-9:
                self.oxide -= n
                self.feb -= 2 * n
                self.planned -= n
                self.wip = n
                yield env.timeout(1)
                self.wip = 0.0
                self.alloy.add(n)
            else:
                self.wake = env.event()
                yield self.wake
                self.wake = None


class Distributor:
    def __init__(self, net, name, s=300, S=800, cap=1000, init=500):
        self.net, self.name = net, name
        self.s, self.S = s, S
        self.stock = Stock(net.env, init, cap)
        self.on_order = 0.0
        self.links = []              # preferred first

    def review(self):
        pos = self.stock.level + self.on_order
        if pos > self.s:
            return
        q = min(self.S - pos, self.stock.cap - pos)
        ln = next((ln for ln in self.links if ln.up), None)
        if q <= 0 or ln is None:
            return
        self.on_order += q
        self.net.order(ln, q, self._arrived)

    def _arrived(self, q):
        self.on_order -= q
        self.stock.add(q)


class Network:
    def __init__(self, seed=1, replication=0, export_ban=False):
        self.env = env = simpy.Environment()
        self.rng = random.Random(seed * 1_000_003 + replication)
        self.S1 = Mine(env, 60, 4000, 1500)
        self.S2 = Mine(env, 30, 4000, 1500)
        self.S3 = Mine(env, 150, 8000, 3000)
        self.M1 = Plant(self, "M1")
        self.M2 = Plant(self, "M2")
        for m in (self.M1, self.M2):
            m.oxide_links = [Link(self.S1, (20, 30, 45)), Link(self.S2, (25, 35, 60))]
            m.feb_link = Link(self.S3, (3, 5, 10))
        self.D1 = Distributor(self, "D1")
        self.D2 = Distributor(self, "D2")
        md = (2, 4, 8)
        self.md_links = {"M1-D1": Link(self.M1, md), "M2-D1": Link(self.M2, md),
                         "M2-D2": Link(self.M2, md), "M1-D2": Link(self.M1, md)}
        self.D1.links = [self.md_links["M1-D1"], self.md_links["M2-D1"]]
        self.D2.links = [self.md_links["M2-D2"], self.md_links["M1-D2"]]
        self.demand = 0.0
        self.filled = 0.0
        for d in (self.D1, self.D1, self.D1, self.D2, self.D2):
            env.process(self.customer(d))
        if export_ban:
            env.process(self.ban(self.S1, 730, 365))
            for ln in self.md_links.values():
                env.process(self.link_outages(ln, 0.002, 10))

    # -- flows ---------------------------------------------------------------------------
    def order(self, link, q, deliver):
        self.env.process(self._ship(link, q, deliver))

    def _ship(self, link, q, deliver):
        ev = link.src.stock.request(q) if isinstance(link.src, Mine) else link.src.alloy.request(q)
        if ev is not None:
            yield ev
        a, c, b = link.lead
        yield self.env.timeout(self.rng.triangular(a, b, c))
        deliver(q)

    def customer(self, dist):
        env, rng, st = self.env, self.rng, dist.stock
        while True:
            q = rng.randint(5, 15)
            self.demand += q
            if st.level >= q:
                st.level -= q
                self.filled += q
                dist.review()
            yield env.timeout(1)

    # -- disruptions ----------------------------------------------------------------------
    def ban(self, mine, up_days, down_days):
        env = self.env
        while True:
            yield env.timeout(up_days)
            mine.up = False
            yield env.timeout(down_days)
            mine.up = True
            self.M1.review()
            self.M2.review()

    def link_outages(self, link, p, recovery):
        env, rng = self.env, self.rng
        log1p = math.log1p(-p)
        while True:
            # days until the first success of a daily Bernoulli(p): geometric on {0, 1, ...}
            yield env.timeout(math.floor(math.log(1.0 - rng.random()) / log1p))
            link.up = False
            yield env.timeout(recovery)
            link.up = True
            self.D1.review()
            self.D2.review()

    def run(self, until=HORIZON):
        self.env.run(until=until)
        return {"fill_rate": self.filled / self.demand if self.demand else 1.0,
                "demand": self.demand, "filled": self.filled}


def run(seed=1, replication=0, until=HORIZON, export_ban=False) -> dict:
    """One replication; returns fill rate, events processed and wall seconds."""
    t0 = time.perf_counter()
    net = Network(seed, replication, export_ban)
    out = net.run(until)
    out["wall_s"] = time.perf_counter() - t0
    env = net.env
    out["events"] = next(env._eid) - len(env._queue)   # scheduled minus still pending
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--days", type=float, default=HORIZON)
    ap.add_argument("--export-ban", action="store_true")
    a = ap.parse_args(argv)
    for r in range(a.reps):
        o = run(1, r, a.days, a.export_ban)
        print(f"rep {r}: {o['wall_s']:.3f} s, {o['events']} events, fill rate {o['fill_rate']:.4f}")


if __name__ == "__main__":
    main()
