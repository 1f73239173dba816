"""Magnet grades: a maker's grade mix, demand by grade, and a content threshold that controls the
grades it really controls.

The example model ``models/examples/grades.toml`` has one magnet maker making three grades (no heavy
rare earth; grain-boundary diffused with 0.45 % Dy and 0.15 % Tb; bulk 3 % Dy and 0.3 % Tb) from one
base alloy, and two graded demand entries. Closed-form cases use small models written here.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from supplysim import Simulation, load_model
from supplysim.engine.grades import grade_demand
from supplysim.engine.recipes import GradeRecipe, project_mix
from supplysim.materials import ELEMENT_INDEX
from supplysim.model.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "models" / "examples" / "grades.toml"
DY, TB = ELEMENT_INDEX["Dy"], ELEMENT_INDEX["Tb"]


@pytest.fixture(scope="module")
def example():
    sim = Simulation(load_model(EXAMPLE), seed=3)
    res = sim.run(years=1)
    return sim, res


# -- the model format -------------------------------------------------------------------------------

def test_graded_recipe_and_demand_load():
    m = load_model(EXAMPLE)
    r = m.facilities["maker"].recipe
    assert list(r.grades) == ["magnet_n", "magnet_gbd", "magnet_hd"] and r.mix_days == 28
    assert r.grades["magnet_gbd"].add == {"dy_oxide": 0.00517, "tb_oxide": 0.00176}
    assert r.grades["magnet_n"].min_share == 0.1 and r.grades["magnet_hd"].max_share == 0.3
    # a graded demand entry becomes one sink per grade with its share of the rate
    motors = {k: d for k, d in m.demand.items() if d.group == "motors"}
    assert set(motors) == {"motors/magnet_n", "motors/magnet_gbd", "motors/magnet_hd"}
    assert sum(d.rate_per_day for d in motors.values()) == pytest.approx(4000 / 365)
    assert motors["motors/magnet_hd"].rate_per_day == pytest.approx(0.15 * 4000 / 365)
    assert {d.sector for d in motors.values()} == {"motors"}


def _model(tmp_path, text, name="m.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


BASE = EXAMPLE.read_text()


@pytest.mark.parametrize("old,new,where,says", [
    ("grades.magnet_hd = {add = {dy_oxide = 0.0344, tb_oxide = 0.00353}, share = 0.1,",
     "grades.magnet_hd = {add = {dy_oxide = 0.0344, tb_oxide = 0.00353}, share = 0.2,",
     "facilities.maker.recipe.grades", "shares must sum to 1, found 1.1"),
    ("grades.magnet_n = {share = 0.5, min_share = 0.1}", "grades.magnet_n = {share = 0.5, min_share = 0.6}",
     "facilities.maker.recipe.grades.magnet_n", "expected min_share <= share <= max_share"),
    ("grades.magnet_gbd = {add = {dy_oxide = 0.00517,", "grades.magnet_gbd = {add = {alloy = 0.1, dy_oxide = 0.00517,",
     "facilities.maker.recipe.grades.magnet_gbd.add.alloy", "a base input of the recipe"),
    ('output = "magnet_n"\ncapacity = 12000', 'output = "alloy"\ncapacity = 12000',
     "facilities.maker.output", "must be one of its grades"),
    ("grades.magnet_gbd = {add = {dy_oxide", "grades.magnet_gbd = {add = {dy_oxyde",
     "facilities.maker.recipe.grades.magnet_gbd.add.dy_oxyde", "unknown commodity 'dy_oxyde'"),
    ("grades = {magnet_n = 0.9, magnet_gbd = 0.1}", "grades = {magnet_n = 0.8, magnet_gbd = 0.1}",
     "demand.electronics.grades", "shares must sum to 1, found 0.9"),
    ('sector = "electronics"\nat = "buyer"', 'sector = "electronics"\ncommodity = "magnet_n"\nat = "buyer"',
     "demand.electronics", "give 'commodity' or 'grades'"),
    ('sector = "electronics"\nat = "buyer"\n', 'sector = "electronics"\n',
     "demand.electronics.grades", "needs 'at'"),
])
def test_bad_grades_are_rejected_naming_file_and_key(tmp_path, old, new, where, says):
    assert old in BASE, old
    p = _model(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(ModelError) as e:
        load_model(p)
    text = str(e.value)
    assert f"{p}: {where}" in text and says in text, text


def test_mix_days_without_grades_is_an_error(tmp_path):
    tut = (ROOT / "models" / "examples" / "tutorial.toml").read_text()
    old = "recipe = {inputs = {alloy = 1.0}"
    assert old in tut
    p = _model(tmp_path, tut.replace(old, "recipe = {mix_days = 10, inputs = {alloy = 1.0}", 1))
    with pytest.raises(ModelError, match="mix_days: belongs to a recipe with 'grades'"):
        load_model(p)


# -- composition and mass ------------------------------------------------------------------------------

def test_each_grade_is_the_base_alloy_plus_its_own_additions(example):
    sim, _ = example
    st = sim.nodes["buyer"].stocks
    assert st["magnet_n"].comp[DY] == 0 and st["magnet_n"].comp[TB] == 0
    # (the initial stocks at the nominal content are mixed in: within 0.01 %)
    assert st["magnet_gbd"].comp[DY] == pytest.approx(0.00517 * 0.871, rel=1e-4)
    assert st["magnet_gbd"].comp[TB] == pytest.approx(0.00176 * 0.85, rel=1e-3)
    assert st["magnet_hd"].comp[DY] == pytest.approx(0.0344 * 0.871, rel=1e-3)
    # the swarf is machined off before the heavy rare earths go in: the base alloy's composition
    assert sim.nodes["maker"].stocks["swarf"].comp[DY] == 0


def test_mass_balance_closes_with_grades(example):
    sim, _ = example
    b = sim.balance()
    held = b["on_hand"] + b["in_transit"] + b["in_process"] + b["delivered"] + b["losses"]
    np.testing.assert_allclose(held, b["sourced"], rtol=1e-9, atol=1e-6)
    assert b["in_process"][DY] > 0      # grades in process are counted (batches hold them as parts)


def test_production_counts_every_grade(example):
    sim, res = example
    made = sum(sim.nodes["maker"].stocks[g].inflow for g in ("magnet_n", "magnet_gbd", "magnet_hd"))
    assert res.facilities["maker"]["production_t"] == pytest.approx(made, rel=1e-9)
    assert res.regions["US"]["fill_rate"] > 0.99


# -- the mix -------------------------------------------------------------------------------------------

LAG = """
[model]
start = 2025-01-01
period_days = 7
[commodities.alloy]
content = {NdPr = 0.3}
[commodities.dy]
content = {Dy = 0.87}
[commodities.a]
content = {NdPr = 0.3}
[commodities.b]
content = {NdPr = 0.3, Dy = 0.01}
[facilities.alloy]
stage = "source"
country = "KR"
output = "alloy"
unlimited = true
[facilities.dy]
stage = "source"
country = "CN"
output = "dy"
unlimited = true
[facilities.maker]
stage = "magnet"
country = "JP"
output = "a"
capacity = 10000
target_cover_days = 30
initial_stock = {a = 400, b = 400}
sourcing.alloy = {policy = "base_stock", target = 500}
sourcing.dy = {policy = "base_stock", target = 20}
[facilities.maker.recipe]
inputs = {alloy = 1.0}
mix_days = 35
grades.a = {share = 0.8}
grades.b = {add = {dy = 0.0115}, share = 0.2, max_share = MAXB}
[lanes]
alloy = {from = "alloy", to = "maker", commodity = "alloy"}
dy = {from = "dy", to = "maker", commodity = "dy"}
[demand.users]
region = "JP"
at = "maker"
grades = {a = 0.3, b = 0.7}
rate = 7300
variability = "none"
order_interval_days = 7
"""


def _lag_run(tmp_path, maxb=1.0, days=365):
    m = load_model(_model(tmp_path, LAG.replace("MAXB", str(maxb))))
    sim = Simulation(m, seed=1)
    sim.run(until=days)
    return sim, sim.nodes["maker"].plant.recipe


def test_mix_closes_its_gap_to_the_orders_geometrically(tmp_path):
    """First-order lag: with orders split 30/70 every week, the mix's gap to them shrinks by
    exp(-7/35) a week: m(t) = d + (m0 - d) exp(-t / mix_days)."""
    sim, rec = _lag_run(tmp_path)
    assert isinstance(rec, GradeRecipe) and len(rec.history) > 40
    d, m0 = np.array([0.3, 0.7]), np.array([0.8, 0.2])
    for t, mix in rec.history[1:]:
        expect = d + (m0 - d) * math.exp(-t / 35.0)
        np.testing.assert_allclose(mix, expect, atol=1e-9, err_msg=f"day {t}")


def test_mix_stays_within_its_technical_limits_and_caps_the_grade(tmp_path):
    sim, rec = _lag_run(tmp_path, maxb=0.4)
    assert max(mix[1] for _, mix in rec.history) == pytest.approx(0.4, abs=1e-9)
    # grade b is made at most at its share of capacity: 0.4 x 10,000 t/yr, against 5,110 t/yr ordered
    made_b = sim.nodes["maker"].stocks["b"].inflow
    assert made_b <= 0.4 * 10000 + 1e-6
    assert sim.sinks["users/b"].lane.open > 0          # so b's orders wait
    assert sim.sinks["users/a"].filled == pytest.approx(sim.sinks["users/a"].demand)


def test_project_mix_respects_limits_and_sums_to_one():
    for m, lo, hi in [([0.9, 0.1, 0.0], [0.0, 0.2, 0.0], [0.5, 1.0, 1.0]),
                      ([0.0, 0.0, 1.0], [0.1, 0.1, 0.0], [1.0, 1.0, 0.3])]:
        p = project_mix(m, lo, hi)
        assert sum(p) == pytest.approx(1.0, abs=1e-12)
        assert all(a - 1e-12 <= x <= b + 1e-12 for x, a, b in zip(p, lo, hi))


def test_steer_hook_moves_the_mix(tmp_path):
    """A mechanism (Dy-free designs, say) steers the maker's target mix through ``recipe.steer``."""
    m = load_model(EXAMPLE)
    sim = Simulation(m, seed=1)
    rec = sim.nodes["maker"].plant.recipe
    rec.steer(lambda recipe, now, desired: [1.0, 0.0, 0.0] if now >= 91 else desired)
    sim.run(until=300)
    early = [mix for t, mix in rec.history if t < 91]
    late = rec.history[-1][1]
    assert early[-1][0] < 0.6
    assert late[0] == pytest.approx(1.0, abs=0.01) and late[2] == pytest.approx(0.0, abs=0.01)


