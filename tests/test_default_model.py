"""Calibration of the default rare-earth model (models/rare_earths) against its 2024 reference figures.

Baseline, no disruption, measured over 2024-2025 (2 years, 60-day warm-up deleted), 4 replications.
Targets and sources (ids resolve in models/README.md):
  world mine output ~390 kt REO (USGS [R10]), +-10%
  China magnet output ~300 kt (Argus [R54]); Argus counts sintered blocks (reference §9), so the
      model's finished output is compared as blocks = finished / 0.75 (block -> part yield [R85]), +-10%
  China magnet exports ~58,152 t ([R22]), +-15%: lanes from Chinese magnet makers to non-Chinese buyers
  ex-China magnet output 20-24 kt (23,750 t capacity 2025 [R55])
  China's production shares: mining 69%, separation ~90% (91% IEA [R53]), metal ~90% ([R4]),
      magnets ~94% ([R53]), each within 5 points
  China's rare-earth balance closes with swarf recycling (reference §9); fill rate >= 98% per region;
  mass balance (checked by the engine at every month end).
A steady start: every 2024 month of China's magnet exports within 15% of that year's monthly mean, and
each month of 2025 within 10% of the same month of 2024 (no start-up spike, no artificial cycle).
"""
from __future__ import annotations

import numpy as np
import pytest

from supplysim import Simulation, load_model

MODEL = "models/rare_earths"
YEARS = 2
WARMUP = 60.0
SPAN = (YEARS * 365 - WARMUP) / 365   # years measured
BLOCK_TO_PART = 0.75                  # S [R85]


@pytest.fixture(scope="module")
def runs():
    m = load_model(MODEL)
    out = []
    for rep in range(4):
        sim = Simulation(m, seed=2024, replication=rep)
        res = sim.run(years=YEARS, warmup=WARMUP)
        out.append((sim, res))
    return m, out


def _per_year(runs, fn):
    return float(np.mean([fn(sim, res) for sim, res in runs[1]])) / SPAN


def _prod(stage, china=None):
    def fn(sim, res):
        return sum(f["production_t"] for f in res.facilities.values()
                   if f["stage"] == stage and (china is None or (f["country"] == "CN") == china))
    return fn


def _china_exports(sim, res):
    fac = sim.model.facilities
    return sum(ln["shipped_t"] for ln in res.lanes.values()
               if ln["commodity"].startswith("magnet_") and fac[ln["from"]].country == "CN"
               and fac[ln["from"]].stage == "magnet" and fac[ln["to"]].country != "CN")


def _monthly_china_exports(sim, res):
    fac = sim.model.facilities
    labels, arr = res.series["shipped"]
    cols = [j for j, lid in enumerate(labels)
            if res.lanes[lid]["commodity"].startswith("magnet_") and fac[res.lanes[lid]["from"]].country == "CN"
            and fac[res.lanes[lid]["to"]].country != "CN"]
    return arr[:, cols].sum(axis=1)


def test_steady_start_china_magnet_exports(runs):
    """The baseline starts in its steady state: no start-up spike in January 2024, no cycle across
    months (with 7-day periods and no spin-up, January 2024 ran at ~2x the mean and every third month
    ~25% above the others)."""
    x = np.mean([_monthly_china_exports(sim, res) for sim, res in runs[1]], axis=0)
    y2024, y2025 = x[:12], x[12:24]
    dev = y2024 / y2024.mean() - 1
    assert np.all(np.abs(dev) <= 0.15), f"2024 months vs their mean: {np.round(dev, 3)}"
    yoy = y2025 / y2024 - 1
    assert np.all(np.abs(yoy) <= 0.10), f"2025 over 2024, month by month: {np.round(yoy, 3)}"


