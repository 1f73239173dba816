"""Validation case 3: throughput of a capacitated network equals its maximum flow.

Lane capacities per day: SRC->A 12, A->B 10, A->C 10, B->SINK 10, C->SINK 2.
The minimum cut is {SRC->A} (12) = {B->SINK, C->SINK} (10 + 2), so the
maximum flow (Ford & Fulkerson 1956) is 12 t/day. With unlimited demand at
the sink and A giving priority to B (the routing a max-flow solution uses),
the network must deliver exactly 12 t/day once the pipeline is full, and no
lane may ever carry more than its capacity in a day. Under any allocation rule
the throughput can not exceed the maximum flow.
"""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from supplysim import Simulation, load_model

CAP = {"src-a": 12, "a-b": 10, "a-c": 10, "b-sink": 10, "c-sink": 2}     # t/day
ENDS = {"src-a": ("src", "a"), "a-b": ("a", "b"), "a-c": ("a", "c"), "b-sink": ("b", "sink"),
        "c-sink": ("c", "sink")}
PRIORITY = {"a-b": 0, "a-c": 1}
MAX_FLOW = 12.0
WARMUP = 30.0          # the pipeline (three 1-day legs) is full long before this
UNTIL = 395.0


def _model_text(allocation):
    txt = """
    [model]
    name = "max-flow"
    start = 2024-01-01

    [commodities.widget]
    content = {Fe = 1.0}

    [facilities.src]
    stage = "source"
    country = "XX"
    output = "widget"
    unlimited = true
    """
    for n in "abc":
        txt += f"""
    [facilities.{n}]
    stage = "distributor"
    country = "XX"
    output = "widget"
    allocation = "{allocation}"
    sourcing.widget = {{policy = "base_stock", target = 1000}}
    """
    for lid, (a, b) in ENDS.items():
        txt += f"""
    [lanes.{lid}]
    from = "{a}"
    to = "{b}"
    commodity = "widget"
    lead_time = 1
    capacity = {CAP[lid] * 365}
    priority = {PRIORITY.get(lid, 0)}
    """
    txt += """
    [demand.sink]
    region = "R"
    commodity = "widget"
    rate_per_day = 1000
    variability = "none"
    unmet = "lost"
    sourcing = {policy = "base_stock", target = 1000000}
    """
    return txt


def test_networkx_max_flow_is_12():
    g = nx.DiGraph()
    for lid, (a, b) in ENDS.items():
        g.add_edge(a, b, capacity=CAP[lid])
    value, _ = nx.maximum_flow(g, "src", "sink")
    assert value == MAX_FLOW


def test_model_graph_max_flow(write_model):
    """The same answer from the loaded model's own graph (lane capacities in t/yr)."""
    m = load_model(write_model(_model_text("priority")))
    g = nx.DiGraph()
    for u, v, data in m.graph.edges(data=True):
        spec = data["spec"]
        if spec is not None:
            g.add_edge(u, v, capacity=spec.capacity / 365.0)
    value, _ = nx.maximum_flow(g, "src", "sink")
    assert value == pytest.approx(MAX_FLOW, abs=1e-9)


def test_throughput_equals_max_flow(write_model):
    m = load_model(write_model(_model_text("priority")))
    res = Simulation(m, seed=1).run(until=UNTIL, warmup=WARMUP)
    days = UNTIL - WARMUP
    delivered = res.lanes["b-sink"]["shipped_t"] + res.lanes["c-sink"]["shipped_t"]
    assert delivered / days == pytest.approx(MAX_FLOW, rel=1e-9)
    for lid in CAP:
        # every lane on the max-flow routing is used at its flow (12, 10, 2, 10, 2)
        flow = {"src-a": 12, "a-b": 10, "a-c": 2, "b-sink": 10, "c-sink": 2}[lid]
        assert res.lanes[lid]["shipped_t"] / days == pytest.approx(flow, rel=1e-9), lid
    # every tonne that reaches the sink's buffer serves the next day's demand
    assert res.sinks["sink"]["filled_t"] / days == pytest.approx(MAX_FLOW, rel=1e-9)
    assert res.sinks["sink"]["lost_t"] == pytest.approx(res.sinks["sink"]["demand_t"] - MAX_FLOW * days, rel=1e-9)
    # monthly series: each full month after the warm-up delivers 12 t x days in month
    labels, filled = res.series["filled"]
    assert labels == ["sink"]
    starts = m.calendar.month_starts(UNTIL) + [UNTIL]
    for i in range(len(starts) - 1):
        a, b = starts[i], starts[i + 1]
        if a >= WARMUP and b <= UNTIL:
            assert filled[i, 0] == pytest.approx(MAX_FLOW * (b - a), rel=1e-9), res.months[i]


@pytest.mark.parametrize("allocation", ["priority", "pro_rata", "shares"])
def test_no_lane_exceeds_capacity_and_flow_bounded(write_model, allocation):
    """Day by day, no lane ships more than its capacity; throughput <= max flow for any rule."""
    m = load_model(write_model(_model_text(allocation)))
    sim = Simulation(m, seed=1)
    lanes = list(CAP)
    prev = np.zeros(len(lanes))
    for day in range(1, 121):
        # a day's shipments all happen at its start; stop just before the next day begins
        sim.env.run(until=day - 0.5)
        shipped = np.array([sim.lanes[lid].shipped for lid in lanes])
        per_day = shipped - prev
        prev = shipped
        for lid, q in zip(lanes, per_day):
            assert q <= CAP[lid] * (1 + 1e-12), f"lane {lid} shipped {q} t on day {day - 1} (capacity {CAP[lid]})"
        assert per_day[lanes.index("b-sink")] + per_day[lanes.index("c-sink")] <= MAX_FLOW * (1 + 1e-12)
        sim.check_invariants()
    # and the month series of a full run agrees
    res = Simulation(m, seed=1).run(until=UNTIL)
    labels, shipped = res.series["shipped"]
    starts = m.calendar.month_starts(UNTIL) + [UNTIL]
    for i in range(shipped.shape[0]):
        ndays = starts[i + 1] - starts[i]
        for j, lid in enumerate(labels):
            assert shipped[i, j] <= CAP[lid] * ndays * (1 + 1e-12), (res.months[i], lid)
