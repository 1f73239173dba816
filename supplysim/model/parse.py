"""Turn merged TOML tables into validated specs, collecting every problem."""
from __future__ import annotations

import difflib
import math
from dataclasses import replace

from ..materials import ELEMENTS, content_vector
from . import fields as F
from .disruptions import COMMON_KEYS, KINDS, disruption_kind
from .stages import STAGES
from .specs import (YEAR_DAYS, Calendar, Commodity, Demand, Disruption, Facility, Grade, Lane, LeadTime,
                    Recipe, Schedule, Sourcing)

__all__ = ["parse_commodities", "parse_facilities", "parse_lanes", "parse_demand",
           "parse_disruptions", "parse_calendar", "parse_lead_time", "POLICIES", "ALLOCATIONS"]

ALLOCATIONS = ("pro_rata", "priority", "shares", "whole")
POLICIES = ("base_stock", "sS", "rQ", "none")
_LEVELS = {"base_stock": ("S",), "sS": ("s", "S"), "rQ": ("r", "Q"), "none": ()}

_FRAC = F.number(0, 1, lo_open=True)
_T, _T_POS = F.tonnes(), F.tonnes(positive=True)
_DAYS, _DAYS_POS = F.days(), F.days(positive=True)
_MONEY = F.money()
_RATIO = F.number(0, 1e6, lo_open=True)       # t of input (or co-product) per t of output
_SHARE = F.number(0, lo_open=True)
# a grade's base: t of the recipe's base inputs per t of the grade, relative to the recipe
_BASE = F.number(0, 1, lo_open=True, unit="t of the recipe's base inputs per t of the grade, relative to the recipe")

def parse_calendar(ck, raw):
    """The ``[model]`` table: calendar, period, horizon, spin-up, origin tracking, name and description (a dict)."""
    t = ck.table(raw, ("model",), {"name", "description", "start", "period_days", "periods_per_month",
                                   "spin_up_days", "years", "track_origin", "source", "note"})
    p = ("model",)
    start = ck.get(t, p, "start", F.date, None)
    period = ck.get(t, p, "period_days", F.number(0, 365, lo_open=True, unit="days"), 1.0)
    per_month = ck.get(t, p, "periods_per_month", F.integer(1, 31), None)
    if per_month is not None:
        if "period_days" in t:
            ck.error(p, "give 'period_days' or 'periods_per_month', not both")
        period = YEAR_DAYS / 12.0 / per_month   # the mean length, for display
    cal = Calendar(start) if start else Calendar()
    return {"calendar": cal, "period_days": period, "periods_per_month": per_month,
            "spin_up_days": ck.get(t, p, "spin_up_days", F.number(0, 3650, unit="days"), 0.0),
            "years": ck.get(t, p, "years", F.number(0, F.MAX_YEARS, lo_open=True, unit="years"), 10.0),
            "track_origin": ck.get(t, p, "track_origin", F.boolean, True),
            "name": t.get("name", ""), "description": t.get("description", "")}


def parse_commodities(ck, raw):
    out = {}
    allowed = {"name", "unit", "content", "value_per_t", "source", "note"}
    for cid, t in ck.table(raw, ("commodities",), raw if isinstance(raw, dict) else {}).items():
        p = ("commodities", cid)
        if not isinstance(t, dict):   # one problem, not one per missing key
            ck.table(t, p, allowed)
            continue
        t = ck.table(t, p, allowed)
        content = ck.get(t, p, "content", F.mapping(F.number(0, 1)), {})
        bad = [k for k in content if k not in ELEMENTS]
        for k in bad:
            ck.error(p + ("content", k), f"unknown element; expected one of: {', '.join(ELEMENTS)}")
            content.pop(k)
        if sum(content.values()) > 1 + 1e-9:
            ck.error(p + ("content",), f"element fractions must sum to at most 1, found {sum(content.values()):g}")
        out[cid] = Commodity(cid, ck.get(t, p, "name", F.string, cid), ck.get(t, p, "unit", F.choice("t"), "t"),
                             content_vector(content), ck.get(t, p, "value_per_t", _MONEY, None),
                             t.get("source", ""))
    return out


