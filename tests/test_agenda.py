"""The agenda: callbacks run by time, then priority, then the order they were scheduled (SimPy's rule),
in whichever build runs, and the compiled agenda runs a random workload exactly as the Python one."""
from __future__ import annotations

import importlib.util
import math
import random

import pytest

import supplysim.engine
from supplysim.engine.agenda import NORMAL, URGENT, Agenda


def _source_agenda_class():
    """The Python source's Agenda, loaded from agenda.py whichever build the engine runs."""
    path = supplysim.engine.__path__[0] + "/agenda.py"
    spec = importlib.util.spec_from_file_location("_agenda_source", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Agenda


def test_ties_of_time_are_broken_by_priority_then_by_the_order_scheduled():
    agenda, seen = Agenda(), []
    agenda.call(1.0, seen.append, "normal first")
    agenda.call(1.0, seen.append, "urgent", URGENT)
    agenda.call(0.5, seen.append, "earlier")
    agenda.call(1.0, seen.append, "normal second")
    agenda.call(1.0, seen.append, "first of all", URGENT - 1)
    agenda.run(until=2.0)
    assert seen == ["earlier", "first of all", "urgent", "normal first", "normal second"]
    assert agenda.processed == 6 and agenda.peek() == math.inf


def test_run_until_takes_urgent_callbacks_at_until_and_leaves_normal_ones_for_the_next_run():
    agenda, seen = Agenda(), []
    agenda.call(1.0, seen.append, "normal at 1")
    agenda.call(1.0, seen.append, "urgent at 1", URGENT)
    agenda.run(until=1.0)
    assert seen == ["urgent at 1"] and agenda.now == 1.0 and agenda.peek() == 1.0
    agenda.run(until=1.5)
    assert seen == ["urgent at 1", "normal at 1"] and agenda.now == 1.5


@pytest.mark.parametrize("delay", [-1.0, math.nan])
def test_a_negative_or_undefined_delay_is_refused(delay):
    with pytest.raises(ValueError, match="delay must be a number of days >= 0"):
        Agenda().call(delay, print)


def test_run_must_move_the_clock_forward():
    agenda = Agenda(start=3.0)
    with pytest.raises(ValueError, match=r"until \(3.0\) must be greater than the current time \(3.0\)"):
        agenda.run(until=3.0)


def test_an_error_in_a_callback_reaches_the_caller_and_the_agenda_goes_on():
    agenda, seen = Agenda(), []

    def fail(_):
        raise KeyError("boom")
    agenda.call(1.0, fail)
    agenda.call(2.0, seen.append, "later")
    with pytest.raises(KeyError, match="boom"):
        agenda.run(until=5.0)
    assert agenda.now == 1.0
    agenda.run(until=6.0)   # the first run's stop at 5.0 comes first
    assert seen == ["later"] and agenda.now == 5.0


def _workload(agenda_class, seed):
    """Thousands of callbacks that schedule others, with many ties of time and priority,
    run in several steps; what ran, when, in which order."""
    rng = random.Random(seed)
    agenda, log = agenda_class(), []

    def step(label):
        log.append((agenda.now, label, agenda.processed))
        for _ in range(rng.choice((0, 1, 1, 2))):
            if len(log) < 20_000:
                delay = rng.choice((0.0, 0.0, 0.5, 1.0, rng.random() * 3))
                agenda.call(delay, step, label * 7 + len(log), rng.choice((URGENT - 1, URGENT, NORMAL)))
    for i in range(200):
        agenda.call(rng.choice((0.0, 1.0, rng.random() * 5)), step, i, rng.choice((URGENT, NORMAL)))
    for until in (0.5, 1.0, 7.25, 40.0, 10_000.0):
        agenda.run(until=until)
        log.append(("run until", until, agenda.peek(), agenda.processed, agenda.scheduled))
    return log


def test_the_compiled_agenda_runs_a_random_workload_exactly_as_the_python_one():
    if supplysim.engine.ENGINE != "compiled":
        pytest.skip("the engine runs from its source here (its agenda is the Python one)")
    source = _source_agenda_class()
    assert source is not Agenda
    for seed in range(3):
        compiled, python = _workload(Agenda, seed), _workload(source, seed)
        assert len(python) > 10_000
        assert compiled == python
