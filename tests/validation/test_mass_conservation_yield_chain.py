"""Validation case 4: mass conservation through a chain of fixed yields.

1,000 t of Nd2O3 (NdPr content 2 x 144.242 / (2 x 144.242 + 3 x 15.999) =
0.857356) go through separation (yield 0.95), metallisation (1/0.857356 t
oxide per t metal, yield 0.97) and magnet making (0.31 t metal + 0.69 t
ferroboron per t magnet, yield 0.92). Hand calculation:

* separation: 950 t oxide (50 t lost)
* metallisation: 950 x 0.857356 x 0.97 = 790.0535 t Nd metal
* magnets: 790.0535 x 0.92 / 0.31 = 2,344.675 t NdFeB holding 726.849 t Nd
* losses: 152.22 t oxide-equivalent = 130.507 t Nd

All lead times and recipes are deterministic; the element balance
``sourced = on hand + in transit + in process + delivered + losses`` must hold
at every instant, not only at month ends.
"""
from __future__ import annotations

import numpy as np
import pytest

from supplysim import Simulation, load_model
from supplysim.materials import ELEMENT_INDEX

ND_OXIDE = 2 * 144.242 / (2 * 144.242 + 3 * 15.999)
ORE = 1000.0
OXIDE = 950.0
METAL = 790.0535
MAGNET = 2344.675
MAGNET_RE = 726.849
LOSS_OXIDE_EQ = 152.22
LOSS_ND = 130.507
HORIZON = 120.0

MODEL = f"""
[model]
name = "yield-chain"
start = 2024-01-01

[commodities.nd2o3_crude]
content = {{NdPr = {ND_OXIDE!r}}}

[commodities.nd2o3]
content = {{NdPr = {ND_OXIDE!r}}}

[commodities.nd_metal]
content = {{NdPr = 1.0}}

[commodities.ferroboron]
content = {{Fe = 0.98, B = 0.02}}

[commodities.ndfeb]
content = {{NdPr = 0.31, Fe = 0.6762, B = 0.0138}}

# the mine's whole output: 1,000 t held at a stocking point
[facilities.mine]
stage = "mine"
country = "AU"
output = "nd2o3_crude"
initial_stock = {{nd2o3_crude = {ORE}}}

[facilities.separator]
stage = "separation"
country = "MY"
output = "nd2o3"
capacity = 36500
processing_days = 3
recipe = {{inputs = {{nd2o3_crude = 1.0}}, yield = 0.95}}
sourcing.nd2o3_crude = {{policy = "base_stock", target = 100000}}

[facilities.metal_plant]
stage = "metallisation"
country = "VN"
output = "nd_metal"
capacity = 36500
processing_days = 2
recipe = {{inputs = {{nd2o3 = {1 / ND_OXIDE!r}}}, yield = 0.97}}
sourcing.nd2o3 = {{policy = "base_stock", target = 100000}}

[facilities.feb_supplier]
stage = "source"
country = "KR"
output = "ferroboron"
unlimited = true

[facilities.magnet_plant]
stage = "magnet"
country = "JP"
output = "ndfeb"
capacity = 36500
processing_days = 5
recipe = {{inputs = {{nd_metal = 0.31, ferroboron = 0.69}}, yield = 0.92}}
sourcing.nd_metal = {{policy = "base_stock", target = 100000}}
sourcing.ferroboron = {{policy = "base_stock", target = 3000}}

[lanes.mine-sep]
from = "mine"
to = "separator"
commodity = "nd2o3_crude"
lead_time = 10

[lanes.sep-metal]
from = "separator"
to = "metal_plant"
commodity = "nd2o3"
lead_time = {{dist = "constant", days = 7}}

[lanes.metal-magnet]
from = "metal_plant"
to = "magnet_plant"
commodity = "nd_metal"
lead_time = 4.5

[lanes.feb-magnet]
from = "feb_supplier"
to = "magnet_plant"
commodity = "ferroboron"
lead_time = 3

[demand.motors]
region = "EU"
commodity = "ndfeb"
rate_per_day = 40
variability = "none"
unmet = "backorder"
at = "magnet_plant"
"""

ND = ELEMENT_INDEX["NdPr"]


def test_hand_calculation_constants():
    """The stated constants follow from the recipe (guards against typos here)."""
    assert ND_OXIDE == pytest.approx(0.857356, abs=5e-7)
    assert ORE * 0.95 == pytest.approx(OXIDE)
    assert OXIDE * ND_OXIDE * 0.97 == pytest.approx(METAL, abs=5e-4)
    assert OXIDE * ND_OXIDE * 0.97 * 0.92 / 0.31 == pytest.approx(MAGNET, abs=5e-3)
    assert OXIDE * ND_OXIDE * 0.97 * 0.92 == pytest.approx(MAGNET_RE, abs=5e-4)
    assert ORE * ND_OXIDE - OXIDE * ND_OXIDE * 0.97 * 0.92 == pytest.approx(LOSS_ND, abs=5e-4)
    assert LOSS_ND / ND_OXIDE == pytest.approx(LOSS_OXIDE_EQ, abs=5e-3)


