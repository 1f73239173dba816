"""The validated model: commodities, facilities, lanes, demand and the network graph."""
from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

from ..materials import RE_MASK
from . import fields as F
from .errors import ModelError, Problem
from .load import Document, allowed_roots, merge_documents, read_document, resolve_model_path
from .overlay import apply_overrides
from .controls import parse_controls
from .disruptions import KINDS
from .market import parse_market
from .parse import (parse_calendar, parse_commodities, parse_demand, parse_disruptions, parse_facilities,
                    parse_lanes)
from .specs import Calendar

__all__ = ["Model", "load_model", "list_scenarios", "scenario_path", "overlay_problems", "content_digest",
           "NEW_ENTITY_KEYS"]

TOP_KEYS = {"model", "commodities", "facilities", "lanes", "demand", "options", "scenario", "disruptions",
            "controls", "market"}
SCENARIO_KEYS = {"name", "description", "references", "options", "start", "source", "note"}


@dataclass
class Model:
    """A validated network, ready to simulate.

    Build it with :func:`load_model`. ``graph`` is a ``networkx.MultiDiGraph``
    whose nodes are facility and demand ids (attribute ``kind`` is
    ``"facility"`` or ``"demand"``) and whose edges are lanes (key = lane id)
    plus an edge from each stocking point to the sinks it serves.
    """

    name: str
    description: str
    calendar: Calendar
    period_days: float
    years: float
    commodities: dict
    facilities: dict
    lanes: dict
    demand: dict
    disruptions: list
    scenario: dict
    controls: list = field(default_factory=list)
    files: dict = field(default_factory=dict)
    path: str = ""
    graph: nx.MultiDiGraph = None
    content_sha256: str = ""
    market: object = None   # the [market] section (supplysim.model.market.MarketSpec), None without one
    periods_per_month: int | None = None   # periods are calendar months cut in this many parts (else period_days)
    spin_up_days: float = 0.0              # days simulated before day 0 with day 0's demand and capacity
    track_origin: bool = True              # follow the countries material passed through (origin blocks)

    @property
    def scenario_name(self) -> str:
        return self.scenario.get("name", "baseline")

    def digest(self) -> str:
        """SHA-256 over the model's merged content (scenario and options applied), not its paths.

        (A model built by hand, without :func:`load_model`, hashes the text of its files.)
        """
        if self.content_sha256:
            return self.content_sha256
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode())
            h.update(self.files[name].encode())
        return h.hexdigest()

    def summary(self) -> dict:
        """Facilities by stage and country, capacity by stage, China's share per stage."""
        by_stage = {}
        for f in self.facilities.values():
            if f.stage == "buffer":
                continue
            s = by_stage.setdefault(f.stage, {"facilities": 0, "capacity_t_yr": 0.0, "by_country": {}})
            s["facilities"] += 1
            cap = f.capacity.at(0.0) if f.capacity is not None else 0.0
            s["capacity_t_yr"] += cap
            c = s["by_country"].setdefault(f.country, {"facilities": 0, "capacity_t_yr": 0.0})
            c["facilities"] += 1
            c["capacity_t_yr"] += cap
        for s in by_stage.values():
            tot = s["capacity_t_yr"]
            for c in s["by_country"].values():
                c["share"] = c["capacity_t_yr"] / tot if tot > 0 else 0.0
        dem = {}
        for d in self.demand.values():
            dem[d.region] = dem.get(d.region, 0.0) + d.rate_per_day * 365.0
        return {"name": self.name, "scenario": self.scenario_name, "stages": by_stage,
                "demand_t_yr_by_region": dem, "lanes": len(self.lanes)}


def scenario_path(model_path, name) -> Path:
    """Where scenario ``name`` of a model lives (``scenarios/NAME.toml`` beside the model).

    A name ending in ``.toml`` that names an existing file is that file.
    """
    p = Path(name)
    if p.suffix == ".toml" and p.exists():
        return p
    return resolve_model_path(model_path).parent / "scenarios" / f"{name}.toml"


def _plain_name(name) -> bool:
    """A scenario name (not a path): it cannot lead out of the model's ``scenarios/`` folder."""
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") \
        and name.isprintable() and len(name) <= 200


def list_scenarios(model_path) -> dict:
    """Names and one-line descriptions of the scenarios shipped beside a model."""
    import tomllib
    d = resolve_model_path(model_path).parent / "scenarios"
    out = {}
    for f in sorted(d.glob("*.toml")) if d.is_dir() else []:
        try:
            sc = tomllib.loads(f.read_text(encoding="utf-8")).get("scenario", {})
            desc = str(sc.get("description", "")) if isinstance(sc, dict) else ""
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            desc = "(not a valid TOML file)"
        out[f.stem] = desc
    return out