def parse_lead_time(ck, v, path):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            return LeadTime("constant", {"days": _DAYS(v)})
        except F.Bad as exc:
            ck.error(path, f"{exc}, found {F._show(v)}")
            return LeadTime("constant", {"days": 0.0})
    spec = {"constant": ("days",), "uniform": ("min", "max"), "triangular": ("min", "mode", "max"),
            "lognormal": ("median", "p90"), "empirical": ("values", "weights")}
    if not isinstance(v, dict):
        ck.error(path, f"expected a number of days or a table with 'dist', found {F._show(v)}")
        return LeadTime("constant", {"days": 0.0})
    dist = ck.get(v, path, "dist", F.choice(*spec), None)
    if dist is None:
        return LeadTime("constant", {"days": 0.0})
    ck.table(v, path, {"dist", *spec[dist]})
    params = {}
    if dist == "empirical":
        params["values"] = ck.get(v, path, "values", F.list_of(_DAYS, nonempty=True), [0.0])
        w = ck.get(v, path, "weights", F.list_of(_SHARE), None)
        if w is not None and len(w) != len(params["values"]):
            ck.error(path + ("weights",), f"expected {len(params['values'])} weights (one per value), found {len(w)}")
            w = None
        params["weights"] = w
        return LeadTime(dist, params)
    for k in spec[dist]:
        params[k] = ck.get(v, path, k, _DAYS if dist != "lognormal" else _DAYS_POS, 1.0)
    if dist == "uniform" and params["min"] > params["max"]:
        ck.error(path, f"expected min <= max, found min={params['min']:g}, max={params['max']:g}")
    if dist == "triangular" and not params["min"] <= params["mode"] <= params["max"]:
        ck.error(path, "expected min <= mode <= max, found "
                 f"{params['min']:g}, {params['mode']:g}, {params['max']:g}")
    if dist == "lognormal" and params["p90"] <= params["median"]:
        ck.error(path, f"expected p90 > median, found median={params['median']:g}, p90={params['p90']:g}")
    return LeadTime(dist, params)


def _schedule(ck, t, p, cal):
    base = ck.get(t, p, "capacity", _T_POS, None)
    sched = ck.get(t, p, "capacity_schedule", F.list_of(lambda x: x), [])
    if base is None and not sched:
        return None
    times, values = [0.0], [base if base is not None else 0.0]
    for i, step in enumerate(sched):
        q = p + ("capacity_schedule", i)
        step = ck.table(step, q, {"date", "capacity", "ramp_to", "until", "source", "note"})
        d = ck.get(step, q, "date", F.date, None)
        if d is None:
            continue
        t0 = max(cal.day(d), 0.0)
        if t0 < times[-1]:
            ck.error(q + ("date",), "expected dates in increasing order")
            continue
        if "ramp_to" in step:
            v = ck.get(step, q, "ramp_to", _T, None)
            until = ck.get(step, q, "until", F.date, None)
            if v is None or until is None:
                continue
            t1 = cal.day(until)
            if t1 <= t0:
                ck.error(q + ("until",), f"expected a date after {d}, found {until}")
                continue
            cur = Schedule(tuple(times), tuple(values)).at(t0)
            times += [t0, t1]
            values += [cur, v]
        else:
            v = ck.get(step, q, "capacity", _T, None)
            if v is None:
                continue
            cur = Schedule(tuple(times), tuple(values)).at(t0)
            times += [t0, t0]
            values += [cur, v]
    return Schedule(tuple(times), tuple(values))


