"""Which export-control rule can reach which lane: one predicate for the engine, the analysis and the figures.

A rule reaches a lane when the lane crosses an export border (the European
Union's customs union counts as one area), the exporter matches (the issuer
itself, or for an extraterritorial rule any exporter outside the issuer), the
buyer's country is in scope, and the buyer's end use is in scope (a civil buyer
that also serves defence demand is in reach of a defence-only rule). Whether
the rule then controls a given shipment also depends on what it carries (its
commodity or controlled content) and on the date; that is decided at the border
during a run (see ``supplysim.engine.gate``).

Examples
--------
>>> same_customs_area("DE", "FR"), same_customs_area("EU", "NL"), same_customs_area("CN", "JP")
(True, True, False)
"""
from __future__ import annotations

__all__ = ["EU_MEMBERS", "same_customs_area", "reaches", "lanes_reached", "serves_defence"]

#: Members of the European Union's customs union; ``EU`` stands for any of them.
EU_MEMBERS = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())


def same_customs_area(a: str, b: str) -> bool:
    """Whether a shipment from country ``a`` to ``b`` crosses no export border (EU counts as one)."""
    if a == b:
        return True
    return (a == "EU" or a in EU_MEMBERS) and (b == "EU" or b in EU_MEMBERS)


def reaches(rule, exporter: str, importer: str, end_use: str = "civil", defence_served: bool = False) -> bool:
    """Whether ``rule`` can act on shipments from country ``exporter`` to a buyer in ``importer``.

    ``end_use`` is the buyer's own end use; ``defence_served`` says whether the
    buyer also serves defence demand.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> ban = R(issuer="CN", extraterritorial=False, destinations=None, except_destinations=(),
    ...         end_uses=("civil", "defence"))
    >>> reaches(ban, "CN", "JP"), reaches(ban, "CN", "CN"), reaches(ban, "JP", "US")
    (True, False, False)
    >>> extra = R(issuer="CN", extraterritorial=True, destinations=None, except_destinations=(),
    ...           end_uses=("defence",))
    >>> reaches(extra, "JP", "US"), reaches(extra, "JP", "US", defence_served=True)
    (False, True)
    """
    if same_customs_area(exporter, importer):
        return False
    if rule.extraterritorial:
        if rule.issuer in (exporter, importer):
            return False
    elif exporter != rule.issuer:
        return False
    if rule.destinations is not None and importer not in rule.destinations:
        return False
    if importer in rule.except_destinations:
        return False
    if end_use in rule.end_uses:
        return True
    return "defence" in rule.end_uses and defence_served


def serves_defence(model, facility_id: str) -> bool:
    """Whether demand with end use ``defence`` draws directly from the facility's stock."""
    return any(d.at == facility_id and d.end_use == "defence" for d in model.demand.values())


def lanes_reached(model, rule) -> list:
    """Ids of the model's lanes that ``rule`` can reach (see :func:`reaches`)."""
    out = []
    for lid, ln in model.lanes.items():
        src, dst = model.facilities.get(ln.src), model.facilities.get(ln.dst)
        if src is not None and dst is not None and reaches(rule, src.country, dst.country, dst.end_use,
                                                           serves_defence(model, dst.id)):
            out.append(lid)
    return out