#: Keys an overlay (scenario, option, override) must give to add an entity the model lacks.
#: An overlay that names an unknown id without them is taken for a change to a misspelt id
#: (``[lanes.cn-jp] enabled = false`` where the lane is ``cn_jp``), which would otherwise do nothing.
NEW_ENTITY_KEYS = {"commodities": ("content",), "facilities": ("stage", "country", "output"),
                   "lanes": ("from", "to", "commodity"), "demand": ("region", "commodity"),
                   "disruptions": ("kind", "start"), "controls": ("issuer",)}


def overlay_problems(base: Document, over: Document, what="the model") -> list:
    """Problems of an overlay that changes ids ``base`` does not define (see :data:`NEW_ENTITY_KEYS`).

    Examples
    --------
    >>> base = Document({"lanes": {"a-b": {"from": "a"}}}, {}, {}, "m.toml")
    >>> over = Document({"lanes": {"a_b": {"enabled": False}}}, {("lanes", "a_b"): "s.toml"}, {}, "s.toml")
    >>> print(overlay_problems(base, over)[0])
    s.toml: lanes.a_b: the model has no lane 'a_b' to change (did you mean 'a-b'?); to add one, give from, to, commodity
    """
    out = []
    for kind, needed in NEW_ENTITY_KEYS.items():
        known, given = base.data.get(kind), over.data.get(kind)
        if not isinstance(given, dict):
            continue
        known = known if isinstance(known, dict) else {}
        for eid, t in given.items():
            if eid in known or not isinstance(t, dict) or all(k in t for k in needed):
                continue
            near = difflib.get_close_matches(str(eid), [str(k) for k in known], n=1, cutoff=0.6)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            single = {"commodities": "commodity", "facilities": "facility", "disruptions": "disruption",
                      "controls": "control rule"}.get(kind, kind.rstrip("s"))
            out.append(Problem(over.file_of((kind, eid)), f"{kind}.{eid}",
                               f"{what} has no {single} '{eid}' to change{hint}; to add one, give "
                               f"{', '.join(needed)}"))
    return out


def _without_unknown_ids(base, over) -> list:
    """The problems of :func:`overlay_problems`; the offending entries are taken out of ``over``
    (so they do not also show up as new entities with missing keys)."""
    probs = overlay_problems(base, over)
    for p in probs:
        kind, eid = p.path.split(".", 1)
        over.data[kind].pop(eid, None)
    return probs


def _str_list(sc, key, file, problems):
    v = sc.get(key, [])
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return list(v)
    problems.append(Problem(file, f"scenario.{key}", f"expected a list of names, found {F._show(v)}"))
    return []


def _apply_scenario(doc, model_path, scenario, roots):
    names = [s for s in str(scenario).split("+") if s] if scenario else []
    if len(names) > 1 and scenario_path(model_path, str(scenario)).is_file():
        names = [str(scenario)]   # a composite shipped as a file of its own
    meta = {"name": "baseline", "description": "", "options": [], "references": []}
    own = doc.data.get("scenario", {})
    shown, problems = [], []
    if isinstance(own, dict):
        meta["options"] += _str_list(own, "options", doc.file_of(("scenario", "options")), problems)
        _str_list(own, "references", doc.file_of(("scenario", "references")), problems)
    for n in names:
        p = scenario_path(model_path, n)
        explicit = p.suffix == ".toml" and Path(n) == p
        if not explicit and not _plain_name(n):
            raise ModelError([Problem(_display_name(model_path), "--scenario",
                                      f"expected a scenario name or a .toml file, found {n!r}")])
        if not p.is_file():
            avail = ", ".join(list_scenarios(model_path)) or "none"
            raise ModelError([Problem(str(p), "", f"scenario '{n}' not found (available: {avail})")])
        sdoc = read_document(p, roots=roots + (p.resolve().parent,))
        problems += _without_unknown_ids(doc, sdoc)
        sc = sdoc.data.get("scenario", {})
        shown.append(str(sc.get("name", p.stem)) if isinstance(sc, dict) else p.stem)
        meta["name"] = "+".join(shown)
        if isinstance(sc, dict):
            meta["options"] += _str_list(sc, "options", sdoc.file_of(("scenario", "options")), problems)
            meta["references"] += _str_list(sc, "references", sdoc.file_of(("scenario", "references")), problems)
            meta["description"] = (meta["description"] + " + " if meta["description"] else "") + \
                str(sc.get("description", ""))
        doc = merge_documents(doc, sdoc)
    return doc, meta, problems


