"""How long does a strategic magnet stockpile let the US, the EU and Japan survive a severe cut?

The shock: licences on NdPr oxide, NdFeB alloy and magnets to every non-China buyer for 12
months from 2026-01-01 with approval 0.5, on a network without April 2025's licences
(experiments/scenarios/ndpr-escalation-only.toml), so time to survive is counted from
2026-01-01 on an unstressed network. (cn-us-embargo, which also stops third countries' magnets
with Chinese content, hits only the US.)

Each size S (days of the region's 2024 magnet demand) adds, for each of the US, the EU and
Japan, a government stockpile of finished magnets per grade (stage "stockpile", no refill) with a
lane to the region's buyer (7 days) that releases when the buyer's cover of that grade falls below
10 days (below its cover in normal operation), at up to 1.5 times the region's daily demand for it (supplysim/engine/responses.py). The overlays are
written to OUT/scenarios/. Metric: time_to_survive_days[R] (days from 2026-01-01 to the region's
first unmet demand; censored at the horizon, summarised as a Kaplan-Meier median with the count
censored), with paired differences against no stockpile (Bonferroni over the sizes, where no pair
is censored), plus demand lost and months short. The answer's tables and figure open
runs/stockpile_sizing/report.html.

    python experiments/stockpile_sizing.py                          # defaults: sizes 0 30 60 90, 6 reps, 4 years
    python experiments/stockpile_sizing.py --sizes 0 30 60 90 120 180 --reps 30 --out runs/stockpile_sizing-full
"""
from __future__ import annotations

import os
from pathlib import Path

import _common as C

NAME = "stockpile_sizing"
SHOCK = C.SCENARIOS / "ndpr-escalation-only.toml"
BUYERS = {"US": "buyer_us", "EU": "buyer_eu", "JP": "buyer_jp"}
# The trigger (E) lies below the buyers' on-hand cover in normal operation (month-end 13-18 days at
# the lowest in the 2024-2025 baseline, US, EU and JP, seeds 1-2): a strategic stockpile stays untouched
# until a shortage. At 30 days it released from the first day and was spent as ordinary supply before
# the 2026 shock (the US's 90-day stockpile was empty by September 2025).
TRIGGER_DAYS, RELEASE_X, LEAD_DAYS = 10, 1.5, 7


def region_demand_t_per_day():
    """{region: {grade commodity: t/day}} of the default model's demand at its start."""
    from supplysim.model import load_model
    m = load_model(C.MODEL)
    out = {}
    for d in m.demand.values():
        g = out.setdefault(d.region, {})
        g[d.commodity] = g.get(d.commodity, 0.0) + d.rate_per_day
    return out