def _sourcing(ck, raw, p, commodity):
    t = ck.table(raw, p, {"policy", "target", "target_days", "s", "s_days", "S", "S_days", "r", "r_days",
                          "Q", "Q_days", "review_days", "split", "ordering_cost", "note"})
    policy = ck.get(t, p, "policy", F.choice(*POLICIES), "base_stock")
    levels = {}
    names = _LEVELS.get(policy, ())
    for name in names:
        key_units = "target" if (policy == "base_stock" and name == "S") else name
        alt = [key_units, key_units + "_days"]
        if policy == "base_stock":
            alt += ["S", "S_days"]
        given = [k for k in alt if k in t]
        if not given:
            ck.error(p, f"policy '{policy}' needs '{key_units}' (t) or '{key_units}_days' (days of cover)")
            continue
        k = given[0]
        conv = (_DAYS_POS if name == "Q" else _DAYS) if k.endswith("_days") else (_T_POS if name == "Q" else _T)
        val = ck.get(t, p, k, conv, 0.0)
        levels[name] = (val, k.endswith("_days"))
    for k in ("s", "s_days", "S", "S_days", "r", "r_days", "Q", "Q_days", "target", "target_days"):
        base = k.replace("_days", "")
        if k in t and base not in names and not (policy == "base_stock" and base in ("target", "S")):
            ck.error(p + (k,), f"not used by policy '{policy}'")
    if policy == "sS" and "s" in levels and "S" in levels and levels["s"][1] == levels["S"][1] \
            and levels["s"][0] > levels["S"][0]:
        ck.error(p, f"expected s <= S, found s={levels['s'][0]:g}, S={levels['S'][0]:g}")
    return Sourcing(commodity, policy, levels, ck.get(t, p, "review_days", _DAYS, None),
                    ck.get(t, p, "split", F.choice("shares", "priority"), "shares"),
                    ck.get(t, p, "ordering_cost", _MONEY, 0.0))


def _recipe(ck, raw, p, commodities):
    if not isinstance(raw, dict):
        ck.error(p, f"expected a table such as {{inputs = {{...}}, yield = 0.9}}, found {F._show(raw)}")
        return Recipe("fixed")
    t = ck.table(raw, p, {"inputs", "yield", "coproducts", "grades", "mix_days", "feed", "outputs", "recovery",
                          "source", "note"})
    if "feed" in t or "outputs" in t:
        fixed = [k for k in ("inputs", "coproducts", "yield", "grades", "mix_days") if k in t]
        if fixed:
            ck.error(p, f"mixes a split recipe's keys ({', '.join(k for k in ('feed', 'outputs') if k in t)}) "
                        f"with a fixed recipe's ({', '.join(fixed)}); a split recipe takes feed, outputs and "
                        "recovery, a fixed one inputs, coproducts and yield")
            return Recipe("fixed")
        feed = ck.get(t, p, "feed", F.label)
        outs = ck.get(t, p, "outputs", F.mapping(F.list_of(F.choice(*ELEMENTS), nonempty=True)), {})
        if not outs:
            ck.error(p + ("outputs",), "expected a table of output commodity -> list of elements")
        seen = {}
        for c, els in outs.items():
            for e in els:
                if e in seen:
                    ck.error(p + ("outputs", c), f"element {e} already goes to '{seen[e]}'; each element "
                                                 "goes to one output")
                seen.setdefault(e, c)
        return Recipe("split", yield_=ck.get(t, p, "recovery", _FRAC, 1.0), feed=feed,
                      outputs={k: tuple(v) for k, v in outs.items()})
    if "recovery" in t:
        ck.error(p + ("recovery",), "only split recipes take 'recovery'; fixed recipes take 'yield'")
    inputs = ck.get(t, p, "inputs", F.mapping(_RATIO), {})
    if not inputs and not t.get("inputs"):   # (bad entries were reported above)
        ck.error(p + ("inputs",), "expected a non-empty table of input commodity -> t per t of output")
    coproducts = ck.get(t, p, "coproducts", F.mapping(_RATIO), {})
    grades = _grades(ck, t["grades"], p + ("grades",), inputs, coproducts) if "grades" in t else {}
    if "mix_days" in t and not grades:
        ck.error(p + ("mix_days",), "belongs to a recipe with 'grades'")
    return Recipe("fixed", inputs=inputs, yield_=ck.get(t, p, "yield", _FRAC, 1.0), coproducts=coproducts,
                  grades=grades, mix_days=ck.get(t, p, "mix_days", _DAYS, 0.0))


_GRADE_KEYS = {"add", "base", "share", "min_share", "max_share", "source", "note"}


