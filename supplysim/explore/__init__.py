"""Exploratory modelling over the simulator: uncertainties and levers by key path, sampling designs,
runs through the experiment store, sensitivity indices, scenario discovery (PRIM), reports and exports."""
from .spec import Spec, load_spec, parse_spec

__all__ = ["Spec", "load_spec", "parse_spec"]
