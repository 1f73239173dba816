"""The structure the code promises: imports flow one way, and one home per concept.

* imports run cli -> experiment -> engine -> model, materials, policies; the engine
  never imports the package root, experiment, plots or analysis; the model never
  imports the engine;
* the order book (``engine/orders.py``) is the only code that assigns open orders,
  owed and on-order totals or in-transit quantities;
* nothing in the package writes to SimPy's private fields.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "supplysim"


def _modules(sub):
    return sorted((PKG / sub).rglob("*.py")) if (PKG / sub).is_dir() else [PKG / f"{sub}.py"]


def _imports(path):
    """Absolute names of the supplysim modules ``path`` imports (relative imports resolved)."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    pkg = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name == "supplysim" or name.startswith("supplysim."):
                out.add(name)
                # ``from . import x`` may import a submodule x
                out.update(f"{name}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("supplysim"))
    return out


FORBIDDEN = {
    "engine": ("supplysim.experiment", "supplysim.plots", "supplysim.analysis", "supplysim.cli"),
    "model": ("supplysim.engine", "supplysim.experiment", "supplysim.plots", "supplysim.analysis", "supplysim.cli"),
    "materials": ("supplysim.engine", "supplysim.model", "supplysim.experiment"),
    "policies": ("supplysim.engine", "supplysim.model", "supplysim.experiment"),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_flow_one_way(layer):
    bad = []
    for path in _modules(layer):
        for name in _imports(path):
            if name.startswith(FORBIDDEN[layer]) or (layer == "engine" and name in ("supplysim", "supplysim.__init__")):
                bad.append(f"{path.relative_to(PKG.parent)} imports {name}")
    assert not bad, "\n".join(bad)


#: Order-book fields: assigned (``=``, ``+=``, ``-=``) only in engine/orders.py.
ORDER_FIELDS = re.compile(r"\.(open|in_transit)\s*[-+]?=(?!=)|\.(owed|on_order)\[[^\]]*\]\s*[-+]?=(?!=)")


def test_only_the_order_book_changes_open_orders():
    bad = []
    for path in _modules("engine"):
        if path.name == "orders.py":
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if ORDER_FIELDS.search(code) and "self.open = 0.0" not in code and "self.in_transit = 0.0" not in code:
                bad.append(f"{path.name}:{i}: {line.strip()}")
    assert not bad, "order-book fields assigned outside engine/orders.py:\n" + "\n".join(bad)


def test_the_order_book_check_catches_an_assignment():
    assert ORDER_FIELDS.search("ln.open -= q")
    assert ORDER_FIELDS.search("node.owed[c] += q")
    assert not ORDER_FIELDS.search("if ln.open == 0:")


def test_no_writes_to_simpy_private_fields():
    # (an object's own fields, ``self._queue = ...``, are its business)
    pattern = re.compile(r"(?<!self)\.(_queue|_eid|_now|_ok|_value|_defused)\s*=(?!=)")
    bad = [f"{p.relative_to(PKG.parent)}:{i}" for p in PKG.rglob("*.py")
           for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not bad, bad