def _grades(ck, raw, p, inputs, coproducts):
    """The grades of a fixed recipe: commodity -> :class:`Grade`, their shares checked together."""
    if not isinstance(raw, dict) or not raw:
        ck.error(p, f"expected a table of grade commodity -> {{add = {{...}}, share = 0..1}}, found {F._show(raw)}")
        return {}
    out = {}
    for c, g in raw.items():
        q = p + (c,)
        g = ck.table(g, q, _GRADE_KEYS)
        if c in inputs or c in coproducts:
            ck.error(q, f"'{c}' is also an input or co-product of the recipe; a grade is an output")
        add = ck.get(g, q, "add", F.mapping(_RATIO), {})
        for a in add:
            if a in inputs:
                ck.error(q + ("add", a), f"'{a}' is a base input of the recipe; a grade adds other inputs")
        base = ck.get(g, q, "base", _BASE, 1.0)
        share = ck.get(g, q, "share", F.number(0, 1), None)
        if share is None and "share" not in g:
            ck.error(q + ("share",), "expected the grade's share of capacity at the start, a number in [0, 1]")
        lo = ck.get(g, q, "min_share", F.number(0, 1), 0.0)
        hi = ck.get(g, q, "max_share", F.number(0, 1), 1.0)
        share = share if share is not None else 0.0
        if not lo <= share <= hi:
            ck.error(q, f"expected min_share <= share <= max_share, found {lo:g}, {share:g}, {hi:g}")
        out[c] = Grade(add, share, lo, hi, base)
    if out:
        tot = sum(g.share for g in out.values())
        if abs(tot - 1.0) > 1e-6:
            ck.error(p, f"the grades' shares must sum to 1, found {tot:g}")
        if sum(g.min_share for g in out.values()) > 1 + 1e-9 or sum(g.max_share for g in out.values()) < 1 - 1e-9:
            ck.error(p, "no mix fits the limits: expected the min_shares to sum to at most 1 and the "
                        "max_shares to at least 1")
    return out


def _stage(ck, t, p):
    stage = ck.get(t, p, "stage", F.label)
    # other labels are allowed for grouping, but one a letter or two away from a stage with a
    # meaning is taken for a typo ("magnett"); "buffer" is the model's own stage of a sink's stock
    written = [s for s in STAGES if s != "buffer"]
    if stage is not None and stage not in written:
        near = difflib.get_close_matches(stage, written, n=1, cutoff=0.8)
        if near or stage == "buffer":
            hint = f"did you mean '{near[0]}'?" if near else "'buffer' is the stage of a sink's own stock"
            ck.error(p + ("stage",), f"unknown stage '{stage}' ({hint}); stages with a meaning: "
                                     f"{', '.join(written)}")
    return stage


FACILITY_KEYS = {"output_content", "end_use", "release", "name", "stage", "country", "owner", "region", "output", "capacity", "capacity_schedule",
                 "enabled", "recipe", "processing_days", "initial_stock", "target_cover_days", "target_stock",
                 "allocation", "costs", "sourcing", "unlimited", "source", "note"}


