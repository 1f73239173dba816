"""What do the scenarios do to rare-earth prices, and does the 2010 quota replay rise as 2010-2011 did?

Question: how far, and for how long, do magnet, NdPr oxide and Dy oxide prices rise in and
outside China under the 2010 quota replay, April 2025's licences, the 2026 NdPr escalation and
the Myanmar feed shock, against the baseline (paired, common random numbers, Bonferroni over the
scenarios)? And how do the 2010 replay's prices compare with the rises observed in 2010-2011
(S [R27][R28][R29], reference section 4.1), which the model was not tuned to?

The prices come from the model's market (models/rare_earths/market.toml, docs/market.md): they
move with the holders' cover against its 2024 level and drive demand, substitution, stock and
supply responses. Peaks are capped at 10x a reference by construction (the price rule's cover
floor), so a rise beyond that cannot show.

    python experiments/market_prices.py                      # 6 reps, 2024-2030
    python experiments/market_prices.py --reps 20 --out runs/market_prices-full

Writes runs/market_prices/ (the experiment store, exports and the report, whose top is this
answer) and prints it.
"""
from __future__ import annotations

import numpy as np

import _common as C
from supplysim.catalogue import price_label
from supplysim.experiment.stats import difference, summarize

NAME = "market_prices"
SCENARIOS = ["baseline", "cn-2010-quota", "cn-2025-04-licensing", "cn-ndpr-escalation", "myanmar-shock"]
KEYS = ["magnet@ex_cn", "magnet@CN", "dy_oxide@ex_cn", "dy_oxide@CN", "ndpr_oxide@ex_cn", "ndpr_oxide@CN"]
QUOTA_START = "2025-07"     # the replay's 1 July 2010, moved 15 years on
#: Observed 2010-2011 rises (reference section 4.1, S): (commodity, window of the replay, observed ratio, what)
OBSERVED = [
    ("dy_oxide@ex_cn", ("2026-04", "2026-06"), 921 / 118, "Dy oxide $118/kg (2008) -> $921 (Q2 2011)"),
    ("dy_oxide@ex_cn", ("2026-10", "2026-12"), 2300 / 118, "Dy oxide -> ~$2,300/kg late-2011 spot"),
    ("ndpr_oxide@ex_cn", ("2026-01", "2026-12"), 260 / 130, "Nd oxide ~$130 -> $260/kg (2011)"),
]


def _months_between(a, b):
    """Months from label ``a`` to label ``b`` (``YYYY-MM``)."""
    return (int(b[:4]) - int(a[:4])) * 12 + int(b[5:7]) - int(a[5:7])


def _ratios(res, scenario, key):
    """Month-end price / reference per replication: ``(months, array reps x months)``."""
    out, months = [], None
    for _, mo, ser in res.store.series(scenario):
        labels, arr = ser["price_ratio"]
        out.append(arr[:, labels.index(key)])
        months = mo
    return months, np.array(out)


def main(argv=None):
    args = C.parser(NAME, __doc__, reps=6, years=7, seed=2010).parse_args(argv)
    res = C.run(args, SCENARIOS, "baseline")
    m = len(SCENARIOS) - 1
    rows, data = [], {"peak_ratio": {}, "months_doubled": {}, "replay_vs_2010": []}
    peak = {}
    for s in SCENARIOS:
        for k in KEYS:
            _, r = _ratios(res, s, k)
            peak[(s, k)] = r.max(axis=1)
    for k in KEYS:
        for s in SCENARIOS:
            st = summarize(peak[(s, k)], "nonnegative")
            dbl = res.metric_values(s, f"months_price_doubled[{k}]")
            cells = [price_label(k, res.manifest.get("markets")), s, f"{st['estimate']:.2f} [{st['ci_low']:.2f}, {st['ci_high']:.2f}]",
                     C.cell(summarize(dbl, "nonnegative"), "months_price_doubled")]
            if s != "baseline":
                d = difference(peak[("baseline", k)], peak[(s, k)], "signed", comparisons=m)
                cells.append(f"{d['estimate']:+.2f} [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}]")
                data["peak_ratio"].setdefault(s, {})[k] = C.clean(d)
            else:
                cells.append("")
            data["months_doubled"].setdefault(s, {})[k] = C.clean(summarize(dbl, "nonnegative"))
            rows.append(cells)
    replay = []
    for k, (a, b), obs, what in OBSERVED:
        months, r = _ratios(res, "cn-2010-quota", k)
        i, j = months.index(a), months.index(b) + 1
        st = summarize(r[:, i:j].mean(axis=1), "nonnegative")
        q = months.index(QUOTA_START)
        lag = [_months_between(QUOTA_START, months[q + int(np.argmax(x[q:] >= 2.0))]) if (x[q:] >= 2.0).any()
               else np.nan for x in r]
        replay.append([what, f"{a}..{b}", f"{obs:.1f}", f"{st['estimate']:.1f} [{st['ci_low']:.1f}, {st['ci_high']:.1f}]",
                       f"{np.nanmedian(lag):.0f}" if np.isfinite(lag).any() else "never"])
        data["replay_vs_2010"].append({"observed": what, "window": [a, b], "observed_ratio": obs, "model": C.clean(st),
                                       "median_months_to_double": float(np.nanmedian(lag))
                                       if np.isfinite(lag).any() else None})
    sections = [
        (f"Peak month-end price over its 2024 reference, months at 2x or more, and the peak's paired difference to "
         f"the baseline (Bonferroni over {m}); 10 is the cap", ["price", "scenario", "peak / reference",
                                                                "months at 2x", "d peak vs baseline"], rows),
        ("The 2010 quota replay (dates moved 15 years on) against the 2010-2011 rises (S [R27][R28][R29], "
         "reference section 4.1): the model's mean price / reference outside China over the window that "
         "corresponds to the observation", ["observed (S)", "replay window", "observed ratio", "model ratio",
                                            "months from quota to 2x (median)"], replay, 1),
    ]
    C.finish(args, res, "What do the scenarios do to rare-earth prices, and does the 2010 replay rise as 2010-2011 "
                        "did?", sections, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
