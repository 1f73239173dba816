"""Share of each region's magnet demand delivered in 2025-2027 under each scenario of the library,
beside the baseline.

Question: how much of each region's magnet demand in 2025-2027 is delivered by the end of 2027
(late deliveries count) under each export-control and disruption scenario, and how does that
differ from the baseline (paired, common random numbers, Bonferroni over the scenarios)? The
window's values come from the stored monthly series with the catalogue's estimator
(``ExperimentResults.metric_values(..., window=("2025-01", "2027-12"))``).

    python experiments/scenario_fill_table.py                 # 10 reps, 2024-2027
    python experiments/scenario_fill_table.py --reps 30 --jobs 2 --out runs/scenario_fill_table-full

Writes runs/scenario_fill_table/ (the experiment store, exports and the report, whose top is this
table) and prints it: mean [95% interval] per region, and the paired difference to the baseline.
"""
from __future__ import annotations

import _common as C
from supplysim.experiment.stats import difference, summarize

NAME = "scenario_fill_table"
SCENARIOS = ["baseline", "cn-2010-quota", "cn-2025-04-licensing", "cn-2025-10-extraterritorial", "cn-us-embargo",
             "myanmar-shock", "cn-ndpr-escalation", "western-buildout-2028", "suez-closure+cn-2025-04-licensing"]
WINDOW = ("2025-01", "2027-12")


def main(argv=None):
    args = C.parser(NAME, __doc__, reps=10, years=4, seed=2025).parse_args(argv)
    res = C.run(args, SCENARIOS, "baseline")
    regions = res.regions()
    m = len(SCENARIOS) - 1
    base = {r: res.metric_values("baseline", f"delivered_share[{r}]", window=WINDOW) for r in regions}
    rows, data = [], {}
    for s in SCENARIOS:
        row = [s]
        for r in regions:
            v = res.metric_values(s, f"delivered_share[{r}]", window=WINDOW)
            cell = C.cell(summarize(v, "fraction"), "delivered_share")
            if s != "baseline":
                d = difference(base[r], v, "fraction", comparisons=m)
                cell += f" (d {C.cell(d, 'delivered_share', True)})"
                data.setdefault(s, {})[r] = C.clean(d)
            row.append(cell)
        rows.append(row)
    sections = [(f"Share of demand in {WINDOW[0]}..{WINDOW[1]} delivered by the end of the window; (d: paired "
                 f"difference to the baseline, Bonferroni over {m})", ["scenario"] + regions, rows)]
    C.finish(args, res, "How much of each region's magnet demand in 2025-2027 is delivered under each scenario?",
             sections, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
