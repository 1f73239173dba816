"""The report of a stored exploration: the answer first, then the tables and figures behind it.

:func:`build_report` analyses ``OUT/results.sqlite`` (nothing is simulated) and
writes ``analysis.json`` (every number below), ``figures/*.png``,
``report.html`` (one self-contained file, figures embedded), ``report.md`` and
the exports of :mod:`.interop`. The answer names, for each outcome with a
threshold, the share of sampled futures on its bad side (Wilson 95% interval),
the PRIM box that describes them (coverage, density), how each lever
combination changes both over the same futures (paired, common random
numbers), and the inputs that matter most.
"""
from __future__ import annotations

import base64
import html
import json
import math
import time
from pathlib import Path

import numpy as np

from . import figures as F
from .analysis import SensitivityError
from .interop import export, write_atomic
from .outcomes import OutcomeError
from .prim import fmt_number

__all__ = ["build_report", "analyse"]


def _pct(x):
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.0%}"


def _count(n, one, many):
    """``1 good one``, ``3 good ones``.

    >>> _count(1, "bad future turns", "bad futures turn"), _count(0, "good one", "good ones")
    ('1 bad future turns', '0 good ones')
    """
    return f"{n} {one if n == 1 else many}"


def _g(x, digits=3, scale=None):
    return fmt_number(x, digits, scale)


def _unit(spec, name):
    for p in spec.parameters:
        if p.name == name:
            return p.unit
    return ""


def _box_text(spec, box):
    return box.describe(lambda n, v: fmt_number(v) + (f" {_unit(spec, n)}" if _unit(spec, n) else ""))


def _clean(x):
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def _box_json(box):
    return {"limits": box.limits, "restricted": list(box.restricted), "coverage": box.coverage,
            "density": box.density, "mass": box.mass, "points": box.n, "bad": box.cases, "qp": box.qp,
            "text": box.describe()}


def analyse(res, thresholds=None, density=0.8) -> dict:
    """Every number of the report: per outcome, per lever combination, sensitivity, share bad, PRIM, lever effects."""
    thresholds = thresholds or {}
    spec = res.spec
    out = {"outcomes": {}, "policies": res.policies}
    res.outcomes()    # read the store once, up front: a missing metric or series is reported here
    for o in spec.outcomes:
        t = thresholds.get(o.name, o.threshold)
        d = {"name": o.name, "kind": o.kind, "unit": o.unit, "description": o.description, "threshold": t,
             "worse": o.worse, "by_policy": {}}
        for pol in res.policies:
            y = res.means(o.name, pol)
            e = {"summary": _summary(y)}
            try:
                e["sensitivity"] = res.sensitivity(o.name, pol)
            except SensitivityError as exc:
                e["sensitivity_note"] = str(exc)
            if t is not None:
                e["share_bad"] = res.share_bad(o.name, pol, t)
                if e["share_bad"]["bad"] > 0:
                    e["prim"] = res.discovery(o.name, pol, t, density=density)
            if pol != res.policies[0]:
                e["vs_reference"] = res.lever_effect(o.name, pol, threshold=t)
            d["by_policy"][pol] = e
        out["outcomes"][o.name] = d
    return out


def _summary(y):
    y = np.asarray(y, float)
    v = y[np.isfinite(y)]
    if not v.size:
        return {"n": 0}
    q = np.quantile(v, [0.05, 0.5, 0.95])
    return {"n": int(v.size), "mean": float(v.mean()), "p05": float(q[0]), "p50": float(q[1]), "p95": float(q[2]),
            "min": float(v.min()), "max": float(v.max())}


def _policy_name(pol):
    return pol or "the explore file as it is"


def _what(o):
    if o["description"]:
        return o["description"]
    return o["name"]


def answer(res, an) -> list:
    """The answer, one paragraph per outcome with a threshold: the share of futures on its bad side,
    the PRIM box around them, what each lever combination changes, and the inputs that matter most
    (without thresholds: the first outcome's range and its most influential inputs)."""
    ref = res.policies[0]
    heads = [o for o in an["outcomes"].values() if o["threshold"] is not None]
    if not heads:
        o = next(iter(an["outcomes"].values()))
        e = o["by_policy"][ref]
        s = e["summary"]
        return [" ".join([f"{_what(o)} ranges from {_g(s.get('p05'))} to {_g(s.get('p95'))} {o['unit']} (P5-P95) "
                          f"over {s.get('n', 0)} sampled futures" + (f" ({_policy_name(ref)})" if ref else "") + "."]
                         + _sensitivity_sentence(o, e))]
    return [" ".join(_outcome_answer(res, o)) for o in heads]


