"""What are KMP Phase 2, the full KMP site and ASM's US plant worth under the NdPr escalation?

The escalation (licences on NdPr oxide, NdFeB alloy and magnets to every non-China buyer,
approval 0.5, 12 months) is set in 2028 so that all three expansions can be in place
(experiments/scenarios/escalation-2028.toml; April 2025's licences stay in force, as in the
shipped western-buildout-2028+cn-ndpr-escalation). Four cases, common random numbers:

* ``escalation-2028``          the baseline network: KMP Phase 2 (1,300 -> 3,600 t/yr alloy, Oct 2026);
* ``escalation-2028-kmp-1300`` no Phase 2: KMP held at 1,300 t/yr (overlay on [facilities.kmp]);
* ``escalation-2028-kmp-full`` option kmp-full: 5,600 t/yr from 2028;
* ``escalation-2028-asm-us``   option asm-us: ASM's 1,800 t/yr US alloy plant from 2028.

Answer: ex-China magnet shortfall (sum over EU, US, JP, KR, ROW) with and without each
expansion as paired differences (Bonferroni over the three): unmet demand (t) as asked,
shortfall (backlog area, t-yr), magnets owed at the horizon and magnets supplied.

    python experiments/kmp_expansion.py                       # defaults: 6 reps, 5.5 years (to mid-2029)
    python experiments/kmp_expansion.py --reps 30 --years 7 --out runs/kmp_expansion-full
"""
from __future__ import annotations

import _common as C

NAME = "kmp_expansion"
BASE = C.SCENARIOS / "escalation-2028.toml"
CASES = [  # (label, scenario file, question, sign: +1 = metric(case) - metric(base) is the value of adding it)
    ("Phase 2 (3,600 vs 1,300 t/yr)", C.SCENARIOS / "escalation-2028-kmp-1300.toml", -1),
    ("full site (5,600 t/yr, kmp-full)", C.SCENARIOS / "escalation-2028-kmp-full.toml", +1),
    ("ASM US plant (asm-us)", C.SCENARIOS / "escalation-2028-asm-us.toml", +1),
]
METRICS = [("unmet_demand_t[exCN]", "unmet demand t", 0), ("shortfall_ty[exCN]", "shortfall t-yr", 0),
           ("backlog_end_t[exCN]", "owed at end t", 0), ("supply_t[exCN]", "supply t", 0),
           ("production_t[alloying:KR]", "KR alloy made t", 0), ("production_t[alloying:JP]", "JP alloy made t", 0),
           ("production_t[alloying:US]", "US alloy made t", 0), ("production_t[separation:MY]", "Lynas MY oxide t", 0)]


def main(argv=None):
    args = C.parser(NAME, __doc__, reps=6, years=5.5).parse_args(argv)
    base = C.rel(BASE)
    scen = [base] + [C.rel(f) for _, f, _ in CASES]
    res = C.run(args, scen, base)
    t = C.Table(res)
    names = {base: "escalation-2028 (Phase 2, baseline network)"}
    names.update({C.rel(f): f.stem for _, f, _ in CASES})
    rows1, rows2, data = [], [], {"levels": {}, "value": {}}
    for s in scen:
        ms = t.m(s)
        row = [names[s]]
        for m, _, dg in METRICS:
            row.append(C.ci(C.mean_ci(ms[m]), dg) if m in ms else "0")
        rows1.append(row)
        data["levels"][names[s]] = {m: C.clean(C.mean_ci(ms[m])) for m, _, _ in METRICS if m in ms}
    k = len(CASES)
    for label, f, sign in CASES:
        s = C.rel(f)
        # value of the expansion = metric(with) - metric(without), paired on the replication
        a, b = (s, base) if sign < 0 else (base, s)
        row = [label]
        data["value"][label] = {"with": names[b], "without": names[a]}
        for m, _, dg in METRICS[:4]:
            d = t.diff(a, b, m, k)
            row.append(C.ci(d, dg, True))
            data["value"][label][m] = C.clean(d)
        rows2.append(row)
    text = ("Ex-China magnets (EU+US+JP+KR+ROW) per case\n\n"
            + C.markdown(["case"] + [h for _, h, _ in METRICS], rows1)
            + f"\n\nValue of each expansion: with - without, paired (Bonferroni over {k}); negative shortfall = "
              "less short\n\n"
            + C.markdown(["expansion", "d unmet demand t", "d shortfall t-yr", "d owed at end t", "d supply t"],
                         rows2))
    C.finish(args, res, "KMP Phase 2, KMP full site and ASM US under the 2028 NdPr escalation", text, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
