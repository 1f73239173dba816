"""Export-control rules as data: issuer, scope, destinations, end use, mechanism and timing.

Every rule has the same scope and timing keys; its ``mechanism`` adds keys of its
own, validated by the mechanism's parser registered with :func:`control_mechanism`
(the built-in ``ban``, ``quota`` and ``licence`` below). What a mechanism does during
a run is registered beside the border gate (:func:`supplysim.engine.gate.control`).
A parser returns the :class:`ControlRule` fields it sets; a mechanism of its own keeps
its parameters in ``params``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..materials import ELEMENT_INDEX
from ..registry import Registry
from . import fields as F
from .parse import parse_lead_time
from .specs import LeadTime

__all__ = ["ControlRule", "parse_controls", "control_mechanism", "CONTROL_MECHANISMS", "REE_SYMBOLS"]

#: Rare-earth symbols a rule may name; those the engine does not track apart
#: (lumped in ``other_re``) count only through a rule's ``commodities`` scope.
REE_SYMBOLS = ("La", "Ce", "Pr", "Nd", "NdPr", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
               "Lu", "Sc", "Y")
_TRACKED = {"Nd": "NdPr", "Pr": "NdPr", "NdPr": "NdPr", "Sm": "Sm", "Gd": "Gd", "Tb": "Tb", "Dy": "Dy", "Y": "Y"}

#: mechanism name -> (its own keys, ``parse(ck, table, path, cal) -> dict`` of ControlRule fields).
CONTROL_MECHANISMS = Registry("control mechanism")


def control_mechanism(name, keys=()):
    """Register ``parse(ck, table, path, cal)`` as the validation of the keys of mechanism ``name``.

    Examples
    --------
    >>> @control_mechanism("example_tariff", {"rate"})
    ... def _tariff(ck, t, p, cal):
    ...     return {"params": {"rate": ck.get(t, p, "rate", F.number(0, 10), 0.0)}}
    >>> sorted(CONTROL_MECHANISMS["example_tariff"][0])
    ['rate']
    >>> del CONTROL_MECHANISMS["example_tariff"]
    """
    clash = set(keys) & COMMON_KEYS
    if clash:
        raise ValueError(f"control mechanism '{name}': keys {sorted(clash)} are common to every rule")

    def deco(parse):
        CONTROL_MECHANISMS.register(name, (frozenset(keys), parse))
        return parse
    return deco


@dataclass(frozen=True)
class ControlRule:
    """One export-control rule (all times in simulation days).

    A shipment leaving a facility in another country than its buyer is
    controlled by the rule when the rule is in force, the exporter matches
    (the issuer itself or, for ``extraterritorial`` rules, a foreign exporter),
    the buyer's country and end use are in scope, and the shipment's commodity
    is listed or its controlled content (by mass or value; issuer-origin
    content for extraterritorial rules) is at or above ``threshold``.
    """

    id: str
    issuer: str
    mechanism: str
    elements: tuple
    element_idx: tuple
    commodities: tuple
    threshold: float
    basis: str
    element_values: dict
    destinations: tuple | None
    except_destinations: tuple
    end_uses: tuple
    extraterritorial: bool
    effective: float
    end: float
    suspended: tuple
    quota_t: float = 0.0
    quota_period_days: float = 365.0
    review: LeadTime | None = None
    customs_hold: LeadTime | None = None
    approval: tuple = ((0.0, 1.0),)
    approval_by_destination: dict = field(default_factory=dict)
    defence_approval: float = 0.0
    general_licences: tuple = ()
    leakage: float = 0.0     # a ban: share of the lane's trade before the ban that still gets through
    description: str = ""
    announced: float | None = None   # day the rule was announced, when before ``effective`` (buyers stock up)
    params: dict = field(default_factory=dict)   # a registered mechanism's own parameters

    def in_force(self, t: float) -> bool:
        if not self.effective <= t < self.end:
            return False
        return not any(a <= t < b for a, b in self.suspended)

    def over_threshold(self, content: float) -> bool:
        """Whether a controlled content per tonne (or per value) reaches the threshold; a relative
        1e-9 below it still counts, so mixing rounding cannot slip a shipment under it."""
        return content > 0 and content >= self.threshold * (1 - 1e-9)

    def boundaries(self):
        """Days when the rule starts, stops, is suspended or resumes."""
        out = [self.effective, self.end]
        for a, b in self.suspended:
            out += [a, b]
        return sorted(t for t in set(out) if math.isfinite(t))

    def approval_probability(self, t: float, destination: str, end_use: str) -> float:
        if end_use == "defence":
            return self.defence_approval
        steps = self.approval_by_destination.get(destination, self.approval)
        p = steps[0][1]
        for t0, prob in steps:
            if t >= t0:
                p = prob
        return p


def _steps(ck, raw, path, cal):
    out = []
    for i, st in enumerate(raw if isinstance(raw, list) else []):
        q = path + (i,)
        st = ck.table(st, q, {"from", "prob", "source", "note"})
        d = ck.get(st, q, "from", F.date, None)
        p = ck.get(st, q, "prob", F.number(0, 1), None)
        if d is not None and p is not None:
            out.append((cal.day(d), p))
    if not isinstance(raw, list) or not raw:
        ck.error(path, "expected a list of {from = date, prob = 0..1} steps")
    if not out:
        return ((0.0, 1.0),)
    out.sort()
    return tuple(out)


#: Keys every rule may have, whatever its mechanism.
COMMON_KEYS = frozenset({"issuer", "mechanism", "elements", "commodities", "threshold", "basis", "element_value_per_t",
                         "destinations", "except_destinations", "end_use", "extraterritorial", "effective", "end",
                         "suspended", "description", "source", "note", "enabled", "announced"})


@control_mechanism("ban", {"leakage"})
def _ban(ck, t, p, cal):
    return {"leakage": ck.get(t, p, "leakage", F.number(0, 1), 0.0)}


@control_mechanism("quota", {"quota_t", "quota_period_days"})
def _quota(ck, t, p, cal):
    return {"quota_t": ck.get(t, p, "quota_t", F.tonnes(), 0.0),
            "quota_period_days": ck.get(t, p, "quota_period_days", F.days(positive=True), 365.0)}


@control_mechanism("licence", {"review_days", "customs_hold_days", "approval", "approval_by_destination",
                               "defence_approval", "general_licences"})
def _licence(ck, t, p, cal):
    kw = {"review": parse_lead_time(ck, t.get("review_days", 0), p + ("review_days",)),
          "customs_hold": parse_lead_time(ck, t.get("customs_hold_days", 0), p + ("customs_hold_days",)),
          "approval": _steps(ck, t["approval"], p + ("approval",), cal) if "approval" in t else ((0.0, 1.0),)}
    byd = ck.table(t.get("approval_by_destination", {}), p + ("approval_by_destination",),
                   t.get("approval_by_destination", {}))
    kw["approval_by_destination"] = {d: _steps(ck, v, p + ("approval_by_destination", d), cal)
                                     for d, v in byd.items()}
    kw["defence_approval"] = ck.get(t, p, "defence_approval", F.number(0, 1), 0.0)
    gl = []
    for i, g in enumerate(ck.get(t, p, "general_licences", F.list_of(lambda x: x), [])):
        q = p + ("general_licences", i)
        g = ck.table(g, q, {"exporters", "from", "to", "source", "note"})
        ex = ck.get(g, q, "exporters", F.list_of(F.string, nonempty=True), [])
        a = ck.get(g, q, "from", F.date, None)
        b = ck.get(g, q, "to", F.date, None)
        gl.append((tuple(ex), cal.day(a) if a else -math.inf, cal.day(b) if b else math.inf))
    kw["general_licences"] = tuple(gl)
    return kw


def _mechanism_keys(ck, t, p, mech):
    """Keys of other mechanisms in a rule of mechanism ``mech`` are errors that say whose they are."""
    for k in t:
        if k in COMMON_KEYS or k in CONTROL_MECHANISMS[mech][0]:
            continue
        owner = next((m for m, (keys, _) in CONTROL_MECHANISMS.items() if k in keys), None)
        if owner is not None:
            ck.error(p + (k,), f"belongs to mechanism '{owner}', not '{mech}'")


def parse_controls(ck, raw, cal, commodities):
    """Validated :class:`ControlRule` objects from the ``[controls.ID]`` tables."""
    out = []
    for rid, t in (raw or {}).items():
        p = ("controls", rid)
        t = ck.table(t, p, COMMON_KEYS.union(*(keys for keys, _ in CONTROL_MECHANISMS.values())))
        if not ck.get(t, p, "enabled", F.boolean, True):
            continue
        mech = ck.get(t, p, "mechanism", F.choice(*CONTROL_MECHANISMS), "licence")
        els = ck.get(t, p, "elements", F.list_of(F.choice(*REE_SYMBOLS)), [])
        idx = tuple(sorted({ELEMENT_INDEX[_TRACKED[e]] for e in els if e in _TRACKED}))
        comms = ck.get(t, p, "commodities", F.list_of(F.string), [])
        for c in comms:
            if c not in commodities:
                ck.error(p + ("commodities",), f"unknown commodity '{c}'")
        if not t.get("elements") and not t.get("commodities"):
            ck.error(p, "a rule needs 'elements' (scope by content) and/or 'commodities'")
        basis = ck.get(t, p, "basis", F.choice("mass", "value"), "mass")
        values = ck.get(t, p, "element_value_per_t", F.mapping(F.money()), {})
        if basis == "value":
            for e in els:
                if e in _TRACKED and e not in values:
                    ck.error(p + ("element_value_per_t",), f"basis 'value' needs a value per t for {e}")
        dest = t.get("destinations", "all")
        if dest == "all":
            dests = None
        else:
            dests = tuple(ck.get(t, p, "destinations", F.list_of(F.string, nonempty=True), []))
        eff = ck.get(t, p, "effective", F.date, None)
        end = ck.get(t, p, "end", F.date, None)
        ann = ck.get(t, p, "announced", F.date, None)
        if ann is not None and (eff is None or ann > eff):
            ck.error(p + ("announced",), f"expected a date on or before 'effective', found {ann}")
        susp = []
        for i, w in enumerate(ck.get(t, p, "suspended", F.list_of(lambda x: x), [])):
            q = p + ("suspended", i)
            w = ck.table(w, q, {"from", "to", "source", "note"})
            a, b = ck.get(w, q, "from", F.date, None), ck.get(w, q, "to", F.date, None)
            if a and b:
                if b <= a:
                    ck.error(q, "expected 'to' after 'from'")
                susp.append((cal.day(a), cal.day(b)))
        kw = {}
        if mech is not None:
            _mechanism_keys(ck, t, p, mech)
            kw = CONTROL_MECHANISMS[mech][1](ck, t, p, cal)
        out.append(ControlRule(
            id=rid, issuer=ck.get(t, p, "issuer", F.string), mechanism=mech, elements=tuple(els), element_idx=idx,
            commodities=tuple(comms), threshold=ck.get(t, p, "threshold", F.number(0, 1), 0.0), basis=basis,
            element_values=values, destinations=dests,
            except_destinations=tuple(ck.get(t, p, "except_destinations", F.list_of(F.string), [])),
            end_uses=tuple(ck.get(t, p, "end_use", F.list_of(F.choice("civil", "defence")), ["civil", "defence"])),
            extraterritorial=ck.get(t, p, "extraterritorial", F.boolean, False),
            effective=cal.day(eff) if eff else -math.inf, end=cal.day(end) if end else math.inf,
            suspended=tuple(susp), description=t.get("description", ""),
            announced=cal.day(ann) if ann is not None else None, **kw))
    return out
