"""The market layer: monthly prices per commodity and market, and the responses they drive.

Installed on a :class:`~.simulation.Simulation` when its model has a ``[market]``
section (:mod:`supplysim.model.market`); a model without one never imports it
into a run. Everything acts through the engine's hooks (see :mod:`.mechanisms`):

* **prices** — at each month end, every priced commodity in every market moves by
  partial adjustment of its log price towards a scarcity target set by the
  holders' relative cover (:func:`price_step`); published as signals
  ``price:COMMODITY@MARKET`` ($/kg) and recorded as the monthly series ``price``;
* **demand response** — each sector's orders are multiplied by a demand factor
  (``sink.add_factor``): constant-elasticity (or linear) in the price, part at
  once and part with a lag (:class:`DemandState`);
* **deferral** — an unmet order waits its drawn patience, then what is still
  unserved is lost (``sink.set_patience``);
* **substitution** — above a trigger price, after an adoption lag, a growing share
  of a sector's demand moves to substitutes (:class:`SubstitutionState`);
* **stocks** — holders' cover targets follow the price, and grow ahead of an
  announced export control (``buyer.set_cover``);
* **supply** — idle capacity restarts and new capacity is built at high prices
  (``plant.set_schedule``).

``docs/market.md`` explains the rules, their parameters and their sources.
"""
from __future__ import annotations

import math

import numpy as np

from ..model.specs import Schedule
from ..random import BLOCK
from .grades import grade_demand
from .stock import EPS

__all__ = ["Market", "install_market", "price_step", "demand_factor", "schedule_max", "schedule_add_step"]

YEAR = 365.0


# -- the rules, as functions of their inputs (the analytic tests call these) -----------------------
def price_step(log_p, log_p0, x, rule):
    """One month of the price rule: the new log price.

    ``x`` is relative cover (holders' cover over its reference); the target is
    ``log P* = log P0 - stock_elasticity * log(clip(x, cover_floor, cover_ceiling))`` and the price
    closes ``adjustment`` of its gap to it, so a constant target is approached geometrically: the
    gap after ``n`` months is ``(1 - adjustment)^n`` of the first.

    >>> from types import SimpleNamespace as NS
    >>> rule = NS(adjustment=0.5, stock_elasticity=1.0, cover_floor=0.1, cover_ceiling=2.0)
    >>> round(math.exp(price_step(math.log(50.0), math.log(50.0), 0.5, rule)), 6)   # target 100
    70.710678
    """
    x = min(max(x, rule.cover_floor), rule.cover_ceiling)
    target = log_p0 - rule.stock_elasticity * math.log(x)
    return log_p + rule.adjustment * (target - log_p)


def demand_factor(form, elasticity, ratio):
    """The demand factor of a price ``ratio`` (P/P0) at ``elasticity``: ``ratio**e`` or ``1 + e (ratio - 1)``.

    >>> demand_factor("constant", -0.5, 4.0), demand_factor("linear", -0.5, 1.5)
    (0.5, 0.75)
    """
    if form == "linear":
        return max(1.0 + elasticity * (ratio - 1.0), 0.0)
    return ratio ** elasticity


def _segments(s, xs):
    """Right values at ``xs[k]`` and left limits at ``xs[k+1]`` of a piecewise-linear schedule."""
    out = []
    for a, b in zip(xs, xs[1:]):
        ra, mid = s.at(a), s.at((a + b) / 2)
        out.append((ra, 2 * mid - ra))   # linear on (a, b): the left limit at b by the midpoint
    return out


def _combine(a, b, op, cross):
    xs = sorted(set(a.times) | set(b.times))
    if len(xs) == 1:
        v = op(a.at(xs[0]), b.at(xs[0]))
        return Schedule((xs[0],), (v,))
    T, V = [], []

    def put(t, v):
        if T and T[-1] == t and V[-1] == v:
            return
        T.append(t)
        V.append(v)

    for (x0, x1), (ra, la), (rb, lb) in zip(zip(xs, xs[1:]), _segments(a, xs), _segments(b, xs)):
        put(x0, op(ra, rb))
        d0, d1 = ra - rb, la - lb
        if cross and d0 * d1 < 0:
            tc = x0 + (x1 - x0) * d0 / (d0 - d1)
            put(tc, ra + (la - ra) * (tc - x0) / (x1 - x0))
        put(x1, op(la, lb))
    put(xs[-1], op(a.at(xs[-1]), b.at(xs[-1])))
    return Schedule(tuple(T), tuple(V))


