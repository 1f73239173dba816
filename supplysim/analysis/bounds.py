"""Capacity bounds of a supply network by maximum flow in magnet-equivalent tonnes.

Every capacity along the chain (a mine's t REO/yr, a separator's t oxide/yr, an
alloy plant's t alloy/yr, a lane's t/yr) is turned into the tonnes of the
demanded product per year that it could at most support, counting only the
*basis element* (NdPr by default: the element that limits NdFeB magnet making)
and the yields and recoveries of every recipe between it and the demand. In
that common unit the network is an ordinary flow network; a maximum flow from a
super-source (feeding every source) to a super-sink (fed by the demand sinks of
one region) is an upper bound on the supply that region can receive, and the
minimum cut behind it names the binding facilities and lanes.

The conversion is exact where every route from a node to the demand has the
same overall yield; where routes differ, each capacity is valued at its most
favourable route, which keeps the result an upper bound. Co-products of fixed
recipes (process scrap that is recycled) enter as extra sources whose supply
is their maker's throughput times the co-product ratio, iterated to a fixed
point (exact for a scrap loop such as the tutorial's; in general an estimate).
Lead times, stocks and ordering policies are ignored: the bound is a steady
state at one date.

Examples
--------
>>> from supplysim.model import load_model
>>> from supplysim.analysis import capacity_bounds
>>> m = load_model("models/examples/tutorial.toml")           # doctest: +SKIP
>>> b = capacity_bounds(m)                                    # doctest: +SKIP
>>> round(b["JP"]["bound_t_yr"])                              # doctest: +SKIP
4218
"""
from __future__ import annotations

import datetime as _dt
import math

import networkx as nx
import numpy as np

from ..materials import ELEMENT_INDEX
from ..model import ModelError, Problem
from ..model.customs import lanes_reached
from ..model.specs import YEAR_DAYS

__all__ = ["ALL", "capacity_bounds", "single_points_of_failure", "country_stress", "effective_capacities",
           "demand_at", "as_day", "FlowProblem"]

#: Key under which results for all regions together are reported.
ALL = "all"
_S, _T = "__source__", "__sink__"
_EPS = 1e-9
INF = math.inf


def as_day(model, date=None) -> float:
    """Simulation day of ``date`` (None: the model start; a date, ISO string or day number).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from supplysim.model import Calendar
    >>> m = SimpleNamespace(calendar=Calendar(_dt.date(2025, 1, 1)))
    >>> as_day(m, "2025-02-01"), as_day(m, None), as_day(m, 10)
    (31.0, 0.0, 10.0)
    """
    if date is None:
        return 0.0
    if isinstance(date, (int, float)) and not isinstance(date, bool):
        return float(date)
    if isinstance(date, str):
        try:
            date = _dt.date.fromisoformat(date)
        except ValueError as exc:
            raise ModelError([Problem("--date", "", f"expected a date YYYY-MM-DD, found {date!r}")]) from exc
    return model.calendar.day(date)


def _mul(*xs):
    """Product where 0 times inf is 0 (a zero content or capacity carries nothing)."""
    out = 1.0
    for x in xs:
        if x == 0:
            return 0.0
        out *= x
    return out


def _active(d, day):
    return d.start <= day < d.end


def effective_capacities(model, date=None) -> tuple:
    """Facility capacities (t output/yr) and closed lanes at a date.

    Applies capacity schedules and the facility outages and lane closures
    active at ``date``. Stocking points and unlimited facilities get ``inf``.

    Returns
    -------
    (dict, set)
        ``{facility id: t/yr}`` and the set of closed lane ids.

    Examples
    --------
    >>> caps, closed = effective_capacities(m)       # doctest: +SKIP
    >>> caps["alloy_kr"], closed                     # doctest: +SKIP
    (5000.0, set())
    """
    day = as_day(model, date)
    caps = {}
    for fid, f in model.facilities.items():
        caps[fid] = INF if (f.capacity is None or f.unlimited) else float(f.capacity.at(day))
    closed = set()
    for d in model.disruptions:
        if not _active(d, day):
            continue
        if d.kind == "facility_outage":
            for t in d.targets:
                if t in caps and caps[t] != INF:
                    caps[t] *= d.factor
        elif d.kind == "lane_closure":
            closed.update(t for t in d.targets if t in model.lanes)
    closed.update(banned_lanes(model, day))
    return caps, closed


