"""Where the models shipped with supplysim live."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["models_dir", "default_model_path"]


def models_dir() -> Path:
    """The ``models/`` directory (override with ``SUPPLYSIM_MODELS``)."""
    env = os.environ.get("SUPPLYSIM_MODELS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for cand in (here / "models", here.parent / "models"):
        if cand.is_dir():
            return cand
    return here.parent / "models"


def default_model_path() -> Path:
    """The model ``supplysim run`` uses when none is given."""
    d = models_dir()
    re_model = d / "rare_earths" / "model.toml"
    return re_model.parent if re_model.is_file() else d / "examples" / "tutorial.toml"
