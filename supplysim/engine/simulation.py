"""One replication: a SimPy environment, its random streams, nodes, lanes, sinks and records."""
from __future__ import annotations

import math
import time

import numpy as np
import simpy
from simpy.events import URGENT

from ..materials import ELEMENTS, Layout
from ..random import as_entropy, stream
from .events import FIRST, Call, Urgent, run_until
from .lane import LaneRT
from .node import NodeRT
from .results import ReplicationResult, build_result
from .sink import DemandClock, SinkRT
from .stock import EPS

__all__ = ["Simulation", "InvariantError"]


class InvariantError(AssertionError):
    """A verification invariant (rule V1) failed during a run."""


class Simulation:
    """One replication of a model.

    Parameters
    ----------
    model : supplysim.model.Model
        A validated model (with its scenario applied), from ``load_model``.
    seed : int, optional
        Root entropy of the experiment (rule R2). ``None`` draws fresh entropy,
        recorded in the result.
    replication : int
        Replication index; with the seed it fixes every random stream (R3).
    check : bool
        Check the invariants (mass balance, no negative stock, cost identity)
        at every month end. Cheap; on by default.

    Examples
    --------
    >>> from supplysim import load_model, Simulation              # doctest: +SKIP
    >>> sim = Simulation(load_model("models/examples/tutorial.toml"), seed=1)  # doctest: +SKIP
    >>> res = sim.run(until=365)                                   # doctest: +SKIP
    >>> round(res.kpis["fill_rate"], 3)                            # doctest: +SKIP
    0.998
    """

    def __init__(self, model, seed=None, replication=0, check=True, scenario=None):
        if scenario is not None:
            raise TypeError("load the scenario with load_model(path, scenario=...) and pass that model")
        self.model = model
        self.entropy = as_entropy(seed)
        self.replication = int(replication)
        self.check = check
        self.env = simpy.Environment()
        self.period = model.period_days
        from .stock import Ledger
        countries = {f.country for f in model.facilities.values()}
        self.layout = Layout(countries)
        self.zero = np.zeros(self.layout.size)
        self.zero.flags.writeable = False
        self.ledger = Ledger(self.layout.size)
        self.cost_ordering = self.cost_transport = 0.0
        self.in_flight = set()
        self.in_process = set()
        self.violations = []
        starts = [d.start for d in model.disruptions if d.kind != "expansion"] + \
                 [r.effective for r in model.controls if math.isfinite(r.effective)]
        #: when the scenario's first disruption or control starts (time to survive counts from here)
        self.t_disrupt = max(min(starts), 0.0) if starts else math.inf
        self._build()

    # -- construction -----------------------------------------------------------------------------
    def _stream(self, name):
        return stream(self.entropy, self.replication, name)

    def _build(self):
        m = self.model
        self.nodes = {fid: NodeRT(self, f) for fid, f in m.facilities.items()}
        for d in m.disruptions:
            if d.kind == "facility_outage" and "mtbf" not in d.params:
                for t in d.targets:
                    self.nodes[t].windows.append((d.start, d.end, d.factor))
        for n in self.nodes.values():
            if n.spec.stage != "buffer" or n.spec.output:
                n.stock(n.spec.output)
            for c in list(n.spec.initial_stock) + list(n.spec.sourcing):
                n.stock(c)
        self.lanes = {}
        for i, (lid, ls) in enumerate(m.lanes.items()):
            src, dst = self.nodes[ls.src], self.nodes[ls.dst]
            ln = LaneRT(ls, src, dst, rng=self._stream(f"lead_time:{lid}"), period=self.period, index=i)
            src.stock(ls.commodity)
            dst.stock(ls.commodity)
            src.out_lanes.setdefault(ls.commodity, []).append(ln)
            dst.in_lanes.setdefault(ls.commodity, []).append(ln)
            self.lanes[lid] = ln
        for n in self.nodes.values():
            if n.spec.recipe is not None or n.spec.is_source:
                n.prepare()
        self.sinks = {}
        for sid, s in m.demand.items():
            node = self.nodes[s.at]
            node.stock(s.commodity)
            shocks = [(d.start, d.end, d.factor) for d in m.disruptions if d.kind == "demand_shock"
                      and (sid in d.targets or f"region:{s.region}" in d.targets)]
            sink = SinkRT(self, s, node, None, self._stream(f"demand:{sid}"), shocks)
            sink.subs = [[d.start if d.params["trigger"] == "date" else None, d.params["rate"],
                          d.params["max_share"], d.start] for d in m.disruptions if d.kind == "substitution"
                         and (sid in d.targets or f"region:{s.region}" in d.targets)]
            ln = LaneRT(None, node, None, sink=sink)
            sink.lane = ln
            node.out_lanes.setdefault(s.commodity, []).append(ln)
            node.sinks.append(sink)
            self.sinks[sid] = sink
        from .gate import Gate
        # after the sinks: a rule's reach and odds depend on the end uses a buyer serves
        self.gate = Gate(self, m.controls, self._stream)
        self.gate.attach(self.lanes.values())
        env = self.env
        for ln in self.lanes.values():
            q = ln.spec.in_transit
            if q > 0:
                src = ln.src
                comp = src.stocks[ln.commodity].comp
                self.ledger.source(q, comp)
                ln.in_transit += q
                ln.dst.inbound[ln.commodity] += q
                self.in_flight.add(Call(env, max(ln.lead_time(), 0.0), self.arrive, (ln, q, comp)))
        for n in self.nodes.values():
            if n.spec.recipe is not None or n.spec.is_source and not n.unlimited:
                n.start()
        clocks = {}
        for s in self.sinks.values():
            s.start()
            if s.spec.order_interval_days > 0:
                clocks.setdefault((s._t0, s.spec.order_interval_days), []).append(s)
        self.clocks = [DemandClock(env, group, t0, dt) for (t0, dt), group in clocks.items()]
        for d in m.disruptions:
            if d.kind in ("lane_closure", "lane_delay"):
                env.process(self._lane_disruption(d))
        self.expansions = []
        self.qualifications = []
        from .responses import expansion, random_outages
        for d in m.disruptions:
            if d.kind == "facility_outage" and "mtbf" in d.params:
                for t in d.targets:
                    env.process(random_outages(self, d, self.nodes[t], self._stream(f"outage:{d.id}:{t}")))
            elif d.kind == "expansion":
                for t in d.targets:
                    env.process(expansion(self, d, self.nodes[t], self._stream(f"expansion:{d.id}:{t}")))
        for ln in self.lanes.values():
            if ln.src.spec.release is not None:
                ln.release = True
                ln.dst.release_lanes.setdefault(ln.commodity, []).append(ln)
                ln.dst.quick_floor.pop(ln.commodity, None)   # its buyer checks releases on every change
                cap = ln.src.spec.release[1]
                if cap is not None:
                    ln.cap_pp = cap * self.period
        for d in m.disruptions:
            if d.kind == "lane_closure":
                for t in d.targets:
                    self.lanes[t].can_close = True
        for ln in self.lanes.values():
            ln.settle()
        for s in self.sinks.values():
            s.lane.settle()
            s.floor = s.node.quick_floor.get(s.spec.commodity)
        for n in self.nodes.values():
            # commodities a node ships to demand only (a buyer's sector sinks): see ``NodeRT._to_sinks``
            n.to_demand = {c for c, lns in n.out_lanes.items()
                           if not n.unlimited and all(ln.sink is not None and ln.plain for ln in lns)}
        for t in self.gate.boundaries():
            if t > 0:
                self.wake_all_at(t)
        for n in self.nodes.values():
            for c in n.sourcing:
                n.review(c)

    # -- processes ------------------------------------------------------------------------------------
    def wake_all_at(self, delay):
        """After ``delay`` days, let every node ship what it owes (a rule or quota period changed)."""
        Call(self.env, max(delay, 0.0), self._wake_all, None, URGENT)

    def _wake_all(self, ev):
        for n in self.nodes.values():
            for c, q in n.open_out.items():
                if q > EPS:
                    n.dispatch(c)

    def at_review(self, delay, node, c):
        """Schedule ``node``'s review of ``c`` after ``delay`` days, before other events then."""
        Call(self.env, delay, _do_review, (node, c), URGENT)

    def _lane_disruption(self, d):
        # urgent, so a window [start, end) acts before reviews and shipments at its boundaries
        env = self.env
        yield Urgent(env, max(d.start, 0.0))
        lanes = [self.lanes[t] for t in d.targets]
        for ln in lanes:
            if d.kind == "lane_delay":
                ln.extra_days += d.extra_days
            else:
                ln.closed = True
                if ln.open > EPS:
                    x, c = ln.open, ln.commodity
                    ln.open = 0.0
                    ln.src.open_out[c] -= x
                    ln.dst.inbound[c] -= x
                ln.dst.touch(ln.commodity)
        if math.isinf(d.end):
            return
        yield Urgent(env, d.end - env.now)
        for ln in lanes:
            if d.kind == "lane_delay":
                ln.extra_days -= d.extra_days
            else:
                ln.closed = False
                ln.dst.touch(ln.commodity)
                ln.src.dispatch(ln.commodity)

    def arrive(self, ev):
        """Callback: a shipment reaches its buyer."""
        self.in_flight.discard(ev)
        ln, q, comp = ev._value
        ln.dst.receive(ln, q, comp, self.env._now)

    def finish(self, ev):
        """Callback: a production batch leaves processing."""
        self.in_process.discard(ev)
        node, q, comp, cos = ev._value
        node.wip -= q
        node.finish(q, comp, cos, self.env._now)

    def _recorder(self, until):
        starts = self.model.calendar.month_starts(until)
        bounds = starts[1:] + [until]
        for b in bounds:
            if b < self.env.now:
                continue   # the environment was stepped by hand past this month end
            yield Urgent(self.env, b - self.env.now, FIRST)
            self._snapshot()
            if self.check:
                self.check_invariants()

    def _flow_totals(self):
        """Running totals of every recorded flow: key -> one value per sink, node or lane."""
        return {key: [getattr(o, attr) for o in getattr(self, objs)] for key, objs, attr in _FLOWS}

    def _snapshot(self):
        # flows are running totals; a month's record is the change since the last month end
        rec, last = self._rec, self._last
        sinks, nodes = self._sink_list, self._node_list
        cur = self._flow_totals()
        for key, vals in cur.items():
            rec[key].append([a - b for a, b in zip(vals, last[key])])
        self._last = cur
        rec["backlog"].append([s.lane.open for s in sinks])
        rec["stock"].append([n.stocks[n.spec.output].qty if n.spec.output in n.stocks else 0.0 for n in nodes])

    # -- invariants (rule V1) ----------------------------------------------------------------------
    def balance(self):
        """Element balance: ``sourced`` and the sum of where it is now, as vectors."""
        dv = []   # each stock's delivered vector
        for n in self.nodes.values():
            n.flush()
            for st in n.stocks.values():
                st.flush()
                if st.dvec is not None:
                    dv.append(st.dvec)
        self.ledger.fold()
        delivered = _weighted([1.0] * len(dv), dv, self.layout.size)
        # one weighted sum per category (a matrix product), not one vector operation per stock
        qs, vs = [], []
        for n in self.nodes.values():
            if n.unlimited:
                continue
            for st in n.stocks.values():
                qs.append(st.qty)
                vs.append(st.comp)
        on_hand = _weighted(qs, vs, self.layout.size)
        qs = [ev._value[1] for ev in self.in_flight]
        transit = _weighted(qs, [ev._value[2] for ev in self.in_flight], self.layout.size)
        qs, vs = [], []
        for ev in self.in_process:
            _, q, comp, cos = ev._value
            qs.append(q)
            vs.append(comp)
            for _, x, v, _ in cos:
                qs.append(x)
                vs.append(v)
        wip = _weighted(qs, vs, self.layout.size)
        led = self.ledger
        e = len(ELEMENTS)  # origin entries are re-stamped by stages, so only elements must balance
        return {"sourced": led.sourced[:e].copy(), "on_hand": on_hand[:e], "in_transit": transit[:e],
                "in_process": wip[:e], "delivered": delivered[:e], "losses": led.losses[:e].copy()}

    def check_invariants(self):
        """Raise :class:`InvariantError` if mass balance, stock signs or pipelines are off."""
        b = self.balance()
        held = b["on_hand"] + b["in_transit"] + b["in_process"] + b["delivered"] + b["losses"]
        scale = max(float(np.abs(b["sourced"]).max()), 1.0)
        err = float(np.abs(held - b["sourced"]).max())
        if err > 1e-9 * scale:
            raise InvariantError(f"mass balance off by {err:.3g} t at day {self.env.now:g}: "
                                 f"sourced {b['sourced']} vs held {held}")
        for n in self.nodes.values():
            for c, st in n.stocks.items():
                if st.qty < -1e-6:
                    raise InvariantError(f"negative stock of {c} at {n.id}: {st.qty}")
                if not n.unlimited and abs(st.initial + st.inflow - st.removed() - st.qty) > 1e-6 * max(1, st.inflow):
                    raise InvariantError(f"stock of {c} at {n.id} does not equal initial + in - out")
        for ln in self.lanes.values():
            if ln.in_transit < -1e-6:
                raise InvariantError(f"negative in-transit quantity on lane {ln.id}")
        tot = {}
        for ev in self.in_flight:
            ln, q, _ = ev._value
            tot[ln.id] = tot.get(ln.id, 0.0) + q
        for ln in self.lanes.values():
            if abs(tot.get(ln.id, 0.0) - ln.in_transit) > 1e-6 * max(1.0, ln.shipped):
                raise InvariantError(f"in-transit on lane {ln.id} differs from its open shipments")

    # -- running -----------------------------------------------------------------------------------------
    def _warmup(self, t):
        yield Urgent(self.env, t)
        now = self.env.now
        # the totals restart from zero, so the open month keeps what came before
        last = self._last
        for key, vals in self._flow_totals().items():
            last[key] = [b - a for a, b in zip(vals, last[key])]
        for s in self.sinks.values():
            s.touch(now)
            s.reset()
            s.area = 0.0
            s.first_unmet = None
        for n in self.nodes.values():
            n.produced = 0.0
            n.orders = 0
            for st in n.stocks.values():
                st.area = 0.0
                st.t_last = now
        for ln in self.lanes.values():
            ln.shipped = 0.0
        self.cost_ordering = self.cost_transport = 0.0

    def run(self, until=None, years=None, warmup=0.0) -> ReplicationResult:
        """Run to day ``until`` (or ``years`` years; default the model's ``years``) and return the result.

        KPIs count from day ``warmup`` on (rule A1: steady-state statistics
        need warm-up deletion); the monthly series cover the whole run.
        """
        if until is None:
            until = (years if years is not None else self.model.years) * 365.0
        if until <= 0:
            raise ValueError(f"until must be > 0 days, got {until}")
        self._node_list = list(self.nodes.values())
        self._sink_list = list(self.sinks.values())
        self._lane_list = list(self.lanes.values())
        self._rec = {k: [] for k in ("demand", "filled", "lost", "delivered", "backlog", "production", "stock",
                                      "shipped")}
        self._last = {k: [0.0] * len(v) for k, v in self._flow_totals().items()}
        self.env.process(self._recorder(until))
        if not 0 <= warmup < until:
            raise ValueError(f"warmup must be in [0, until), got {warmup}")
        if warmup > 0:
            self.env.process(self._warmup(warmup))
        self.warmup = warmup
        t0 = time.perf_counter()
        run_until(self.env, until)
        # the last month boundary coincides with ``until``: make sure it was processed
        if len(self._rec["demand"]) < len(self.model.calendar.month_starts(until)):
            self._snapshot()
        if self.check:
            self.check_invariants()
        return build_result(self, until, time.perf_counter() - t0)


#: Flows recorded monthly from running totals: (record key, list attribute, counter attribute).
_FLOWS = (("demand", "_sink_list", "demand"), ("filled", "_sink_list", "filled"), ("lost", "_sink_list", "lost"),
          ("delivered", "_sink_list", "delivered"), ("production", "_node_list", "produced"),
          ("shipped", "_lane_list", "shipped"))


def _weighted(qs, vecs, size):
    """Sum of ``q * v`` over the pairs (zeros when there are none)."""
    if not qs:
        return np.zeros(size)
    return np.asarray(qs) @ np.array(vecs)


def _do_review(ev):
    node, c = ev._value
    node.review_pending(c)