def banned_lanes(model, day) -> set:
    """Lanes an export ban in force at ``day`` closes, judged on each commodity's nominal content.

    Licences and quotas delay or ration flows but do not close a lane, so the
    static bound keeps them open; extraterritorial bans depend on the origin of
    material and are left to the simulation.
    """
    out = set()
    for rule in getattr(model, "controls", ()):
        if rule.mechanism != "ban" or rule.extraterritorial or not rule.in_force(day):
            continue
        for lid in lanes_reached(model, rule):
            ln = model.lanes[lid]
            src = model.facilities[ln.src]
            content = src.output_content if (ln.commodity == src.output and src.output_content is not None) \
                else model.commodities[ln.commodity].content
            if ln.commodity in rule.commodities or rule.over_threshold(float(sum(content[i] for i in rule.element_idx))):
                out.add(lid)
    return out


def demand_at(model, did, date=None) -> float:
    """Expected demand of sink ``did`` in t/yr at a date (growth and demand shocks applied)."""
    day = as_day(model, date)
    d = model.demand[did]
    if day < d.start_day:
        return 0.0
    r = d.rate_per_day * YEAR_DAYS * ((1.0 + d.growth) ** (day / YEAR_DAYS) if d.growth else 1.0)
    for x in model.disruptions:
        if x.kind == "demand_shock" and _active(x, day) and (did in x.targets or f"region:{d.region}" in x.targets):
            r *= x.factor
    return r


