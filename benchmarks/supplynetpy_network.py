"""The peer benchmark network built with SupplyNetPy's own API (run in the ``.peers`` venv).

This script is executed by ``bench_peers.py`` with ``.peers/bin/python`` (a separate
virtual environment with ``supplynetpy==0.5.1`` and ``simpy``); it does not import
supplysim. It builds the network with ``SupplyNetPy.Components`` objects
(``RawMaterial``, ``Product``, ``Supplier``, ``Manufacturer``, ``InventoryNode``,
``Link``, ``Demand``), gathers them with ``create_sc_net`` and runs them with
``simulate_sc_net(logging=False)``; it prints one JSON object per replication::

    {"rep": 0, "wall_s": 0.79, "build_s": 0.01, "events": 42000, "fill_rate": 0.97}

``wall_s`` covers building and running (as supplysim's figures in bench_peers do);
``events`` is the number of SimPy events processed; ``fill_rate`` is units received
by customers over units they ordered.

Mapping of the network onto SupplyNetPy:

* S1, S2 (oxide; 60 and 30 a day) and S3 (Fe-B; 150 a day) are ``Supplier`` nodes
  mining ``extraction_quantity`` a day up to their ``capacity``. S1 and S2 mine two
  ``RawMaterial`` objects with the same ID ("oxide") so the plants treat them as
  one raw material; the plant orders from the first oxide supplier it can (S1,
  S2 while S1 is disrupted).
* M1, M2 are ``Manufacturer`` nodes with an ``SSReplenishment`` policy
  (s = 900, S = 1800) and a ``Product`` of 1 oxide + 2 Fe-B per unit, batches of
  100 taking 1 day.
* D1, D2 are ``InventoryNode`` distributors (s, S) = (300, 800) with the default
  ``SelectFirst`` supplier choice (links created preferred first).
* d1..d5 are ``Demand`` nodes: one order a day of ``randint(5, 15)``, no tolerance
  (lost sales).
* export_ban: S1 has ``node_disrupt_time=730`` and ``node_recovery_time=365``; the
  four M->D links have ``link_failure_p=0.002`` and ``link_recovery_time=10``.

Usage: ``.peers/bin/python benchmarks/supplynetpy_network.py --reps 20 [--export-ban]``
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
import warnings

import simpy
import SupplyNetPy.Components as scm

HORIZON = 3650


def tri(rng, low, mode, high):
    return lambda: rng.triangular(low, high, mode)


def build(seed, rep, export_ban=False):
    """The network as a ``create_sc_net`` dictionary, on a fresh environment."""
    env = simpy.Environment()
    rng = random.Random(seed * 1_000_003 + rep)          # lead times and demand
    drng = random.Random(seed * 1_000_003 + rep + 7919)  # disruptions
    scm.set_seed(seed * 1_000_003 + rep)
    quiet = {"logging": False}

    ox1 = scm.RawMaterial(ID="oxide", name="NdPr oxide (S1)", extraction_quantity=60, extraction_time=1,
                          mining_cost=1, cost=10)
    ox2 = scm.RawMaterial(ID="oxide", name="NdPr oxide (S2)", extraction_quantity=30, extraction_time=1,
                          mining_cost=1, cost=10)
    feb = scm.RawMaterial(ID="feb", name="Ferroboron", extraction_quantity=150, extraction_time=1,
                          mining_cost=1, cost=2)

    ban = {"node_disrupt_time": 730, "node_recovery_time": 365, "rng": drng} if export_ban else {}
    S1 = scm.Supplier(env=env, ID="S1", name="Oxide mine S1", node_type="supplier", capacity=4000,
                      initial_level=1500, inventory_holding_cost=0.01, raw_material=ox1, **ban, **quiet)
    S2 = scm.Supplier(env=env, ID="S2", name="Oxide mine S2", node_type="supplier", capacity=4000,
                      initial_level=1500, inventory_holding_cost=0.01, raw_material=ox2, **quiet)
    S3 = scm.Supplier(env=env, ID="S3", name="Fe-B supplier S3", node_type="supplier", capacity=8000,
                      initial_level=3000, inventory_holding_cost=0.01, raw_material=feb, **quiet)

    def plant(pid):
        product = scm.Product(ID="alloy", name="NdFeB alloy", manufacturing_cost=5, manufacturing_time=1,
                              sell_price=40, raw_materials=[(ox1, 1), (feb, 2)], batch_size=100)
        return scm.Manufacturer(env=env, ID=pid, name=f"Alloy plant {pid}", capacity=2000, initial_level=1000,
                                inventory_holding_cost=0.02, product_sell_price=40,
                                replenishment_policy=scm.SSReplenishment, policy_param={"s": 900, "S": 1800},
                                product=product, **quiet)

    M1, M2 = plant("M1"), plant("M2")

    def distributor(did):
        return scm.InventoryNode(env=env, ID=did, name=f"Distributor {did}", node_type="distributor",
                                 capacity=1000, initial_level=500, inventory_holding_cost=0.05,
                                 replenishment_policy=scm.SSReplenishment, policy_param={"s": 300, "S": 800},
                                 product_sell_price=60, product_buy_price=40, **quiet)

    D1, D2 = distributor("D1"), distributor("D2")

    out = {"link_failure_p": 0.002, "link_recovery_time": 10, "rng": drng} if export_ban else {}
    links = [
        # oxide: S1 first, S2 second (the plant takes the first that can take an order)
        scm.Link(env=env, ID="S1-M1", source=S1, sink=M1, cost=1, lead_time=tri(rng, 20, 30, 45)),
        scm.Link(env=env, ID="S2-M1", source=S2, sink=M1, cost=1, lead_time=tri(rng, 25, 35, 60)),
        scm.Link(env=env, ID="S3-M1", source=S3, sink=M1, cost=1, lead_time=tri(rng, 3, 5, 10)),
        scm.Link(env=env, ID="S1-M2", source=S1, sink=M2, cost=1, lead_time=tri(rng, 20, 30, 45)),
        scm.Link(env=env, ID="S2-M2", source=S2, sink=M2, cost=1, lead_time=tri(rng, 25, 35, 60)),
        scm.Link(env=env, ID="S3-M2", source=S3, sink=M2, cost=1, lead_time=tri(rng, 3, 5, 10)),
        # alloy: D1 prefers M1, D2 prefers M2
        scm.Link(env=env, ID="M1-D1", source=M1, sink=D1, cost=1, lead_time=tri(rng, 2, 4, 8), **out),
        scm.Link(env=env, ID="M2-D1", source=M2, sink=D1, cost=1, lead_time=tri(rng, 2, 4, 8), **out),
        scm.Link(env=env, ID="M2-D2", source=M2, sink=D2, cost=1, lead_time=tri(rng, 2, 4, 8), **out),
        scm.Link(env=env, ID="M1-D2", source=M1, sink=D2, cost=1, lead_time=tri(rng, 2, 4, 8), **out),
    ]
    demands = [scm.Demand(env=env, ID=f"d{i}", name=f"Customer d{i}", order_arrival_model=lambda: 1,
                          order_quantity_model=lambda: rng.randint(5, 15), demand_node=node, **quiet)
               for i, node in enumerate((D1, D1, D1, D2, D2), 1)]
    return scm.create_sc_net(nodes=[S1, S2, S3, M1, M2, D1, D2], links=links, demands=demands, env=env)


def run(seed=1, rep=0, until=HORIZON, export_ban=False) -> dict:
    t0 = time.perf_counter()
    net = build(seed, rep, export_ban)
    t1 = time.perf_counter()
    net = scm.simulate_sc_net(net, sim_time=until, logging=False)
    t2 = time.perf_counter()
    env = net["env"]
    asked = net["demand_by_customers"][1]
    got = net["fulfillment_received_by_customers"][1]
    return {"rep": rep, "wall_s": t2 - t0, "build_s": t1 - t0, "run_s": t2 - t1,
            "events": next(env._eid) - len(env._queue),
            "fill_rate": got / asked if asked else 1.0, "demand": asked, "filled": got}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Time the peer network in SupplyNetPy")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--days", type=float, default=HORIZON)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--export-ban", action="store_true")
    ap.add_argument("--warmup", type=int, default=1, help="untimed replications run first (not printed)")
    a = ap.parse_args(argv)
    warnings.simplefilter("ignore")       # capacity warnings at construction, once per pair
    scm.global_logger.disable_logging()
    for r in range(a.warmup):
        run(a.seed, 10_000 + r, a.days, a.export_ban)
    for r in range(a.reps):
        print(json.dumps(run(a.seed, r, a.days, a.export_ban)), flush=True)
    print(json.dumps({"versions": {"python": sys.version.split()[0], "simpy": simpy.__version__,
                                   "supplynetpy": _version()}}), flush=True)


def _version():
    try:
        from importlib.metadata import version
        return version("supplynetpy")
    except Exception:  # pragma: no cover
        return "unknown"


if __name__ == "__main__":
    main()
