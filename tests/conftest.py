"""Shared fixtures for the supplysim test suite.

Validation cases write their models as TOML text into ``tmp_path`` and load
them through the public :func:`supplysim.load_model`, so the tests exercise
the documented model format and nothing else.

Long validation runs are marked ``slow``. By default they run in a reduced
form (fewer replications, looser precision); ``SUPPLYSIM_FULL=1`` runs the
full plan.
"""
from __future__ import annotations

import math
import os
import shutil
import sysconfig
import textwrap

import pytest

from supplysim.experiment.stats import mean_ci

#: True when the full validation plan was requested (``SUPPLYSIM_FULL=1``).
FULL = os.environ.get("SUPPLYSIM_FULL", "") not in ("", "0")


@pytest.fixture(scope="session")
def c_compiler() -> bool:
    """Whether a C compiler is at hand (``CC``, or the one Python was built with), so an install
    compiles the engine."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shutil.which(cc.split()[0]) is not None


@pytest.fixture(scope="session")
def full_plan() -> bool:
    """Whether to run the full validation plan (``SUPPLYSIM_FULL=1``)."""
    return FULL


@pytest.fixture
def write_model(tmp_path):
    """Write TOML text to ``tmp_path / name`` and return the path.

    ``name`` may contain sub-directories (``scenarios/x.toml``).
    """
    def _write(text: str, name: str = "model.toml"):
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")
        return p
    return _write


def check_exact_in_ci(values, exact, precision, level=0.999, label=""):
    """Pass rule of the stochastic validation cases.

    The exact value must lie inside the ``level`` Student-t interval over the
    independent replications ``values``, and the interval's relative
    half-width must be under ``precision``.
    """
    s = mean_ci(values, level)
    assert s["n"] == len(values) and s["n"] >= 2, f"{label}: need at least 2 replications"
    lo, hi, m, h = s["ci_low"], s["ci_high"], s["mean"], s["half_width"]
    assert math.isfinite(h), f"{label}: interval is not finite ({s})"
    assert lo <= exact <= hi, (f"{label}: exact value {exact:.6g} outside the {level:.1%} interval "
                               f"[{lo:.6g}, {hi:.6g}] (mean {m:.6g}, n={s['n']})")
    rel = h / abs(m) if m != 0 else math.inf
    assert rel < precision, (f"{label}: relative half-width {rel:.3%} not under the stated precision "
                             f"{precision:.1%} (mean {m:.6g}, half-width {h:.3g}, n={s['n']})")
    return s


@pytest.fixture(scope="session")
def exact_in_ci():
    """The validation pass rule as a fixture (see :func:`check_exact_in_ci`)."""
    return check_exact_in_ci