def _display_name(path):
    return str(path)


def _apply_options(ck, doc, names):
    opts = doc.data.get("options", {})
    opts = opts if isinstance(opts, dict) else {}
    for n in names:
        if n not in opts or not isinstance(opts[n], dict):
            ck.error(("scenario", "options"), f"unknown option '{n}'; the model has: {', '.join(opts) or 'none'}")
            continue
        sub = {k: v for k, v in opts[n].items() if k not in ("description", "source", "note")}
        bad = [k for k in sub if k not in TOP_KEYS - {"options", "scenario", "model"}]
        for k in bad:
            ck.error(("options", n, k), "unknown key; an option holds facilities, lanes, demand, commodities, "
                                        "disruptions, controls")
            sub.pop(k)
        origin = {k[2:]: f for k, f in doc.origin.items() if k[:2] == ("options", n) and len(k) > 2}
        over = Document(sub, origin, {}, doc.file_of(("options", n)))
        ck.problems += _without_unknown_ids(doc, over)
        doc = merge_documents(doc, over)
    return doc


def content_digest(data) -> str:
    """SHA-256 over a model's merged tables: the same content gives the same digest from any folder
    or path spelling, and comments or file layout do not change it.

    Examples
    --------
    >>> content_digest({"a": 1, "b": [1.5]}) == content_digest({"b": [1.5], "a": 1})
    True
    """
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def load_model(path, scenario=None, options=(), overrides=None, allow=()) -> Model:
    """Load, merge and validate a model and, optionally, a scenario.

    Parameters
    ----------
    path : str or Path
        A TOML file or a directory holding ``model.toml``.
    scenario : str, optional
        A scenario name under ``scenarios/`` beside the model, a path to a
        scenario file, or several names joined by ``+`` (applied in order).
    options : iterable of str
        Named options of the model to switch on, in addition to those the
        scenario names.
    overrides : mapping or Overrides, optional
        ``{dotted key path: value}`` set on the model with its scenario and
        options, before validation (see :mod:`supplysim.model.overlay`); every
        path must exist. They are recorded with the model's files (and so in
        its digest).
    allow : iterable of path
        Folders outside the model's own that ``include`` and ``extends`` may
        read from (see :mod:`supplysim.model.load`).

    Raises
    ------
    ModelError
        With every problem found, each naming the file and the key.

    Examples
    --------
    >>> from supplysim.paths import models_dir
    >>> m = load_model(models_dir() / "examples" / "tutorial.toml")
    >>> sorted(m.facilities)[:2]
    ['alloy_kr', 'eu_wind']
    """
    roots = allowed_roots(path, allow)
    doc = read_document(path, roots=roots)
    doc, meta, overlay = _apply_scenario(doc, path, scenario, roots)
    ck = F.Checker(doc)
    ck.problems += overlay
    data = ck.table(doc.data, (), TOP_KEYS)
    sc = ck.table(data.get("scenario", {}), ("scenario",), SCENARIO_KEYS)
    ck.get(sc, ("scenario",), "name", F.label, None)
    ck.get(sc, ("scenario",), "description", F.string, None)
    doc = _apply_options(ck, doc, list(meta["options"]) + list(options))
    if overrides:
        doc = apply_overrides(doc, overrides)
    ck.doc = doc
    data = doc.data
    head = parse_calendar(ck, data.get("model", {}))
    cal, period, years = head["calendar"], head["period_days"], head["years"]
    commodities = parse_commodities(ck, data.get("commodities", {}))
    facilities = parse_facilities(ck, ck.table(data.get("facilities", {}), ("facilities",),
                                               data.get("facilities", {})), cal, commodities)
    lanes = parse_lanes(ck, ck.table(data.get("lanes", {}), ("lanes",), data.get("lanes", {})))
    # demand orders once per model period unless it says otherwise (None: on the calendar periods)
    sinks, buffers = parse_demand(ck, ck.table(data.get("demand", {}), ("demand",), data.get("demand", {})),
                                  cal, period if head["periods_per_month"] is None else None)
    disruptions = parse_disruptions(ck, ck.table(data.get("disruptions", {}), ("disruptions",),
                                                 data.get("disruptions", {})), cal)
    controls = parse_controls(ck, ck.table(data.get("controls", {}), ("controls",), data.get("controls", {})),
                              cal, commodities)
    market = parse_market(ck, data.get("market"), sinks, commodities, facilities)
    for did in set(buffers) & set(facilities):
        ck.error(("demand", did), f"id '{did}' is also a facility id; sink ids must be distinct")
    nodes = {**facilities, **{k: v for k, v in buffers.items() if k not in facilities}}
    if not facilities and not ck.problems:
        ck.error(("facilities",), "the model has no (enabled) facility: expected at least one [facilities.ID]")
    if not sinks and not ck.problems:
        ck.error(("demand",), "the model has no (enabled) demand: expected at least one [demand.ID]")
    _check_references(ck, commodities, nodes, lanes, sinks, disruptions)
    for rule in controls:
        if rule.basis == "value":
            for cid, com in commodities.items():
                if com.value_per_t is None and any(com.content[i] > 0 for i in rule.element_idx):
                    ck.error(("commodities", cid, "value_per_t"),
                             f"needed by controls.{rule.id} (basis 'value'): a value per t, found none")
        if rule.extraterritorial and not head["track_origin"]:
            ck.error(("model", "track_origin"), f"false, but controls.{rule.id} is extraterritorial: it reads "
                     "the issuer-origin content of shipments; expected true")
        for exporters, _, _ in rule.general_licences:
            for e in exporters:
                if e not in nodes:
                    ck.error(("controls", rule.id, "general_licences"), f"unknown facility '{e}'")
    if ck.problems:
        raise ModelError(ck.problems)
    model = Model(head["name"] or Path(str(path)).stem, head["description"], cal, period, years, commodities,
                  nodes, lanes, sinks, disruptions, meta, controls, dict(doc.files), str(path),
                  content_sha256=content_digest(doc.data), market=market,
                  periods_per_month=head["periods_per_month"], spin_up_days=head["spin_up_days"],
                  track_origin=head["track_origin"])
    model.graph = _graph(model)
    _check_reachability(ck, model)
    if ck.problems:
        raise ModelError(ck.problems)
    return model