def test_grade_demand_moves_orders_between_grades():
    """Moving the electronics entry's GBD share to the Dy-free grade moves its orders there; the
    entry's total demand stays as it was (the draws are common to both runs)."""
    m = load_model(EXAMPLE)
    base = Simulation(m, seed=5)
    rb = base.run(until=200)
    sim = Simulation(m, seed=5)
    grade_demand(sim, "electronics").move("magnet_gbd", "magnet_n", 1.0)
    rs = sim.run(until=200)
    assert rs.sinks["electronics/magnet_gbd"]["demand_t"] == 0.0
    moved = rs.sinks["electronics/magnet_n"]["demand_t"] / rb.sinks["electronics/magnet_n"]["demand_t"]
    assert moved == pytest.approx(1.0 / 0.9, rel=1e-9)   # every n order scaled by (0.9 + 0.1) / 0.9
    assert rs.sinks["motors/magnet_gbd"]["demand_t"] == rb.sinks["motors/magnet_gbd"]["demand_t"]
    with pytest.raises(KeyError, match="no graded demand entry 'nope'"):
        grade_demand(sim, "nope")


# -- shortages and controls ----------------------------------------------------------------------------

def test_heavy_rare_earth_shortage_stops_only_the_grades_that_use_them():
    m = load_model(EXAMPLE, overrides={"facilities.hre_separator.capacity": 1,    # ~3% of the Dy needed
                                       "facilities.hre_separator.initial_stock.dy_oxide": 0,
                                       "facilities.maker.initial_stock.dy_oxide": 0})
    res = Simulation(m, seed=2).run(years=1)
    fill = {k: v["fill_rate"] for k, v in res.sinks.items()}
    assert fill["motors/magnet_n"] == 1.0 and fill["electronics/magnet_n"] == 1.0
    assert fill["motors/magnet_gbd"] < 0.8 and fill["motors/magnet_hd"] < 0.8


