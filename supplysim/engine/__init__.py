"""The simulation engine: one SimPy environment per replication."""
from .compiled import select

# first, before any other engine module loads: the compiled modules, or their source (see compiled.py)
ENGINE, ENGINE_WHY = select()

from .results import ReplicationResult  # noqa: E402
from .simulation import InvariantError, Simulation  # noqa: E402

__all__ = ["Simulation", "ReplicationResult", "InvariantError", "ENGINE", "ENGINE_WHY"]
