"""What are KMP Phase 2, the full KMP site and ASM's US plant worth under the NdPr escalation?

The escalation (licences on NdPr oxide, NdFeB alloy and magnets to every non-China buyer,
approval 0.5, 12 months) is set in 2028 so that all three expansions can be in place
(experiments/scenarios/escalation-2028.toml; April 2025's licences stay in force, as in the
shipped western-buildout-2028+cn-ndpr-escalation). Four cases, common random numbers:

* ``escalation-2028``          the baseline network: KMP Phase 2 (1,300 -> 3,600 t/yr alloy, Oct 2026);
* ``escalation-2028-kmp-1300`` no Phase 2: KMP held at 1,300 t/yr (overlay on [facilities.kmp]);
* ``escalation-2028-kmp-full`` option kmp-full: 5,600 t/yr from 2028;
* ``escalation-2028-asm-us``   option asm-us: ASM's 1,800 t/yr US alloy plant from 2028.

Answer: ex-China magnets (EU, US, JP, KR, ROW together) with and without each expansion as
paired differences (Bonferroni over the three): demand lost (not delivered by the end of the
run, t), months short of 90% of demand, peak backlog and tonnes delivered; the answer's tables and
figure open runs/kmp_expansion/report.html.

    python experiments/kmp_expansion.py                       # defaults: 6 reps, 5.5 years (to mid-2029)
    python experiments/kmp_expansion.py --reps 30 --years 7 --out runs/kmp_expansion-full
"""
from __future__ import annotations

from pathlib import Path

import _common as C

NAME = "kmp_expansion"
BASE = C.SCENARIOS / "escalation-2028.toml"
CASES = [  # (label, scenario file, question, sign: +1 = metric(case) - metric(base) is the value of adding it)
    ("Phase 2 (3,600 vs 1,300 t/yr)", C.SCENARIOS / "escalation-2028-kmp-1300.toml", -1),
    ("full site (5,600 t/yr, kmp-full)", C.SCENARIOS / "escalation-2028-kmp-full.toml", +1),
    ("ASM US plant (asm-us)", C.SCENARIOS / "escalation-2028-asm-us.toml", +1),
]
METRICS = [("demand_lost_t[exCN]", "demand lost t"), ("months_short[exCN]", "months short"),
           ("peak_backlog_t[exCN]", "peak backlog t"), ("delivered_t[exCN]", "delivered t"),
           ("production_t[alloying:KR]", "KR alloy made t"), ("production_t[alloying:JP]", "JP alloy made t"),
           ("production_t[alloying:US]", "US alloy made t"), ("production_t[separation:MY]", "Lynas MY oxide t")]


def main(argv=None):
    args = C.parser(NAME, __doc__, reps=6, years=5.5).parse_args(argv)
    base = C.rel(BASE)
    scen = [base] + [C.rel(f) for _, f, _ in CASES]
    res = C.run(args, scen, base)
    t = C.Table(res)
    names = {base: "escalation-2028 (Phase 2, baseline network)"}
    names.update({C.rel(f): f.stem for _, f, _ in CASES})
    rows1, rows2, dots, data = [], [], [], {"levels": {}, "value": {}}
    for s in scen:
        ms = t.m(s)
        rows1.append([names[s]] + [C.cell(t.stat(s, m), m) if m in ms else "0" for m, _ in METRICS])
        data["levels"][names[s]] = {m: C.clean(t.stat(s, m)) for m, _ in METRICS if m in ms}
    k = len(CASES)
    colours = ["tab:red", "tab:blue", "tab:green"]
    for (label, f, sign), colour in zip(CASES, colours):
        s = C.rel(f)
        # value of the expansion = metric(with) - metric(without), paired on the replication
        a, b = (s, base) if sign < 0 else (base, s)
        row = [label, f"{names[b]} - {names[a]}"]
        data["value"][label] = {"with": names[b], "without": names[a]}
        for m, _ in METRICS[:4]:
            d = t.diff(a, b, m, k)
            row.append(C.cell(d, m, True))
            data["value"][label][m] = C.clean(d)
        dl = data["value"][label]["demand_lost_t[exCN]"]
        dots.append((label, dl.get("mean"), dl.get("ci_low"), dl.get("ci_high"), colour))
        rows2.append(row)
    fig = C.dot_figure(Path(args.out) / "expansion_value.png", dots,
                       f"Ex-China demand lost: with - without each expansion, t (paired, Bonferroni over {k})",
                       "change in ex-China demand lost by the end of the run (t); below 0 = less lost")
    sections = [
        (f"Value of each expansion: with - without, paired (Bonferroni over {k}); negative demand lost = less lost",
         ["expansion", "cases", "d demand lost t", "d months short", "d peak backlog t", "d delivered t"], rows2),
        ("Ex-China magnets (EU+US+JP+KR+ROW) per case, and the alloy and oxide made",
         ["case"] + [h for _, h in METRICS], rows1, 1),
    ]
    C.finish(args, res, "What are KMP Phase 2, KMP's full site and ASM's US plant worth under the 2028 NdPr "
             "escalation?", sections, data,
             figures=[(fig, "Change in the ex-China demand lost with each expansion: paired mean with its "
                            "Bonferroni-adjusted 95% interval.")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
