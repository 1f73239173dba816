"""Imports run one way: cli -> experiment -> engine -> model. The experiment package never imports
the figures or the static analysis; figures never run a simulation; the metric catalogue imports
nothing from the package."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "supplysim"


def _imports(path: Path) -> set:
    """Absolute module names a file imports (relative imports resolved against the package)."""
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    pkg = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(pkg[: len(pkg) - node.level + 1]) if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _files(sub):
    return sorted((PKG / sub).rglob("*.py")) if (PKG / sub).is_dir() else [PKG / sub]


@pytest.mark.parametrize("path", _files("experiment"), ids=lambda p: p.name)
def test_experiment_never_imports_plots_or_analysis(path):
    bad = {m for m in _imports(path) if m.startswith(("supplysim.plots", "supplysim.analysis", "supplysim.cli"))}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _files("plots") + _files("analysis"), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_figures_never_run_a_simulation(path):
    bad = {m for m in _imports(path) if m.startswith(("supplysim.engine", "supplysim.experiment.runner"))
           or m.endswith(".Simulation")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_catalogue_imports_nothing_from_the_package():
    assert not {m for m in _imports(PKG / "catalogue.py") if m.startswith("supplysim")}
