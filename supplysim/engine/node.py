"""Facilities and stocking points at run time: production, dispatch, receipt, ordering."""
from __future__ import annotations

import math

import numpy as np

from ..policies import allocate, order_quantity
from .events import Call, Immediate, Tick
from .stock import EPS, Stock

__all__ = ["NodeRT", "ORIGIN_STAGE"]

INF = math.inf

#: A plant near its stock target produces only batches of at least this share of a period's capacity.
MIN_BATCH = 0.05

#: The origin stage a facility's stage label stamps on its output (see ``materials.Layout``).
ORIGIN_STAGE = {"mine": "mining", "source": "mining", "separation": "separation",
                "metallisation": "metallisation", "alloying": "metallisation"}


class NodeRT:
    """One node of the network in one replication.

    A node holds stocks (one per commodity), ships its open orders
    (``dispatch``), receives shipments (``receive``), orders inputs by its
    sourcing policies (``review``) and, when it has a recipe or is a source,
    produces in batches of at most one period's capacity (``start``).
    """

    def __init__(self, sim, spec):
        self.sim = sim
        self.spec = spec
        self.id = spec.id
        self.unlimited = spec.unlimited
        self.allocation = spec.allocation
        self.stocks = {}
        self.out_lanes = {}
        self.in_lanes = {}
        self.open_out = {}
        self.inbound = {}
        self.sinks = []
        self.to_demand = set()
        self.sourcing = spec.sourcing
        period = sim.period
        # review period per commodity: 0 = continuous; by default once per model period
        self.review_every = {c: (s.review_days if s.review_days is not None else period)
                             for c, s in spec.sourcing.items()}
        self.pending = set()
        self.gated_out = False   # set when a rule can act on one of the node's lanes
        self.gated_in = False    # set when a rule can act on a lane into the node
        self.unqualified = any(ln.qualification_days > 0 for ln in sim.model.lanes.values() if ln.dst == spec.id)
        self.waiting = None   # the production loop: None running or sleeping, True waiting for a wake, False woken
        self.k = -1
        self.made = 0.0
        self.wip = 0.0
        self.produced = 0.0
        self.orders = 0
        self.retry = set()
        self.windows = []          # (start, end, factor) capacity outages
        self._cap_lo = self._cap_hi = -1.0
        self._cap_v = 0.0
        self._last_cap = None
        self._period_cap = 0.0
        self.blocked_by_target = False
        self.short_inputs = False   # the last batch was cut by inputs on hand
        self.wait_until = -1.0      # before this time, only a receipt wakes the production loop
        self._wake_t = None
        self._levels = {c: ({k: v for k, (v, d) in p.levels.items()}
                            if not any(d for _, d in p.levels.values()) else None)
                        for c, p in spec.sourcing.items()}
        # reorder point of fixed-level policies, for a quick exit from reviews
        self._no_order_above = {}
        for c, lv in self._levels.items():
            pol = spec.sourcing[c].policy
            if lv is not None and pol in ("sS", "rQ", "base_stock"):
                self._no_order_above[c] = lv["s"] if pol == "sS" else lv["r"] if pol == "rQ" else lv["S"]
        # continuously reviewed commodities with a fixed reorder point and no release lanes: a sink
        # can skip the review call while the position stays above the point
        self.quick_floor = {c: f for c, f in self._no_order_above.items()
                            if self.review_every.get(c) == 0}
        self.schedule = spec.capacity
        self.release_lanes = {}    # commodity -> lanes from release stockpiles
        self.led_q = 0.0           # production since the ledger vectors last changed
        self.led_loss = sim.zero
        self.led_add = sim.zero
        self._lf = self._af = 1.0  # ledger vectors are these multiples of led_loss / led_add per unit
        self.stamp = ORIGIN_STAGE.get(spec.stage)
        self._key = None
        self._cache = None
        self.out = None

    # -- set-up ---------------------------------------------------------------------------
    def stock(self, c):
        st = self.stocks.get(c)
        if st is None:
            sim = self.sim
            lay = sim.layout
            comp = sim.model.commodities[c].content
            if c == self.spec.output and self.spec.output_content is not None:
                comp = self.spec.output_content  # ore-specific content of a mine's concentrate
            comp = lay.embed(comp)
            q0 = self.spec.initial_stock.get(c, 0.0)
            if q0 or self.unlimited:
                # stock present at the start: its history is unknown, so it is
                # taken to have passed every stage in the holder's country
                for stage in lay.STAGES:
                    comp = lay.stamp(comp, stage, self.spec.country)
            st = self.stocks[c] = Stock(q0, comp, commodity=c)
            if q0:
                sim.ledger.source(q0, comp)
            self.open_out.setdefault(c, 0.0)
            self.inbound.setdefault(c, 0.0)
        return st

    # -- capacity -------------------------------------------------------------------------
    def wake(self):
        if self.waiting:
            self._rouse()

    def _rouse(self):
        # the loop resumes at this instant, after what is already due now (as a triggered event)
        self.waiting = False
        self._tick.arm(0.0, self._cb)

    def cap_per_day(self, now):
        if self._cap_lo <= now < self._cap_hi:
            return self._cap_v
        sched = self.schedule
        if sched is None:
            return INF
        cap = sched.at(now)
        hi = sched.constant_until(now)
        for a, b, f in self.windows:
            if a <= now < b:
                cap *= f
                hi = min(hi, b)
            elif a > now:
                hi = min(hi, a)
        cap /= 365.0
        if hi <= now:
            hi = math.nextafter(now, INF)   # a ramp runs: keep the value for this instant only
        self._cap_lo, self._cap_hi, self._cap_v = now, hi, cap
        return cap

    def _cap_until(self, now):
        # end of the cached constant-capacity piece holding ``now`` (``now`` if none is cached)
        return self._cap_hi if self._cap_lo <= now < self._cap_hi else now

    def capacity_changed(self):
        """Forget the cached capacity (a schedule or outage window changed)."""
        self._cap_lo = self._cap_hi = -1.0

    def next_change(self, now):
        t = self.schedule.next_change(now) if self.schedule is not None else INF
        for a, b, _ in self.windows:
            if a > now:
                t = min(t, a)
            elif b > now:
                t = min(t, b)
        return t

    # -- consumption rate for days-of-cover targets ---------------------------------------------
    def rate(self, c, now, depth=0):
        """Tonnes of ``c`` used per day at ``now`` (for targets in days of cover)."""
        r = self.spec.recipe
        if r is not None:
            if r.kind == "fixed" and c in r.inputs:
                return self.cap_per_day(now) * r.inputs[c] / r.yield_
            if r.kind == "split" and c == r.feed:
                return self.cap_per_day(now) / self._feed_div
            return 0.0
        tot = 0.0
        for s in self.sinks:
            tot += s.rate_at(now)
        if depth < 3:
            for lane in self.out_lanes.get(c, ()):
                if lane.sink is None:
                    ins = lane.dst.in_lanes.get(c, ())
                    share = lane.share / sum(x.share for x in ins)
                    tot += share * lane.dst.rate(c, now, depth + 1)
        return tot

    # -- shipping -------------------------------------------------------------------------------
    def order_in(self, lane, q):
        """A buyer's order of ``q`` arrives on ``lane``."""
        c = lane.commodity
        lane.open += q
        self.open_out[c] += q
        self.dispatch(c)
        if self.waiting:
            self.nudge(self.sim.env._now)
        self.touch(c)

    def dispatch(self, c):
        """Ship open orders of ``c`` from stock, by the allocation rule."""
        if self.open_out[c] <= EPS:
            return
        st = self.stocks[c]
        avail = INF if self.unlimited else st.qty
        if avail <= EPS:
            return
        sim = self.sim
        now = sim.env._now
        lanes = [ln for ln in self.out_lanes[c] if ln.open > EPS]
        req = []
        capped = False
        if self.gated_out and sim.gate.quotas:
            sim.gate.begin()
        for ln in lanes:
            if ln.plain:
                req.append(ln.open)   # no rule, release limit or capacity on this lane
                continue
            r = 0.0 if ln.closed else ln.open
            if ln.rules and r > 0:
                r = sim.gate.allow(ln, st.comp, r, now)
            if ln.release and r > 0:
                from .responses import release_room
                r = min(r, release_room(ln, now))
            if ln.cap_pp is not None and r > 0:
                room = ln.room(int(now // sim.period))
                if room < r:
                    r = room if room > 0 else 0.0
                    capped = True
            req.append(r)
        if len(lanes) == 1:
            q = req[0] if req[0] < avail else avail
            if q > EPS:
                self._ship(lanes[0], q, st, now)
        else:
            rule = self.allocation
            if rule == "pro_rata":
                qs = allocate(rule, avail, req)   # pro rata needs neither priorities nor shares
            else:
                qs = allocate(rule, avail, req, [ln.priority for ln in lanes], [ln.share for ln in lanes])
            if c in self.to_demand:
                self._to_sinks(lanes, qs, st, now)
            else:
                for ln, q in zip(lanes, qs):
                    if q > EPS:
                        self._ship(ln, q, st, now)
        if capped and c not in self.retry and self.open_out[c] > EPS:
            self.retry.add(c)
            Call(sim.env, (int(now // sim.period) + 1) * sim.period - now, self._retry, c)
        if self.waiting and c == self.out:
            self.nudge(now)

    def _retry(self, ev):
        self.retry.discard(ev._value)
        self.dispatch(ev._value)

    def _ship(self, ln, q, st, now):
        sim = self.sim
        ln.open -= q
        self.open_out[ln.commodity] -= q
        sink = ln.sink
        if self.unlimited:
            sim.ledger.source(q, st.comp)   # an unlimited source brings material into being
            if sink is not None:
                st.sink_q += q
        else:
            st.take(q, now, sink is not None)
        if sink is not None:
            # the backlog interval closes before the backlog falls (``open`` fell just above)
            sink.area += (ln.open + q) * (now - sink.t_last)
            sink.t_last = now
            sink.delivered += q
            return
        ln.shipped += q
        ln.used += q
        if ln.gated:
            sim.gate.consume(ln, q)
        sim.cost_transport += q * ln.cost
        ln.in_transit += q
        lt = ln.lead_time() + ln.extra_days
        if lt <= 0:
            ln.dst.receive(ln, q, st.comp, now)
        else:
            sim.in_flight.add(Call(sim.env, lt, sim.arrive, (ln, q, st.comp)))

    def _to_sinks(self, lanes, qs, st, now):
        """``_ship`` to several demand lanes at once (a buyer splitting a receipt over its sectors).

        The same operations in the same order as one ``_ship`` per lane, without
        two calls per lane: this runs for most receipts of a short buyer.
        """
        st.take_to_sinks(qs, now)
        oo = self.open_out
        for ln, q in zip(lanes, qs):
            if q <= EPS:
                continue
            ln.open -= q
            oo[ln.commodity] -= q
            sink = ln.sink
            sink.area += (ln.open + q) * (now - sink.t_last)
            sink.t_last = now
            sink.delivered += q

    def receive(self, ln, q, comp, now):
        """A shipment arrives."""
        c = ln.commodity
        self.stocks[c].add(q, comp, now)
        ln.in_transit -= q
        self.inbound[c] -= q
        if self.waiting and (now >= self.wait_until or self._batch_possible()):
            self._rouse()
        if self.open_out[c] > EPS:
            self.dispatch(c)

    # -- ordering -------------------------------------------------------------------------------
    def levels(self, pol, now):
        fixed = self._levels[pol.commodity]
        if fixed is not None:
            return fixed
        out = {}
        rate = None
        extra = self.licence_days(pol.commodity, now) if self.gated_in else 0.0
        for name, (v, in_days) in pol.levels.items():
            if in_days:
                if rate is None:
                    rate = self.rate(pol.commodity, now)
                # cover is planned over the lead time buyers expect: a licence review in force on
                # their supply lengthens it by its mean delay, in proportion to the lanes' shares
                v = (v + extra) * rate if name != "Q" else v * rate
            out[name] = v
        return out

    def licence_days(self, c, now):
        """Expected licence delay (days) on this buyer's supply of ``c``, weighted by lane shares."""
        lanes = [ln for ln in self.in_lanes.get(c, ()) if not ln.release and ln.qualified and not ln.closed]
        tot = sum(ln.share for ln in lanes)
        if tot <= 0:
            return 0.0
        days = 0.0
        for ln in lanes:
            if ln.rules:
                days += ln.share / tot * self.sim.gate.expected_delay(ln, ln.src.stocks[c].comp, now)
        return days

    def touch(self, c):
        """The inventory position of ``c`` changed: review now (continuous) or at the next review time.

        Periodic reviews are event-driven: a review is scheduled only when the
        position changed since the last one, so idle buyers cost no events.
        """
        r = self.review_every.get(c)
        if r is None:
            return
        if c in self.release_lanes:
            from .responses import release_check
            release_check(self, c)
        if r == 0:
            self.review(c)
        elif c not in self.pending:
            self.pending.add(c)
            now = self.sim.env._now
            self.sim.at_review((math.floor(now / r + 1e-9) + 1) * r - now, self, c)

    def review_pending(self, c):
        self.pending.discard(c)
        self.review(c)

    def review(self, c):
        """Order ``c`` if the inventory position calls for it.

        The position counts open orders, as the policies define it. When an
        order is due, the orders still unshipped are withdrawn and placed again
        with it by the split rule, so a supplier that cannot deliver does not
        hold the buyer's orders hostage: its share moves to the others.
        """
        pos = self.stocks[c].qty + self.inbound[c] - self.open_out[c]
        floor = self._no_order_above.get(c)
        if floor is not None and pos > floor:
            return   # fixed levels: nothing to order while the position is above the reorder point
        pol = self.sourcing[c]
        if pol.policy == "none":
            return
        levels = self.levels(pol, self.sim.env._now)
        q = order_quantity(pol.policy, pos, levels)
        if q <= EPS:
            return
        if self.unqualified and pos < 0.5 * max(levels.values()):
            from .responses import start_qualification
            start_qualification(self, c)
        for ln in self.in_lanes[c]:
            x = ln.open
            if x > EPS and not ln.release:
                ln.open = 0.0
                ln.src.open_out[c] -= x
                self.inbound[c] -= x
                q += x
        self.place_order(c, q, pol)

    def place_order(self, c, q, pol):
        lanes = [ln for ln in self.in_lanes[c] if not ln.closed and ln.qualified and not ln.release]
        if any(ln.rules for ln in lanes):
            # a supplier stopped by a ban gets no orders while it lasts: they go to the others
            now = self.sim.env._now
            gate = self.sim.gate
            open_ = [ln for ln in lanes if not (ln.rules and gate.banned(ln, ln.src.stocks[c].comp, now))]
            lanes = open_ or lanes
        if not lanes:
            return
        sim = self.sim
        self.orders += 1
        sim.cost_ordering += pol.ordering_cost
        if pol.split == "priority":
            best = min(ln.priority for ln in lanes)
            parts = [(ln, q) for ln in lanes if ln.priority == best][:1]
        elif len(lanes) == 1:
            parts = [(lanes[0], q)]
        else:
            tot = sum(ln.share for ln in lanes)
            parts = [(ln, q * ln.share / tot) for ln in lanes]
        self.inbound[c] += q
        for ln, x in parts:
            ln.src.order_in(ln, x)

    # -- production -------------------------------------------------------------------------------
    def _main_per_feed(self, comp):
        r = self.spec.recipe
        els = self._split_els[self.spec.output]
        denom = self._split_den[self.spec.output]
        return r.yield_ * float(comp[els].sum()) / denom

    def prepare(self):
        """Build the per-recipe constants once the stocks exist."""
        spec = self.spec
        r = spec.recipe
        self.out = spec.output
        self.out_stock = self.stock(spec.output)
        self._ts, self._tcd = spec.target_stock, spec.target_cover_days
        self._recipe, self._pd = spec.recipe, spec.processing_days
        self.co_stocks = ()
        if r is None:
            self.need = ()
            oc = spec.output_content
            lay = self.sim.layout
            comp = lay.embed(oc if oc is not None else self.sim.model.commodities[spec.output].content)
            self.src_comp = lay.stamp(comp, "mining", spec.country)
            return
        cm = self.sim.model.commodities
        if r.kind == "fixed":
            self.need = tuple((self.stock(c), q / r.yield_, q) for c, q in r.inputs.items())
            self.co = tuple((self.stock(c), q, c) for c, q in r.coproducts.items())
            self.co_stocks = tuple((c, st) for st, _, c in self.co)
            mix = sum(r.inputs.values())
            self._inv_mix = 1.0 / mix
            f = 1.0 / r.yield_ - 1.0 - sum(r.coproducts.values()) / mix
            self._loss_f = f
            # what leaves as neither output nor co-product is f times the output vector (lost if f > 0,
            # gained if f < 0): the ledger books that multiple of the output vector itself
            if f > 0:
                self._lf = f
            elif f < 0:
                self._af = -f
            self._one_input = len(self.need) == 1
            self._fix_stamp = self.sim.layout.stamper(self.stamp, spec.country) if self.stamp else None
        else:
            from ..materials import ELEMENT_INDEX
            self.feed = self.stock(r.feed)
            self.need = ((self.feed, 1.0, 1.0),)
            self._split_els, self._split_den, masks, rows = {}, {}, [], []
            for c, els in r.outputs.items():
                idx = np.array([ELEMENT_INDEX[e] for e in els])
                self._split_els[c] = idx
                masks.append(self.sim.layout.element_mask(idx))
                den = float(cm[c].content[idx].sum())
                self._split_den[c] = den if den > 0 else 1.0
                rows.append((c, self.stock(c), self._split_den[c]))
            self._feed_div = max(self._main_per_feed(cm[r.feed].content), 1e-12)   # model content: a constant
            self.co_stocks = tuple((c, st) for c, st, _ in rows if c != spec.output)
            self._split_M = np.array(masks, dtype=float)   # one row per output: its elements and origins
            self._split_rows = tuple(rows)
            self._split_stamp = self.sim.layout.stamper(self.stamp, spec.country) if self.stamp else None

    def _co_per_main(self, c):
        """Tonnes of co-product ``c`` made per tonne of main output (at the current feed)."""
        r = self.spec.recipe
        if r.kind == "fixed":
            return r.coproducts[c]
        comp = self.feed.comp
        if self._key is not comp:
            main, outs, loss = self._split_vectors(comp)
            self._cache = (main, outs)
            self._book(comp, loss, self.sim.zero)
        main, outs = self._cache
        per_feed = next((p for _, p, _, oc in outs if oc == c), 0.0)
        return per_feed / main if main > 0 else 0.0

    def _fixed_vectors(self):
        need = self.need
        st, _, q = need[0]
        out_comp = st.comp * q
        for st, _, q in need[1:]:
            out_comp += st.comp * q
        co = ()
        if self.co:
            co_comp = out_comp * self._inv_mix
            co = [(st, q, co_comp, c) for st, q, c in self.co]
        # every input is used at (recipe quantity / yield), so what leaves as neither output
        # nor co-product is a fixed multiple of the output vector (see prepare: _lf, _af)
        f = self._loss_f
        zero = self.sim.zero
        loss = out_comp if f > 0 else zero
        add = out_comp if f < 0 else zero
        if self._fix_stamp is not None:
            src, keep = self._fix_stamp
            out_comp = out_comp.take(src)   # a new array: the unstamped one stays the ledger's
            out_comp *= keep
            out_comp.flags.writeable = False
        return out_comp, co, loss, add

    def _split_vectors(self, comp):
        y = self.spec.recipe.yield_
        parts = self._split_M * comp              # one row per output: its elements and their origins
        masses = (parts[:, :self.sim.layout.n_el].sum(axis=1) * y).tolist()
        kept = parts.sum(axis=0)
        kept *= y
        rows = self._split_rows
        per_feed = [m / den for m, (_, _, den) in zip(masses, rows)]
        # each output's composition per tonne, stamped with this plant's origin: all rows at once
        if self._split_stamp is not None:
            src, keep = self._split_stamp
            parts = parts.take(src, axis=1)
            parts *= keep
        parts *= np.array([y / p if p > 0 else 0.0 for p in per_feed])[:, None]
        parts.flags.writeable = False
        outs = [(st, p, parts[i], c) for i, ((c, st, _), p) in enumerate(zip(rows, per_feed)) if p > 0]
        main = next((p for s, p, v, c in outs if c == self.out), 0.0)
        return main, outs, np.maximum(comp - kept, 0.0)

    def _book(self, key, loss, add):
        if self.led_q:
            led = self.sim.ledger
            zero = self.sim.zero
            if self.led_loss is not zero:
                led.lose(self.led_q * self._lf, self.led_loss)
            if self.led_add is not zero:
                led.source(self.led_q * self._af, self.led_add)
            self.led_q = 0.0
        self._key = key
        self.led_loss, self.led_add = loss, add

    def flush(self):
        self._book(self._key, self.led_loss, self.led_add)

    def produce(self, cap, now, per_day):
        """Produce up to ``cap`` (main output units) now, at capacity ``per_day``; return the quantity."""
        target = self._ts
        if target is None:
            target = self._tcd * per_day
        room = target + self.open_out[self.out] - self.out_stock.qty - self.wip
        if self.co_stocks:
            # a co-product owed to buyers keeps the plant running as long as it takes to make
            # it (separators run for Dy and Tb), in units of the main output
            for c, st in self.co_stocks:
                owed = self.open_out[c] - st.qty
                if owed > EPS:
                    per_main = self._co_per_main(c)
                    if per_main > 0 and owed / per_main > room:
                        room = owed / per_main
        if room <= EPS or room < MIN_BATCH * cap:
            # at (or within a sliver of) the target: wait for next period's batch instead of
            # topping up in crumbs every time a buyer draws from the stock
            self.blocked_by_target = True
            return 0.0
        self.blocked_by_target = False
        self.short_inputs = False
        q = cap if cap < room else room
        r = self._recipe
        if r is None:
            comp = self.src_comp
            if self._key is not comp:
                self._book(comp, self.sim.zero, comp)
            self.led_q += q
            if self._pd > 0:
                self._output(q, comp, (), now)
            else:
                self.out_stock.add(q, comp, now)
                self.produced += q
                if self.open_out[self.out] > EPS:
                    self.dispatch(self.out)
            return q
        if r.kind == "fixed":
            for st, n, _ in self.need:
                lim = st.qty / n
                if lim < q:
                    q = lim
                    self.short_inputs = True
            if q <= EPS or (self.made > EPS and q < MIN_BATCH * self._period_cap):
                return 0.0   # short of inputs after this period's batch: wait for more, not crumbs
            if self._one_input:
                key = self.need[0][0].comp
                changed = key is not self._key
            else:
                key = tuple([st.comp for st, _, _ in self.need])
                old = self._key
                changed = old is None or any([a is not b for a, b in zip(key, old)])
            if changed:
                out_comp, co, loss, add = self._fixed_vectors()
                self._cache = (out_comp, co)
                self._book(key, loss, add)
            out_comp, co = self._cache
            for st, n, _ in self.need:
                st.take(q * n, now)
            self.led_q += q
            self._output(q, out_comp, [(st, q * x, v, c) for st, x, v, c in co], now)
            made = q
        else:
            feed = self.feed
            if feed.qty <= EPS:
                self.short_inputs = True
                return 0.0
            comp = feed.comp
            if self._key is not comp:
                main, outs, loss = self._split_vectors(comp)
                self._cache = (main, outs)
                self._book(comp, loss, self.sim.zero)
            main, outs = self._cache
            fq = feed.qty
            if main > 0 and q / main < fq:
                fq = q / main
            else:
                self.short_inputs = True
            if fq <= EPS or (self.made > EPS and fq * main < MIN_BATCH * self._period_cap):
                return 0.0
            feed.take(fq, now)
            self.led_q += fq
            made = fq * main
            main_out = [(s, fq * p, v) for s, p, v, c in outs if c == self.out]
            cos = [(s, fq * p, v, c) for s, p, v, c in outs if c != self.out]
            if main_out:
                self._output(main_out[0][1], main_out[0][2], cos, now)
            else:
                self._output(0.0, self.out_stock.comp, cos, now)
        qf = self.quick_floor
        for st, _, _ in self.need:
            c = st.commodity
            f = qf.get(c)
            # a fixed reorder point not yet reached: the review would order nothing
            if f is None or st.qty + self.inbound[c] - self.open_out[c] <= f:
                self.touch(c)
        return made

    def _output(self, q, comp, cos, now):
        pd = self._pd
        if pd > 0:
            self.wip += q
            sim = self.sim
            sim.in_process.add(Call(sim.env, pd, sim.finish, (self, q, comp, cos)))
        else:
            self.finish(q, comp, cos, now)

    def finish(self, q, comp, cos, now):
        if q > 0:
            self.out_stock.add(q, comp, now)
            self.produced += q
        for st, x, v, _ in cos:
            st.add(x, v, now)
        if self.open_out[self.out] > EPS:
            self.dispatch(self.out)
        for _, _, _, c in cos:
            if self.open_out[c] > EPS:
                self.dispatch(c)

    def start(self):
        """Start production: one batch per period while capacity, inputs and demand allow.

        A plant at its stock target sleeps until a buyer draws or orders (or
        its capacity changes), then resumes at the next period start; a plant
        short of inputs sleeps until they arrive or the period ends. Neither
        polls once per period. The loop is a chain of callbacks (``_step``)
        on one reusable timer and a wake-up event, not a generator process.
        """
        self._tick = Tick(self.sim.env)
        self._idle = False
        self._cb = self._step   # one bound method for every wait
        Immediate(self.sim.env).callbacks.append(self._cb)   # ordered like a process start

    def _sleep(self, delay):
        self._tick.arm(delay, self._cb)

    def _wait(self):
        self.waiting = True

    def _step(self, ev):
        env = self.sim.env
        now = env._now
        P = self.sim.period
        if self.waiting is not None:   # woken up
            self.waiting = None
            self.wait_until = -1.0
            if self._idle:
                self._idle = False
                k = int(now // P)
                if k == self.k or now > k * P:
                    self._sleep((k + 1) * P - now)   # this period's batch was due at its start
                    return
        k = int(now // P)
        if k != self.k:
            self.k = k
            self.made = 0.0
        per_day = self.cap_per_day(now)
        cap = per_day * P
        if cap != self._last_cap:
            # inputs sized in days of cover follow capacity; a plant starting up orders its inputs
            self._last_cap = cap
            for c in self.sourcing:
                self.touch(c)
        if cap <= EPS:
            nxt = self.next_change(now)
            if nxt == INF:
                self._wait()   # an expansion may still come
            else:
                self._sleep(nxt - now)
            return
        if cap - self.made > EPS:
            self._period_cap = cap
            self.made += self.produce(cap - self.made, now, per_day)
        end = (k + 1) * P
        if cap - self.made <= (EPS * cap if cap > 1.0 else EPS):
            self._sleep(end - now)   # capacity used: the next batch is next period's
        elif self.blocked_by_target:
            # at the stock target (waking on every draw would make a trickle of tiny batches)
            hi = self._cap_until(now)
            if hi <= end:
                self._sleep(end - now)   # capacity (so maybe the target) changes this period
                return
            self._wake_at(hi)
            self._idle = True
            self._wait()
        else:
            self._wait()
            if self.short_inputs:
                # only a receipt can help before the period (or the capacity) changes
                hi = self._cap_until(now)
                self.wait_until = end if end < hi else hi

    def _batch_possible(self):
        """False when the inputs on hand cannot make a batch yet (``produce`` would return 0)."""
        r = self.spec.recipe
        if r is None:
            return True
        thr = MIN_BATCH * self._period_cap if self.made > EPS else EPS
        if r.kind == "fixed":
            for st, n, _ in self.need:
                if st.qty / n < thr:
                    return False
            return True
        feed = self.feed
        if feed.qty <= EPS:
            return False
        if self._key is not feed.comp:
            return True   # a new feed composition: let produce work out the yields
        return feed.qty * self._cache[0] >= thr

    def nudge(self, now):
        """Wake the production loop after an order or a draw, unless it only waits for inputs."""
        if self.waiting and now >= self.wait_until:
            self._rouse()

    def _wake_at(self, t):
        # one pending wake per node at its next capacity change, however often it idles before
        if t < INF and t != self._wake_t:
            self._wake_t = t
            Call(self.sim.env, t - self.sim.env._now, self._timed_wake)

    def _timed_wake(self, ev):
        self._wake_t = None
        self.wake()