def schedule_max(a, b) -> Schedule:
    """The larger of two piecewise-linear capacity schedules at every time (exact: crossings included).

    >>> s = schedule_max(Schedule((0.0, 10.0), (0.0, 10.0)), Schedule((0.0,), (4.0,)))
    >>> s.at(0.0), s.at(4.0), s.at(7.0)
    (4.0, 4.0, 7.0)
    """
    return _combine(a, b, max, True)


def schedule_add_step(s, t0, delta) -> Schedule:
    """``s`` plus ``delta`` t/yr from day ``t0`` on.

    >>> s = schedule_add_step(Schedule((0.0,), (100.0,)), 30.0, 50.0)
    >>> s.at(29.9), s.at(30.0)
    (100.0, 150.0)
    """
    step = Schedule((0.0, t0, t0), (0.0, 0.0, delta)) if t0 > 0 else Schedule((0.0,), (delta,))
    return _combine(s, step, lambda x, y: x + y, False)


# -- state -------------------------------------------------------------------------------------
class PriceState:
    """The price of one commodity (or one group of commodities) in one market, and where its
    scarcity signal comes from: ``holders`` are ``(node, stock, commodity)`` of the nodes that use it."""

    def __init__(self, pid, market, rule, holders, sinks):
        self.commodity = pid
        self.market = market
        self.rule = rule
        self.p0 = rule.reference[market]
        self.log_p0 = math.log(self.p0)
        self.log_p = self.log_p0
        self.holders = holders
        self.sinks = sinks            # the demand those holders serve (its backlog is unfilled orders)
        self.cover_ref = None
        self.name = f"price:{pid}@{market}"
        self._area = [self._cum(st, 0.0) for _, st, _ in holders]
        self._t = 0.0

    @staticmethod
    def _cum(st, now):
        return st.area + st.qty * (now - st.t_last)

    @property
    def price(self):
        return math.exp(self.log_p)

    @property
    def ratio(self):
        return math.exp(self.log_p - self.log_p0)

    def use(self, now):
        """Tonnes per day the holders use now (their plants at capacity, their demand at its current level)."""
        return sum(n.usage_rate(c, now) for n, _, c in self.holders)

    def on_hand(self, now, warmup):
        """Holders' mean stock since the last month end (t)."""
        dt = now - self._t
        tot = 0.0
        for i, (_, st, _) in enumerate(self.holders):
            cum = self._cum(st, now)
            last = self._area[i]
            if cum < last - 1e-9:   # the warm-up restarted the stock's area
                last = 0.0
                dt_i = now - warmup
            else:
                dt_i = dt
            tot += (cum - last) / dt_i if dt_i > 0 else st.qty
            self._area[i] = cum
        self._t = now
        return tot

    def cover(self, now, warmup):
        """Holders' effective cover in days: mean stock less unfilled end-use orders, over use."""
        held = self.on_hand(now, warmup)
        unfilled = sum(s.lane.open for s in self.sinks)
        u = self.use(now)
        return (held - unfilled) / u if u > EPS else None

    def initial_cover(self):
        u = self.use(0.0)
        if u <= EPS:
            return None
        return sum(st.qty for _, st, _ in self.holders) / u


class DemandState:
    """A sector's demand factor in one market: ``e_short`` at once, the rest towards ``e_long`` with a lag."""

    def __init__(self, resp, price):
        self.resp = resp
        self.price = price
        self.lagged = 0.0   # the part of the response still building up (log factor or level)
        self.factor = 1.0

    def update(self, dt_days):
        r = self.resp
        ratio = self.price.ratio
        a = 1.0 - math.exp(-dt_days / (r.adjust_years * YEAR))
        if r.form == "linear":
            self.lagged += a * ((r.elasticity_long - r.elasticity_short) * (ratio - 1.0) - self.lagged)
            self.factor = max(1.0 + r.elasticity_short * (ratio - 1.0) + self.lagged, 0.0)
        else:
            lr = math.log(ratio)
            self.lagged += a * ((r.elasticity_long - r.elasticity_short) * lr - self.lagged)
            self.factor = math.exp(r.elasticity_short * lr + self.lagged)


