"""The ``[market]`` section: prices, demand response, deferral, substitution and supply response as data.

A model without a ``[market]`` section has no market (``Model.market is None``)
and runs exactly as it would without this module. With one, the engine's
market layer (:mod:`supplysim.engine.market`) prices each listed commodity in
each market every month and lets demand, holders and suppliers respond. The
keys are documented in ``docs/model-format.md`` (section "market") and the
mechanisms in ``docs/market.md``.

Examples
--------
>>> from supplysim.model.load import Document
>>> from supplysim.model.fields import Checker
>>> raw = {"markets": {"CN": {"countries": ["CN"]}, "ex_cn": {"countries": "others"}},
...        "prices": {"magnet": {"reference": {"CN": 49.0, "ex_cn": 49.0}}}}
>>> ck = Checker(Document({"market": raw}, {}, {}, "m.toml"))
>>> spec = parse_market(ck, raw, None, {"magnet": None}, {}, {})
>>> spec.market_of("JP"), spec.prices["magnet"].reference["CN"], ck.problems
('ex_cn', 49.0, [])
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import fields as F
from .parse import parse_lead_time
from .specs import LeadTime

__all__ = ["MarketSpec", "MarketDef", "PriceRule", "DemandResponse", "SubstitutionSpec", "StockResponse",
           "Restart", "NewSupply", "parse_market", "MARKET_KEYS"]

MARKET_KEYS = {"description", "source", "note", "markets", "price_rule", "prices", "demand", "substitution",
               "stocks", "restart", "new_supply", "enabled"}
_RULE_KEYS = {"adjustment", "stock_elasticity", "cover_floor", "cover_ceiling"}
_META = {"source", "note", "description"}

#: Defaults of the price rule when a model gives none (each is documented in docs/market.md).
RULE_DEFAULTS = {"adjustment": 0.5, "stock_elasticity": 1.0, "cover_floor": 0.1, "cover_ceiling": 2.0}


@dataclass(frozen=True)
class MarketDef:
    """A market: the countries whose holders and buyers trade at one price (``None``: every other country)."""

    id: str
    name: str
    countries: tuple | None


@dataclass(frozen=True)
class PriceRule:
    """How one commodity's price moves in every market (see docs/market.md, "The price rule").

    ``reference``: $/kg per market at the model's start; ``reference_cover_days``: the holders'
    cover (days) at which the price stays at its reference (``None``: their cover at the start);
    ``adjustment``: share of the gap to the scarcity target closed each month (0-1];
    ``stock_elasticity``: the target's elasticity to relative cover (log P* = log P0 - b log x);
    ``cover_floor`` / ``cover_ceiling``: relative cover is clipped to these before it sets the target;
    ``commodities``: the model commodities traded at this one price (the grades of a magnet, say).
    """

    commodity: str
    reference: dict
    adjustment: float
    stock_elasticity: float
    cover_floor: float
    cover_ceiling: float
    reference_cover_days: dict = field(default_factory=dict)
    source: str = ""
    commodities: tuple = ()   # the commodities traded at this price (default: the one named ``commodity``)


@dataclass(frozen=True)
class DemandResponse:
    """Price response and patience of one sector's demand.

    The demand factor is ``(P/P0)^e_short`` at once, moving towards ``(P/P0)^e_long`` with time
    constant ``adjust_years`` (``form = "constant"``); ``form = "linear"`` uses ``1 + e (P/P0 - 1)``
    (floored at 0) instead. ``patience``: how long an unmet order waits before it is lost (``None``:
    the sink's own ``unmet`` setting, pure backorders or pure lost sales).
    """

    sector: str
    form: str = "constant"
    elasticity_short: float = 0.0
    elasticity_long: float = 0.0
    adjust_years: float = 1.0
    patience: LeadTime | None = None
    price: str | None = None
    source: str = ""


@dataclass(frozen=True)
class SubstitutionSpec:
    """Substitution or thrifting away from a commodity, triggered by its price.

    While the price in the sink's market has been at or above ``trigger_price_ratio`` times its
    reference for ``lag_days``, the substituted share of the sectors' demand grows by
    ``rate_per_year`` (a share of demand per year) up to ``max_share``; below the trigger it
    falls back by ``reversal_per_year``. ``kind = "demand"`` takes the share out of the demand
    (ferrite or induction motors: no NdFeB); ``kind = "grade"`` moves it from grade ``from_grade``
    to ``to_grade`` of graded demand entries (a Dy-free design in place of a Dy-bearing grade).
    """

    id: str
    sectors: tuple
    commodity: str | None
    rate_per_year: float
    max_share: float
    trigger_price_ratio: float
    lag_days: float
    reversal_per_year: float = 0.0
    description: str = ""
    source: str = ""
    kind: str = "demand"
    from_grade: str | None = None
    to_grade: str | None = None


@dataclass(frozen=True)
class StockResponse:
    """Holders' cover targets follow the price: days of cover times ``clip((P/P0)^elasticity, lo, hi)``,
    plus ``prebuy_days`` between a control's announcement and its effective date."""

    elasticity: float
    min_factor: float
    max_factor: float
    stages: tuple
    prebuy_days: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class Restart:
    """Idle capacity brought back at high prices: after the price of the facility's output in its
    market has been at or above ``price_ratio`` times its reference at ``months`` month ends in a row,
    capacity rises to ``capacity`` t/yr over ``ramp_days``, starting ``lag_days`` later."""

    id: str
    facility: str
    capacity: float
    price_ratio: float
    months: int
    lag_days: float
    ramp_days: float
    commodity: str | None = None
    source: str = ""


@dataclass(frozen=True)
class NewSupply:
    """New capacity in a market while prices are high: each month whose price ``lag_days`` earlier was
    at or above ``price_ratio`` times its reference adds ``rate_of_market`` (share per year) of the
    commodity's world use to the ``groups`` (facilities that grow together, first the producer of
    ``commodity``), split by their producers' capacity, up to ``max_added`` t/yr in all."""

    id: str
    commodity: str
    market: str
    rate_of_market: float
    lag_days: float
    price_ratio: float
    groups: tuple
    max_added: float = math.inf
    source: str = ""


@dataclass(frozen=True)
class MarketSpec:
    """A model's ``[market]`` section, validated."""

    markets: dict
    prices: dict
    demand: dict = field(default_factory=dict)
    substitution: dict = field(default_factory=dict)
    stocks: StockResponse | None = None
    restart: dict = field(default_factory=dict)
    new_supply: dict = field(default_factory=dict)
    description: str = ""

    def price_of(self, commodity):
        """The price id a model commodity is traded at (None if it has no price)."""
        for pid, r in self.prices.items():
            if commodity in r.commodities:
                return pid
        return None

    def market_of(self, country) -> str:
        """The market a country belongs to."""
        other = None
        for m in self.markets.values():
            if m.countries is None:
                other = m.id
            elif country in m.countries:
                return m.id
        return other


_UNIT = F.number(0, 1, lo_open=True)
_ELAST = F.number(-50, 0)
_RATIO = F.number(0, 1e3, lo_open=True)
_PRICE = F.number(0, 1e7, lo_open=True, unit="$/kg")


def _markets(ck, raw, p):
    out = {}
    others = []
    seen = {}
    for mid, t in ck.table(raw, p, raw if isinstance(raw, dict) else {}).items():
        q = p + (mid,)
        t = ck.table(t, q, {"countries", "name"} | _META)
        c = t.get("countries")
        if c == "others":
            countries = None
            others.append(mid)
        else:
            countries = tuple(ck.get(t, q, "countries", F.list_of(F.label, nonempty=True), []))
            for x in countries:
                if x in seen:
                    ck.error(q + ("countries",), f"country '{x}' is already in market '{seen[x]}'")
                seen[x] = mid
        out[mid] = MarketDef(mid, ck.get(t, q, "name", F.string, mid), countries)
    if not out:
        ck.error(p, "expected at least one market, e.g. [market.markets.CN] countries = [\"CN\"]")
    if len(others) > 1:
        ck.error(p, f"only one market may hold the other countries (countries = \"others\"), found {others}")
    return out


def _rule(ck, t, p, base):
    return {k: ck.get(t, p, k, {"adjustment": _UNIT, "stock_elasticity": F.number(0, 50),
                                "cover_floor": F.number(0, 1, lo_open=True),
                                "cover_ceiling": F.number(1, 1e3)}[k], base[k]) for k in _RULE_KEYS}


def _prices(ck, raw, p, markets, commodities, base):
    out = {}
    seen = {}
    for cid, t in ck.table(raw, p, raw if isinstance(raw, dict) else {}).items():
        q = p + (cid,)
        t = ck.table(t, q, {"reference", "reference_cover_days", "commodities"} | _RULE_KEYS | _META)
        if "commodities" in t:
            coms = tuple(ck.get(t, q, "commodities", F.list_of(F.label, nonempty=True), []))
            for c in coms:
                if c not in commodities:
                    ck.error(q + ("commodities",), f"unknown commodity '{c}'; known: "
                                                   f"{', '.join(sorted(commodities)) or 'none'}")
        else:
            coms = (cid,)
            if cid not in commodities:
                ck.error(q, f"unknown commodity '{cid}' (to price several commodities under one name, give "
                            f"'commodities'); known: {', '.join(sorted(commodities)) or 'none'}")
        for c in coms:
            if c in seen:
                ck.error(q + ("commodities",), f"'{c}' already has a price (market.prices.{seen[c]})")
            seen[c] = cid
        ref = ck.get(t, q, "reference", F.mapping(_PRICE), {})
        for m in markets:
            if m not in ref:
                ck.error(q + ("reference",), f"expected a reference price ($/kg) for every market, missing '{m}'")
        for m in ref:
            if m not in markets:
                ck.error(q + ("reference", m), f"unknown market; markets: {', '.join(markets)}")
        cover = ck.get(t, q, "reference_cover_days", F.mapping(F.days(positive=True)), {})
        for m in cover:
            if m not in markets:
                ck.error(q + ("reference_cover_days", m), f"unknown market; markets: {', '.join(markets)}")
        rule = _rule(ck, t, q, base)
        out[cid] = PriceRule(cid, ref, reference_cover_days=cover, source=t.get("source", ""), commodities=coms,
                             **rule)
    return out


def _demand(ck, raw, p, sectors, prices):
    out = {}
    for sec, t in ck.table(raw, p, raw if isinstance(raw, dict) else {}).items():
        q = p + (sec,)
        t = ck.table(t, q, {"form", "elasticity_short", "elasticity_long", "adjust_years", "patience_days",
                            "price"} | _META)
        if sectors is not None and sec not in sectors:
            ck.error(q, f"no demand has sector '{sec}'; sectors: {', '.join(sorted(sectors)) or 'none'}")
        form = ck.get(t, q, "form", F.choice("constant", "linear"), "constant")
        es = ck.get(t, q, "elasticity_short", _ELAST, 0.0)
        el = ck.get(t, q, "elasticity_long", _ELAST, es)
        if el > es:
            ck.error(q + ("elasticity_long",), f"expected a long-run elasticity at least as strong as the "
                                               f"short-run one ({es:g}), found {el:g}")
        pat = parse_lead_time(ck, t["patience_days"], q + ("patience_days",)) if "patience_days" in t else None
        price = ck.get(t, q, "price", F.label, None)
        if price is not None and price not in prices:
            ck.error(q + ("price",), f"'{price}' has no price in [market.prices]")
        out[sec] = DemandResponse(sec, form, es, el, ck.get(t, q, "adjust_years", F.number(0, 100, lo_open=True), 1.0),
                                  pat, price, t.get("source", ""))
    return out


def _substitution(ck, raw, p, sectors, prices, sinks):
    out = {}
    for sid, t in ck.table(raw, p, raw if isinstance(raw, dict) else {}).items():
        q = p + (sid,)
        t = ck.table(t, q, {"sectors", "commodity", "rate_per_year", "max_share", "trigger_price_ratio",
                            "lag_days", "reversal_per_year", "kind", "from", "to"} | _META)
        kind = ck.get(t, q, "kind", F.choice("demand", "grade"), "demand")
        grades = (ck.get(t, q, "from", F.label, None), ck.get(t, q, "to", F.label, None)) if kind == "grade" \
            else (None, None)
        if kind == "grade":
            for k, g in zip(("from", "to"), grades):
                if g is None and k in t:
                    continue
                if g is None:
                    ck.error(q + (k,), "missing required key (kind 'grade' moves demand from one grade to another)")
            if sinks is not None and all(grades):
                ok = {x.group for x in sinks if x.sector in t.get("sectors", ()) and x.commodity == grades[0]
                      and getattr(x, "group", None)} & \
                     {x.group for x in sinks if x.commodity == grades[1] and getattr(x, "group", None)}
                if not ok:
                    ck.error(q, f"no graded demand of sectors {t.get('sectors')} takes both '{grades[0]}' and "
                                f"'{grades[1]}'")
        else:
            for k in ("from", "to"):
                if k in t:
                    ck.error(q + (k,), "belongs to kind 'grade'")
        secs = tuple(ck.get(t, q, "sectors", F.list_of(F.label, nonempty=True), []))
        for s in secs:
            if sectors is not None and s not in sectors:
                ck.error(q + ("sectors",), f"no demand has sector '{s}'; sectors: {', '.join(sorted(sectors))}")
        com = ck.get(t, q, "commodity", F.label, None)
        if com is not None and com not in prices:
            ck.error(q + ("commodity",), f"'{com}' has no price in [market.prices]")
        out[sid] = SubstitutionSpec(
            sid, secs, com, ck.get(t, q, "rate_per_year", F.number(0, 100, lo_open=True)),
            ck.get(t, q, "max_share", F.number(0, 1), 1.0),
            ck.get(t, q, "trigger_price_ratio", _RATIO, 1.0), ck.get(t, q, "lag_days", F.days(), 0.0),
            ck.get(t, q, "reversal_per_year", F.number(0, 100), 0.0), t.get("description", ""), t.get("source", ""),
            kind, *grades)
    return out


def _stocks(ck, raw, p):
    t = ck.table(raw, p, {"elasticity", "min_factor", "max_factor", "stages", "prebuy_days"} | _META)
    lo = ck.get(t, p, "min_factor", F.number(0, 1), 1.0)
    hi = ck.get(t, p, "max_factor", F.number(1, 100), 1.0)
    return StockResponse(ck.get(t, p, "elasticity", F.number(-50, 50), 0.0), lo, hi,
                         tuple(ck.get(t, p, "stages", F.list_of(F.label, nonempty=True), ["buyer"])),
                         ck.get(t, p, "prebuy_days", F.days(), 0.0), t.get("source", ""))


def _restart(ck, raw, p, facilities, prices):
    out = {}
    for rid, t in ck.table(raw, p, raw if isinstance(raw, dict) else {}).items():
        q = p + (rid,)
        t = ck.table(t, q, {"facility", "capacity", "price_ratio", "months", "lag_days", "ramp_days",
                            "commodity"} | _META)
        fac = ck.get(t, q, "facility", F.label)
        com = ck.get(t, q, "commodity", F.label, None)
        if fac is not None and fac not in facilities:
            ck.error(q + ("facility",), f"unknown facility '{fac}'")
        elif fac is not None:
            f = facilities[fac]
            if f.recipe is None and not f.is_source:
                ck.error(q + ("facility",), f"'{fac}' makes nothing (no capacity to restart)")
            if com is None and not any(f.output in r.commodities for r in prices.values()):
                ck.error(q + ("facility",), f"its output '{f.output}' has no price in [market.prices] "
                                            "(give 'commodity': a price to watch)")
            elif com is not None and com not in prices:
                ck.error(q + ("commodity",), f"'{com}' has no price in [market.prices]")
        out[rid] = Restart(rid, fac, ck.get(t, q, "capacity", F.tonnes(positive=True)),
                           ck.get(t, q, "price_ratio", _RATIO), ck.get(t, q, "months", F.integer(1, 1200), 1),
                           ck.get(t, q, "lag_days", F.days(), 0.0), ck.get(t, q, "ramp_days", F.days(), 0.0),
                           com, t.get("source", ""))
    return out


def _new_supply(ck, raw, p, facilities, markets, prices):
    out = {}
    for nid, t in ck.table(raw, p, raw if isinstance(raw, dict) else {}).items():
        q = p + (nid,)
        t = ck.table(t, q, {"commodity", "market", "rate_of_market", "lag_days", "price_ratio", "groups",
                            "max_added"} | _META)
        com = ck.get(t, q, "commodity", F.label)
        if com is not None and com not in prices:
            ck.error(q + ("commodity",), f"'{com}' has no price in [market.prices]")
        mk = ck.get(t, q, "market", F.label)
        if mk is not None and mk not in markets:
            ck.error(q + ("market",), f"unknown market '{mk}'; markets: {', '.join(markets)}")
        groups = ck.get(t, q, "groups", F.list_of(F.list_of(F.label, nonempty=True), nonempty=True), [])
        for i, g in enumerate(groups):
            for fid in g:
                if fid not in facilities:
                    ck.error(q + ("groups", i), f"unknown facility '{fid}'")
                elif facilities[fid].recipe is None and not facilities[fid].is_source:
                    ck.error(q + ("groups", i), f"'{fid}' makes nothing (no capacity to grow)")
            if g and g[0] in facilities and com in prices and facilities[g[0]].output not in prices[com].commodities:
                ck.error(q + ("groups", i), f"the first facility of a group must make '{com}', "
                                            f"'{g[0]}' makes '{facilities[g[0]].output}'")
        out[nid] = NewSupply(nid, com, mk, ck.get(t, q, "rate_of_market", F.number(0, 10, lo_open=True)),
                             ck.get(t, q, "lag_days", F.days(), 0.0), ck.get(t, q, "price_ratio", _RATIO),
                             tuple(tuple(g) for g in groups),
                             ck.get(t, q, "max_added", F.tonnes(positive=True), math.inf), t.get("source", ""))
    return out


def parse_market(ck, raw, sinks, commodities, facilities, _unused=None) -> MarketSpec | None:
    """The validated ``[market]`` section (``None`` when the model has none).

    ``sinks``: the model's demand specs (their sectors are checked; ``None`` skips the check),
    ``commodities`` and ``facilities``: the model's, for references.
    """
    if raw is None:
        return None
    p = ("market",)
    t = ck.table(raw, p, MARKET_KEYS)
    if not ck.get(t, p, "enabled", F.boolean, True):
        return None   # switched off (by an option or scenario): the model runs without a market
    markets = _markets(ck, t.get("markets", {}), p + ("markets",))
    base = dict(RULE_DEFAULTS)
    if "price_rule" in t:
        rt = ck.table(t["price_rule"], p + ("price_rule",), _RULE_KEYS | _META)
        base = _rule(ck, rt, p + ("price_rule",), base)
    prices = _prices(ck, t.get("prices", {}), p + ("prices",), markets, commodities, base)
    sectors = None if sinks is None else {d.sector for d in (sinks.values() if isinstance(sinks, dict) else sinks)}
    demand = _demand(ck, t.get("demand", {}), p + ("demand",), sectors, prices)
    sink_list = None if sinks is None else list(sinks.values() if isinstance(sinks, dict) else sinks)
    subst = _substitution(ck, t.get("substitution", {}), p + ("substitution",), sectors, prices, sink_list)
    stocks = _stocks(ck, t["stocks"], p + ("stocks",)) if "stocks" in t else None
    restart = _restart(ck, t.get("restart", {}), p + ("restart",), facilities, prices)
    new = _new_supply(ck, t.get("new_supply", {}), p + ("new_supply",), facilities, markets, prices)
    spec = MarketSpec(markets, prices, demand, subst, stocks, restart, new, t.get("description", ""))
    for d in (sinks.values() if isinstance(sinks, dict) else sinks or ()):
        r = demand.get(d.sector)
        if r is not None and r.price is None and spec.price_of(d.commodity) is None:
            ck.error(p + ("demand", d.sector), f"demand '{d.id}' of this sector buys '{d.commodity}', which has no "
                                               "price in [market.prices] (give 'price', or price it)")
            break
    return spec