def parse_facilities(ck, raw, cal, commodities):
    out = {}
    for fid, t in (raw or {}).items():
        p = ("facilities", fid)
        if not isinstance(t, dict):   # one problem, not one per missing key
            ck.table(t, p, FACILITY_KEYS)
            continue
        t = ck.table(t, p, FACILITY_KEYS)
        if not ck.get(t, p, "enabled", F.boolean, True):
            continue
        recipe = _recipe(ck, t["recipe"], p + ("recipe",), commodities) if "recipe" in t else None
        unlimited = ck.get(t, p, "unlimited", F.boolean, False)
        sched = _schedule(ck, t, p, cal)
        if recipe is not None and sched is None and not unlimited:
            ck.error(p + ("capacity",), "a facility with a recipe needs a capacity in t/yr > 0")
        costs = ck.table(t.get("costs", {}), p + ("costs",), {"production_per_t", "holding_per_t_day"})
        src = ck.table(t.get("sourcing", {}), p + ("sourcing",), t.get("sourcing", {}))
        sourcing = {c: _sourcing(ck, v, p + ("sourcing", c), c) for c, v in src.items()}
        country = ck.get(t, p, "country", F.label)
        oc = None
        if "output_content" in t:
            if recipe is not None:
                ck.error(p + ("output_content",), "only sources (no recipe) take 'output_content'; "
                                                  "a recipe derives its output's content from its inputs")
            occ = ck.get(t, p, "output_content", F.mapping(F.number(0, 1)), {})
            for k in [k for k in occ if k not in ELEMENTS]:
                ck.error(p + ("output_content", k), f"unknown element; expected one of: {', '.join(ELEMENTS)}")
                occ.pop(k)
            if sum(occ.values()) > 1 + 1e-9:
                ck.error(p + ("output_content",), f"element fractions must sum to at most 1, found {sum(occ.values()):g}")
            oc = content_vector(occ)
        release = None
        if "release" in t:
            rt = ck.table(t["release"], p + ("release",), {"cover_below_days", "max_t_per_day", "note"})
            release = (ck.get(rt, p + ("release",), "cover_below_days", _DAYS_POS, 30.0),
                       ck.get(rt, p + ("release",), "max_t_per_day", _T_POS, None))
            if recipe is not None or sched is not None:
                ck.error(p + ("release",), "only a stocking point (no recipe, no capacity) can be a release stockpile")
        out[fid] = Facility(release=release, output_content=oc, end_use=ck.get(t, p, "end_use", F.choice("civil", "defence"), "civil"),
                            
            id=fid, name=ck.get(t, p, "name", F.string, fid), stage=_stage(ck, t, p),
            country=country, owner=ck.get(t, p, "owner", F.string, ""),
            region=ck.get(t, p, "region", F.string, country),
            output=ck.get(t, p, "output", F.label), capacity=sched, recipe=recipe,
            processing_days=ck.get(t, p, "processing_days", _DAYS, 0.0),
            initial_stock=ck.get(t, p, "initial_stock", F.mapping(_T), {}),
            target_cover_days=ck.get(t, p, "target_cover_days", _DAYS, 30.0),
            target_stock=ck.get(t, p, "target_stock", _T, None),
            allocation=ck.get(t, p, "allocation", F.choice(*ALLOCATIONS), "pro_rata"),
            production_cost=ck.get(costs, p + ("costs",), "production_per_t", _MONEY, 0.0),
            holding_cost=ck.get(costs, p + ("costs",), "holding_per_t_day", _MONEY, 0.0),
            sourcing=sourcing, unlimited=unlimited, source=t.get("source", ""))
    return out


LANE_KEYS = {"qualification_days", "from", "to", "commodity", "lead_time", "capacity", "cost_per_t", "share", "priority",
             "in_transit", "enabled", "source", "note"}


def parse_lanes(ck, raw):
    out = {}
    for lid, t in (raw or {}).items():
        p = ("lanes", lid)
        if not isinstance(t, dict):   # one problem, not one per missing key
            ck.table(t, p, LANE_KEYS)
            continue
        t = ck.table(t, p, LANE_KEYS)
        if not ck.get(t, p, "enabled", F.boolean, True):
            continue
        lt = parse_lead_time(ck, t["lead_time"], p + ("lead_time",)) if "lead_time" in t \
            else LeadTime("constant", {"days": 0.0})
        out[lid] = Lane(lid, ck.get(t, p, "from", F.label), ck.get(t, p, "to", F.label),
                        ck.get(t, p, "commodity", F.label), lt, ck.get(t, p, "capacity", _T_POS, None),
                        ck.get(t, p, "cost_per_t", _MONEY, 0.0), ck.get(t, p, "share", _SHARE, 1.0),
                        ck.get(t, p, "priority", F.integer(), 0), ck.get(t, p, "in_transit", _T, 0.0),
                        t.get("source", ""), ck.get(t, p, "qualification_days", _DAYS, 0.0))
    return out


DEMAND_KEYS = {"region", "sector", "end_use", "commodity", "grades", "rate", "rate_per_day", "growth", "variability",
               "cv", "order_interval_days", "unmet", "at", "initial_stock", "sourcing", "costs", "start",
               "enabled", "source", "note"}