def _check_references(ck, commodities, nodes, lanes, sinks, disruptions):
    # a commodity whose content was rejected would fail the recipe balance for no reason of its own
    bad_content = {p.path.split(".")[1] for p in ck.problems if p.path.startswith("commodities.")}
    def need_commodity(c, path):
        if c is not None and c not in commodities:
            ck.error(path, f"unknown commodity '{c}'; known: {', '.join(sorted(commodities)) or 'none'}")
            return False
        return c is not None

    for f in nodes.values():
        p = ("facilities", f.id) if f.stage != "buffer" else ("demand", f.id)
        if f.stage != "buffer":
            need_commodity(f.output, p + ("output",))
        for c in f.initial_stock:
            need_commodity(c, p + ("initial_stock", c))
        for c in f.sourcing:
            need_commodity(c, p + ("sourcing", c))
        r = f.recipe
        if r is None:
            continue
        q = p + ("recipe",)
        if r.kind == "fixed":
            ok = all([need_commodity(c, q + ("inputs", c)) for c in r.inputs] +
                     [need_commodity(c, q + ("coproducts", c)) for c in r.coproducts])
            held = sum(x * commodities[c].content.sum() for c, x in r.inputs.items()) if ok else 0.0
            if held > 1.01 and not set(r.inputs) & bad_content:
                # the output's composition is Σ inputs × content: inputs in t per t of output mass
                # (1% of slack for contents and inputs rounded in the data)
                ck.error(q + ("inputs",), f"a tonne of output would hold {held:.6g} t of elements; expected at "
                                          "most 1, within 1% (give inputs per tonne of input mix and the yield as output "
                                          "per tonne of mix)")
            # each grade of a graded recipe is checked with what it adds and its share of the base inputs
            # (a plain recipe: its output, with all of them)
            outs = {g: (x.add, x.base) for g, x in r.grades.items()} if r.grades else {f.output: ({}, 1.0)}
            for g, (add, base) in outs.items():
                if not (ok and r.inputs and g in commodities and all(c in commodities for c in add)) or \
                        {g, *r.inputs, *r.coproducts, *add} & bad_content:
                    continue
                re_in = (sum(base * x / r.yield_ * commodities[c].content for c, x in r.inputs.items())
                         + sum((x * commodities[c].content for c, x in add.items()), 0.0))[RE_MASK].sum()
                re_out = commodities[g].content[RE_MASK].sum() + sum(
                    base * x * commodities[c].content[RE_MASK].sum() for c, x in r.coproducts.items())
                if re_out > re_in * (1 + 1e-9) + 1e-12:
                    where = q + ("grades", g) if r.grades else q
                    ck.error(where, f"outputs hold more rare earth than inputs: {re_out:.6g} t vs {re_in:.6g} t "
                                    "per t of output (check inputs, yield, coproducts and commodity content)")
                mix = sum(r.inputs.values())
                if sum(r.coproducts.values()) > mix * (1 / r.yield_ - 1) + 1e-9:
                    ck.error(q + ("coproducts",), "coproducts exceed the input left over by the yield: at most "
                                                  f"{mix * (1 / r.yield_ - 1):.6g} t per t of output")
            if r.grades:
                _check_grades(ck, f, q, need_commodity)
        else:
            need_commodity(r.feed, q + ("feed",))
            for c in r.outputs:
                need_commodity(c, q + ("outputs", c))
            if f.output not in r.outputs:
                ck.error(p + ("output",), f"the main output '{f.output}' must be one of the recipe outputs "
                                          f"({', '.join(r.outputs)})")
    for lane in lanes.values():
        p = ("lanes", lane.id)
        need_commodity(lane.commodity, p + ("commodity",))
        for end, key in ((lane.src, "from"), (lane.dst, "to")):
            if end is not None and end not in nodes:
                hint = " (a sink with 'at' takes no lanes)" if end in sinks else ""
                ck.error(p + (key,), f"unknown facility '{end}'{hint}")
        if lane.src == lane.dst and lane.src is not None:
            ck.error(p, "a lane must join two different nodes")
        dst = nodes.get(lane.dst)
        if dst is not None and lane.commodity in commodities:
            if lane.commodity not in dst.sourcing:
                ck.error(p + ("to",), f"'{lane.dst}' has no sourcing policy for '{lane.commodity}' "
                                      f"(add [facilities.{lane.dst}.sourcing.{lane.commodity}])")
    for d in sinks.values():
        p = ("demand", d.id)
        need_commodity(d.commodity, p + ("commodity",))
        if d.at not in nodes:
            ck.error(p + ("at",), f"unknown facility '{d.at}'")
    for f in nodes.values():
        inbound = {lane.commodity for lane in lanes.values() if lane.dst == f.id}
        for c in f.sourcing:
            if c not in inbound:
                pth = ("facilities", f.id, "sourcing", c) if f.stage != "buffer" else ("demand", f.id, "sourcing")
                ck.error(pth, f"no lane brings '{c}' to '{f.id}'")
    regions = {d.region for d in sinks.values()}
    groups = {d.group for d in sinks.values() if d.group}   # a graded entry stands for all its grades' sinks
    for dis in disruptions:
        key = KINDS[dis.kind].targets
        pool = {"facilities": nodes, "lanes": lanes, "demand": set(sinks) | groups}[key]
        for tgt in dis.targets:
            if tgt.startswith("region:"):
                if tgt[7:] not in regions:
                    ck.error(("disruptions", dis.id, "regions"), f"unknown region '{tgt[7:]}'; demand regions: "
                                                                 f"{', '.join(sorted(regions)) or 'none'}")
            elif tgt not in pool:
                near = difflib.get_close_matches(tgt, list(pool), n=1)
                ck.error(("disruptions", dis.id, key), f"unknown id '{tgt}' for a {dis.kind}"
                                                       + (f" (did you mean '{near[0]}'?)" if near else ""))


