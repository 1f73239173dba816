"""The stages of the chain: what a facility's ``stage`` label means, in one table.

The engine's origin stamps, the validation of ``stage`` labels and the network
figures all read this table.

Each stage has its place from mine to demand (the column the network figures
draw it in) and, where it transforms material, the origin it stamps on its
output: material separated in Malaysia carries Malaysia as its separation
origin, whatever country mined it (see ``supplysim.materials.Layout``).

Examples
--------
>>> origin_stage("alloying"), origin_stage("magnet"), STAGES["separation"].column
('metallisation', None, 2)
>>> sorted(s for s in STAGES if STAGES[s].column == 0)
['mine', 'scrap', 'source']
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Stage", "STAGES", "COLUMN_NAMES", "origin_stage"]


@dataclass(frozen=True)
class Stage:
    """One stage label of the model format."""

    name: str
    column: int               # position from mine (0) to demand (6)
    origin: str | None        # origin stage stamped on output (materials.Layout.STAGES), None if not a transformation
    meaning: str


#: Every stage label a facility may carry.
STAGES = {s.name: s for s in (
    Stage("mine", 0, "mining", "mine and concentrator: ore to mineral concentrate"),
    Stage("source", 0, "mining", "any other primary source (an aggregate of mines, an unlimited supplier)"),
    Stage("scrap", 0, None, "collected end-of-life or production scrap"),
    Stage("cracking", 1, None, "cracking and leaching: concentrate to mixed rare-earth chemicals"),
    Stage("concentration", 1, None, "further concentration before separation"),
    Stage("separation", 2, "separation", "solvent extraction: mixed rare earths to separated oxides"),
    Stage("refining", 2, "separation", "refining of separated products (as separation)"),
    Stage("metallisation", 3, "metallisation", "reduction of oxides to metal"),
    Stage("metal", 3, "metallisation", "metal making (as metallisation)"),
    Stage("alloying", 3, "metallisation", "metal and NdFeB alloy making"),
    Stage("magnet", 4, None, "sintered or bonded magnet making"),
    Stage("recycling", 5, None, "recovery of rare earths from scrap"),
    Stage("component", 5, None, "components made with magnets (motors, assemblies)"),
    Stage("assembly", 5, None, "assembly of products containing magnets"),
    Stage("distributor", 5, None, "a distributor between makers and users"),
    Stage("distribution", 5, None, "distribution (as distributor)"),
    Stage("trader", 5, None, "a trader holding stock"),
    Stage("stockist", 5, None, "a stockist (as distributor)"),
    Stage("warehouse", 5, None, "a warehouse holding stock"),
    Stage("buyer", 6, None, "a region's magnet buyers: stock drawn by demand"),
    Stage("stockpile", 6, None, "a strategic stockpile"),
    Stage("buffer", 6, None, "a demand sink's own stocking point (made by the model, not written)"),
)}

#: Names of the columns, left to right.
COLUMN_NAMES = ("mine", "cracking", "separation", "metal / alloy", "magnet", "recycling", "buyer / demand")


def origin_stage(stage: str):
    """The origin stage a facility of ``stage`` stamps on its output (None if it stamps none)."""
    s = STAGES.get(stage)
    return s.origin if s is not None else None
