"""``supplysim graph``: the network figure of a model (and scenario)."""
from __future__ import annotations

__all__ = ["register"]


def register(sub):
    g = sub.add_parser(
        "graph", help="draw the network: stages as columns, countries as colours, flows as arrows",
        description="Draw a model's network to a PNG: stages as columns from mine to demand, countries as "
                    "colours, capacity as node size, lanes as arrows weighted by the baseline flow of one "
                    "simulated year, options drawn faded, and the scenario's disrupted facilities and lanes "
                    "(and lanes leaving an export-control issuer) in red.")
    g.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    g.add_argument("--scenario", help="scenario whose disruptions and controls are highlighted")
    g.add_argument("--out", required=True, help="output PNG file")
    g.add_argument("--no-flows", action="store_true", help="skip the one-year run that weights the arrows")
    g.set_defaults(func=cmd_graph)


def _highlight(model):
    ids = set()
    for d in model.disruptions:
        ids.update(t for t in d.targets if not t.startswith("region:"))
    for rule in model.controls:
        for lid, ln in model.lanes.items():
            src, dst = model.facilities[ln.src], model.facilities[ln.dst]
            if src.country == rule.issuer and dst.country != rule.issuer and (
                    rule.destinations is None or dst.country in rule.destinations):
                ids.add(lid)
    return ids


def cmd_graph(a):
    from pathlib import Path

    from ..engine import Simulation
    from ..model import load_model
    from ..paths import default_model_path
    from .network import draw_network, option_facilities
    path = a.model or str(default_model_path())
    model = load_model(path, scenario=a.scenario)
    full, planned = option_facilities(path)
    flows = None
    if not a.no_flows:
        base = load_model(path)
        res = Simulation(base, seed=0, check=False).run(years=1)
        flows = {lid: d["shipped_t"] for lid, d in res.lanes.items()}
    shown = full if not model.scenario.get("options") else load_model(path, scenario=a.scenario,
                                                                      options=list(full.scenario.get("options", [])))
    faded = {i for i in planned if i not in model.facilities and i not in model.lanes}
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    title = f"{model.name} - {model.scenario_name}"
    draw_network(shown if faded else model, out, flows=flows, highlight=_highlight(model), faded=faded,
                 title=title)
    print(f"wrote {out}")
    return 0
