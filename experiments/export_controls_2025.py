"""How much magnet supply do China's 2025 export controls cost each region?

Baseline (no controls) against April 2025's licences (cn-2025-04-licensing), the October
2025 extraterritorial counterfactual (cn-2025-10-extraterritorial) and the NdPr/alloy/magnet
escalation of 2026 (cn-ndpr-escalation), with common random numbers. Per region: fill rate,
unmet demand (t), shortfall (backlog area, t-yr) and magnets still owed at the horizon, and
paired differences scenario - baseline (and October / escalation - April) with Bonferroni
intervals.

    python experiments/export_controls_2025.py                 # defaults: 10 reps, 4 years
    python experiments/export_controls_2025.py --reps 30 --years 7 --out runs/export_controls_2025-full
"""
from __future__ import annotations

import _common as C

NAME = "export_controls_2025"
SCEN = ["baseline", "cn-2025-04-licensing", "cn-2025-10-extraterritorial", "cn-ndpr-escalation"]
SHORT = {"cn-2025-04-licensing": "April", "cn-2025-10-extraterritorial": "October", "cn-ndpr-escalation": "NdPr escal."}
REGIONS = ("EU", "US", "JP", "KR", "ROW", "CN", "exCN")


def main(argv=None):
    args = C.parser(NAME, __doc__, reps=10, years=4).parse_args(argv)
    res = C.run(args, SCEN, "baseline")
    t = C.Table(res)
    others = SCEN[1:]
    k = len(others)
    rows1, rows2, rows3, data = [], [], [], {"levels": {}, "vs_baseline": {}, "vs_april": {}}
    for g in REGIONS:
        for s in SCEN:
            fr = t.stat(s, f"fill_rate[{g}]") if g != "exCN" else None
            rows1.append([g, SHORT.get(s, s), C.ci(fr, 3) if fr else "",
                          C.ci(t.stat(s, f"unmet_demand_t[{g}]")), C.ci(t.stat(s, f"shortfall_ty[{g}]")),
                          C.ci(t.stat(s, f"backlog_end_t[{g}]")), C.ci(t.stat(s, f"supply_t[{g}]"))])
            data["levels"].setdefault(s, {})[g] = {m: C.clean(t.stat(s, f"{m}[{g}]")) for m in
                                                    ("unmet_demand_t", "shortfall_ty", "backlog_end_t", "supply_t")
                                                    + (("fill_rate",) if g != "exCN" else ())}
        for s in others:
            d_un = t.diff("baseline", s, f"unmet_demand_t[{g}]", k)
            d_sf = t.diff("baseline", s, f"shortfall_ty[{g}]", k)
            d_fr = t.diff("baseline", s, f"fill_rate[{g}]", k) if g != "exCN" else None
            if g != "CN":
                rows2.append([g, SHORT[s], C.ci(d_fr, 3, True) if d_fr else "", C.ci(d_un, 0, True),
                              C.ci(d_sf, 0, True)])
            data["vs_baseline"].setdefault(s, {})[g] = {"fill_rate": C.clean(d_fr) if d_fr else None,
                                                        "unmet_demand_t": C.clean(d_un), "shortfall_ty": C.clean(d_sf)}
        for s in others[1:]:
            d_sf = t.diff("cn-2025-04-licensing", s, f"shortfall_ty[{g}]", k - 1)
            d_be = t.diff("cn-2025-04-licensing", s, f"backlog_end_t[{g}]", k - 1)
            if g != "CN":
                rows3.append([g, SHORT[s], C.ci(d_sf, 0, True), C.ci(d_be, 0, True), _vrf(d_sf)])
            data["vs_april"].setdefault(s, {})[g] = {"shortfall_ty": C.clean(d_sf), "backlog_end_t": C.clean(d_be)}
    text = ("Levels per region (exCN = all regions but China; unmet = demand not served from stock on arrival;\n"
            "shortfall = area under the month-end backlog, t-yr; owed at end = backlog at the horizon, t;\n"
            "supply = magnets delivered, t)\n\n"
            + C.markdown(["region", "scenario", "fill rate", "unmet demand t", "shortfall t-yr", "owed at end t",
                          "supply t"], rows1)
            + f"\n\nPaired differences scenario - baseline (Bonferroni over {k}; China: no change)\n\n"
            + C.markdown(["region", "scenario", "d fill rate", "d unmet demand t", "d shortfall t-yr"], rows2)
            + f"\n\nPaired differences against April 2025 alone (Bonferroni over {k - 1}; VRF = variance "
              "reduction of the shortfall difference that common random numbers bought)\n\n"
            + C.markdown(["region", "scenario - April", "d shortfall t-yr", "d owed at end t", "VRF"], rows3))
    C.finish(args, res, "Export controls 2025: shortfall per region against the baseline", text, data)
    return 0


def _vrf(d):
    v = d.get("variance_reduction")
    return f"{v:.1f}" if v is not None and v == v and v != float("inf") else "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
