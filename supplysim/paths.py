"""Where the models shipped with supplysim live.

In a checkout (or an editable install) they are the repository's ``models/`` folder; an installed
wheel carries the same files as the package data ``supplysim/models/`` (see setup.py).

Examples
--------
>>> (models_dir() / "examples" / "tutorial.toml").is_file()
True
>>> default_model_path().name
'rare_earths'
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["models_dir", "default_model_path"]


def models_dir() -> Path:
    """The shipped models' folder (override with ``SUPPLYSIM_MODELS``)."""
    env = os.environ.get("SUPPLYSIM_MODELS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for cand in (here / "models", here.parent / "models"):   # installed package data, then the checkout
        if cand.is_dir():
            return cand
    return here.parent / "models"


def default_model_path() -> Path:
    """The model ``supplysim run`` uses when none is given."""
    d = models_dir()
    re_model = d / "rare_earths" / "model.toml"
    return re_model.parent if re_model.is_file() else d / "examples" / "tutorial.toml"