class SubstitutionState:
    """The share of a sector group's demand in one market that has moved to substitutes."""

    def __init__(self, spec, price):
        self.spec = spec
        self.price = price
        self.share = 0.0
        self.since = None   # first month end of the current run of prices above the trigger

    def update(self, now, dt_days):
        s = self.spec
        if self.price.ratio >= s.trigger_price_ratio * (1 - 1e-12):
            if self.since is None:
                self.since = now
            if now - self.since >= s.lag_days - 1e-9:
                # adoption runs from the end of the lag, not before it
                run = min(dt_days, now - self.since - s.lag_days) if s.lag_days > 0 else dt_days
                self.share = min(self.share + s.rate_per_year * max(run, 0.0) / YEAR, s.max_share)
        else:
            self.since = None
            self.share = max(self.share - s.reversal_per_year * dt_days / YEAR, 0.0)


class SinkResponse:
    """The factor acting on one sink's orders: its sector's demand response times what substitution leaves."""

    __slots__ = ("sink", "demand", "subs", "factor")

    def __init__(self, sink, demand, subs):
        self.sink = sink
        self.demand = demand
        self.subs = subs
        self.factor = 1.0
        sink.add_factor(self.at)

    def at(self, now):
        return self.factor

    def refresh(self):
        f = self.demand.factor if self.demand is not None else 1.0
        for s in self.subs:
            f *= 1.0 - s.share
        self.factor = f
        self.sink.level = f   # buyers plan their cover on the demand that remains


class _GradeMove:
    """A grade substitution in one market: the share of the from-grade's nominal demand moved to the
    to-grade follows its :class:`SubstitutionState`, through the graded entries' ``move`` hook."""

    def __init__(self, state, demands):
        self.state = state
        self.demands = demands
        self.applied = 0.0

    def update(self, now, dt_days):
        st = self.state
        st.update(now, dt_days)
        delta = st.share - self.applied
        if abs(delta) <= 1e-12:
            return
        src, dst = st.spec.from_grade, st.spec.to_grade
        for gd in self.demands:
            amount = abs(delta) * gd.nominal[src]   # a share of the entry's demand
            a, b = (src, dst) if delta > 0 else (dst, src)
            have = gd.shares[a]
            if have > 0:
                gd.move(a, b, min(amount / have, 1.0))
        self.applied = st.share


class _Patience:
    """Patience draws for one sink: one per order (in order, rule R4), by inverse CDF of unit variates."""

    def __init__(self, dist, rng):
        self.dist = dist
        self.rng = rng
        self.buf = []
        self.i = 0

    def __call__(self):
        if self.i >= len(self.buf):
            u = self.rng.random(BLOCK)
            z = self.rng.standard_normal(BLOCK)
            self.buf = np.maximum(self.dist.transform(u, z), 0.0).tolist()
            self.i = 0
        x = self.buf[self.i]
        self.i += 1
        return x