def parse_demand(ck, raw, cal, period):
    """Demand sinks; a sink without ``at`` gets a stocking point of its own (returned too)."""
    sinks, buffers = {}, {}
    for did, t in (raw or {}).items():
        p = ("demand", did)
        if not isinstance(t, dict):   # one problem, not one per missing key
            ck.table(t, p, DEMAND_KEYS)
            continue
        t = ck.table(t, p, DEMAND_KEYS)
        if not ck.get(t, p, "enabled", F.boolean, True):
            continue
        if ("rate" in t) == ("rate_per_day" in t):
            ck.error(p, "expected exactly one of 'rate' (t/yr) or 'rate_per_day' (t/day)")
        rate = ck.get(t, p, "rate", _T_POS, None)
        rate = rate / YEAR_DAYS if rate is not None else ck.get(t, p, "rate_per_day", _T_POS, 1.0)
        var = ck.get(t, p, "variability", F.choice("poisson", "normal", "gamma", "none"), "poisson")
        cv = ck.get(t, p, "cv", F.number(0, 100, lo_open=True), 0.0) if var in ("normal", "gamma") else 0.0
        if var in ("normal", "gamma") and "cv" not in t:
            ck.error(p + ("cv",), f"variability '{var}' needs a coefficient of variation 'cv' > 0")
        if "cv" in t and var not in ("normal", "gamma"):
            ck.error(p + ("cv",), f"not used with variability '{var}'")
        interval = ck.get(t, p, "order_interval_days", _DAYS, period)   # None: each calendar period
        if interval == 0 and var != "poisson":
            ck.error(p + ("order_interval_days",), "0 (a Poisson process of unit orders) needs variability 'poisson'")
        region = ck.get(t, p, "region", F.label)
        at = ck.get(t, p, "at", F.label, None)
        grades = _demand_grades(ck, t, p, at)
        commodity = ck.get(t, p, "commodity", F.label) if not grades else next(iter(grades))
        costs = ck.table(t.get("costs", {}), p + ("costs",), {"holding_per_t_day", "backorder_per_t_day",
                                                              "lost_per_t"})
        if at is None:
            at = did
            src = t.get("sourcing")
            sourcing = {commodity: _sourcing(ck, src, p + ("sourcing",), commodity)} if src is not None else {}
            buffers[did] = Facility(
                id=did, name=did, stage="buffer", country=region or "", owner="", region=region or "",
                output=commodity, capacity=None, recipe=None, processing_days=0.0,
                initial_stock={commodity: ck.get(t, p, "initial_stock", _T, 0.0)},
                target_cover_days=0.0, target_stock=None, allocation="pro_rata", production_cost=0.0,
                holding_cost=ck.get(costs, p + ("costs",), "holding_per_t_day", _MONEY, 0.0),
                sourcing=sourcing)
        else:
            for k in ("initial_stock", "sourcing"):
                if k in t:
                    ck.error(p + (k,), "a sink drawing from another node ('at') has no stock of its own")
        start = ck.get(t, p, "start", F.date, None)
        d = Demand(
            did, region, ck.get(t, p, "sector", F.string, "all"),
            ck.get(t, p, "end_use", F.choice("civil", "defence"), "civil"), commodity, rate,
            ck.get(t, p, "growth", F.number(-1, 10, lo_open=True, unit="fraction per year"), 0.0), var, cv, interval,
            ck.get(t, p, "unmet", F.choice("backorder", "lost"), "backorder"), at,
            max(cal.day(start), 0.0) if start else 0.0,
            ck.get(costs, p + ("costs",), "backorder_per_t_day", _MONEY, 0.0),
            ck.get(costs, p + ("costs",), "lost_per_t", _MONEY, 0.0), t.get("source", ""))
        if not grades:
            sinks[did] = d
        for g, share in grades.items():
            # one sink per grade, with its share of the rate (its own draws; ``group`` ties them together)
            sinks[f"{did}/{g}"] = replace(d, id=f"{did}/{g}", commodity=g, rate_per_day=rate * share,
                                          group=did, grade_share=share)
    return sinks, buffers


def _demand_grades(ck, t, p, at):
    """A demand entry's ``grades`` (commodity -> share of its rate), checked; {} without them."""
    if "grades" not in t:
        return {}
    if "commodity" in t:
        ck.error(p, "give 'commodity' or 'grades' (commodity -> share of the rate), not both")
    if at is None:
        ck.error(p + ("grades",), "a sink with grades draws from a node's stocks: it needs 'at'")
    grades = {k: v for k, v in ck.get(t, p, "grades", F.mapping(F.number(0, 1, lo_open=True)), {}).items()}
    if not grades:
        ck.error(p + ("grades",), "expected a table of grade commodity -> share of the rate in (0, 1]")
    elif abs(sum(grades.values()) - 1.0) > 1e-6:
        ck.error(p + ("grades",), f"the shares must sum to 1, found {sum(grades.values()):g}")
    return grades


