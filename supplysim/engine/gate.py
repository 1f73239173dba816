"""The border gate: export-control rules acting on shipments as they leave a facility.

Whether a rule controls a shipment (its reach, dates, commodity or controlled
content, general licences) is the same for every rule (:class:`RuleRT`); what it
then does is its mechanism's, one class each, registered with :func:`control`:

* :class:`Ban` refuses the shipment (a leaky ban lets a share of the lane's earlier
  trade through: trans-shipment and mislabelled origin);
* :class:`Quota` limits the rule's lanes together to its quota for the period;
* :class:`Licence` holds the shipment until a licence is decided: the exporter applies
  for the quantity it owes on the lane, the review takes a drawn delay plus a customs
  hold, and the licence is approved with the rule's probability for the destination,
  end use and date.

Held and refused material never leaves the exporter's stock, so the allocation rule
offers it to other buyers. A new mechanism is a :class:`RuleRT` subclass registered
with ``@control(name)`` plus the model's validation of its keys
(:func:`supplysim.model.controls.control_mechanism`).
"""
from __future__ import annotations

import math

import numpy as np

from ..materials import ELEMENTS
from ..model.customs import reaches
from ..random import BLOCK
from ..registry import Registry
from .stock import EPS, freeze

__all__ = ["Gate", "RuleRT", "Ban", "Quota", "Licence", "RULE_CLASSES", "control"]

#: mechanism name -> the :class:`RuleRT` subclass that acts for it.
RULE_CLASSES = Registry("control mechanism")


def control(name):
    """Register a :class:`RuleRT` subclass as what rules with ``mechanism = name`` do.

    Examples
    --------
    >>> @control("example_tariff")
    ... class Tariff(RuleRT):
    ...     pass
    >>> RULE_CLASSES["example_tariff"] is Tariff
    True
    >>> del RULE_CLASSES["example_tariff"]
    """
    return lambda cls: RULE_CLASSES.register(name, cls)


class RuleRT:
    """One export-control rule at run time: whether it controls a shipment; its mechanism's subclass
    says what it then does. Each rule has its own random stream (rule R4)."""

    def __init__(self, sim, spec, rng):
        self.sim = sim
        self.spec = spec
        self.mechanism = spec.mechanism
        self.rng = rng
        # commodity -> (composition, whether its content reaches the threshold): the last one seen,
        # frozen so it cannot go stale
        self._over = {}
        self._bounds = tuple(spec.boundaries()) + (math.inf,)
        self._force = (0.0, -1.0, False)   # [lo, hi) over which in_force holds its value

    def in_force(self, now) -> bool:
        """Whether the rule is in force at ``now`` (cached between its boundaries)."""
        lo, hi, v = self._force
        if lo <= now < hi:
            return v
        v = self.spec.in_force(now)
        lo = -math.inf
        for b in self._bounds:
            if b > now:
                hi = b
                break
            lo = b
        self._force = (lo, hi, v)
        return v

    # -- matching --------------------------------------------------------------------------
    def reaches(self, ln) -> bool:
        """Whether the rule can ever act on ``ln`` (exporter, destination, end use)."""
        if ln.sink is not None:
            return False
        dst = ln.dst
        return reaches(self.spec, ln.src.spec.country, dst.spec.country, dst.spec.end_use, dst.defence_share > 0)

    def content(self, comp, commodity) -> float:
        """Controlled content per tonne of a shipment (issuer-origin for extraterritorial rules)."""
        s = self.spec
        idx = s.element_idx
        if s.extraterritorial:
            if s.basis == "value":
                lay = self.sim.layout
                tot = 0.0
                for i in idx:
                    tot += lay.issuer_content(comp, s.issuer, (i,)) * self._value(i)
                return self._per_value(tot, commodity)
            return self.sim.layout.issuer_content(comp, s.issuer, idx)
        if s.basis == "value":
            return self._per_value(sum(comp[i] * self._value(i) for i in idx), commodity)
        tot = 0.0
        for i in idx:
            tot += comp[i]
        return tot

    def _value(self, i):
        name = ELEMENTS[i]
        vals = self.spec.element_values
        if name in vals:
            return vals[name]
        return vals.get("Nd", vals.get("Pr", 0.0)) if name == "NdPr" else 0.0

    def _per_value(self, tot, commodity):
        v = self.sim.model.commodities[commodity].value_per_t
        return tot / v if v else tot

    def would_control(self, ln, comp) -> bool:
        """Whether the rule, once in force, controls what ``ln`` ships (by commodity or content; its
        dates and general licences aside): buyers plan ahead of an announced rule with this."""
        s = self.spec
        if ln.commodity in s.commodities:
            return True
        return s.over_threshold(self.content(comp, ln.commodity))

    def controls(self, ln, comp, now) -> bool:
        lo, hi, v = self._force   # in_force's cache, read here without a call: this runs on every gated dispatch
        if not (lo <= now < hi):
            v = self.in_force(now)
        if not v:
            return False
        s = self.spec
        if ln.commodity not in s.commodities:
            seen = self._over.get(ln.commodity)
            if seen is not None and seen[0] is comp:
                over = seen[1]
            else:
                over = s.over_threshold(self.content(comp, ln.commodity))
                self._over[ln.commodity] = (freeze(comp), over)
            if not over:
                return False
        for exporters, a, b in s.general_licences:
            if ln.src.id in exporters and a <= now < b:
                return False
        return True

    # -- what the mechanism does (defaults: nothing) -------------------------------------------
    def allow(self, ln, req, now):
        """Tonnes of ``req`` that ``ln`` may ship now under this rule, which controls it; ``None``
        refuses the shipment outright (no other rule is asked)."""
        return req

    def begin_dispatch(self):
        """A dispatch starts (a rule sharing one allowance among lanes resets its share here)."""

    def consume(self, ln, q):
        """``q`` tonnes shipped on ``ln`` under what :meth:`allow` granted."""

    def stops(self, ln, comp, now) -> bool:
        """Whether the rule stops ``ln`` now, so that buyers order elsewhere."""
        return False

    def expected_delay(self, ln, comp, now) -> float:
        """Mean days the rule holds a shipment on ``ln`` (buyers plan cover for it)."""
        return 0.0

    def monthly(self, edges):
        """Monthly series of the rule's own: ``(labels, columns)`` over the months ``edges`` bound."""
        return [], []

    def report(self) -> dict:
        """The rule's totals in the result (every rule reports the same keys)."""
        return {"applications": 0, "approved": 0, "refused": 0, "applied_t": 0, "refused_t": 0.0,
                "approved_t": 0, "mean_delay_days": float("nan"), "ban_blocks": 0}


