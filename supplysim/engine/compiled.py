"""Which build of the engine runs: its modules compiled, or their Python source.

The modules of the engine's inner loop (:data:`MODULES`: composition arithmetic, the
agenda of events, the kernel, stocks, lanes, the order book, nodes, buyers, plants, demand, periods,
recipes, the border gate, the market and the replication itself) are plain Python.
Beside most lies a ``.pxd`` file that declares the types of its classes' fields and
of a few locals. An install with Cython and a C compiler at hand (pip fetches
Cython and numpy's headers to build) compiles these modules from the same source:
one implementation, two builds, with bit-identical results (a test compares their
fingerprints on every shipped model and scenario). Two modules have a compiled
implementation of their own: the composition arithmetic (``mixing.py``: three small
numpy functions; ``mixing.pyx``: loops held to numpy's bits) and the agenda of events
(``agenda.py``: a heap of tuples; ``agenda.pyx``: a heap of C records, run in the same
order). The compiled build runs a default-model replication about twice as fast
(benchmarks/README.md).

Python imports an extension module in preference to the source beside it, so a
compiled module would go on running after its source was edited. The build
therefore records a hash of each module's source, declarations and compiled
implementation (``_compiled.json``, beside the modules). At import the engine uses
its compiled modules only if every one of them was built from the source now beside
it; otherwise, or if the environment sets ``SUPPLYSIM_ENGINE=python``, every engine
module loads from its source (all or none: the compiled modules share their
classes' layouts). ``pip install -e .``
compiles the edited source again. ``SUPPLYSIM_ENGINE=compiled`` makes a missing
or stale compiled build an error instead.

The engine package calls :func:`select` before it imports anything else and keeps the answer
as ``supplysim.engine.ENGINE`` (and why, as ``supplysim.engine.ENGINE_WHY``).

Examples
--------
>>> choose({"SUPPLYSIM_ENGINE": "python"})
('python', 'SUPPLYSIM_ENGINE=python')
>>> import supplysim.engine
>>> supplysim.engine.ENGINE in ("compiled", "python")
True
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import spec_from_file_location
from pathlib import Path

__all__ = ["MODULES", "MANIFEST", "VARIABLE", "choose", "select", "source_hash"]

#: The engine modules a compiled build compiles (from ``name.pyx`` where there is one, else ``name.py``).
MODULES = ("mixing", "agenda", "kernel", "stock", "periods", "lane", "orders", "node", "buyer", "plant", "demand", "recipes",
           "gate", "market", "simulation")

#: The build's record of the source it compiled: module name -> :func:`source_hash`.
MANIFEST = "_compiled.json"

#: The environment variable that chooses the build: ``python``, ``compiled`` or unset (compiled if current).
VARIABLE = "SUPPLYSIM_ENGINE"

_HERE = Path(__file__).resolve().parent


def source_hash(directory, name) -> str:
    """SHA-256 of module ``name``'s source, type declarations and compiled implementation (``name.py``,
    and ``name.pxd`` and ``name.pyx`` where present)."""
    h = hashlib.sha256((Path(directory) / f"{name}.py").read_bytes())
    for suffix in (".pxd", ".pyx"):
        other = Path(directory) / (name + suffix)
        if other.exists():
            h.update(other.read_bytes())
    return h.hexdigest()


def _compiled_file(directory, name):
    return next((p for p in (directory / (name + s) for s in EXTENSION_SUFFIXES) if p.exists()), None)


def choose(environ=None, directory=_HERE) -> tuple[str, str]:
    """``("compiled" | "python", why)``: the build to run, by :data:`VARIABLE` and the build's record.

    Raises ``ImportError`` if :data:`VARIABLE` asks for the compiled build and it cannot run,
    and ``ValueError`` for a value of :data:`VARIABLE` it does not know.
    """
    environ = os.environ if environ is None else environ
    want = environ.get(VARIABLE, "").strip().lower()
    if want not in ("", "compiled", "python"):
        raise ValueError(f"{VARIABLE}={environ[VARIABLE]!r}: expected 'python', 'compiled' or unset")
    if want == "python":
        return "python", f"{VARIABLE}=python"
    why = _stale(Path(directory))
    if why is None:
        return "compiled", "compiled from the source beside it"
    if want == "compiled":
        raise ImportError(f"{VARIABLE}=compiled, but the compiled engine cannot run: {why}")
    return "python", why


def _stale(directory):
    """Why the compiled modules in ``directory`` cannot run (None if they can)."""
    try:
        built = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "not compiled at install (no C compiler, or an install without building)"
    except (OSError, ValueError) as e:
        return f"{MANIFEST} unreadable ({e})"
    for name in MODULES:
        if _compiled_file(directory, name) is None:
            return f"{name} not compiled"
        if built.get(name) != source_hash(directory, name):
            return f"{name}.py changed since it was compiled ('pip install -e .' compiles it again)"
    return None


class _SourceFinder:
    """Finds the compiled modules' Python source, ahead of the extension modules beside it."""

    def __init__(self, directory):
        self.paths = {f"{__package__}.{name}": directory / f"{name}.py" for name in MODULES}

    def find_spec(self, fullname, path=None, target=None):
        p = self.paths.get(fullname)
        return spec_from_file_location(fullname, p) if p is not None else None


def select() -> tuple[str, str]:
    """Choose this process's build (:func:`choose`) and, if it is the source while compiled modules
    lie beside it, make the engine's modules load from their source; return ``(build, why)``."""
    engine, why = choose()
    if engine == "python" and any(_compiled_file(_HERE, name) for name in MODULES) \
            and not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder(_HERE))
    return engine, why
