"""supplysim: discrete-event simulation of the rare-earth supply chain, mine to magnet.

Examples
--------
>>> import supplysim
>>> from supplysim.paths import models_dir
>>> model = supplysim.load_model(models_dir() / "examples" / "tutorial.toml")
>>> result = supplysim.Simulation(model, seed=1).run(years=1)
>>> 0.9 < result.regions["JP"]["fill_rate"] <= 1.0
True
"""
from ._version import __version__  # noqa: E402

from .engine import InvariantError, ReplicationResult, Simulation  # noqa: E402
from .model import Model, ModelError, load_model  # noqa: E402
from .paths import default_model_path  # noqa: E402

__all__ = ["Simulation", "ReplicationResult", "InvariantError", "Model", "ModelError", "load_model",
           "default_model_path", "__version__"]