def _outcome_answer(res, o) -> list:
    spec = res.spec
    ref = res.policies[0]
    e = o["by_policy"][ref]
    sb = e["share_bad"]
    side = "above" if o["worse"] == "above" else "below"
    worst = e["summary"].get("max" if o["worse"] == "above" else "min")
    lines = [f"In {sb['share']:.0%} [{_pct(sb['ci_low'])}, {_pct(sb['ci_high'])}] of {sb['n']} sampled futures"
             + (f" ({_policy_name(ref)})" if ref else "") + f", {_what(o)} is {side} {o['threshold']:g}"
             + (f" (the worst future: {_g(worst)})." if sb["bad"] == 0 else ".")]
    if "prim" in e:
        b = e["prim"].box
        few = f" (only {sb['bad']} bad futures: read the box as indicative)" if sb["bad"] < 10 else ""
        lines.append(f"Those futures are mostly where {_box_text(spec, b)}: this box holds {b.coverage:.0%} of them "
                     f"(coverage), {b.density:.0%} of the futures inside it are bad (density), and it spans "
                     f"{b.mass:.0%} of all futures (PRIM){few}.")
    for pol in res.policies[1:]:
        ep = o["by_policy"][pol]
        sp, vs = ep["share_bad"], ep["vs_reference"]
        diff = vs["difference"]
        s = (f"With {pol}: {sp['share']:.0%} [{_pct(sp['ci_low'])}, {_pct(sp['ci_high'])}] of the same futures "
             f"({_count(vs.get('bad_to_good', 0), 'bad future turns', 'bad futures turn')} good, "
             f"{_count(vs.get('good_to_bad', 0), 'good one', 'good ones')} bad); "
             f"{o['name']} changes by {_g(diff['mean'])} [{_g(diff['ci_low'])}, {_g(diff['ci_high'])}] "
             f"{o['unit']} on average (paired over the futures, common random numbers).")
        if "prim" in ep:
            s += (f" The bad futures' box becomes {_box_text(spec, ep['prim'].box)} (coverage "
                  f"{ep['prim'].box.coverage:.0%}, density {ep['prim'].box.density:.0%}).")
        lines.append(s)
    return lines + _sensitivity_sentence(o, e)


def _sensitivity_sentence(o, e):
    sens = e.get("sensitivity")
    if not sens:
        return []
    idx, conf, label = sens["columns"][0]
    ranked = sorted(sens["names"], key=lambda n: -(sens["indices"][n].get(idx) or 0.0))
    parts = []
    top = max((abs(sens["indices"][n].get(idx) or 0.0) for n in ranked), default=0.0)
    for n in ranked[:3]:
        v = sens["indices"][n].get(idx)
        c = sens["indices"][n].get(conf) if conf else None
        parts.append(f"{n} ({label} {_g(v, 2, top)}" + (f" ± {_g(c, 2, top)}" if c is not None else "") + ")")
    out = f"Inputs that matter most for {o['name']}: " + ", ".join(parts) + "."
    if idx == "S1" and sens["method"] in ("rbd_fast", "main_effects"):
        tot = sum(sens["indices"][n].get("S1") or 0.0 for n in sens["names"])
        if tot < 0.8:
            out += (f" The first-order indices sum to {tot:.2f}: the other {1 - tot:.0%} of the variance comes from "
                    "inputs acting together (a sobol design measures it per input).")
    elif sens["method"] == "sobol":
        inter = [n for n in ranked if (sens["indices"][n].get("ST") or 0) - (sens["indices"][n].get("S1") or 0) > 0.1]
        if inter:
            out += f" {', '.join(inter)} act{'s' if len(inter) == 1 else ''} mostly through interactions (ST - S1 > 0.1)."
    return [out]


