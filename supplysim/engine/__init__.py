"""The simulation engine: one SimPy environment per replication."""
from .results import ReplicationResult
from .simulation import InvariantError, Simulation

__all__ = ["Simulation", "ReplicationResult", "InvariantError"]