class Market:
    """The market of one replication: prices, demand, substitution, stocks and supply responses."""

    def __init__(self, sim, spec):
        self.sim = sim
        self.spec = spec
        self.node_market = {nid: spec.market_of(n.spec.country) for nid, n in sim.nodes.items()}
        self.prices = {}
        for pid, rule in spec.prices.items():
            coms = rule.commodities
            for m in spec.markets:
                nodes = [n for nid, n in sim.nodes.items() if self.node_market[nid] == m
                         and n.spec.release is None and not n.unlimited]
                holders = [(n, n.stocks[c], c) for n in nodes for c in coms if c in n.spec.sourcing]
                held = {n.id for n, _, _ in holders}
                sinks = [s for n in nodes if n.id in held for s in n.sinks if s.commodity in coms]
                self.prices[(pid, m)] = PriceState(pid, m, rule, holders, sinks)
        self.keys = list(self.prices)
        self.rows = []
        self.cover_rows = []   # holders' effective cover (days) at each month end
        self.t_last = 0.0
        self._demand_states = {}
        self._sub_states = {}
        self.responses = []
        self._build_demand()
        self.covers = {}
        self._build_stocks()
        self.restarts = [_RestartState(self, r) for r in spec.restart.values()]
        self.new_supply = [_NewSupplyState(self, n) for n in spec.new_supply.values()]
        for p in self.prices.values():
            given = p.rule.reference_cover_days.get(p.market)
            p.cover_ref = given if given is not None else p.initial_cover()
        self._publish()
        sim.each_month(self.month_end)
        sim.records["price"] = self.price_series
        sim.records["price_ratio"] = self.ratio_series
        sim.records["cover_days"] = self.cover_series

    # -- construction ------------------------------------------------------------------------------
    def _build_demand(self):
        sim, spec = self.sim, self.spec
        for sid, sink in sim.sinks.items():
            m = self.node_market[sink.node.id]
            resp = spec.demand.get(sink.spec.sector)
            dstate = None
            if resp is not None:
                c = resp.price or spec.price_of(sink.commodity)
                key = (resp.sector, m)
                dstate = self._demand_states.get(key)
                if dstate is None:
                    dstate = self._demand_states[key] = DemandState(resp, self.prices[(c, m)])
                if resp.patience is not None:
                    sink.set_patience(_Patience(resp.patience, sim.stream(f"patience:{sid}")))
            subs = []
            for sub in spec.substitution.values():
                if sink.spec.sector not in sub.sectors or sub.kind != "demand":
                    continue
                c = sub.commodity or spec.price_of(sink.commodity)
                if (c, m) not in self.prices:
                    continue
                key = (sub.id, m)
                st = self._sub_states.get(key)
                if st is None:
                    st = self._sub_states[key] = SubstitutionState(sub, self.prices[(c, m)])
                subs.append(st)
            if dstate is not None or subs:
                self.responses.append(SinkResponse(sink, dstate, subs))
        self.grade_moves = []
        for sub in spec.substitution.values():
            if sub.kind != "grade":
                continue
            by_market = {}
            for sink in sim.sinks.values():
                g = sink.spec.group
                if g and sink.spec.sector in sub.sectors and sink.commodity == sub.from_grade:
                    by_market.setdefault(self.node_market[sink.node.id], set()).add(g)
            for m, groups in by_market.items():
                c = sub.commodity or spec.price_of(sub.from_grade)
                if (c, m) not in self.prices:
                    continue
                gds = [grade_demand(sim, g) for g in sorted(groups)]
                gds = [gd for gd in gds if sub.to_grade in gd.shares]
                if gds:
                    self.grade_moves.append(_GradeMove(SubstitutionState(sub, self.prices[(c, m)]), gds))

    def _build_stocks(self):
        sr = self.spec.stocks
        if sr is None:
            return
        for nid, n in self.sim.nodes.items():
            if n.buyer is None or n.spec.stage not in sr.stages:
                continue
            m = self.node_market[nid]
            for c in n.buyer.policies:
                price = self.prices.get((self.spec.price_of(c), m))
                if price is None:
                    continue
                windows = []
                if sr.prebuy_days > 0:
                    for ln in n.in_lanes.get(c, ()):
                        for r in ln.rules:
                            a = r.spec.announced
                            if a is not None and a < r.spec.effective and r.would_control(ln, ln.src.stocks[c].comp):
                                windows.append((a, r.spec.effective))
                cov = _Cover(sr, price, tuple(sorted(set(windows))))
                self.covers[(nid, c)] = cov
                n.buyer.set_cover(c, cov)

    # -- each month ---------------------------------------------------------------------------------
    def month_end(self, sim, now):
        dt = now - self.t_last
        self.t_last = now
        warm = getattr(sim, "warmup", 0.0)
        covers = []
        for p in self.prices.values():
            cov = p.cover(now, warm)
            covers.append(cov if cov is not None else math.nan)
            if cov is not None and p.cover_ref:
                p.log_p = price_step(p.log_p, p.log_p0, cov / (p.cover_ref * self.desired(p, now)), p.rule)
        self.cover_rows.append(covers)
        self._publish()
        self.rows.append([p.price for p in self.prices.values()])
        for d in self._demand_states.values():
            d.update(dt)
        for s in self._sub_states.values():
            s.update(now, dt)
        for r in self.responses:
            r.refresh()
        for g in self.grade_moves:
            g.update(now, dt)
        for r in self.restarts:
            r.month_end(now)
        for n in self.new_supply:
            n.month_end(now)

    def desired(self, p, now):
        """Holders' desired cover relative to normal, weighted by their use: 1 unless their cover
        targets follow the price or an announced control (``[market.stocks]``). Relative cover is
        read against it, so stock a holder releases on purpose is not read as scarcity (which
        would hold a price up by itself) and stock bought ahead is not read as a glut."""
        if not self.covers:
            return 1.0
        tot = w = 0.0
        for n, _, c in p.holders:
            u = n.usage_rate(c, now)
            cov = self.covers.get((n.id, c))
            tot += u * (cov.factor(now) if cov is not None else 1.0)
            w += u
        return tot / w if w > 0 else 1.0

    def _publish(self):
        sig = self.sim.signals
        for p in self.prices.values():
            sig.publish(p.name, p.price)

    def price_series(self, starts, until):
        """The monthly price series: labels ``COMMODITY@MARKET``, $/kg at each month end."""
        rows = list(self.rows)
        while len(rows) < len(starts):   # the horizon's own month end, if the run stopped on it
            rows.append([p.price for p in self.prices.values()])
        labels = [f"{c}@{m}" for c, m in self.keys]
        return labels, np.asarray(rows[: len(starts)], float).reshape(len(starts), len(labels))

    def ratio_series(self, starts, until):
        """Each month-end price over its reference: labels ``COMMODITY@MARKET``."""
        labels, p = self.price_series(starts, until)
        return labels, p / np.array([self.prices[k].p0 for k in self.keys])

    def cover_series(self, starts, until):
        """The holders' effective cover behind each price: days, labels ``COMMODITY@MARKET``."""
        rows = list(self.cover_rows)
        while len(rows) < len(starts):
            rows.append([math.nan] * len(self.keys))
        labels = [f"{c}@{m}" for c, m in self.keys]
        return labels, np.asarray(rows[: len(starts)], float).reshape(len(starts), len(labels))

    def world_use(self, commodity, now):
        """Tonnes per year of ``commodity`` used in all markets now."""
        return YEAR * sum(p.use(now) for (c, _), p in self.prices.items() if c == commodity)