def test_a_content_threshold_controls_only_the_grades_above_it(tmp_path):
    """A ban on magnets with 0.1% or more Dy+Tb stops the GBD and high-Dy grades; the grade without
    heavy rare earths ships as before."""
    sc = _model(tmp_path, """
[scenario]
name = "jp-ban"
description = "ban on Japanese magnets with Dy+Tb >= 0.1%"
[controls.jp-hre]
issuer = "JP"
mechanism = "ban"
elements = ["Dy", "Tb"]
threshold = 0.001
effective = 2025-03-01
""", "jp-ban.toml")
    m = load_model(EXAMPLE, scenario=str(sc))
    res = Simulation(m, seed=2).run(years=1)
    base = Simulation(load_model(EXAMPLE), seed=2).run(years=1)
    labels, arr = res.series["shipped"]
    after = slice(3, None)   # April on
    shipped = {lid: arr[after, labels.index(lid)].sum() for lid in ("n", "gbd", "hd")}
    assert shipped["gbd"] == 0 and shipped["hd"] == 0
    assert shipped["n"] == pytest.approx(base.lanes["n"]["shipped_t"] * 0.75, rel=0.25)
    assert res.sinks["electronics/magnet_n"]["fill_rate"] == 1.0
    assert res.sinks["motors/magnet_gbd"]["fill_rate"] < 0.7