def test_model_size_and_options():
    m = load_model(MODEL)
    assert 30 <= len(m.facilities) <= 60 and 60 <= len(m.lanes) <= 150
    assert not {"au_nolans", "au_dubbo", "asm_us"} & set(m.facilities)
    full = load_model(MODEL, options=["kmp-full", "asm-us", "mp-10x", "neo-narva-5000", "nolans", "dubbo",
                                      "lynas-expansion"])
    assert {"au_nolans", "au_dubbo", "asm_us", "au_nolans_sep", "au_dubbo_sep"} <= set(full.facilities)
    day = full.calendar.day
    import datetime as dt
    assert full.facilities["kmp"].capacity.at(day(dt.date(2029, 1, 1))) == 5600
    assert m.facilities["kmp"].capacity.at(day(dt.date(2025, 6, 1))) == 1300       # S [R4]
    assert m.facilities["kmp"].capacity.at(day(dt.date(2027, 1, 1))) == 3600       # S [R1][R2]
    assert full.facilities["mp_magnet"].capacity.at(day(dt.date(2030, 6, 1))) == 10000
    assert {d.end_use for d in m.demand.values() if d.sector == "defence"} == {"defence"}


def test_world_mine_output(runs):
    assert _per_year(runs, _prod("mine")) == pytest.approx(390_000, rel=0.10)


def test_china_magnet_output_as_blocks(runs):
    blocks = _per_year(runs, _prod("magnet", True)) / BLOCK_TO_PART
    assert blocks == pytest.approx(300_000, rel=0.10)


def test_china_magnet_exports(runs):
    assert _per_year(runs, _china_exports) == pytest.approx(58_152, rel=0.15)


def test_ex_china_magnet_output(runs):
    assert 20_000 <= _per_year(runs, _prod("magnet", False)) <= 24_000


@pytest.mark.parametrize("stage,share", [("mine", 0.69), ("separation", 0.90), ("alloying", 0.90),
                                         ("magnet", 0.94)])
def test_china_share_by_stage(runs, stage, share):
    cn = _per_year(runs, _prod(stage, True))
    tot = _per_year(runs, _prod(stage))
    assert abs(cn / tot - share) <= 0.05, f"{stage}: China {cn / tot:.3f} vs {share}"


def test_fill_rate_every_region(runs):
    for sim, res in runs[1]:
        assert set(res.regions) == {"CN", "EU", "US", "JP", "KR", "ROW"}
        for r, v in res.regions.items():
            assert v["fill_rate"] >= 0.98, (r, v["fill_rate"])


def test_china_rare_earth_balance_closes_with_recycling(runs):
    """China's magnet makers get their rare earths from primary alloy plus recycled swarf, and the
    recycled part is material (§9: without it China under-supplies its magnets by ~25%)."""
    for sim, res in runs[1]:
        lanes = res.lanes
        recycled = lanes["cn_recycling-cn_magnet"]["shipped_t"]
        primary = lanes["cn_alloy-cn_magnet"]["shipped_t"]
        assert 0.15 <= recycled / (recycled + primary) <= 0.30
        # what China's magnet makers made is covered by the alloy they received (yield 0.735)
        made = res.facilities["cn_magnet"]["production_t"]
        assert made <= (recycled + primary + 41_500) * 0.735 + 1.0


def test_mass_balance(runs):
    for sim, res in runs[1]:
        b = sim.balance()
        held = b["on_hand"] + b["in_transit"] + b["in_process"] + b["delivered"] + b["losses"]
        np.testing.assert_allclose(held, b["sourced"], rtol=1e-9, atol=1e-6)
        sim.check_invariants()


def test_mass_balance_without_monthly_checks():
    """Without the month-end checks, production's booked losses are folded into the ledger as they
    gather (so they hold bounded memory), and the balance still closes at the end."""
    sim = Simulation(load_model(MODEL), seed=2024, replication=0, check=False)
    sim.run(years=2)
    led = sim.ledger
    assert float(led.losses.sum()) > 0 and len(led._lq) < led.FOLD_EVERY   # folded during the run
    b = sim.balance()
    assert not led._lq
    held = b["on_hand"] + b["in_transit"] + b["in_process"] + b["delivered"] + b["losses"]
    np.testing.assert_allclose(held, b["sourced"], rtol=1e-9, atol=1e-6)