class Ban(RuleRT):
    """Refuses what it controls; with ``leakage``, a share of the lane's trade before the ban still
    gets through each period (trans-shipment and mislabelled origin, without modelling the detour)."""

    def __init__(self, sim, spec, rng):
        super().__init__(sim, spec, rng)
        self.blocked_attempts = 0
        self.leak = {}         # lane id -> [period, tonnes leaked in it, t/day before the ban]
        self.leaked_t = 0.0

    def allow(self, ln, req, now):
        if not self.spec.leakage > 0:
            self.blocked_attempts += 1
            return None
        left = self.leak_left(ln, now)
        if left < req:
            self.blocked_attempts += 1
            req = left if left > 0 else 0.0
        return req

    def leak_left(self, ln, now):
        """Tonnes a ban with ``leakage`` still lets ``ln`` ship this period: ``leakage`` times the
        lane's mean daily shipments before the ban first acted on it, times the period."""
        sim = self.sim
        k = sim.periods.index(now)
        P = sim.periods.length(k)
        st = self.leak.get(ln.id)
        if st is None:
            t0 = getattr(sim, "warmup", 0.0)   # shipments count from the end of any warm-up
            st = self.leak[ln.id] = [k, 0.0, ln.shipped / (now - t0) if now > t0 else 0.0]
        elif st[0] != k:
            st[0], st[1] = k, 0.0
        return self.spec.leakage * st[2] * P - st[1]

    def consume(self, ln, q):
        self.leak[ln.id][1] += q
        self.leaked_t += q

    def stops(self, ln, comp, now):
        # (a leaky ban keeps its lanes in the buyers' split: the trickle goes to the orders on them)
        if not self.spec.leakage and self.controls(ln, comp, now):
            self.blocked_attempts += 1   # an order turned away counts as a blocked shipment
            return True
        return False

    def report(self):
        out = {**super().report(), "ban_blocks": self.blocked_attempts}
        if self.spec.leakage:
            out["leaked_t"] = self.leaked_t
        return out