class FlowProblem:
    """A model reduced to the flow of one element at one date.

    Holds, per facility, its capacity and yield counted in tonnes of the basis
    element, and per lane its element capacity; :meth:`solve` builds the
    magnet-equivalent flow network for a set of demand sinks (optionally with
    facilities or lanes removed) and returns the maximum flow and its cut.

    Parameters
    ----------
    model : Model
    date : date, str or float, optional
        When to read capacities and disruptions (default: the model start).
    element : str
        The basis element (default ``"NdPr"``).
    coproducts : bool
        Count recycled co-products of fixed recipes (default True): each is a
        source supplying its maker's throughput times the co-product ratio.
    """

    def __init__(self, model, date=None, element="NdPr", coproducts=True):
        if element not in ELEMENT_INDEX:
            raise ModelError([Problem("--element", "", f"unknown element '{element}'; expected one of: "
                                      f"{', '.join(ELEMENT_INDEX)}")])
        self.model, self.element, self.day = model, element, as_day(model, date)
        self.e = ELEMENT_INDEX[element]
        cm = model.commodities
        caps, self.closed = effective_capacities(model, self.day)
        self.fcap, self.gain, self.sources, self.co = {}, {}, set(), {}
        self.consumes = {}
        for fid, f in model.facilities.items():
            r = f.recipe
            if r is None:
                self.gain[fid] = 1.0
                self.consumes[fid] = None if f.is_stocking_point else set()
                v = self.content(fid, f.output)
                if f.is_source:
                    self.sources.add(fid)
                    self.fcap[fid] = _mul(caps[fid], v[self.e] if v is not None else 0.0)
                else:
                    self.fcap[fid] = INF
                continue
            if r.kind == "fixed":
                self.consumes[fid] = set(r.inputs)
                self.gain[fid] = r.yield_
                out = self.content(fid, f.output)
                self.fcap[fid] = _mul(caps[fid], out[self.e])
                mix = sum(r.inputs.values())
                if coproducts:
                    for c, q in r.coproducts.items():
                        if out[self.e] > 0:
                            self.co[(fid, c)] = q / mix  # t element in co-product per t element in output
            else:
                self.consumes[fid] = {r.feed}
                feed = cm[r.feed].content
                carriers = [c for c, els in r.outputs.items() if element in els]
                self.gain[fid] = r.yield_ if carriers else 0.0
                els = [ELEMENT_INDEX[x] for x in r.outputs[f.output]]
                den = float(cm[f.output].content[els].sum()) or 1.0
                main_per_feed = r.yield_ * float(feed[els].sum()) / den
                feed_cap = caps[fid] / main_per_feed if main_per_feed > 0 else INF
                self.fcap[fid] = _mul(feed_cap, r.yield_ * feed[self.e]) if carriers and caps[fid] > 0 else 0.0
        self.lanes = {}
        for lid, ln in model.lanes.items():
            if lid in self.closed:
                continue
            v = self.content(ln.src, ln.commodity)
            cons = self.consumes.get(ln.dst)
            if v is None or v[self.e] <= 0 or (cons is not None and ln.commodity not in cons):
                continue
            cap = INF if ln.capacity is None else _mul(ln.capacity, v[self.e])
            kind = "coproduct" if (ln.src, ln.commodity) in self.co else "main"
            src_r = model.facilities[ln.src].recipe
            if kind == "main" and src_r is not None and src_r.kind == "fixed" and \
                    ln.commodity != model.facilities[ln.src].output and ln.commodity not in src_r.grades:
                continue
            self.lanes[lid] = (ln.src, ln.dst, cap, kind, ln.commodity)
        self.dem = {}
        for did, d in model.demand.items():
            v = self.content(d.at, d.commodity)
            if v is not None and v[self.e] > 0:
                self.dem[did] = (d.at, 1.0 / v[self.e])

    def content(self, fid, commodity):
        """Element content (vector, t per t) of ``commodity`` as shipped by ``fid``; None if it cannot ship it."""
        f = self.model.facilities[fid]
        cm = self.model.commodities
        r = f.recipe
        if commodity not in cm:
            return None
        if r is None:
            if commodity == f.output and f.output_content is not None:
                return f.output_content
            return cm[commodity].content
        if r.kind == "fixed":
            out = sum(x * cm[c].content for c, x in r.inputs.items())
            if commodity in r.grades:   # a grade: its part of the base output plus what the grade adds
                g = r.grades[commodity]
                return out * g.base + sum((x * cm[c].content for c, x in g.add.items()), 0.0)
            if commodity == f.output:
                return out
            if commodity in r.coproducts:
                return out / sum(r.inputs.values())
            return None
        if commodity not in r.outputs:
            return None
        idx = [ELEMENT_INDEX[x] for x in r.outputs[commodity]]
        feed = cm[r.feed].content
        mass = float(feed[idx].sum())
        v = np.zeros(len(feed))
        if mass > 0:
            v[idx] = feed[idx] * float(cm[commodity].content[idx].sum() or 1.0) / mass
        return v

    # -- magnet-equivalent network -------------------------------------------------------------
    def values(self, targets, drop_f=frozenset(), drop_l=frozenset()):
        """Magnet-equivalent t per t element entering (``vin``) and leaving (``vout``) each facility."""
        fac = [f for f in self.model.facilities if f not in drop_f]
        vout = {f: 0.0 for f in fac}
        for did in targets:
            if did in self.dem and self.dem[did][0] in vout:
                at, val = self.dem[did]
                vout[at] = max(vout[at], val)
        vin = {f: self.gain[f] * vout[f] for f in fac}
        lanes = [(s, d) for lid, (s, d, _, kind, _) in self.lanes.items()
                 if lid not in drop_l and s in vout and d in vout and kind == "main"]
        for _ in range(len(fac) + 2):
            changed = False
            for s, d in lanes:
                if vin[d] > vout[s] * (1 + 1e-12):
                    vout[s] = vin[d]
                    vin[s] = self.gain[s] * vout[s]
                    changed = True
            if not changed:
                break
        return vin, vout

    def network(self, targets, drop_f=frozenset(), drop_l=frozenset(), drop_d=frozenset(),
                co_supply=None) -> nx.DiGraph:
        """The magnet-equivalent flow network towards demand sinks ``targets``.

        Nodes: ``("in", f)``, ``("out", f)``, ``("co", f, c)``, ``("lane", id)``,
        ``("dem", id)`` and the super-source/sink. Capacities in t/yr of the
        demanded product; edges without ``capacity`` are unlimited. Edge
        attributes ``what`` (``facility``, ``coproduct``, ``lane``) and ``id``
        name the element of the model an edge stands for.
        """
        vin, vout = self.values(targets, drop_f, drop_l)
        self._vout = vout
        g = nx.DiGraph()
        g.add_node(_S)
        g.add_node(_T)

        def edge(u, v, cap, **attr):
            if cap == INF:
                g.add_edge(u, v, **attr)
            else:
                g.add_edge(u, v, capacity=float(cap), **attr)

        for f, vo in vout.items():
            if vo <= 0:
                continue
            edge(("in", f), ("out", f), _mul(self.fcap[f], vo), what="facility", id=f)
            if f in self.sources:
                edge(_S, ("in", f), INF)
        for (f, c), cap in (co_supply or {}).items():
            if f in drop_f or cap <= 0:
                continue
            best = max([vin[d] for lid, (s, d, _, kind, cc) in self.lanes.items()
                        if s == f and cc == c and lid not in drop_l and d in vin], default=0.0)
            if best > 0:
                edge(_S, ("co", f, c), _mul(cap, best), what="coproduct", id=f)
        live = []
        for lid, (s, d, cap, kind, c) in self.lanes.items():
            if lid in drop_l or s in drop_f or d in drop_f or vin.get(d, 0.0) <= 0:
                continue
            tail = ("out", s) if kind == "main" else ("co", s, c)
            if tail not in g or (kind == "main" and vout[s] <= 0):
                continue
            live.append((lid, tail, d, cap))
        pairs = {}
        for _, tail, d, _ in live:
            pairs[(tail, d)] = pairs.get((tail, d), 0) + 1
        for lid, tail, d, cap in live:
            if pairs[(tail, d)] == 1:  # a lone lane is an edge; parallel lanes get a node each
                edge(tail, ("in", d), _mul(cap, vin[d]), what="lane", id=lid)
            else:
                edge(tail, ("lane", lid), _mul(cap, vin[d]), what="lane", id=lid)
                edge(("lane", lid), ("in", d), INF)
        for did in targets:
            if did in self.dem and did not in drop_d and self.dem[did][0] not in drop_f:
                at = self.dem[did][0]
                if ("out", at) in g:
                    edge(("out", at), ("dem", did), INF, what="sink", id=did)
                    edge(("dem", did), _T, INF)
        return g

    def solve(self, targets, drop_f=frozenset(), drop_l=frozenset(), drop_d=frozenset(), cut=False) -> dict:
        """Maximum flow to ``targets`` and the minimum cut behind it.

        Returns
        -------
        dict
            ``value`` (t/yr, ``inf`` if some route has no finite capacity),
            ``cut`` (list of ``(what, id, capacity)``; only with ``cut=True``), ``flows``
            (``{(what, id): flow}`` on capacity edges).
        """
        co = {k: 0.0 for k in self.co if k[0] not in drop_f}
        res = self._solve(self.network(targets, drop_f, drop_l, drop_d, co))
        # recycled co-products: supply follows the maker's throughput; iterate to the fixed point,
        # with an Aitken step (geometric extrapolation) every third iteration
        hist = [co]
        for it in range(100):
            if not co or res["value"] in (0.0, INF):
                break
            vout = self._vout
            new = {(f, c): r * res["flows"].get(("facility", f), 0.0) / vout[f] if vout.get(f, 0) > 0 else 0.0
                   for (f, c), r in self.co.items() if f not in drop_f}
            if all(abs(new[k] - co[k]) <= 1e-12 * max(1.0, new[k]) for k in new):
                break
            hist.append(new)
            if len(hist) >= 3 and it % 3 == 1:
                c0, c1, c2 = hist[-3:]
                d1 = sum(abs(c1[k] - c0[k]) for k in c2)
                d2 = sum(abs(c2[k] - c1[k]) for k in c2)
                q = d2 / d1 if d1 > 0 else 0.0
                if 0 < q < 0.95:
                    new = {k: max(0.0, c2[k] + (c2[k] - c1[k]) * q / (1 - q)) for k in c2}
            co = new
            prev = res["value"]
            res = self._solve(self.network(targets, drop_f, drop_l, drop_d, co))
            if abs(res["value"] - prev) <= 1e-9 * max(1.0, res["value"]):
                break
        if cut:
            res["cut"] = self._cut(res)
        res.pop("_g", None)
        res.pop("_R", None)
        return res

    def _solve(self, g):
        if not g.out_degree(_S) or not g.in_degree(_T):
            return {"value": 0.0, "cut": [], "flows": {}}
        try:
            R = nx.algorithms.flow.boykov_kolmogorov(g, _S, _T)
        except nx.NetworkXUnbounded:
            return {"value": INF, "cut": [], "flows": {}}
        value = float(R.graph["flow_value"])
        flows = {}
        for u, v, a in g.edges(data=True):
            if "what" in a and a["what"] != "sink":
                x = R[u][v]["flow"] if R.has_edge(u, v) else 0.0  # zero-capacity edges are not in R
                if x > _EPS:
                    key = (a["what"], a["id"])
                    flows[key] = flows.get(key, 0.0) + x
        return {"value": value, "flows": flows, "_g": g, "_R": R}

    @staticmethod
    def _cut(res):
        """The minimum cut closest to the sink, as ``networkx.minimum_cut`` reports it."""
        if "_R" not in res:
            return res.get("cut", [])
        g, R = res["_g"], res["_R"]
        saturated = [(u, v) for u, v, a in R.edges(data=True)
                     if a["flow"] >= a["capacity"] - 1e-9 * max(1.0, a["capacity"])]
        R.remove_edges_from(saturated)
        sink_side = set(nx.ancestors(R, _T)) | {_T}
        cut = []
        for u, v, a in g.edges(data=True):
            if u not in sink_side and v in sink_side and "capacity" in a:
                cut.append((a.get("what"), a.get("id"), a["capacity"]))
        return cut

    def regions(self) -> dict:
        """``{region: [demand ids]}`` in a stable order."""
        out = {}
        for did, d in self.model.demand.items():
            out.setdefault(d.region, []).append(did)
        return dict(sorted(out.items()))


