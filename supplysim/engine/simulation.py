"""One replication: a kernel, its random streams, the network's nodes, lanes and sinks, and its records."""
from __future__ import annotations

import math
import time

import numpy as np

from ..materials import Layout
from ..random import as_entropy, stream
from . import disruptions  # noqa: F401  (the built-in disruption kinds register on import)
from .buyer import Buyer
from .demand import DemandClock, Sink
from .gate import Gate
from .invariants import CHECKS, InvariantError, balance, check, check_setting
from .kernel import FIRST, URGENT, Kernel
from .lane import Lane
from .market import install_market
from .mechanisms import Signals, install_disruptions
from .node import Node
from .orders import OrderBook
from .periods import periods_of
from .plant import Plant
from .responses import install_responses
from .results import ReplicationResult, build_result
from .stock import EPS, Ledger

__all__ = ["Simulation", "InvariantError"]


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
    check : {"monthly", "yearly", "off"} or bool
        How often to check the invariants (mass balance, no negative stock,
        pipelines, finite numbers): at every month end (``"monthly"`` or
        ``True``, the default), every twelfth (``"yearly"``, what sweeps use:
        the totals checked are cumulative, so it catches the same faults and
        dates them less closely), or never; a checked run is also checked at
        its end.

    Examples
    --------
    >>> from supplysim import load_model
    >>> from supplysim.paths import models_dir
    >>> sim = Simulation(load_model(models_dir() / "examples" / "tutorial.toml"), seed=1)
    >>> res = sim.run(until=365)
    >>> res.months[:2], len(res.months)
    (['2025-01', '2025-02'], 12)
    """

    def __init__(self, model, seed=None, replication=0, check=True):
        self.model = model
        self.entropy = as_entropy(seed)
        self.replication = int(replication)
        self.check_every = CHECKS[check_setting(check)]   # month ends between invariant checks (0: none)
        self._checked_on = None   # the day of the last invariant check, named when a later one fails
        # a spin-up runs the network from before day 0 with day 0's demand and capacity, so the run
        # starts in the state its own dynamics settle to (rule A1), not in the model's initial stocks
        self.spin_up = float(getattr(model, "spin_up_days", 0.0) or 0.0)
        self.env = Kernel(start=-self.spin_up)
        self.periods = periods_of(model)
        # origin blocks only where the model follows origin (a layout of no countries has none)
        countries = {f.country for f in model.facilities.values()} if model.track_origin else ()
        self.layout = Layout(countries)
        self.zero = np.zeros(self.layout.size)
        self.zero.flags.writeable = False
        self.ledger = Ledger()   # element totals (rule V1: origin entries need not balance)
        self.orders = OrderBook(self.env)
        self.signals = Signals()
        self.cost_ordering = self.cost_transport = 0.0
        self.expansions = []       # (disruption id, facility, planned day, actual day)
        self.qualifications = []   # (lane id, day qualified)
        self._monthly = []         # mechanisms' month-end hooks
        self.grade_demands = {}    # graded demand entry -> GradeDemand, made on first use (engine/grades.py)
        #: monthly series mechanisms add to the result: name -> fn(month start days, horizon) -> (labels, array)
        self.records = {}
        starts = [d.start for d in model.disruptions if d.kind != "expansion"] + \
                 [r.effective for r in model.controls if math.isfinite(r.effective)]
        #: when the scenario's first disruption or control starts (time to survive counts from here)
        self.t_disrupt = max(min(starts), 0.0) if starts else math.inf
        self._build()

    # -- construction -----------------------------------------------------------------------------
    def stream(self, name):
        """The random stream of source ``name`` in this replication (rule R3)."""
        return stream(self.entropy, self.replication, name)

    def each_month(self, fn):
        """Call ``fn(sim, now)`` at every month end, after the month's records."""
        self._monthly.append(fn)

    def on_shipment(self, fn):
        """Call ``fn(shipment, days)`` as each shipment leaves (``days``: its time in transit)."""
        self.orders.observers.append(fn)

    def trace(self):
        """A list that records every shipment from now on as ``(day, lane id, tonnes, days in transit)`` (rule V2)."""
        log = []
        env = self.env
        self.on_shipment(lambda s, days: log.append((env.now, s.lane.id, s.qty, days)))
        return log

    def _build(self):
        m = self.model
        env = self.env
        self.nodes = {fid: Node(self, f) for fid, f in m.facilities.items()}
        for n in self.nodes.values():
            if n.spec.sourcing:
                n.attach_buyer(Buyer(n))
            if n.spec.stage != "buffer" or n.spec.output:
                n.stock(n.spec.output)
            for c in list(n.spec.initial_stock) + list(n.spec.sourcing):
                n.stock(c)
        self.lanes = {}
        for i, (lid, ls) in enumerate(m.lanes.items()):
            src, dst = self.nodes[ls.src], self.nodes[ls.dst]
            ln = Lane(ls, src, dst, rng=self.stream(f"lead_time:{lid}"), index=i)
            src.stock(ls.commodity)
            dst.stock(ls.commodity)
            src.out_lanes.setdefault(ls.commodity, []).append(ln)
            dst.in_lanes.setdefault(ls.commodity, []).append(ln)
            self.lanes[lid] = ln
        for n in self.nodes.values():
            if n.spec.recipe is not None or n.spec.is_source:
                n.plant = Plant(n)
        self.sinks = {}
        for sid, s in m.demand.items():
            node = self.nodes[s.at]
            node.stock(s.commodity)
            sink = Sink(self, s, node, None, self.stream(f"demand:{sid}"))
            ln = Lane(None, node, None, sink=sink)
            sink.lane = ln
            node.out_lanes.setdefault(s.commodity, []).append(ln)
            node.sinks.append(sink)
            self.sinks[sid] = sink
        for n in self.nodes.values():
            tot = sum(sk.spec.rate_per_day for sk in n.sinks)
            de = sum(sk.spec.rate_per_day for sk in n.sinks if sk.spec.end_use == "defence")
            n.defence_share = de / tot if tot > 0 else 0.0
        # after the sinks: a rule's reach and odds depend on the end uses a buyer serves
        self.gate = Gate(self, m.controls, self.stream)
        self.gate.attach(self.lanes.values())
        for ln in self.lanes.values():
            q = ln.spec.in_transit
            if q > 0:
                comp = ln.src.stocks[ln.commodity].comp
                self.ledger.source(q, comp)
                self.orders.already_sent(ln, q, comp, max(ln.lead_time(), 0.0))
        for n in self.nodes.values():
            if n.spec.recipe is not None or n.spec.is_source and not n.unlimited:
                n.plant.start()
        clocks = {}
        for s in self.sinks.values():
            s.start()
            dt = s.spec.order_interval_days
            if dt is None or dt > 0:   # (None: on the model's calendar periods)
                clocks.setdefault((s._t0, dt), []).append(s)
        self.clocks = [DemandClock(env, group, t0, dt if dt is not None else self.periods)
                       for (t0, dt), group in clocks.items()]
        install_disruptions(self)
        install_responses(self)
        install_market(self)
        for ln in self.lanes.values():
            ln.settle()
        for s in self.sinks.values():
            s.lane.settle()
        for n in self.nodes.values():
            if n.buyer is not None:
                n.buyer.settle()
            # commodities a node ships to demand only (a buyer's sector sinks): see ``Node.dispatch``
            n.to_demand = frozenset(c for c, lns in n.out_lanes.items()
                                    if not n.unlimited and all(ln.sink is not None and ln.plain for ln in lns))
        for t in self.gate.boundaries():
            if t > 0:
                self.wake_all_at(t - env.now)
        for n in self.nodes.values():
            if n.buyer is not None:
                for c in n.buyer.policies:
                    n.buyer.review(c)

    def wake_all_at(self, delay):
        """After ``delay`` days, let every node ship what it owes (a rule or quota period changed)."""
        self.env.call(max(delay, 0.0), self._wake_all, None, URGENT)

    def _wake_all(self, _):
        for n in self.nodes.values():
            for c, q in n.owed.items():
                if q > EPS:
                    n.dispatch(c)

    # -- records -----------------------------------------------------------------------------------------
    def _flow_totals(self):
        """Running totals of every recorded flow: key -> one value per sink, node or lane."""
        return {key: [getattr(o, attr) for o in getattr(self, objs)] for key, objs, attr in _FLOWS}

    def _month_end(self, i):
        self._snapshot()
        if self.check_every and (i + 1) % self.check_every == 0:
            self.check_invariants()
        for fn in self._monthly:
            fn(self, self.env.now)
        if i + 1 < len(self._ends):
            self.env.call(self._ends[i + 1] - self.env.now, self._month_end, i + 1, FIRST)

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
        """Element balance: ``sourced`` and the sum of where it is now, as vectors (see :mod:`.invariants`)."""
        return balance(self)

    def check_invariants(self):
        """Raise :class:`InvariantError` if mass balance, stock signs, pipelines or finiteness are off."""
        check(self, since=self._checked_on)
        self._checked_on = self.env.now

    # -- running -----------------------------------------------------------------------------------------
    def _start(self, warmup):
        # at the start of the run, after what is already due then (as a process would start)
        env = self.env
        for i, b in enumerate(self._ends):
            if b >= env.now:   # the environment may have been stepped by hand past month ends
                env.call(b - env.now, self._month_end, i, FIRST)
                break
        if env.now < 0:
            env.call(-env.now, self._end_spin_up, None, URGENT)
        if warmup > 0:
            env.call(warmup - env.now, self._end_warmup, None, URGENT)

    def _end_spin_up(self, _):
        # day 0: records and KPIs start from here
        self._reset_totals(self.env.now)
        self._last = {k: [0.0] * len(v) for k, v in self._flow_totals().items()}

    def _end_warmup(self, _):
        now = self.env.now
        # the totals restart from zero, so the open month keeps what came before
        last = self._last
        for key, vals in self._flow_totals().items():
            last[key] = [b - a for a, b in zip(vals, last[key])]
        self._reset_totals(now)

    def _reset_totals(self, now):
        """Running totals of KPIs restart from zero at ``now`` (stock identities are kept)."""
        for s in self.sinks.values():
            s.touch(now)
            s.reset()
            s.area = 0.0
            s.first_unmet = None
        for n in self.nodes.values():
            if n.plant is not None:
                n.plant.produced = 0.0
            if n.buyer is not None:
                n.buyer.orders = 0
            for st in n.stocks.values():
                st.area = 0.0
                st.t_last = now
        for ln in self.lanes.values():
            ln.shipped = 0.0
        self.cost_ordering = self.cost_transport = 0.0

    def run(self, until=None, years=None, warmup=0.0) -> ReplicationResult:
        """Run to day ``until`` (or ``years`` years; default the model's ``years``) and return the result.

        KPIs count from day ``warmup`` on (rule A1: steady-state statistics
        need warm-up deletion); the monthly series cover the whole run from
        day 0 (a model's spin-up, before day 0, is never recorded).
        """
        if until is None:
            until = (years if years is not None else self.model.years) * 365.0
        if not until > 0:
            raise ValueError(f"until must be > 0 days, got {until}")
        if not 0 <= warmup < until:
            raise ValueError(f"warmup must be in [0, until), got {warmup}")
        self._node_list = list(self.nodes.values())
        self._sink_list = list(self.sinks.values())
        self._lane_list = list(self.lanes.values())
        self._rec = {k: [] for k in ("demand", "filled", "lost", "delivered", "backlog", "production", "stock",
                                      "shipped")}
        self._last = {k: [0.0] * len(v) for k, v in self._flow_totals().items()}
        starts = self.model.calendar.month_starts(until)
        self._ends = starts[1:] + [until]
        self.env.call(0.0, self._start, warmup, URGENT)
        self.warmup = warmup
        t0 = time.perf_counter()
        self.env.run(until)
        # the last month boundary coincides with ``until``: make sure it was processed
        if len(self._rec["demand"]) < len(starts):
            self._snapshot()
        if self.check_every:
            self.check_invariants()
        return build_result(self, until, time.perf_counter() - t0)


#: Flows recorded monthly from running totals: (record key, list attribute, counter attribute).
_FLOWS = (("demand", "_sink_list", "demand"), ("filled", "_sink_list", "filled"), ("lost", "_sink_list", "lost"),
          ("delivered", "_sink_list", "delivered"), ("production", "_node_list", "produced"),
          ("shipped", "_lane_list", "shipped"))
