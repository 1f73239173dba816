"""The engine's two builds: which one runs (:mod:`supplysim.engine.compiled`), and that the compiled
build gives the Python source's results to the last bit on every shipped model and scenario."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import supplysim.engine
from supplysim.engine.compiled import MANIFEST, MODULES, VARIABLE, choose, source_hash

ROOT = Path(__file__).resolve().parents[1]
ENGINE_DIR = ROOT / "supplysim" / "engine"


@pytest.fixture
def build(tmp_path):
    """A folder holding the compiled modules' source, stand-ins for their extension modules and the
    build's record of that source."""
    for name in MODULES:
        for suffix in (".py", ".pxd", ".pyx"):
            if (ENGINE_DIR / (name + suffix)).exists():
                shutil.copy(ENGINE_DIR / (name + suffix), tmp_path)
        (tmp_path / (name + EXTENSION_SUFFIXES[0])).write_bytes(b"")
    (tmp_path / MANIFEST).write_text(json.dumps({name: source_hash(tmp_path, name) for name in MODULES}))
    return tmp_path


def test_a_build_of_the_current_source_runs(build):
    assert choose({}, build) == ("compiled", "compiled from the source beside it")


def test_an_edited_module_makes_the_whole_engine_run_from_its_source(build):
    (build / "plant.py").write_text((build / "plant.py").read_text() + "\n# edited\n")
    engine, why = choose({}, build)
    assert engine == "python" and why.startswith("plant.py changed since it was compiled"), why


def test_an_edited_type_declaration_counts_as_an_edit(build):
    (build / "node.pxd").write_text((build / "node.pxd").read_text() + "\n# edited\n")
    assert choose({}, build)[1].startswith("node.py changed since it was compiled")


def test_an_edited_compiled_implementation_counts_as_an_edit(build):
    (build / "mixing.pyx").write_text((build / "mixing.pyx").read_text() + "\n# edited\n")
    assert choose({}, build)[1].startswith("mixing.py changed since it was compiled")


def test_a_module_not_compiled_or_no_record_of_the_build_means_the_source(build):
    (build / ("lane" + EXTENSION_SUFFIXES[0])).unlink()
    assert choose({}, build) == ("python", "lane not compiled")
    (build / MANIFEST).unlink()
    engine, why = choose({}, build)
    assert engine == "python" and why.startswith("not compiled at install"), why


def test_the_variable_forces_the_source_or_demands_the_compiled_build(build):
    assert choose({VARIABLE: "python"}, build) == ("python", "SUPPLYSIM_ENGINE=python")
    assert choose({VARIABLE: "compiled"}, build)[0] == "compiled"
    (build / MANIFEST).write_text("{")
    with pytest.raises(ImportError, match="SUPPLYSIM_ENGINE=compiled, but the compiled engine cannot run: "
                                          "_compiled.json unreadable"):
        choose({VARIABLE: "compiled"}, build)
    with pytest.raises(ValueError, match="SUPPLYSIM_ENGINE='fast': expected 'python', 'compiled' or unset"):
        choose({VARIABLE: "fast"}, build)


def test_results_record_the_build_that_made_them():
    from supplysim.engine.results import versions
    assert versions()["engine"] == supplysim.engine.ENGINE


@pytest.fixture(scope="module")
def compiled_tree(tmp_path_factory, c_compiler):
    """A tree whose engine runs compiled from the current source: this checkout if its build is
    current, else a copy compiled here."""
    if supplysim.engine.ENGINE == "compiled":
        return ROOT
    if not c_compiler or importlib.util.find_spec("Cython") is None:
        pytest.skip("no C compiler or no Cython: the engine cannot be compiled here")
    tree = tmp_path_factory.mktemp("compiled")
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.png", "*.so", "*.c", MANIFEST)
    for name in ("supplysim", "models", "benchmarks"):
        shutil.copytree(ROOT / name, tree / name, ignore=ignore)
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    r = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=tree, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0 and (tree / "supplysim" / "engine" / MANIFEST).exists(), r.stderr[-3000:]
    return tree


def test_the_compiled_engine_gives_bit_identical_results_on_every_shipped_model_and_scenario(compiled_tree,
                                                                                               tmp_path):
    # benchmarks/fingerprint.py: a hash of everything each replication returns (all scenarios of the
    # default model, the tutorial and the peer network), run by each build side by side
    runs = {}
    for engine in ("compiled", "python"):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env[VARIABLE] = engine
        out = tmp_path / f"{engine}.json"
        runs[engine] = (out, subprocess.Popen([sys.executable, "benchmarks/fingerprint.py", "--out", str(out)],
                                              cwd=compiled_tree, env=env, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True))
    for engine, (out, p) in runs.items():
        _, err = p.communicate(timeout=900)
        assert p.returncode == 0, f"{engine}: {err[-3000:]}"
    compiled, python = (json.loads(out.read_text()) for out, _ in runs.values())
    assert len(python) >= 30
    assert compiled == python, sorted(k for k in python if compiled.get(k) != python[k])


def test_the_compiled_modules_doctests_pass_from_their_source():
    if supplysim.engine.ENGINE != "compiled":
        pytest.skip("the engine runs from its source here, so pytest collects these doctests itself")
    env = {**os.environ, VARIABLE: "python"}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        *[f"supplysim/engine/{name}.py" for name in MODULES]],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and " passed" in r.stdout, r.stdout[-3000:]


def test_the_compiled_mixing_gives_numpys_bits_and_refuses_unequal_sizes():
    if supplysim.engine.ENGINE != "compiled":
        pytest.skip("the engine runs from its source here (its mixing is numpy's own)")
    import numpy as np

    from supplysim.engine.mixing import mixed
    rng = np.random.default_rng(3)
    for size in (1, 9, 345):
        old, new = rng.random(size), rng.random(size) * 10.0 ** rng.integers(-12, 3)
        for w in (0.0, 1e-9, 0.3, 1.0 / 3.0, 1.0):
            expected = new - old
            expected *= w
            expected += old
            assert mixed(old, new, w).tobytes() == expected.tobytes()
    with pytest.raises(ValueError, match="compositions of 3 and 2 entries cannot be mixed"):
        mixed(np.zeros(3), np.zeros(2), 0.5)


def test_the_compiled_weighted_sum_and_stamp_give_numpys_bits():
    if supplysim.engine.ENGINE != "compiled":
        pytest.skip("the engine runs from its source here (its arithmetic is numpy's own)")
    import numpy as np

    from supplysim.engine.mixing import stamped, weighted_sum
    rng = np.random.default_rng(5)
    vectors = [rng.random(345) * 10.0 ** rng.integers(-6, 3) for _ in range(4)]
    weights = [1.0, 0.7, 1e-3, 1.0 / 3.0]
    expected = vectors[0] * weights[0]
    for v, w in zip(vectors[1:], weights[1:]):
        expected += v * w
    assert weighted_sum(vectors, weights).tobytes() == expected.tobytes()
    src = rng.integers(0, 345, 345)
    keep = (rng.random(345) > 0.3).astype(float)
    assert stamped(vectors[1], src, keep).tobytes() == (vectors[1].take(src) * keep).tobytes()
    with pytest.raises(ValueError, match="weighted_sum: 9 entries, expected 345"):
        weighted_sum([vectors[0], np.zeros(9)], [1.0, 1.0])
    with pytest.raises(IndexError, match="stamped: index 400 out of a vector of 345"):
        stamped(vectors[0], np.full(345, 400), keep)
