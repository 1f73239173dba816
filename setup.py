"""Packaging beyond setup.cfg.

* The top-level models/ folder installs as the package data ``supplysim/models`` (one copy of the
  models in the repository, shipped in every wheel).
* The engine's inner-loop modules are compiled with Cython where a C compiler is at hand
  (``supplysim/engine/compiled.py`` says how the engine then chooses its build). Without one, or
  with ``SUPPLYSIM_ENGINE=python`` set, the install holds the Python source only, which gives the
  same results, more slowly.
"""
import importlib.util
import json
import os
import sys
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_ext import build_ext

ENGINE_DIR = Path(__file__).resolve().parent / "supplysim" / "engine"


def _load_compiled():
    # the module that names the compiled modules, read without importing supplysim (its
    # dependencies may not be installed yet)
    spec = importlib.util.spec_from_file_location("supplysim_engine_compiled", ENGINE_DIR / "compiled.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compiled = _load_compiled()


class BuildEngine(build_ext):
    """Compile the engine's modules and record the source they came from; if the compiler fails,
    the install goes on with the source alone."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        if self.compiler.compiler_type == "unix":
            for ext in self.extensions:
                # no fused multiply-adds (-march=native would allow them): each operation rounds as
                # it does in Python, so both builds give the same bits
                ext.extra_compile_args.append("-ffp-contract=off")
        super().build_extensions()

    def run(self):
        try:
            super().run()
        except Exception as e:   # no C compiler, no Python headers, ...
            self.warn(f"supplysim: the engine was not compiled ({e}); it runs from its Python source")
            return
        record = json.dumps({name: compiled.source_hash(ENGINE_DIR, name) for name in compiled.MODULES}, indent=1)
        for folder in {Path(self.get_ext_fullpath(ext.name)).parent for ext in self.extensions}:
            (folder / compiled.MANIFEST).write_text(record + "\n", encoding="utf-8")


def _extensions():
    if os.environ.get(compiled.VARIABLE, "").strip().lower() == "python":
        return []
    try:
        import numpy
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError:   # a build without pip's build requirements (--no-build-isolation)
        return []
    # (numpy's headers: mixing.pyx reads the composition arrays through numpy's C interface)
    extensions = [Extension(f"supplysim.engine.{name}", [_source(name)], include_dirs=[numpy.get_include()],
                            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")])
                  for name in compiled.MODULES]
    try:
        return cythonize(extensions, language_level=3, quiet=True)
    except Exception as e:   # a Cython that cannot translate this source: the install goes on without it
        print(f"supplysim: the engine was not compiled ({e}); it runs from its Python source", file=sys.stderr)
        return []


def _source(name):
    """What Cython compiles for engine module ``name``: its ``.pyx`` where it has its own compiled
    implementation (see supplysim/engine/compiled.py), else its ``.py``."""
    pyx = Path("supplysim", "engine", f"{name}.pyx")
    return str(pyx if (ENGINE_DIR / pyx.name).exists() else pyx.with_suffix(".py"))


setup(packages=find_packages(include=["supplysim", "supplysim.*"]) + ["supplysim.models"],
      package_dir={"supplysim.models": "models"},
      ext_modules=_extensions(),
      cmdclass={"build_ext": BuildEngine})
