"""Allocation at a short supplier, in a running network (the rules themselves: doctests of
:mod:`supplysim.policies.allocation`)."""
from __future__ import annotations

import pytest

from supplysim import Simulation, load_model

MODEL = """
[model]
name = "lots"
start = 2024-01-01

[commodities.oxide]
content = {{NdPr = 0.85}}

[facilities.mine]
stage = "mine"
country = "AU"
output = "oxide"
capacity = 3650               # 10 t/day, less than one order a week
target_stock = 1000
{allocation}

[facilities.depot]
stage = "distribution"
country = "JP"
output = "oxide"
initial_stock = {{oxide = 200}}
sourcing.oxide = {{policy = "rQ", r = 150, Q = 100, review_days = 0}}

[lanes.mine-depot]
from = "mine"
to = "depot"
commodity = "oxide"
lead_time = 3

[demand.users]
region = "JP"
commodity = "oxide"
rate_per_day = 8
variability = "none"
order_interval_days = 1
at = "depot"
"""


def _shipments(write_model, allocation):
    sim = Simulation(load_model(write_model(MODEL.format(allocation=allocation))), seed=1)
    sizes = []
    sim.on_shipment(lambda s, days: sizes.append(s.qty))
    sim.run(until=365.0)
    return sizes


def test_whole_allocation_ships_each_order_in_full(write_model):
    """A supplier that ships an order only when it holds all of it: every shipment is a whole
    number of 100-t orders, although the mine makes only 10 t a day."""
    sizes = _shipments(write_model, 'allocation = "whole"')
    assert len(sizes) > 20
    for q in sizes:
        assert q == pytest.approx(100.0 * round(q / 100.0)) and q >= 100.0 - 1e-9, q


def test_partial_allocation_ships_what_the_supplier_holds(write_model):
    """The default (pro rata) ships what the mine holds and keeps the rest open: smaller lots."""
    sizes = _shipments(write_model, "")
    assert min(sizes) < 50.0
