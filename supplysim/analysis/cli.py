"""The ``supplysim analyze`` command: capacity bounds, chokepoints and concentration.

Examples
--------
>>> from supplysim.model import load_model
>>> from supplysim.paths import models_dir
>>> r = report(load_model(models_dir() / "examples" / "tutorial.toml"))
>>> sorted(r)
['betweenness', 'bounds', 'closed_lanes', 'concentration', 'country_stress', 'date', 'day', 'element', 'scenario', 'single_points_of_failure', 'unit']
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

__all__ = ["register", "cmd_analyze", "report", "format_report", "jsonable"]


def register(subparsers):
    """Add the ``analyze`` subcommand to the ``supplysim`` parser."""
    a = subparsers.add_parser(
        "analyze", help="static bounds, chokepoints and concentration (no simulation)",
        description="For each demand region, the most magnet supply per year the network can carry at a date "
                    "(maximum flow in magnet-equivalent tonnes), the minimum cut behind it, single points of "
                    "failure, country stress tests, concentration per stage and betweenness. See docs/analysis.md.")
    a.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    a.add_argument("--scenario", action="append", default=None,
                   help="scenario name (a+b to combine) or file; repeat to compare several; 'all' for the "
                        "baseline and every shipped scenario (default: baseline)")
    a.add_argument("--date", default=None, help="date YYYY-MM-DD at which to read capacities and disruptions "
                                                "(default: the model start)")
    a.add_argument("--element", default="NdPr", help="basis element of the magnet-equivalent unit (default NdPr)")
    a.add_argument("--top", type=int, default=10, help="rows per ranked list (default 10)")
    a.add_argument("--json", action="store_true", help="print the results as JSON")
    a.add_argument("--out", default=None, help="write figures (network map with the cut, bounds bars) and "
                                               "analysis.json to DIR")
    a.set_defaults(func=cmd_analyze)
    return a


def report(model, date=None, element="NdPr", top=20) -> dict:
    """Every static result for one loaded model (and its scenario) at a date.

    Returns
    -------
    dict
        ``scenario``, ``date``, ``day``, ``element``, ``unit``, ``bounds``
        (:func:`~supplysim.analysis.capacity_bounds`),
        ``single_points_of_failure`` (all regions together, the ``top`` largest),
        ``country_stress``, ``concentration``, ``betweenness``.
    """
    from . import bounds as B
    from .concentration import betweenness, concentration
    fp = B.FlowProblem(model, date, element)
    day = fp.day
    return {"scenario": model.scenario_name, "date": model.calendar.date(day).isoformat(), "day": day,
            "element": element,
            "unit": f"t of demanded product per year (magnet-equivalent, {element} basis)",
            "closed_lanes": sorted(fp.closed),
            "bounds": B.capacity_bounds(model, day, element, problem=fp),
            "single_points_of_failure": B.single_points_of_failure(model, day, element=element, problem=fp,
                                                                    top=top),
            "country_stress": B.country_stress(model, day, element, problem=fp),
            "concentration": concentration(model, day),
            "betweenness": betweenness(model)}


def jsonable(x):
    """``x`` with infinities as None and tuples as lists, ready for ``json.dumps``."""
    if isinstance(x, float):
        return None if math.isinf(x) or math.isnan(x) else x
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set)):
        return [jsonable(v) for v in x]
    return x


def _t(x):
    if x is None:
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "unbounded"
    return f"{x:,.0f}"


def _pct(x):
    return "-" if x is None or (isinstance(x, float) and math.isinf(x)) else f"{x:.0%}"


def format_report(r: dict, top: int = 10) -> str:
    """A readable text version of :func:`report`."""
    L = [f"scenario {r['scenario']} at {r['date']} (day {r['day']:g}); unit: {r['unit']}"]
    if r["closed_lanes"]:
        L.append(f"  closed lanes: {', '.join(r['closed_lanes'])}")
    L.append(f"  {'region':<10}{'bound t/yr':>12}{'demand t/yr':>13}{'cover':>7}  minimum cut (t/yr)")
    for reg, b in r["bounds"].items():
        cut = [f"{c['id']}{' (scrap)' if c.get('coproduct') else ''} [{c['country']}] {_t(c['capacity_t_yr'])}"
               for c in b["cut_facilities"]]
        cut += [f"lane {c['id']} [{c['countries']}] {_t(c['capacity_t_yr'])}" for c in b["cut_lanes"]]
        L.append(f"  {reg:<10}{_t(b['bound_t_yr']):>12}{_t(b['demand_t_yr']):>13}{_pct(b['coverage']):>7}  "
                 f"{'; '.join(cut) or '-'}")
    spof = r["single_points_of_failure"][:top]
    L.append("single points of failure (all regions; bound lost when removed):")
    for s in spof:
        L.append(f"  {s['kind']:<9}{s['id']:<24}{s['country']:<10}{_t(s['loss_t_yr']):>10}  {_pct(s['loss_share'])}")
    if not spof:
        L.append("  none")
    cs = r["country_stress"]
    regs = list(cs["baseline"])
    L.append("country stress (bound t/yr per region):")
    L.append("  " + f"{'case':<22}" + "".join(f"{x:>10}" for x in regs))
    L.append("  " + f"{'baseline':<22}" + "".join(f"{_t(cs['baseline'][x]):>10}" for x in regs))
    for c, v in cs["facilities_removed"].items():
        L.append("  " + f"{'without ' + c:<22}" + "".join(f"{_t(v[x]):>10}" for x in regs))
    for c, v in cs["exports_blocked"].items():
        L.append("  " + f"{'block ' + c:<22}" + "".join(f"{_t(v[x]):>10}" for x in regs))
    L.append("concentration by stage (capacity shares by country):")
    L.append(f"  {'stage':<16}{'n':>4}{'capacity t/yr':>15}{'HHI':>8}{'top-1':>12}{'top-3':>7}")
    for st, c in r["concentration"].items():
        top1 = f"{c['top1_country']} {_pct(c['top1_share'])}" if c["top1_country"] else "-"
        hh = "-" if c["hhi"] is None else f"{c['hhi']:,.0f}"
        extra = f"  (+ unlimited: {', '.join(c['unlimited'])})" if c["unlimited"] else ""
        L.append(f"  {st:<16}{c['facilities']:>4}{_t(c['capacity_t_yr']):>15}{hh:>8}{top1:>12}"
                 f"{_pct(c['top3_share']):>7}{extra}")
    L.append("betweenness centrality (top facilities):")
    for k, v in list(r["betweenness"].items())[:top]:
        if v > 0:
            L.append(f"  {k:<24}{v:.3f}")
    return "\n".join(L)


def _scenarios(model_path, requested):
    from ..model import list_scenarios
    if not requested:
        return [None]
    out = []
    for s in requested:
        if s == "all":
            out += [None] + list(list_scenarios(model_path))
        else:
            out.append(None if s == "baseline" else s)
    seen, uniq = set(), []
    for s in out:
        if s not in seen:
            seen.add(s)
            uniq.append(s)
    return uniq


def cmd_analyze(args) -> int:
    """Run ``supplysim analyze``; returns the exit code (ModelError propagates to the CLI core)."""
    from ..model import load_model
    from ..paths import default_model_path
    model_path = args.model or str(default_model_path())
    results, models = {}, {}
    for sc in _scenarios(model_path, args.scenario):
        m = load_model(model_path, scenario=sc)
        r = report(m, args.date, args.element, top=args.top)
        results[m.scenario_name] = r
        models[m.scenario_name] = m
    first = next(iter(models.values()))
    doc = {"model": first.name, "path": str(model_path), "element": args.element,
           "unit": next(iter(results.values()))["unit"], "scenarios": results}
    if args.json:
        print(json.dumps(jsonable(doc), indent=1))
    else:
        print(f"model {first.name} ({model_path})")
        for r in results.values():
            print(format_report(r, args.top))
    if args.out:
        from ..plots.network import draw_network
        from .figures import bounds_bars
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "analysis.json").write_text(json.dumps(jsonable(doc), indent=1))
        written = [out / "analysis.json"]
        for name, r in results.items():
            cut = r["bounds"]["all"]
            hl = [c["id"] for c in cut["cut_facilities"] if not c.get("coproduct")] + \
                [c["id"] for c in cut["cut_lanes"]]
            p = out / f"network_cut_{name}.png"
            draw_network(models[name], p, highlight=hl,
                        title=f"{first.name} / {name}: minimum cut, bound {_t(cut['bound_t_yr'])} t/yr")
            written.append(p)
        p = out / "bounds.png"
        bounds_bars({k: r["bounds"] for k, r in results.items()}, p, unit=f"magnet-equivalent t/yr ({args.element} basis)")
        written.append(p)
        print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr if args.json else sys.stdout)
    return 0