def _exact():
    metal = OXIDE * ND_OXIDE * 0.97
    magnet = metal * 0.92 / 0.31
    return {"metal": metal, "magnet": magnet, "magnet_re": magnet * 0.31,
            "loss_nd": ORE * ND_OXIDE - magnet * 0.31, "loss_oxide_eq": (ORE * ND_OXIDE - magnet * 0.31) / ND_OXIDE}


def test_final_quantities(write_model):
    m = load_model(write_model(MODEL))
    sim = Simulation(m, seed=1, check=True)
    res = sim.run(until=HORIZON)
    ex = _exact()
    fac = res.facilities
    assert fac["separator"]["production_t"] == pytest.approx(OXIDE, rel=1e-6)
    # the published figures are rounded: compare them to their last digit, the exact values to 1e-6
    assert fac["metal_plant"]["production_t"] == pytest.approx(METAL, abs=5e-5)
    assert fac["metal_plant"]["production_t"] == pytest.approx(ex["metal"], rel=1e-6)
    assert fac["magnet_plant"]["production_t"] == pytest.approx(MAGNET, abs=5e-4)
    assert fac["magnet_plant"]["production_t"] == pytest.approx(ex["magnet"], rel=1e-6)
    # all magnets went to the demand (its backlog is far larger than the output)
    sink = res.sinks["motors"]
    assert sink["demand_t"] - sink["backlog_end_t"] == pytest.approx(ex["magnet"], rel=1e-6)
    assert res.lanes["mine-sep"]["shipped_t"] == pytest.approx(ORE, rel=1e-12)
    assert res.lanes["sep-metal"]["shipped_t"] == pytest.approx(OXIDE, rel=1e-9)
    assert res.lanes["metal-magnet"]["shipped_t"] == pytest.approx(ex["metal"], rel=1e-9)

    b = sim.balance()
    assert b["sourced"][ND] == pytest.approx(ORE * ND_OXIDE, rel=1e-12)
    assert b["delivered"][ND] == pytest.approx(MAGNET_RE, abs=5e-4)
    assert b["delivered"][ND] == pytest.approx(ex["magnet_re"], rel=1e-6)
    assert b["losses"][ND] == pytest.approx(LOSS_ND, abs=5e-4)
    assert b["losses"][ND] == pytest.approx(ex["loss_nd"], rel=1e-6)
    assert b["losses"][ND] / ND_OXIDE == pytest.approx(LOSS_OXIDE_EQ, abs=5e-3)
    assert b["losses"][ND] / ND_OXIDE == pytest.approx(ex["loss_oxide_eq"], rel=1e-6)
    # nothing left in the chain: every tonne of Nd is in magnets or in losses
    for k in ("on_hand", "in_transit", "in_process"):
        assert abs(b[k][ND]) < 1e-9 * ORE, k
    # the ferroboron that went into the magnets: 0.69 t per t magnet, 0.69/0.92 consumed
    fe = ELEMENT_INDEX["Fe"]
    assert b["delivered"][fe] == pytest.approx(ex["magnet"] * 0.69 * 0.98, rel=1e-9)
    assert b["losses"][fe] == pytest.approx(ex["magnet"] * 0.69 * (1 / 0.92 - 1) * 0.98, rel=1e-9)
    assert sim.check_invariants() is None


def test_balance_holds_at_every_step(write_model):
    m = load_model(write_model(MODEL))
    sim = Simulation(m, seed=1)
    seen = {"in_transit": 0.0, "in_process": 0.0, "losses": 0.0, "delivered": 0.0}
    times = np.unique(np.concatenate([np.arange(0.0, HORIZON, 0.25), [3.0, 10.0, 10.5, 13.0, 17.0, 20.0]]))
    for t in times:
        sim.env.run(until=float(t) + 1e-7)
        b = sim.balance()
        held = b["on_hand"] + b["in_transit"] + b["in_process"] + b["delivered"] + b["losses"]
        scale = max(float(np.abs(b["sourced"]).max()), 1.0)
        assert np.abs(held - b["sourced"]).max() <= 1e-9 * scale, (t, held, b["sourced"])
        for k, v in b.items():
            assert (v >= -1e-9 * scale).all(), (t, k, v)
        for k in seen:
            seen[k] = max(seen[k], b[k][ND])
        # Nd never appears from nowhere: sourced Nd is exactly the mine's 1,000 t oxide
        assert b["sourced"][ND] == pytest.approx(ORE * ND_OXIDE, rel=1e-12)
        sim.check_invariants()
    # the checks above covered material in every state
    assert all(v > 0 for v in seen.values()), seen
    assert seen["delivered"] == pytest.approx(_exact()["magnet_re"], rel=1e-6)
