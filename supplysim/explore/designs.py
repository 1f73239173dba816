"""Sampling designs over the uncertainties, crossed with every combination of lever values.

``lhs``
    Latin hypercube of ``n`` points (SALib ``sample.latin``): scenario discovery.
``sobol``
    Saltelli's extension of a scrambled Sobol' sequence, ``n * (D + 2)`` points
    (``n * (2D + 2)`` with second-order indices), ``n`` a power of 2
    (SALib ``sample.sobol``): first- and total-order Sobol indices.
``morris``
    ``n`` Morris trajectories of ``D + 1`` points on a 4-level grid (SALib
    ``sample.morris``): elementary effects, cheap screening.
``full``
    Full factorial: ``n`` levels per continuous uncertainty (both bounds
    included), every value of a discrete one (no SALib needed).

Points are drawn in the unit hypercube and mapped through each uncertainty's
inverse CDF, so every design serves every distribution. The generator is
``SeedSequence(entropy, spawn_key=(crc32("explore:design"),))``: a key of
another length than the replications' ``(r, crc32(name))`` (rule R3), so the
design is reproducible from the experiment's root entropy and shifts no
replication stream. The drawn design is stored with the results, so a resumed
run reuses it whatever the SALib version.

Examples
--------
>>> from supplysim.explore.spec import parse_spec
>>> spec = parse_spec('''
... [uncertainties.a]
... keys = []
... range = [0, 10]
... [uncertainties.b]
... keys = []
... values = [1, 2]
... [outcomes.y]
... metric = "delivered_share[EU]"
... ''', "demo.toml")
>>> d = make_design(spec, "full", 3, entropy=1)
>>> [p.values for p in d.points()][:3]
[{'a': 0.0, 'b': 1}, {'a': 0.0, 'b': 2}, {'a': 5.0, 'b': 1}]
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import numpy as np

__all__ = ["DESIGNS", "Design", "Point", "make_design", "design_rng", "DesignError"]

DESIGNS = ("lhs", "sobol", "morris", "full")

#: Morris grid levels (SALib's default and the usual choice, Saltelli et al. 2008 ch. 3).
MORRIS_LEVELS = 4


class DesignError(ValueError):
    """A design that cannot be made as asked (the message says what would work)."""


def design_rng(entropy) -> np.random.Generator:
    """The design's generator, from the experiment's root entropy."""
    key = (zlib.crc32(b"explore:design"),)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(entropy), spawn_key=key)))


@dataclass(frozen=True)
class Point:
    """One design point: an uncertainty sample (``scenario``) under one lever combination (``policy``)."""

    label: str
    index: int
    scenario: int
    policy: str
    values: dict


@dataclass
class Design:
    """The drawn design: unit-cube samples, the values they map to, and the lever combinations.

    Attributes
    ----------
    kind, n : str, int
        As asked.
    names : list of str
        Uncertainty names, the columns of ``unit`` and ``rows``.
    unit : list of lists or None
        Samples in the unit hypercube, one per scenario row (None for ``full``).
    rows : list of dicts
        Uncertainty values of each scenario row.
    policies : list of (label, {lever: value})
    second_order : bool
        Sobol design with second-order terms.
    """

    kind: str
    n: int
    names: list
    unit: list | None
    rows: list
    policies: list
    second_order: bool = False
    levels: int = MORRIS_LEVELS

    def __len__(self):
        return len(self.rows) * len(self.policies)

    def points(self):
        """Every point, policy-major (all scenarios under the first policy, then the next)."""
        k = 0
        for pol, lv in self.policies:
            for i, row in enumerate(self.rows):
                label = f"x{i:05d}" + (f"@{pol}" if pol else "")
                yield Point(label, k, i, pol, {**row, **lv})
                k += 1

    def to_json(self) -> dict:
        return {"kind": self.kind, "n": self.n, "names": self.names, "unit": self.unit, "rows": self.rows,
                "policies": [[p, v] for p, v in self.policies], "second_order": self.second_order,
                "levels": self.levels}

    @classmethod
    def from_json(cls, d) -> "Design":
        return cls(d["kind"], d["n"], d["names"], d["unit"], d["rows"], [(p, v) for p, v in d["policies"]],
                   d.get("second_order", False), d.get("levels", MORRIS_LEVELS))


def _salib():
    try:
        from SALib.sample import latin, morris, sobol
    except ImportError:
        raise DesignError("the lhs, sobol and morris designs need SALib: pip install 'supplysim[explore]' "
                          "(--design full works without it)") from None
    return latin, sobol, morris


def make_design(spec, kind, n, entropy, second_order=False) -> Design:
    """Draw design ``kind`` of size ``n`` over ``spec``'s uncertainties, crossed with its levers.

    Raises
    ------
    DesignError
        For an unknown kind, ``n`` too small, or ``n`` not a power of 2 for ``sobol``.
    """
    if kind not in DESIGNS:
        raise DesignError(f"unknown design '{kind}'; expected one of {', '.join(DESIGNS)}")
    n = int(n)
    if n < 1 or (kind == "full" and n < 1) or (kind in ("lhs", "morris") and n < 2):
        raise DesignError(f"--n {n} is too small for a {kind} design")
    unc = spec.uncertainties
    names = [p.name for p in unc]
    problem = {"num_vars": len(unc), "names": names, "bounds": [[0.0, 1.0]] * len(unc)}
    unit = None
    if kind == "full":
        grid = list(itertools.product(*(p.levels(n) for p in unc)))
        rows = [dict(zip(names, g)) for g in grid]
    else:
        latin, sobol, morris = _salib()
        rng = design_rng(entropy)
        if kind == "lhs":
            u = latin.sample(problem, n, seed=rng)
        elif kind == "sobol":
            if n & (n - 1):
                lo = 1 << (n.bit_length() - 1)
                raise DesignError(f"--n {n}: a sobol design needs a power of 2 (e.g. {lo} or {lo * 2}); it runs "
                                  f"n x (D + 2) = {n} x {len(unc) + 2} points")
            u = sobol.sample(problem, n, calc_second_order=second_order, seed=rng)
        else:
            u = morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=rng)
        u = np.asarray(u, float)
        cols = [p.from_unit(u[:, j]) for j, p in enumerate(unc)]
        rows = [dict(zip(names, vals)) for vals in zip(*cols)]
        unit = u.tolist()
    return Design(kind, n, names, unit, rows, spec.policies(), second_order=bool(second_order))
