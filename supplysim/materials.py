"""Elements tracked in every stock and shipment, and their composition vectors.

A composition vector holds, per tonne of a commodity, the tonnes of each
tracked element. Mixing two stocks is a quantity-weighted average; a recipe maps
input vectors to output vectors; losses leave with their own vectors. Mass
balance and content thresholds both follow from this one representation.

Examples
--------
>>> v = content_vector({"NdPr": 0.3, "Fe": 0.68})
>>> float(v[ELEMENT_INDEX["NdPr"]])
0.3
>>> float(rare_earth_content(v))
0.3
"""
from __future__ import annotations

import numpy as np

__all__ = ["ELEMENTS", "RARE_EARTHS", "ELEMENT_INDEX", "RE_MASK", "content_vector",
           "rare_earth_content"]

#: Tracked elements. Rare earths first; Sm, Gd and Y are kept apart because
#: export-control rules name them; ``other_re`` lumps the rest (La, Ce, Ho, ...).
ELEMENTS = ("NdPr", "Dy", "Tb", "Sm", "Gd", "Y", "other_re", "Fe", "B")
RARE_EARTHS = ELEMENTS[:7]
ELEMENT_INDEX = {e: i for i, e in enumerate(ELEMENTS)}
RE_MASK = np.array([e in RARE_EARTHS for e in ELEMENTS])


def content_vector(content: dict) -> np.ndarray:
    """Composition vector (t element per t product) from a mapping of element to fraction."""
    v = np.zeros(len(ELEMENTS))
    for k, x in content.items():
        v[ELEMENT_INDEX[k]] = float(x)
    v.flags.writeable = False
    return v


def rare_earth_content(v: np.ndarray) -> float:
    """Tonnes of rare earths per tonne in composition ``v``."""
    return float(v[RE_MASK].sum())