def _problem(model, date, element, coproducts=True, problem=None):
    return problem if problem is not None else FlowProblem(model, date, element, coproducts)


def _describe_cut(model, cut):
    fac, lanes, countries = [], [], {}
    for what, ident, cap in sorted(cut, key=lambda x: -x[2]):
        if cap <= 0:  # facilities not (yet) operating: in the cut, but they bind nothing
            continue
        if what in ("facility", "coproduct"):
            f = model.facilities[ident]
            fac.append({"id": ident, "stage": f.stage, "country": f.country, "capacity_t_yr": cap,
                        **({"coproduct": True} if what == "coproduct" else {})})
            countries[f.country] = countries.get(f.country, 0.0) + cap
        elif what == "lane":
            ln = model.lanes[ident]
            a, b = model.facilities[ln.src].country, model.facilities[ln.dst].country
            lanes.append({"id": ident, "from": ln.src, "to": ln.dst, "countries": f"{a}->{b}",
                          "commodity": ln.commodity, "capacity_t_yr": cap})
            countries[a] = countries.get(a, 0.0) + cap
    return fac, lanes, dict(sorted(countries.items(), key=lambda kv: -kv[1]))


def capacity_bounds(model, date=None, element="NdPr", coproducts=True, problem=None) -> dict:
    """Upper bound on the supply each demand region can receive, with the cut behind it.

    Parameters
    ----------
    model : Model
        A loaded model (a scenario's disruptions and capacities included).
    date : date, str or float, optional
        When to read capacities, outages and lane closures (default: the model start).
    element : str
        Basis element of the magnet-equivalent unit (default ``"NdPr"``).
    coproducts : bool
        Count recycled co-products (process scrap) in proportion to their
        maker's throughput (default True).

    Returns
    -------
    dict
        ``{region: {...}}`` plus :data:`ALL` for every region together. Each
        holds ``bound_t_yr`` (t of the demanded product per year; ``inf`` when
        unbounded), ``demand_t_yr`` (expected demand at the date),
        ``coverage`` (bound / demand), ``cut_facilities``, ``cut_lanes``
        (lists of dicts with ``id``, ``country`` or ``countries`` and
        ``capacity_t_yr`` in the same unit) and ``cut_countries``
        (``{country: cut capacity}``).

    Examples
    --------
    >>> b = capacity_bounds(load_model("models/examples/tutorial.toml"))   # doctest: +SKIP
    >>> b["all"]["cut_facilities"][0]["id"]                                # doctest: +SKIP
    'alloy_kr'
    """
    fp = _problem(model, date, element, coproducts, problem)
    groups = fp.regions()
    groups[ALL] = list(model.demand)
    out = {}
    for region, targets in groups.items():
        res = fp.solve(targets, cut=True)
        fac, lanes, countries = _describe_cut(model, res["cut"])
        dem = sum(demand_at(model, d, fp.day) for d in targets)
        out[region] = {"bound_t_yr": res["value"], "demand_t_yr": dem,
                       "coverage": (res["value"] / dem) if dem > 0 else None,
                       "cut_facilities": fac, "cut_lanes": lanes, "cut_countries": countries}
    return out