def test_group_id_names_every_grade_sink_in_a_disruption(tmp_path):
    sc = _model(tmp_path, """
[scenario]
name = "boom"
description = "motor demand doubles"
[disruptions.boom]
kind = "demand_shock"
demand = ["motors"]
factor = 2.0
start = 2025-02-01
days = 60
""", "boom.toml")
    m = load_model(EXAMPLE, scenario=str(sc))
    sim = Simulation(m, seed=1)
    shocked = {s.id for s in sim.sinks.values() if s.shocks}
    assert shocked == {"motors/magnet_n", "motors/magnet_gbd", "motors/magnet_hd"}


def test_capacity_bound_reaches_every_grade():
    from supplysim.analysis.bounds import capacity_bounds
    b = capacity_bounds(load_model(EXAMPLE))
    assert b["US"]["bound_t_yr"] > 0 and b["US"]["coverage"] > 1.0


def test_same_seed_same_grade_results_on_one_and_two_workers():
    """The mix reads the batches in process, a set whose order differs between processes: its sums are
    exactly rounded, so results are bit-identical on any number of workers."""
    from supplysim.experiment import Task, run_replications
    tasks = [Task(str(ROOT / "models" / "rare_earths"), None, 11, r, 400.0) for r in range(2)]
    one = {t.replication: r for t, r in run_replications(tasks, jobs=1)}
    two = {t.replication: r for t, r in run_replications(tasks, jobs=2)}
    for r in one:
        for name in ("production", "shipped", "filled"):
            np.testing.assert_array_equal(one[r].series[name][1], two[r].series[name][1])


# -- a grade that takes part of the base inputs (a cerium-substituted magnet) -------------------------

CE = """
[model]
start = 2025-01-01
period_days = 7
[commodities.alloy]
content = {NdPr = 0.3, other_re = 0.01}
[commodities.ce_metal]
content = {other_re = 1.0}
[commodities.n]
content = {NdPr = 0.3, other_re = 0.01}
[commodities.ce]
content = {NdPr = 0.24, other_re = 0.068}
[commodities.swarf]
content = {NdPr = 0.3, other_re = 0.01}
[facilities.alloy]
stage = "source"
country = "KR"
output = "alloy"
unlimited = true
[facilities.cerium]
stage = "source"
country = "CN"
output = "ce_metal"
unlimited = true
[facilities.maker]
stage = "magnet"
country = "CN"
output = "n"
capacity = 10000
processing_days = 14
target_cover_days = 30
sourcing.alloy = {policy = "base_stock", target = 800}
sourcing.ce_metal = {policy = "base_stock", target = 30}
[facilities.maker.recipe]
inputs = {alloy = 1.0}
yield = 0.75
coproducts = {swarf = 0.3}
mix_days = 14
grades.n = {share = 0.5}
grades.ce = {base = 0.8, add = {ce_metal = 0.06}, share = 0.5}
[facilities.scrap]
stage = "buyer"
country = "CN"
output = "swarf"
sourcing.swarf = {policy = "base_stock", target = 10}
[lanes]
alloy = {from = "alloy", to = "maker", commodity = "alloy", lead_time = 3}
ce_metal = {from = "cerium", to = "maker", commodity = "ce_metal", lead_time = 3}
swarf = {from = "maker", to = "scrap", commodity = "swarf", lead_time = 1}
[demand.speakers]
region = "CN"
at = "maker"
grades = {n = 0.4, ce = 0.6}
rate = 5000
variability = "none"
order_interval_days = 7
"""


def _ce_run(tmp_path, days=300):
    sim = Simulation(load_model(_model(tmp_path, CE, "ce.toml")), seed=1)
    sim.run(until=days)
    return sim