class _Cover:
    """A holder's cover target response, as extra days on its days-of-cover levels.

    The price factor ``clip((P/P0)^elasticity, lo, hi)`` scales the stock the holder means to
    keep on hand (its reference cover), not its whole target position: the pipeline it needs
    does not shrink because stock is dear. Between a control's announcement and its effective
    date the holder keeps ``prebuy_days`` more.
    """

    __slots__ = ("sr", "price", "windows")

    def __init__(self, sr, price, windows):
        self.sr = sr
        self.price = price
        self.windows = windows

    def factor(self, now):
        """The on-hand stock the holder wants, relative to normal."""
        sr = self.sr
        f = self.price.ratio ** sr.elasticity if sr.elasticity else 1.0
        f = min(max(f, sr.min_factor), sr.max_factor)
        ref = self.price.cover_ref
        for a, b in self.windows:
            if a <= now < b and ref:
                return f + sr.prebuy_days / ref
        return f

    def __call__(self, now):
        ref = self.price.cover_ref
        return 1.0, (self.factor(now) - 1.0) * ref if ref else 0.0


class _RestartState:
    def __init__(self, market, spec):
        self.spec = spec
        sim = market.sim
        node = sim.nodes[spec.facility]
        self.plant = node.plant
        c = spec.commodity or market.spec.price_of(node.spec.output)
        self.price = market.prices[(c, market.node_market[node.id])]
        self.run = 0
        self.day = None   # when the restart was decided
        self.sim = sim

    def month_end(self, now):
        s = self.spec
        if self.day is not None or self.plant is None:
            return
        self.run = self.run + 1 if self.price.ratio >= s.price_ratio * (1 - 1e-12) else 0
        if self.run >= s.months:
            self.day = now
            self.sim.env.call(s.lag_days, self._restart, None)

    def _restart(self, _):
        s, plant, now = self.spec, self.plant, self.sim.env.now
        cur = plant.schedule.at(now) if plant.schedule is not None else 0.0
        if s.ramp_days > 0:
            ramp = Schedule((0.0, now, now + s.ramp_days), (0.0, cur, s.capacity))
        else:
            ramp = Schedule((0.0, now, now), (0.0, 0.0, s.capacity))
        old = plant.schedule if plant.schedule is not None else Schedule((0.0,), (0.0,))
        plant.set_schedule(schedule_max(old, ramp))
        self.sim.restarts.append((s.id, s.facility, self.day, now))


