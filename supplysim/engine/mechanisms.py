"""Mechanisms: what acts on a running network besides production, ordering and shipping.

Disruptions, responses, export controls and markets (:mod:`.market`) are mechanisms. Each is
installed on a :class:`~.simulation.Simulation` once its network is built and
acts only through these hooks:

========================================  ================================================================
hook                                      when it acts
========================================  ================================================================
``lane.add_limit(fn, rank)``              at dispatch: ``fn(lane, comp, tonnes, now)`` returns what the
                                          lane may ship (ranks ``ACCESS``, ``CONTROLS``, ``ALLOTMENT``)
``node.buyer.watch(c, fn)``               every change of a buyer's position of ``c``, before its review
``node.buyer.short_hooks``                an order is due and the position is below half the policy's
                                          level
``sink.add_shock(start, end, factor)``    a dated change of the demand rate (before the run)
``sink.add_factor(fn)``                   each order: multiplied by ``fn(now)`` (demand changed during the
                                          run; the draws, and so common random numbers, stay as they are)
``sink.shortage_hooks``                   each order not served in full at once
``sink.set_patience(draw)``               unmet orders wait ``draw()`` days each, then what is unserved is lost
``sink.level``                            share of the demand rate still placed (buyers plan cover on it)
``node.buyer.set_cover(c, fn)``           days-of-cover levels of ``c`` become ``v * f + extra`` with
                                          ``(f, extra) = fn(now)`` (stock release and building)
``plant.add_outage``, ``set_schedule``    capacity changes
``plant.recipe.steer(fn)``                a graded maker's new period: ``fn(recipe, now, desired)``
                                          returns the target grade mix (shares in grade order) before
                                          the lag and the limits act (``recipe.limits`` may change too)
``grade_demand(sim, ID).move(a, b, x)``   a graded demand entry: share ``x`` of grade ``a``'s demand
                                          moves to grade ``b`` (a Dy-free design; ``engine/grades.py``)
``sim.each_month(fn)``                    at every month end, after the month's records: ``fn(sim, now)``
``sim.signals``                           named values published by one mechanism and read by others
                                          (a price)
``sim.records[name] = fn``                a monthly series of the mechanism's own in the result:
                                          ``fn(month start days, horizon) -> (labels, array)``
``sim.env.loop``, ``process``, ``call``   the mechanism's own story in time (a :class:`~.kernel.Loop`, a
                                          SimPy process, or one callback)
========================================  ================================================================

A mechanism is a function ``install(sim, spec)`` registered for a kind of
disruption with :func:`disruption`; random draws come from ``sim.stream(name)``
(one stream per source, rule R3). See ``docs/architecture.md`` for a worked example.
"""
from __future__ import annotations

from ..registry import Registry

__all__ = ["DISRUPTIONS", "disruption", "install_disruptions", "Signals"]

#: kind -> install(sim, spec) for the model's ``[disruptions.ID]`` entries.
DISRUPTIONS = Registry("mechanism for disruptions of kind")


def disruption(kind):
    """Register ``install(sim, spec)`` for disruptions of ``kind``.

    Examples
    --------
    >>> @disruption("example_noop")
    ... def _install(sim, spec):
    ...     pass
    >>> "example_noop" in DISRUPTIONS
    True
    >>> del DISRUPTIONS["example_noop"]
    """
    return lambda fn: DISRUPTIONS.register(kind, fn)


def install_disruptions(sim):
    """Install every disruption of ``sim``'s model, in model order."""
    for d in sim.model.disruptions:
        DISRUPTIONS.lookup(d.kind, f"disruptions.{d.id}")(sim, d)


class Signals:
    """Named values that mechanisms publish and read (a price per commodity and market, say).

    Examples
    --------
    >>> s = Signals()
    >>> seen = []
    >>> s.subscribe("price:magnet", lambda name, v: seen.append(v))
    >>> s.publish("price:magnet", 80.0)
    >>> s.get("price:magnet"), seen
    (80.0, [80.0])
    """

    def __init__(self):
        self._values = {}
        self._subscribers = {}

    def publish(self, name, value):
        self._values[name] = value
        for fn in self._subscribers.get(name, ()):
            fn(name, value)

    def subscribe(self, name, fn):
        """Call ``fn(name, value)`` at every publication of ``name``."""
        self._subscribers.setdefault(name, []).append(fn)

    def get(self, name, default=None):
        return self._values.get(name, default)