class Quota(RuleRT):
    """Limits the rule's lanes together to ``quota_t`` per quota period."""

    def __init__(self, sim, spec, rng):
        super().__init__(sim, spec, rng)
        self.quota_k = None
        self.quota_used = 0.0
        self.quota_held = 0.0    # quota already granted to other lanes in the current dispatch
        self.quota_wake = None

    def allow(self, ln, req, now):
        left = self.quota_left(now) - self.quota_held
        if left < req:
            req = left if left > 0 else 0.0
        self.quota_held += req
        return req

    def begin_dispatch(self):
        self.quota_held = 0.0

    def consume(self, ln, q):
        self.quota_used += q

    def quota_left(self, now):
        s = self.spec
        k = math.floor((now - s.effective) / s.quota_period_days) if math.isfinite(s.effective) \
            else math.floor(now / s.quota_period_days)
        if k != self.quota_k:
            self.quota_k = k
            self.quota_used = 0.0
        left = s.quota_t - self.quota_used
        if left <= EPS and self.quota_wake != k:
            # wake the exporters when the next quota period opens
            self.quota_wake = k
            start = (s.effective if math.isfinite(s.effective) else 0.0) + (k + 1) * s.quota_period_days
            self.sim.wake_all_at(start - now)
        return max(left, 0.0)



def _by_month(edges, parts):
    """Tonnes of ``(day, tonnes)`` parts summed by the month (between ``edges``) holding each day, in
    their order; days outside the months are left out. One search for all: there are thousands."""
    out = np.zeros(len(edges) - 1)
    i = np.searchsorted(edges, [d for d, _ in parts], side="right") - 1
    inside = (i >= 0) & (i < len(out))
    np.add.at(out, i[inside], np.array([q for _, q in parts], dtype=float)[inside])
    return out


class Licence(RuleRT):
    """Holds what it controls until a licence for it is decided."""

    def __init__(self, sim, spec, rng):
        super().__init__(sim, spec, rng)
        self.pending = {}
        self.credit = {}
        self.log = []          # (lane id, applied day, delay days, approved, tonnes)
        self.applied = []      # (day, tonnes) of every application, decided or not
        self.refused_t = 0.0
        self._buf = None
        self._i = BLOCK

    def consume(self, ln, q):
        self.credit[ln.id] -= q

    def expected_delay(self, ln, comp, now):
        s = self.spec
        if not self.controls(ln, comp, now):
            return 0.0
        return (s.review.mean if s.review is not None else 0.0) + \
            (s.customs_hold.mean if s.customs_hold is not None else 0.0)

    def monthly(self, edges):
        """Licence volumes per month: ``RULE:applied_t`` (by the month the exporter applied),
        ``RULE:approved_t`` and ``RULE:refused_t`` (by the month of the decision), in t."""
        app = _by_month(edges, self.applied)
        ok = _by_month(edges, [(t + delay, q) for _, t, delay, approved, q in self.log if approved])
        no = _by_month(edges, [(t + delay, q) for _, t, delay, approved, q in self.log if not approved])
        rid = self.spec.id
        return [f"{rid}:applied_t", f"{rid}:approved_t", f"{rid}:refused_t"], [app, ok, no]

    def report(self):
        log = self.log
        n = len(log)
        ok = sum(1 for x in log if x[3])
        return {**super().report(), "applications": n, "approved": ok, "refused": n - ok,
                "applied_t": sum(q for _, q in self.applied), "refused_t": self.refused_t,
                "approved_t": sum(x[4] for x in log if x[3]),
                "mean_delay_days": (sum(x[2] for x in log) / n) if n else float("nan")}

    def _draws(self):
        i = self._i
        if i >= BLOCK:
            g = self.rng
            u = g.random((4, BLOCK))
            z = g.standard_normal(BLOCK)
            s = self.spec
            review = s.review.transform(u[0], z) if s.review is not None else np.zeros(BLOCK)
            hold = s.customs_hold.transform(u[1], z[::-1].copy()) if s.customs_hold is not None else np.zeros(BLOCK)
            self._buf = (review.tolist(), hold.tolist(), u[2].tolist())
            i = 0
        self._i = i + 1
        return self._buf[0][i], self._buf[1][i], self._buf[2][i]

    def allow(self, ln, req, now):
        """Of ``req`` t, what ``ln`` may ship now under licence; apply for what is owed and not covered."""
        key = ln.id
        pend = self.pending.get(key, 0.0)
        cred = self.credit.get(key, 0.0)
        need = ln.open - pend - cred
        if need > EPS:
            review, hold, u = self._draws()
            delay = max(review, 0.0) + max(hold, 0.0)
            self.pending[key] = pend + need
            self.applied.append((now, need))
            self.sim.env.call(delay, self._decide, (ln, need, now, u))
        return cred if cred < req else req

    def _decide(self, application):
        ln, q, t_app, u = application
        now = self.sim.env.now
        spec, dst = self.spec, ln.dst
        p = spec.approval_probability(now, dst.spec.country, dst.spec.end_use)
        ds = dst.defence_share if dst.spec.end_use != "defence" else 0.0
        if ds > 0:
            # an application for a buyer serving civil and defence demand: each part is judged
            # by its own odds, so the approval chance is their mix by the buyer's demand
            p = (1 - ds) * p + ds * spec.approval_probability(now, dst.spec.country, "defence")
        ok = u < p
        self.pending[ln.id] -= q
        if ok:
            self.credit[ln.id] = self.credit.get(ln.id, 0.0) + q
        else:
            self.refused_t += q
        self.log.append((ln.id, t_app, now - t_app, ok, q))
        ln.src.dispatch(ln.commodity)