class _NewSupplyState:
    def __init__(self, market, spec):
        self.market = market
        self.spec = spec
        sim = market.sim
        self.sim = sim
        self.price = market.prices[(spec.commodity, spec.market)]
        self.groups = [[sim.nodes[f].plant for f in g if sim.nodes[f].plant is not None] for g in spec.groups]
        self.history = []   # (month end day, price at or above the trigger)
        self.added = 0.0

    def month_end(self, now):
        s = self.spec
        self.history.append((now, self.price.ratio >= s.price_ratio * (1 - 1e-12)))
        # capacity decided ``lag_days`` ago comes on stream now
        decided = [ok for t, ok in self.history if t <= now - s.lag_days + 1e-9]
        if not decided or not decided[-1] or self.added >= s.max_added:
            return
        dt = self.history[-1][0] - (self.history[-2][0] if len(self.history) > 1 else 0.0)
        add = min(s.rate_of_market * self.market.world_use(s.commodity, now) * dt / YEAR, s.max_added - self.added)
        heads = [g[0].schedule.at(now) if g and g[0].schedule is not None else 0.0 for g in self.groups]
        tot = sum(heads)
        if add <= EPS or tot <= EPS:
            return
        self.added += add
        for g, head in zip(self.groups, heads):
            grow = add * head / tot / head if head > 0 else 0.0   # the group's relative growth
            for plant in g:
                cap = plant.schedule.at(now) if plant.schedule is not None else 0.0
                if cap > 0:
                    plant.set_schedule(schedule_add_step(plant.schedule, now, cap * grow))
        self.sim.new_capacity.append((s.id, now, add))


def reference_covers(model, seed=1, replications=4, months=(2, 12)):
    """The holders' mean effective cover (days) per ``(commodity, market)`` over ``months`` (first, last,
    counted from 0) of the model's own run with prices but no responses: the values a model's
    ``reference_cover_days`` should hold so that its prices stay at their references while nothing
    disturbs it (``docs/market.md``, "Reference cover").
    """
    import dataclasses

    from .simulation import Simulation
    spec = dataclasses.replace(model.market, demand={}, substitution={}, stocks=None, restart={}, new_supply={})
    bare = dataclasses.replace(model, market=spec)
    a, b = months
    out = {}
    for r in range(replications):
        res = Simulation(bare, seed=seed, replication=r).run(until=model.calendar.month_starts(10 ** 5)[b + 1])
        labels, cov = res.series["cover_days"]
        for j, k in enumerate(labels):
            out.setdefault(k, []).append(float(np.nanmean(cov[a: b + 1, j])))
    return {k: float(np.mean(v)) for k, v in out.items()}


def install_market(sim):
    """Install the model's market on ``sim`` (nothing for a model without a ``[market]`` section)."""
    spec = sim.model.market
    if spec is None:
        return None
    sim.restarts = []
    sim.new_capacity = []
    sim.market = Market(sim, spec)
    return sim.market
