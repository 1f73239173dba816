"""Registries: names a model file uses (a kind of disruption, a control mechanism) and what
the model layer or the engine does for each, registered once.

Examples
--------
>>> kinds = Registry("disruption kind")
>>> _ = kinds.register("strike", print)
>>> _ = kinds.register("strike", print)        # the same again: nothing changes
>>> kinds.register("strike", len)
Traceback (most recent call last):
ValueError: a disruption kind 'strike' is already registered
>>> kinds.lookup("storm", "disruptions.x")
Traceback (most recent call last):
ValueError: disruptions.x: no disruption kind 'storm' (known: strike)
"""
from __future__ import annotations

__all__ = ["Registry"]


class Registry(dict):
    """A dict of name -> value where each name is registered once (registering an equal value
    again, as a re-imported module does, is allowed)."""

    def __init__(self, what):
        super().__init__()
        self.what = what

    def register(self, name, value):
        """Register ``value`` under ``name``; return it."""
        if name in self and self[name] != value:
            raise ValueError(f"a {self.what} '{name}' is already registered")
        self[name] = value
        return value

    def lookup(self, name, where):
        """The value of ``name``; an error naming ``where`` it was asked for and the known names if none."""
        try:
            return self[name]
        except KeyError:
            raise ValueError(f"{where}: no {self.what} '{name}' (known: {', '.join(sorted(self))})") from None