def _figures(res, an, folder):
    folder.mkdir(parents=True, exist_ok=True)
    spec = res.spec
    units = {p.name: p.unit for p in spec.parameters}
    figs = []
    X = res.inputs()
    for name, o in an["outcomes"].items():
        lab = f"{name}" + (f" ({o['unit']})" if o["unit"] else "")
        ref = res.policies[0]
        e = o["by_policy"][ref]
        if o["threshold"] is not None and len(res.policies) > 1:
            p = F.lever_ecdf({_policy_name(p): res.means(name, p) for p in res.policies}, o["threshold"], o["worse"],
                             lab, f"{name} over the sampled futures, per lever combination",
                             folder / f"{name}_levers.png")
            figs.append((p, f"The distribution of {name} over the same sampled futures under each lever combination "
                            "(empirical CDF); left of the dashed line is good when worse is above."))
        boxes = {_policy_name(p): o["by_policy"][p]["prim"].box for p in res.policies if "prim" in o["by_policy"][p]}
        if boxes:
            p = F.box_limits(boxes, e["prim"].ranges if "prim" in e else
                             next(v["prim"] for v in o["by_policy"].values() if "prim" in v).ranges, units,
                             f"PRIM box of {name} {'>' if o['worse'] == 'above' else '<'} {o['threshold']:g}",
                             folder / f"{name}_box_limits.png")
            figs.append((p, "Limits of the PRIM box of the bad futures (coloured) within each restricted input's "
                            "sampled range (grey), per lever combination."))
        if "prim" in e:
            p = F.prim_tradeoff(e["prim"], f"PRIM peeling trajectory, {name} ({_policy_name(ref)})",
                                folder / f"{name}_prim_tradeoff.png")
            figs.append((p, "Coverage against density of each box along the peeling trajectory; the circled box is "
                            f"the chosen one (greatest coverage with density >= {e['prim'].density_target:g})."))
        if "sensitivity" in e:
            s = e["sensitivity"]
            p = F.indices_chart(s, f"Sensitivity of {name} ({s['method']}, {_policy_name(ref)})",
                                folder / f"{name}_indices.png")
            figs.append((p, f"Sensitivity indices of {name} per input ({s['method']}; whiskers: 95% bootstrap "
                            "interval)."))
        y = res.means(name, ref)
        bad = res.bad(name, ref, o["threshold"]) if o["threshold"] is not None else None
        p = F.pairs_scatter(X, res.design.names, y, bad, lab, f"Design points coloured by {name}"
                            + (" (red outline: bad)" if bad is not None else ""), folder / f"{name}_pairs.png")
        figs.append((p, f"Every pair of inputs over the design ({_policy_name(ref)}), coloured by the point's mean "
                        f"{name}" + ("; red outlines mark the bad futures." if bad is not None else ".")))
    return figs


def _tables(res, an):
    """``[(title, headers, rows)]`` shown after the answer."""
    spec = res.spec
    tabs = []
    for name, o in an["outcomes"].items():
        if o["threshold"] is not None:
            rows = []
            for pol in res.policies:
                e = o["by_policy"][pol]
                sb = e["share_bad"]
                b = e["prim"].box if "prim" in e else None
                rows.append([_policy_name(pol), f"{sb['bad']}/{sb['n']}",
                             f"{sb['share']:.0%} [{_pct(sb['ci_low'])}, {_pct(sb['ci_high'])}]",
                             _box_text(spec, b) if b else "no bad future",
                             _pct(b.coverage) if b else "", _pct(b.density) if b else "", _pct(b.mass) if b else "",
                             ", ".join(f"{k} {v:.1e}" for k, v in b.qp.items()) if b else ""])
            tabs.append((f"{name} {'>' if o['worse'] == 'above' else '<'} {o['threshold']:g}: bad futures and their "
                         "PRIM box", ["levers", "bad", "share bad [95%]", "box", "coverage", "density", "mass",
                                      "quasi p-values"], rows))
        rows = []
        for pol in res.policies:
            s = o["by_policy"][pol]["summary"]
            vs = o["by_policy"][pol].get("vs_reference")
            d = vs["difference"] if vs else None
            rows.append([_policy_name(pol), s.get("n", 0), _g(s.get("mean")), _g(s.get("p05")), _g(s.get("p50")),
                         _g(s.get("p95")),
                         f"{_g(d['mean'])} [{_g(d['ci_low'])}, {_g(d['ci_high'])}]" if d else ""])
        tabs.append((f"{name} ({o['unit'] or 'as stored'}) over the sampled futures (point means)",
                     ["levers", "futures", "mean", "P5", "P50", "P95", "paired change vs first"], rows))
        e = o["by_policy"][res.policies[0]]
        if "sensitivity" in e:
            s = e["sensitivity"]
            heads = [lab + (" [95% ±]" if c else "") for _, c, lab in s["columns"]]
            top = {i: max((abs(s["indices"][n].get(i) or 0.0) for n in s["names"]), default=0.0)
                   for i, _, _ in s["columns"]}
            rows = [[n] + [(_g(s["indices"][n].get(i), 2, top[i])
                            + (f" ± {_g(s['indices'][n].get(c), 2, top[i])}" if c else ""))
                           for i, c, _ in s["columns"]] for n in s["names"]]
            tabs.append((f"Sensitivity of {name} ({s['method']}, {_policy_name(res.policies[0])})",
                         ["input"] + heads, rows))
        elif "sensitivity_note" in e:
            tabs.append((f"Sensitivity of {name}", ["note"], [[e["sensitivity_note"]]]))
    rows = [[p.name, p.kind, _range_text(p), p.unit, ", ".join(t.key + (f" (days after {t.days_after})"
                                                                       if t.days_after else "") for t in p.targets)
             or ", ".join(o for opts in (p.options or ()) for o in opts)]
            for p in spec.parameters]
    tabs.append(("Inputs", ["name", "kind", "range or values", "unit", "sets"], rows))
    return tabs


