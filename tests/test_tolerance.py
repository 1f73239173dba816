"""One tolerance for comparisons of tonnes (supplysim.tolerance.EPS), in reorder rules and allocation."""
from __future__ import annotations

import pytest

from supplysim.policies.allocation import allocate
from supplysim.policies.ordering import order_quantity
from supplysim.tolerance import EPS


@pytest.mark.parametrize("miss", [1e-14 * 400, 1e-12, 0.5 * EPS])
def test_a_position_at_the_reorder_level_by_rounding_still_orders(miss):
    """A delivery split over several backlogged buyers leaves the position a rounding error above
    the level it should equal exactly: the (s, S) and (r, Q) rules order all the same."""
    assert order_quantity("sS", 400.0 + miss, {"s": 400.0, "S": 900.0}) == pytest.approx(500.0)
    assert order_quantity("rQ", 400.0 + miss, {"r": 400.0, "Q": 250.0}) == 250.0


def test_a_position_clearly_above_the_level_does_not_order():
    assert order_quantity("sS", 400.0 + 1e-6, {"s": 400.0, "S": 900.0}) == 0.0
    assert order_quantity("rQ", 400.0 + 1e-6, {"r": 400.0, "Q": 250.0}) == 0.0
    assert order_quantity("base_stock", 900.0 - 0.5 * EPS, {"S": 900.0}) == 0.0


def test_whole_allocation_fills_an_order_the_stock_covers_up_to_rounding():
    assert allocate("whole", 100.0 - 1e-12, [100.0, 5.0], [0, 1]) == [100.0 - 1e-12, 0.0]
    assert allocate("whole", 99.0, [100.0, 5.0], [0, 1]) == [0.0, 0.0]
