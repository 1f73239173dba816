"""The kinds of disruption a model may declare, each with the validation of its own parameters.

A ``[disruptions.ID]`` table has the keys every kind shares (``kind``, ``start``,
``end`` or ``days``, ``description``, ``source``, ``note``), the key that names its
targets (``facilities``, ``lanes`` or ``demand``; demand may also be named by
``regions`` where the kind allows it) and keys of its own. A kind is registered
here with :func:`disruption_kind`: its target key, its own keys and a function
``parse(ck, table, path)`` that checks them with the model's field converters
(:mod:`supplysim.model.fields`) and returns the :class:`~.specs.Disruption` fields
it sets (``factor``, ``extra_days``, ``params``). That is the model's half of a
mechanism; the engine's half, what the kind does during a run, is registered
with :func:`supplysim.engine.mechanisms.disruption`. The built-in kinds register
in :mod:`supplysim.model.parse`.

Examples
--------
>>> from supplysim.model import fields as F
>>> @disruption_kind("example_slowdown", "facilities", {"factor"})
... def _slowdown(ck, t, path):
...     return {"factor": ck.get(t, path, "factor", F.number(0, 1), 0.5)}
>>> KINDS["example_slowdown"].targets, sorted(KINDS["example_slowdown"].keys)
('facilities', ['factor'])
>>> del KINDS["example_slowdown"]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..registry import Registry

__all__ = ["DisruptionKind", "KINDS", "TARGET_KEYS", "COMMON_KEYS", "disruption_kind"]

#: Keys every disruption may have.
COMMON_KEYS = frozenset({"kind", "start", "end", "days", "description", "source", "note"})
#: What a kind's targets may be: facility, lane or demand ids.
TARGET_KEYS = ("facilities", "lanes", "demand")
#: name -> :class:`DisruptionKind`, in registration order.
KINDS = Registry("disruption kind")


@dataclass(frozen=True)
class DisruptionKind:
    """One kind of disruption: its name, the key naming its targets, its own keys and their parser."""

    name: str
    targets: str
    keys: frozenset
    parse: Callable
    regions: bool = False   # demand targets may be given as ``regions = [...]``

    @property
    def allowed(self) -> frozenset:
        """Every key a table of this kind may hold."""
        return COMMON_KEYS | {self.targets} | self.keys | ({"regions"} if self.regions else set())


def disruption_kind(name, targets, keys=(), regions=False):
    """Register ``parse(ck, table, path) -> dict`` as the validation of disruptions of kind ``name``.

    ``targets`` is the key naming what the disruption acts on (one of :data:`TARGET_KEYS`);
    ``keys`` are the kind's own keys; ``regions`` lets demand targets be named by region.
    """
    if targets not in TARGET_KEYS:
        raise ValueError(f"disruption kind '{name}': targets must be one of {', '.join(TARGET_KEYS)}, "
                         f"not {targets!r}")
    if regions and targets != "demand":
        raise ValueError(f"disruption kind '{name}': only demand targets may be named by region")
    clash = set(keys) & (COMMON_KEYS | set(TARGET_KEYS) | {"regions"})
    if clash:
        raise ValueError(f"disruption kind '{name}': keys {sorted(clash)} are reserved")

    def deco(parse):
        KINDS.register(name, DisruptionKind(name, targets, frozenset(keys), parse, regions))
        return parse
    return deco
