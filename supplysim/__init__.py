"""supplysim: discrete-event simulation of the rare-earth supply chain, mine to magnet.

Examples
--------
>>> import supplysim
>>> model = supplysim.load_model(supplysim.default_model_path())   # doctest: +SKIP
>>> result = supplysim.Simulation(model, seed=1).run(years=2)      # doctest: +SKIP
"""
__version__ = "0.1.0"

from .engine import InvariantError, ReplicationResult, Simulation  # noqa: E402
from .model import Model, ModelError, load_model  # noqa: E402
from .paths import default_model_path  # noqa: E402

__all__ = ["Simulation", "ReplicationResult", "InvariantError", "Model", "ModelError", "load_model",
           "default_model_path", "__version__"]
