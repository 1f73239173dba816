"""Random streams: one root ``SeedSequence`` per experiment, one stream per source.

Rules R1-R5 of the methodology:

* only explicit ``numpy.random.Generator`` objects are used (no global state);
* the stream of replication ``r`` and random source ``name`` is
  ``SeedSequence(entropy, spawn_key=(r, crc32(name)))``, independent of the
  worker, the scenario, the executor and the order in which sources are made;
* every source has its own stream, so scenarios share demand, lead-time and
  outage draws (common random numbers);
* draws are made in blocks and handed out one by one (buffered).

Examples
--------
>>> g = stream(12345, replication=0, name="demand:us_ev")
>>> float(g.random()) == float(stream(12345, 0, "demand:us_ev").random())
True
"""
from __future__ import annotations

import secrets
import zlib

import numpy as np

__all__ = ["as_entropy", "stream", "BLOCK"]

#: Number of variates drawn at once by buffered samplers (rule R5).
BLOCK = 1024


def as_entropy(seed=None) -> int:
    """Turn a ``seed=`` argument into the root entropy of an experiment.

    Parameters
    ----------
    seed : None, int or numpy.random.SeedSequence
        ``None`` draws fresh entropy (which is then recorded in results).

    Returns
    -------
    int
        Non-negative integer entropy.

    Examples
    --------
    >>> as_entropy(7)
    7
    """
    if seed is None:
        return secrets.randbits(64)
    if isinstance(seed, np.random.SeedSequence):
        ent = seed.entropy
        if not isinstance(ent, int):
            raise TypeError("SeedSequence with array entropy is not supported; pass an int")
        return ent
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be None, a non-negative int or a SeedSequence, not {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return int(seed)


def stream(entropy: int, replication: int, name: str) -> np.random.Generator:
    """The generator of random source ``name`` in replication ``replication`` (rule R3)."""
    key = (int(replication), zlib.crc32(name.encode("utf-8")))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=key)))
