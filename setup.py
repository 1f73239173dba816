"""Packaging beyond setup.cfg: the top-level models/ folder installs as the package data
``supplysim/models`` (one copy of the models in the repository, shipped in every wheel)."""
from setuptools import find_packages, setup

setup(packages=find_packages(include=["supplysim", "supplysim.*"]) + ["supplysim.models"],
      package_dir={"supplysim.models": "models"})
