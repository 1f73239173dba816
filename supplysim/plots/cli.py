"""``supplysim graph``: the network figure of a model (and scenario)."""
from __future__ import annotations

__all__ = ["register"]


def register(sub):
    g = sub.add_parser(
        "graph", help="draw the network: stages as columns, countries as colours, flows as arrows",
        description="Draw a model's network (PNG or SVG, from the suffix): stages as columns from mine to "
                    "demand, countries as colours, capacity as node size, lanes as arrows weighted by one maximum "
                    "flow of magnet-equivalent supply to all demand (static analysis, no simulation), options "
                    "drawn faded, and the scenario's disrupted facilities and lanes (and lanes leaving an "
                    "export-control issuer) in red.")
    g.add_argument("model", nargs="?", help="model file or directory (default: the default model)")
    g.add_argument("--scenario", help="scenario whose disruptions and controls are highlighted")
    g.add_argument("--out", required=True, help="output file (.png or .svg)")
    g.add_argument("--no-flows", action="store_true", help="draw every lane at one width")
    g.set_defaults(func=cmd_graph)


def _highlight(model):
    """Ids drawn in red: what the scenario disrupts and the lanes its export controls reach."""
    from .figures import disrupted_elements
    hit, ctl = disrupted_elements(model)
    return hit | ctl


def cmd_graph(a):
    from pathlib import Path

    from ..model import load_model
    from ..paths import default_model_path
    from .network import draw_network, option_facilities, static_flows
    path = a.model or str(default_model_path())
    model = load_model(path, scenario=a.scenario)
    full, planned = option_facilities(path)
    flows = None if a.no_flows else static_flows(model)
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