def _range_text(p):
    if p.discrete:
        return ", ".join(str(v) for v in p.values)
    extra = (f", mode {p.mode:g}" if p.dist == "triangular" else
             f", mean {p.mean:g}, sd {p.sd:g}" if p.dist == "normal" else "")
    return f"{p.low:g} .. {p.high:g} ({p.dist}{extra}{', integer' if p.integer else ''})"


def _method(res):
    m = res.manifest
    d = res.design
    return (f"{d.kind} design, n = {d.n}: {len(d.rows)} sampled futures x {len(d.policies)} lever combination(s) "
            f"= {len(d)} points, {res.reps} replication(s) each ({res.completed()} stored); seed {m['entropy']}; "
            f"horizon {m['horizon_days']:g} days from {m.get('start') or 'the start'}; model "
            f"{m.get('model_path') or m.get('evaluator')}, scenario {m.get('scenario')}; explore file "
            f"{m['spec_file']}. Common random numbers: replication r of every point draws the same streams. "
            "Outcomes per point are the mean over its replications; shares of bad futures have Wilson 95% "
            "intervals; sensitivity intervals are SALib's bootstrap; lever effects are paired over the futures.")


def build_report(res, thresholds=None, density=0.8):
    """Analyse, draw, export and write ``report.html`` and ``report.md``; return ``(path, answer text)``."""
    t0 = time.perf_counter()
    try:
        an = analyse(res, thresholds, density)
    except OutcomeError as exc:
        raise ValueError(f"{res.out}: {exc}") from None
    lines = answer(res, an)
    figs = _figures(res, an, res.out / "figures")
    tabs = _tables(res, an)
    export(res)
    doc = {"question": res.spec.question, "answer": lines, "method": _method(res),
           "analysis": {k: {**v, "by_policy": {p: {kk: (_prim_json(vv) if kk == "prim" else vv)
                                                       for kk, vv in e.items()}
                                               for p, e in v["by_policy"].items()}}
                        for k, v in an["outcomes"].items()}}
    write_atomic(res.out / "analysis.json", json.dumps(_clean(doc), indent=1, default=str))
    title = res.spec.name
    q = res.spec.question or res.spec.description
    md = [f"# {title}", ""] + ([f"*Question:* {q}", ""] if q else []) + ["**Answer.** " + "\n\n".join(lines), ""]
    for t, heads, rows in tabs:
        md += [f"### {t}", "", "| " + " | ".join(heads) + " |", "|" + "|".join("---" for _ in heads) + "|"]
        md += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows] + [""]
    md += ["### Figures", ""] + [f"![{c}](figures/{p.name})" for p, c in figs] + ["", "### Method", "", _method(res)]
    write_atomic(res.out / "report.md", "\n".join(md) + "\n")
    e = html.escape
    body = [f"<h1>{e(title)}</h1>"]
    if q:
        body.append(f"<p class='q'><b>Question.</b> {e(q)}</p>")
    body.append("<div class='answer'>" + "".join(f"<p>{'<b>Answer.</b> ' if i == 0 else ''}{e(s)}</p>"
                                                 for i, s in enumerate(lines)) + "</div>")
    for t, heads, rows in tabs:
        body.append(f"<h3>{e(t)}</h3><table><tr>" + "".join(f"<th>{e(h)}</th>" for h in heads) + "</tr>"
                    + "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows)
                    + "</table>")
    for p, c in figs:
        data = base64.b64encode(Path(p).read_bytes()).decode()
        body.append(f"<figure><img alt='{e(c)}' src='data:image/png;base64,{data}'>"
                    f"<figcaption>{e(c)}</figcaption></figure>")
    body.append(f"<h3>Method</h3><p>{e(_method(res))}</p>")
    body.append(f"<p class='small'>Report built in {time.perf_counter() - t0:.1f} s from {e(str(res.out))}/"
                "results.sqlite; exports: points.csv, replication_outcomes.csv, ema_results.tar.gz "
                "(ema_workbench.load_results), salib/ (SALib's parameter, design and output files).</p>")
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + e(title) + "</title><style>"
            "body{font-family:sans-serif;max-width:980px;margin:2em auto;line-height:1.45;color:#222}"
            ".answer{background:#f3f7fb;border-left:4px solid #1f77b4;padding:.8em 1em;margin:1em 0}"
            "table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:90%}"
            "td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}"
            "th{background:#f0f0f0}img{max-width:100%}figcaption{font-size:90%;color:#444}"
            ".small{font-size:85%;color:#555}</style></head><body>" + "".join(body) + "</body></html>")
    path = write_atomic(res.out / "report.html", page)
    return path, "Answer: " + "\n\n".join(lines)


def _prim_json(r):
    return {"chosen": r.chosen, "box": _box_json(r.box), "density_target": r.density_target, "ranges": r.ranges,
            "trajectory": [{"coverage": b.coverage, "density": b.density, "mass": b.mass,
                            "restricted": list(b.restricted)} for b in r.trajectory]}