def write_overlay(folder: Path, days: int, rate: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"stockpile-{days}d.toml"
    base = os.path.relpath(SHOCK.resolve(), folder.resolve())
    lines = [f"# Written by experiments/stockpile_sizing.py: {days} days of each region's 2024 magnet demand",
             f'extends = "{base}"', "", "[scenario]", f'name = "stockpile-{days}d"',
             f'description = "ndpr-escalation-only with a {days}-day strategic magnet stockpile in the US, EU and JP"',
             ""]
    for reg, buyer in BUYERS.items():
        # one stockpile per region and magnet grade, each holding S days of the region's demand for it
        for grade, r in sorted(rate[reg].items()):
            fid = f"stockpile_{reg.lower()}_{grade}"
            lines += [f"[facilities.{fid}]", f'name = "{reg} strategic stockpile of {grade} ({days} days)"',
                      'stage = "stockpile"', f'country = "{reg}"', f'region = "{reg}"', f'output = "{grade}"',
                      f"initial_stock = {{{grade} = {days * r:.1f}}}",
                      f"release = {{cover_below_days = {TRIGGER_DAYS}, max_t_per_day = {RELEASE_X * r:.2f}}}",
                      "", f"[lanes.{fid}-{buyer}]", f'from = "{fid}"', f'to = "{buyer}"', f'commodity = "{grade}"',
                      f"lead_time = {LEAD_DAYS}", ""]
    p.write_text("\n".join(lines), encoding="utf-8")
    return p


def main(argv=None):
    ap = C.parser(NAME, __doc__, reps=6, years=4)
    ap.add_argument("--sizes", type=int, nargs="+", default=[0, 30, 60, 90], help="stockpile sizes in days of demand")
    args = ap.parse_args(argv)
    rate = region_demand_t_per_day()
    sizes = sorted(set(args.sizes))
    label = {}
    for s in sizes:
        f = SHOCK if s == 0 else write_overlay(Path(args.out) / "scenarios", s, rate)
        label[C.rel(f)] = s
    scen = list(label)
    base = C.rel(SHOCK)
    if base not in label:
        scen.insert(0, base)
        label[base] = 0
    res = C.run(args, scen, base)
    t = C.Table(res)
    k = max(1, len(scen) - 1)
    rows, drows, dots, data = [], [], [], {"stockpile_t": {}, "levels": {}, "vs_none": {}, "demand_t_per_day": rate}
    colours = {"US": "tab:blue", "EU": "tab:green", "JP": "tab:red"}
    for reg in BUYERS:
        for s in scen:
            d = label[s]
            tts = t.stat(s, f"time_to_survive_days[{reg}]")
            lost = t.stat(s, f"demand_lost_t[{reg}]")
            short = t.stat(s, f"months_short[{reg}]")
            rows.append([reg, d, f"{d * sum(rate[reg].values()):,.0f}", C.cell(tts, "time_to_survive_days"),
                         C.cell(lost, "demand_lost_t"), C.cell(short, "months_short")])
            dots.append((f"{reg}: {d} days", tts.get("estimate"), tts.get("ci_low"), tts.get("ci_high"),
                         colours[reg]))
            data["stockpile_t"].setdefault(reg, {})[d] = d * sum(rate[reg].values())
            data["levels"].setdefault(reg, {})[d] = {"time_to_survive_days": C.clean(tts),
                                                     "demand_lost_t": C.clean(lost)}
            if s != base:
                dt = t.diff(base, s, f"time_to_survive_days[{reg}]", k)
                dl = t.diff(base, s, f"demand_lost_t[{reg}]", k)
                gain = dt.get("mean")
                drows.append([reg, d, C.cell(dt, "time_to_survive_days", True),
                              f"{gain / d:.2f}" if gain is not None and d else "", C.cell(dl, "demand_lost_t", True)])
                data["vs_none"].setdefault(reg, {})[d] = {"time_to_survive_days": C.clean(dt),
                                                          "demand_lost_t": C.clean(dl)}
    fig = C.dot_figure(Path(args.out) / "time_to_survive.png", dots,
                       "Time to survive from 2026-01-01 by stockpile size (Kaplan-Meier median, 95% interval)",
                       "days to the first unmet demand", zero=False)
    sections = [
        (f"Paired differences against no stockpile (Bonferroni over {k}); days gained per day stocked",
         ["region", "days of demand", "d time to survive d", "gain/day", "d demand lost t"], drows),
        (f"Time to survive from 2026-01-01 (days; censored at the horizon, {_censor(res):.0f} d) by stockpile size",
         ["region", "days of demand", "stockpile t", "time to survive d", "demand lost t", "months short"], rows),
    ]
    C.finish(args, res, "How long does a magnet stockpile let the US, the EU and Japan survive the NdPr escalation?",
             sections, data, figures=[(fig, "Time to survive per region and stockpile size: Kaplan-Meier median "
                                            "over replications with its 95% interval (medians beyond the horizon "
                                            "are not drawn).")])
    return 0


def _censor(res):
    """Time to survive when nothing runs short: horizon minus the shock's start (2026-01-01 = day 731)."""
    return res.manifest["horizon_days"] - 731.0


if __name__ == "__main__":
    raise SystemExit(main())
