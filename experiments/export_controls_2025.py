"""How much magnet supply do China's 2025 export controls cost each region?

Baseline (no controls) against April 2025's licences (cn-2025-04-licensing), the October
2025 extraterritorial counterfactual (cn-2025-10-extraterritorial) and the NdPr/alloy/magnet
escalation of 2026 (cn-ndpr-escalation), with common random numbers. Per region and for all
regions but China together (exCN): share of demand delivered, demand lost (t), months short of
90% of demand, peak backlog, time to recover; paired differences scenario - baseline (and
October / escalation - April) with Bonferroni intervals. The answer (tables and a figure of the
demand lost against the baseline) opens runs/export_controls_2025/report.html.

    python experiments/export_controls_2025.py                 # defaults: 10 reps, 4 years
    python experiments/export_controls_2025.py --reps 30 --years 7 --out runs/export_controls_2025-full
"""
from __future__ import annotations

import math
from pathlib import Path

import _common as C

NAME = "export_controls_2025"
SCEN = ["baseline", "cn-2025-04-licensing", "cn-2025-10-extraterritorial", "cn-ndpr-escalation"]
SHORT = {"cn-2025-04-licensing": "April", "cn-2025-10-extraterritorial": "October", "cn-ndpr-escalation": "NdPr escal."}
REGIONS = ("EU", "US", "JP", "KR", "ROW", "CN", "exCN")


COLOURS = {"cn-2025-04-licensing": "tab:red", "cn-2025-10-extraterritorial": "tab:blue",
           "cn-ndpr-escalation": "tab:orange"}


def main(argv=None):
    args = C.parser(NAME, __doc__, reps=10, years=4).parse_args(argv)
    res = C.run(args, SCEN, "baseline")
    t = C.Table(res)
    others = SCEN[1:]
    k = len(others)
    levels = ("delivered_share", "demand_lost_t", "months_short", "peak_backlog_t", "time_to_recover_days")
    rows1, rows2, rows3, dots = [], [], [], []
    data = {"levels": {}, "vs_baseline": {}, "vs_april": {}}
    for g in REGIONS:
        for s in SCEN:
            rows1.append([g, SHORT.get(s, s)] + [C.cell(t.stat(s, f"{m}[{g}]"), m) for m in levels])
            data["levels"].setdefault(s, {})[g] = {m: C.clean(t.stat(s, f"{m}[{g}]")) for m in levels}
        for s in others:
            d = {m: t.diff("baseline", s, f"{m}[{g}]", k) for m in ("delivered_share", "demand_lost_t",
                                                                    "months_short")}
            if g != "CN":
                rows2.append([g, SHORT[s]] + [C.cell(d[m], m, True) for m in d])
                dl = d["demand_lost_t"]
                dots.append((f"{g}: {SHORT[s]}", dl.get("mean"), dl.get("ci_low"), dl.get("ci_high"), COLOURS[s]))
            data["vs_baseline"].setdefault(s, {})[g] = {m: C.clean(v) for m, v in d.items()}
        for s in others[1:]:
            d = {m: t.diff("cn-2025-04-licensing", s, f"{m}[{g}]", k - 1) for m in ("demand_lost_t", "peak_backlog_t")}
            if g != "CN":
                vrf = d["demand_lost_t"].get("variance_reduction")
                rows3.append([g, SHORT[s]] + [C.cell(d[m], m, True) for m in d]
                             + [f"{vrf:.1f}" if vrf is not None and math.isfinite(vrf) else "n/a"])
            data["vs_april"].setdefault(s, {})[g] = {m: C.clean(v) for m, v in d.items()}
    fig = C.dot_figure(Path(args.out) / "demand_lost_vs_baseline.png", dots,
                       f"Demand lost against the baseline, t (paired, Bonferroni over {k})",
                       "extra demand lost by the end of the run (t): scenario - baseline")
    sections = [
        ("Levels per region (exCN = every region but China; demand lost: not delivered by the end of the run; "
         "months short: below 90% of the month's demand; recovery: days from the first control to the end of "
         "the last short month, Kaplan-Meier median)",
         ["region", "scenario", "delivered share", "demand lost t", "months short", "peak backlog t",
          "recovery days"], rows1),
        (f"Paired differences scenario - baseline (Bonferroni over {k}; China: no change)",
         ["region", "scenario", "d delivered share", "d demand lost t", "d months short"], rows2),
        (f"Paired differences against April 2025 alone (Bonferroni over {k - 1}; VRF = variance reduction of "
         "the demand-lost difference that common random numbers bought)",
         ["region", "scenario - April", "d demand lost t", "d peak backlog t", "VRF"], rows3),
    ]
    C.finish(args, res, "What do China's 2025 export controls cost each region?", sections, data,
             figures=[(fig, "Extra demand lost by the end of the run against the baseline, per region and "
                            "scenario: paired mean over replications with its Bonferroni-adjusted 95% interval.")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