# (registered by a call, not ``@control``: the compiled build makes these classes typed, and a
# typed class takes no decorator)
control("ban")(Ban)
control("quota")(Quota)
control("licence")(Licence)


class Gate:
    """All rules of a replication; lanes keep the rules that can act on them."""

    def __init__(self, sim, specs, stream):
        self.sim = sim
        self.rules = [RULE_CLASSES.lookup(s.mechanism, f"controls.{s.id}")(sim, s, stream(f"licence:{s.id}"))
                      for s in specs]
        # rules sharing one allowance among the lanes of a dispatch (quotas)
        self.quotas = [r for r in self.rules if type(r).begin_dispatch is not RuleRT.begin_dispatch]
        # rules with monthly series of their own (licences)
        self.licences = [r for r in self.rules if type(r).monthly is not RuleRT.monthly]

    def attach(self, lanes):
        """Give each lane the rules that can reach it; the gate then limits what those lanes ship."""
        for ln in lanes:
            ln.rules = tuple(r for r in self.rules if r.reaches(ln))
            if ln.rules:
                ln.limits += (self.allow,)
                ln.src.gated_out = True
                if ln.dst.buyer is not None:
                    ln.dst.buyer.gated = True   # its cover targets now allow for licence delays

    def allow(self, ln, comp, req, now):
        """Tonnes of ``req`` the rules let ``ln`` ship now; remembers which rules acted."""
        acting = ()
        for r in ln.rules:
            if not r.controls(ln, comp, now):
                continue
            req = r.allow(ln, req, now)
            if req is None:
                ln.gated = ()
                return 0.0
            acting += (r,)
        ln.gated = acting
        return req if req > 0 else 0.0

    def begin(self):
        """A dispatch starts: quota granted to lanes is shared among them from here."""
        for r in self.quotas:
            r.begin_dispatch()

    def expected_delay(self, ln, comp, now) -> float:
        """Mean days the rules in force on ``ln`` hold a shipment (applications under several rules
        run side by side, so the longest counts)."""
        d = 0.0
        for r in ln.rules:
            d = max(d, r.expected_delay(ln, comp, now))
        return d

    def banned(self, ln, comp, now) -> bool:
        """Whether a rule in force stops ``ln`` now (buyers then order elsewhere)."""
        for r in ln.rules:
            if r.stops(ln, comp, now):
                return True
        return False

    def consume(self, ln, q):
        for r in ln.gated:
            r.consume(ln, q)

    def boundaries(self):
        out = set()
        for r in self.rules:
            out.update(r.spec.boundaries())
        return sorted(out)

    def monthly(self, starts, until):
        """The rules' own monthly series (licence volumes applied, approved and refused, in t)."""
        edges = np.asarray(list(starts) + [until], float)
        labels, cols = [], []
        for r in self.licences:
            lab, col = r.monthly(edges)
            labels += lab
            cols += col
        return labels, (np.stack(cols, axis=1) if cols else np.zeros((len(starts), 0)))

    def report(self):
        """Per rule: applications, approvals, refused tonnes, mean delay, bans' blocks (and a leaky ban's
        tonnes let through)."""
        return {r.spec.id: r.report() for r in self.rules}