def single_points_of_failure(model, date=None, region=None, element="NdPr", coproducts=True, problem=None,
                             top=None) -> list:
    """The bound lost when each single facility or lane is removed, largest loss first.

    Only facilities and lanes that carry flow in the maximum flow are tried
    (removing anything else cannot lower the bound); those whose removal
    loses nothing are left out.

    Parameters
    ----------
    region : str, optional
        A demand region; None for all regions together.
    top : int, optional
        Keep only the ``top`` largest losses. Candidates are tried in order
        of the flow they carry and the search stops once that flow (the most
        its removal could lose) falls below the ``top``-th loss found, which
        saves most of the work on large models.

    Returns
    -------
    list of dict
        ``kind`` (``facility`` or ``lane``), ``id``, ``country`` (``A->B`` for
        lanes), ``bound_t_yr`` (without it), ``loss_t_yr`` and ``loss_share``.

    Examples
    --------
    >>> single_points_of_failure(m)[0]["id"]        # doctest: +SKIP
    'alloy_kr'
    """
    fp = _problem(model, date, element, coproducts, problem)
    groups = fp.regions()
    if region is None:
        targets = list(model.demand)
    elif region in groups:
        targets = groups[region]
    else:
        raise ModelError([Problem("--region", "", f"no demand region '{region}'; the model has: "
                                  f"{', '.join(groups) or 'none'}")])
    base = fp.solve(targets)
    out = []
    tried = set()
    cands = {}
    for (what, ident), x in base["flows"].items():
        key = ("lane" if what == "lane" else "facility", ident)
        cands[key] = cands.get(key, 0.0) + x
    for (kind, ident), x in sorted(cands.items(), key=lambda kv: (-kv[1], kv[0])):
        if top is not None and len(out) >= top and x < sorted(r["loss_t_yr"] for r in out)[-top] * (1 - 1e-9):
            break
        if (kind, ident) in tried:
            continue
        tried.add((kind, ident))
        if kind == "facility":
            res = fp.solve(targets, drop_f=frozenset([ident]))
            country = model.facilities[ident].country
        else:
            res = fp.solve(targets, drop_l=frozenset([ident]))
            ln = model.lanes[ident]
            country = f"{model.facilities[ln.src].country}->{model.facilities[ln.dst].country}"
        loss = base["value"] - res["value"] if base["value"] != INF else (INF if res["value"] != INF else 0.0)
        if loss > 1e-9 * max(1.0, abs(base["value"]) if base["value"] != INF else 1.0):
            out.append({"kind": kind, "id": ident, "country": country, "bound_t_yr": res["value"],
                        "loss_t_yr": loss,
                        "loss_share": (loss / base["value"]) if 0 < base["value"] < INF else None})
    out.sort(key=lambda r: (-r["loss_t_yr"], r["kind"], r["id"]))
    return out[:top] if top is not None else out


