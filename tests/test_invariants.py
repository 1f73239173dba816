"""The invariant checks (rule V1) catch faults, at either cadence.

Each test plants one fault in a running tutorial replication and asserts the check
names it: a yearly check must catch what a monthly one does (the totals it reads are
cumulative and a stock that went negative keeps the day it did), only later.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from supplysim import InvariantError, Simulation, load_model
from supplysim.cli import CHECK_CHOICES
from supplysim.engine.invariants import CHECKS, check_setting

TUTORIAL = Path(__file__).resolve().parents[1] / "models" / "examples" / "tutorial.toml"
FAULT_DAY = 100.0


def _sim_with_fault(check, fault):
    """The tutorial, with ``fault(stock, now)`` to be applied to the separator's oxide on day 100."""
    sim = Simulation(load_model(TUTORIAL), seed=1, check=check)
    stock = sim.nodes["separator"].stocks["ndpr_oxide"]
    sim.env.call(FAULT_DAY - sim.env.now, lambda _: fault(stock, sim.env.now))
    return sim


def _run_with_fault(check, fault):
    """Run :func:`_sim_with_fault` for a year; the day the check failed and its message."""
    sim = _sim_with_fault(check, fault)
    with pytest.raises(InvariantError) as ei:
        sim.run(until=365.0)
    return sim.env.now, str(ei.value)


def _leak(stock, now):
    # tonnes leave the stock and are booked as taken out, but reach no buyer, sink or loss
    stock.take(min(stock.qty, 5.0), now)


def _overdraft(stock, now):
    # more is taken than the stock holds, and put back at once: only the overdraft itself is wrong
    q = stock.qty + 10.0
    stock.take(q, now)
    stock.add(q, stock.comp, now)


def test_a_leak_is_caught_at_the_next_month_end_by_monthly_checks():
    day, msg = _run_with_fault("monthly", _leak)
    assert FAULT_DAY < day <= FAULT_DAY + 31 and "mass balance off by" in msg
    assert "last checked on day" in msg


def test_a_leak_is_caught_by_the_yearly_check_at_the_year_end():
    day, msg = _run_with_fault("yearly", _leak)
    assert day == 365.0 and "mass balance off by" in msg


@pytest.mark.parametrize("check", ["monthly", "yearly"])
def test_an_overdraft_put_back_before_the_check_is_still_reported(check):
    day, msg = _run_with_fault(check, _overdraft)
    assert "the stock of ndpr_oxide at separator went negative on day 100" in msg
    assert day > FAULT_DAY


def test_a_run_without_checks_does_not_see_the_fault():
    sim = _sim_with_fault("off", _leak)
    sim.run(until=365.0)
    with pytest.raises(InvariantError, match="mass balance off by"):
        sim.check_invariants()


def test_a_check_setting_must_be_one_of_the_names():
    assert [check_setting(x) for x in (True, False, "yearly")] == ["monthly", "off", "yearly"]
    with pytest.raises(ValueError, match="check must be one of monthly, yearly, off .* not 'weekly'"):
        Simulation(load_model(TUTORIAL), seed=1, check="weekly")


def test_the_command_line_offers_the_engines_check_settings():
    assert sorted(CHECK_CHOICES) == sorted(CHECKS)