def test_heavy_rare_earths_tracked_by_content(runs):
    """Each grade carries its own Dy: none without heavy rare earths, 0.45% in GBD magnets, 3% in
    bulk high grades, mostly separated in China."""
    from supplysim.materials import ELEMENT_INDEX
    m = runs[0]
    dy = ELEMENT_INDEX["Dy"]
    assert m.commodities["dy_oxide"].content.sum() > 0.8
    for sim, res in runs[1]:
        st = sim.nodes["buyer_eu"].stocks
        assert st["magnet_n"].comp[dy] == 0.0
        assert st["magnet_gbd"].comp[dy] == pytest.approx(0.0045, rel=0.01)
        assert st["magnet_hd"].comp[dy] == pytest.approx(0.030, rel=0.01)
        cn = sim.layout.issuer_content(st["magnet_gbd"].comp, "CN", [dy], stages=("separation",))
        assert cn > 0.8 * st["magnet_gbd"].comp[dy]


def test_cerium_grade_is_four_fifths_base_alloy_and_one_fifth_cerium(runs):
    """China's Ce-substituted magnets hold 0.8 x the base alloy's rare earths plus 0.0587 t of Ce metal per
    t (Ce in place of a fifth of the rare earths), no Dy, and make about 4% of China's deliveries."""
    from supplysim.materials import ELEMENT_INDEX
    nd, other, dy = ELEMENT_INDEX["NdPr"], ELEMENT_INDEX["other_re"], ELEMENT_INDEX["Dy"]
    for sim, res in runs[1]:
        ce = sim.nodes["buyer_cn"].stocks["magnet_ce"].comp
        alloy = sim.nodes["cn_magnet"].stocks["alloy"].comp
        assert ce[nd] == pytest.approx(0.8 * alloy[nd], rel=0.01)
        assert ce[other] == pytest.approx(0.8 * alloy[other] + 0.0587, rel=0.01)
        assert ce[dy] == 0.0
        cn = {k: v for k, v in res.sinks.items() if k.startswith("cn_")}
        share = sum(v["filled_t"] for k, v in cn.items() if k.endswith("/magnet_ce")) / \
            sum(v["filled_t"] for v in cn.values())
        assert 0.035 <= share <= 0.05, share


def test_dear_ndpr_moves_china_low_end_demand_to_the_cerium_grade():
    """The ndpr_to_ce substitution acts on the NdPr oxide price in China, on China's electronics, other
    automotive and industrial entries (the only ones with a Ce grade)."""
    sim = Simulation(load_model(MODEL), seed=1)
    moves = [g for g in sim.market.grade_moves if g.state.spec.to_grade == "magnet_ce"]
    assert len(moves) == 1
    assert sorted(gd.group for gd in moves[0].demands) == ["cn_electronics", "cn_industrial", "cn_other_auto"]
    assert moves[0].state.spec.commodity == "ndpr_oxide"


def test_grade_mix_of_the_makers_follows_the_demand_mix(runs):
    """China's makers' grade mix stays near the grade mix of what they sell (43% without heavy rare
    earths, 46% GBD, 9% high grades, 3% Ce-substituted in 2024, D from demand.toml), and every grade is
    served."""
    for sim, res in runs[1]:
        rec = sim.nodes["cn_magnet"].plant.recipe
        assert rec.grades == ("magnet_n", "magnet_gbd", "magnet_hd", "magnet_ce")
        assert rec.mix == pytest.approx([0.42, 0.47, 0.09, 0.03], abs=0.03)
        for sid, s in res.sinks.items():
            assert s["fill_rate"] >= 0.98, (sid, s["fill_rate"])


def test_threshold_controls_the_grades_with_heavy_rare_earths(runs):
    """A 0.1% Dy+Tb threshold (S [R40]) reaches the GBD and high grades only: about 54% of China's
    magnet exports in the 2024 mix, not all of them."""
    for sim, res in runs[1]:
        fac = sim.model.facilities
        by = {}
        for ln in res.lanes.values():
            if ln["commodity"].startswith("magnet_") and fac[ln["from"]].country == "CN" \
                    and fac[ln["to"]].country != "CN":
                by[ln["commodity"]] = by.get(ln["commodity"], 0.0) + ln["shipped_t"]
        share = (by["magnet_gbd"] + by["magnet_hd"]) / sum(by.values())
        assert 0.48 <= share <= 0.62, share