def _countries(model):
    return sorted({f.country for f in model.facilities.values() if f.stage != "buffer"})


def _blocked(model, fp, src_country, dst_countries):
    """Lanes and sinks carrying flows from ``src_country`` to any of ``dst_countries``."""
    fac = model.facilities
    lanes = frozenset(lid for lid, ln in model.lanes.items()
                      if fac[ln.src].country == src_country and fac[ln.dst].country in dst_countries)
    dem = frozenset(did for did, d in model.demand.items()
                    if fac[d.at].country == src_country and d.region in dst_countries and d.region != src_country)
    return lanes, dem


def country_stress(model, date=None, element="NdPr", pairs=(), coproducts=True, problem=None) -> dict:
    """Bounds per region when a country's facilities go, or its exports are blocked.

    Parameters
    ----------
    pairs : iterable of (str, str)
        Extra ``(exporter, importer)`` pairs whose flows to block; every
        country is also tried against all others (``"CN->*"``).

    Returns
    -------
    dict
        ``baseline`` (``{region: bound}``), ``facilities_removed``
        (``{country: {region: bound}}``: every facility of the country
        removed) and ``exports_blocked`` (``{"X->*" or "X->Y": {region:
        bound}}``: all lanes from facilities in X to facilities or demand
        in the other country or countries removed).

    Examples
    --------
    >>> s = country_stress(m)                              # doctest: +SKIP
    >>> s["facilities_removed"]["JP"]["all"]               # doctest: +SKIP
    0.0
    """
    fp = _problem(model, date, element, coproducts, problem)
    groups = fp.regions()
    groups[ALL] = list(model.demand)

    base = {r: fp.solve(t) for r, t in groups.items()}

    def bounds(drop_f=frozenset(), drop_l=frozenset(), drop_d=frozenset()):
        out = {}
        for r, t in groups.items():
            used = base[r]["flows"]
            hit = any(("facility", f) in used or ("coproduct", f) in used for f in drop_f) or \
                any(("lane", x) in used for x in drop_l) or bool(set(drop_d) & set(t))
            # removing what carries no flow cannot lower a maximum flow
            out[r] = fp.solve(t, drop_f, drop_l, drop_d)["value"] if hit else base[r]["value"]
        return out

    countries = _countries(model)
    everyone = {f.country for f in model.facilities.values()} | {d.region for d in model.demand.values()}
    out = {"baseline": bounds(), "facilities_removed": {}, "exports_blocked": {}}
    for c in countries:
        drop = frozenset(fid for fid, f in model.facilities.items() if f.country == c and f.stage != "buffer")
        out["facilities_removed"][c] = bounds(drop_f=drop)
    for c in countries:
        lanes, dem = _blocked(model, fp, c, everyone - {c})
        out["exports_blocked"][f"{c}->*"] = bounds(drop_l=lanes, drop_d=dem)
    for a, b in pairs:
        lanes, dem = _blocked(model, fp, a, {b})
        out["exports_blocked"][f"{a}->{b}"] = bounds(drop_l=lanes, drop_d=dem)
    return out