def test_cerium_grade_takes_its_base_share_of_the_alloy_and_its_added_cerium(tmp_path):
    """A Ce grade with base 0.8 takes 0.8 / 0.75 t of alloy and 0.06 t of Ce metal per t; the full grade
    1 / 0.75 t of alloy. Over a run: alloy used = (made_n + 0.8 made_ce) / 0.75, Ce used = 0.06 made_ce,
    swarf = 0.3 (made_n + 0.8 made_ce)."""
    sim = _ce_run(tmp_path)
    st = sim.nodes["maker"].stocks
    made_n, made_ce = st["n"].inflow, st["ce"].inflow
    assert made_n > 1000 and made_ce > 1000
    # what went into production (finished or still in process) per grade
    parts = sim.nodes["maker"].plant.wip_parts
    started_n = made_n + math.fsum(parts.get("n", {}).values())
    started_ce = made_ce + math.fsum(parts.get("ce", {}).values())
    assert st["alloy"].removed() == pytest.approx((started_n + 0.8 * started_ce) / 0.75, rel=1e-9)
    assert st["ce_metal"].removed() == pytest.approx(0.06 * started_ce, rel=1e-9)
    swarf_made = st["swarf"].inflow
    assert swarf_made == pytest.approx(0.3 * (made_n + 0.8 * made_ce), rel=1e-9)


def test_cerium_grade_holds_its_base_share_plus_its_cerium(tmp_path):
    """Composition per t: n = the alloy's (0.3 NdPr, 0.01 other); ce = 0.8 x the alloy's + 0.06 t Ce metal
    = 0.24 NdPr, 0.068 other; the swarf is the base alloy's."""
    sim = _ce_run(tmp_path)
    st = sim.nodes["maker"].stocks
    nd, other = ELEMENT_INDEX["NdPr"], ELEMENT_INDEX["other_re"]
    assert st["ce"].comp[nd] == pytest.approx(0.24, rel=1e-12)
    assert st["ce"].comp[other] == pytest.approx(0.8 * 0.01 + 0.06, rel=1e-12)
    assert st["n"].comp[nd] == pytest.approx(0.3, rel=1e-12)
    assert st["swarf"].comp[nd] == pytest.approx(0.3, rel=1e-12)


def test_mass_balance_closes_with_a_cerium_grade(tmp_path):
    sim = _ce_run(tmp_path)
    b = sim.balance()
    held = b["on_hand"] + b["in_transit"] + b["in_process"] + b["delivered"] + b["losses"]
    np.testing.assert_allclose(held, b["sourced"], rtol=1e-9, atol=1e-6)
    sim.check_invariants()


def test_cerium_grade_sizes_its_alloy_purchases_by_its_base_share(tmp_path):
    """Alloy used per day at capacity: (share_n + 0.8 share_ce) / 0.75 x capacity; Ce metal 0.06 share_ce."""
    sim = Simulation(load_model(_model(tmp_path, CE, "ce.toml")), seed=1)
    rec = sim.nodes["maker"].plant.recipe
    assert rec.usage("alloy", 100.0) == pytest.approx(100.0 * (0.5 + 0.8 * 0.5) / 0.75, rel=1e-12)
    assert rec.usage("ce_metal", 100.0) == pytest.approx(100.0 * 0.5 * 0.06, rel=1e-12)
    assert rec.co_per_main("swarf") == pytest.approx(0.3 * (0.5 + 0.8 * 0.5), rel=1e-12)


@pytest.mark.parametrize("value,says", [
    ("0", "expected a number in (0, 1] (t of the recipe's base inputs per t of the grade, relative to the "
          "recipe), found 0"),
    ("1.2", "expected a number in (0, 1]"),
    ("-0.5", "expected a number in (0, 1]"),
    ('"most"', "expected a number in (0, 1]"),
])
def test_bad_base_of_a_grade_is_rejected_naming_file_and_key(tmp_path, value, says):
    old = "grades.ce = {base = 0.8,"
    assert old in CE
    p = _model(tmp_path, CE.replace(old, f"grades.ce = {{base = {value},", 1), "ce.toml")
    with pytest.raises(ModelError) as e:
        load_model(p)
    text = str(e.value)
    assert f"{p}: facilities.maker.recipe.grades.ce.base" in text and says in text, text


def test_a_grade_taking_too_little_base_alloy_for_its_content_is_rejected(tmp_path):
    """0.3 t of alloy (at yield 0.75) and 0.06 t of Ce hold 0.18 t of rare earths, too little for a grade
    declared with 0.31 t and its swarf: the balance check counts only the grade's share of the base inputs."""
    old = "grades.ce = {base = 0.8,"
    p = _model(tmp_path, CE.replace(old, "grades.ce = {base = 0.3,", 1), "ce.toml")
    with pytest.raises(ModelError) as e:
        load_model(p)
    text = str(e.value)
    assert f"{p}: facilities.maker.recipe.grades.ce" in text and "more rare earth than inputs" in text, text