def _check_grades(ck, f, q, need_commodity):
    """A graded recipe: known grade and added commodities, and the facility's output one of its grades."""
    r = f.recipe
    for g, spec in r.grades.items():
        need_commodity(g, q + ("grades", g))
        for c in spec.add:
            need_commodity(c, q + ("grades", g, "add", c))
    if f.output not in r.grades:
        ck.error(("facilities", f.id, "output"), f"a recipe with grades makes them: the output '{f.output}' must "
                                                 f"be one of its grades ({', '.join(r.grades)})")


def _graph(model: Model) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for f in model.facilities.values():
        g.add_node(f.id, kind="facility", stage=f.stage, country=f.country, spec=f)
    for d in model.demand.values():
        if d.id not in g:
            g.add_node(d.id, kind="demand", stage="demand", country=d.region, spec=d)
        else:
            g.nodes[d.id]["demand"] = d
    for lane in model.lanes.values():
        g.add_edge(lane.src, lane.dst, key=lane.id, commodity=lane.commodity, spec=lane)
    for d in model.demand.values():
        if d.at != d.id:
            g.add_edge(d.at, d.id, key=f"sink:{d.id}", commodity=d.commodity, spec=None)
    return g


def _check_reachability(ck, model: Model):
    g = model.graph
    sources = [f.id for f in model.facilities.values() if f.is_source]
    reach = set(sources)
    for s in sources:
        reach |= nx.descendants(g, s)
    for d in model.demand.values():
        if d.id not in reach and d.at not in reach:
            ck.error(("demand", d.id), "no mine or source can reach this demand (check lanes, 'at' and "
                                       "enabled facilities)")