# -- the built-in kinds of disruption (their engine half: supplysim/engine/disruptions.py) ------------

@disruption_kind("facility_outage", "facilities", {"capacity_factor", "mtbf_days", "mttr_days"})
def _facility_outage(ck, t, p):
    out = {"factor": ck.get(t, p, "capacity_factor", F.number(0, 1), 0.0), "params": {}}
    if ("mtbf_days" in t) != ("mttr_days" in t):
        ck.error(p, "random outages need both 'mtbf_days' and 'mttr_days'")
    if "mtbf_days" in t:
        out["params"] = {"mtbf": ck.get(t, p, "mtbf_days", _DAYS_POS, 1.0),
                         "mttr": ck.get(t, p, "mttr_days", _DAYS_POS, 1.0)}
    return out


@disruption_kind("lane_closure", "lanes")
def _lane_closure(ck, t, p):
    return {}


@disruption_kind("lane_delay", "lanes", {"extra_days"})
def _lane_delay(ck, t, p):
    return {"extra_days": ck.get(t, p, "extra_days", _DAYS, 0.0)}


@disruption_kind("demand_shock", "demand", {"factor"}, regions=True)
def _demand_shock(ck, t, p):
    return {"factor": ck.get(t, p, "factor", F.number(0, 1000), 1.0)}


@disruption_kind("expansion", "facilities", {"capacity", "ramp_days", "delay_prob", "delay_days"})
def _expansion(ck, t, p):
    return {"params": {"capacity": ck.get(t, p, "capacity", _T_POS),
                       "ramp_days": ck.get(t, p, "ramp_days", _DAYS, 0.0),
                       "delay_prob": ck.get(t, p, "delay_prob", F.number(0, 1), 0.0),
                       "delay": parse_lead_time(ck, t.get("delay_days", 0), p + ("delay_days",))}}


@disruption_kind("substitution", "demand", {"trigger", "rate_per_year", "max_share"}, regions=True)
def _substitution(ck, t, p):
    return {"params": {"trigger": ck.get(t, p, "trigger", F.choice("date", "shortage"), "date"),
                       "rate": ck.get(t, p, "rate_per_year", F.number(0, 100, lo_open=True), 0.1),
                       "max_share": ck.get(t, p, "max_share", F.number(0, 1), 1.0)}}


def parse_disruptions(ck, raw, cal):
    """Dated or random changes to the network, each validated by its kind (:mod:`.disruptions`)."""
    out = []
    for did, t in (raw or {}).items():
        p = ("disruptions", did)
        kind = ck.get(t, p, "kind", F.choice(*KINDS)) if isinstance(t, dict) else None
        kind = KINDS.get(kind)
        t = ck.table(t, p, kind.allowed if kind else COMMON_KEYS.union(*(k.allowed for k in KINDS.values())))
        start = ck.get(t, p, "start", F.date)
        if kind is None or start is None:
            continue
        t0 = cal.day(start)
        if "end" in t and "days" in t:
            ck.error(p, "give 'end' or 'days', not both")
        if "end" in t:
            end = ck.get(t, p, "end", F.date, None)
            t1 = cal.day(end) if end else math.inf
        else:
            t1 = t0 + ck.get(t, p, "days", _DAYS_POS, math.inf)
        if t1 <= t0:
            ck.error(p + ("end",), "expected an end after the start")
        key = kind.targets
        targets = tuple(ck.get(t, p, key, F.list_of(F.string, nonempty=True), []))
        if kind.regions and "regions" in t:
            targets += tuple("region:" + r for r in ck.get(t, p, "regions", F.list_of(F.string), []))
        if not targets:
            ck.error(p + (key,), f"a {kind.name} needs '{key}': a list of ids")
        out.append(Disruption(did, kind.name, t0, t1, targets, description=t.get("description", ""),
                              **kind.parse(ck, t, p)))
    return out
