"""A non-editable install ships the models: ``supplysim scenarios`` lists them and ``supplysim run``
runs the default model from any folder.

The wheel is built from a copy of the sources (nothing is written into the checkout) and
installed into a fresh virtual environment that borrows this environment's dependencies; pip
fetches only the build tools when it builds the wheel.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    # (the checkout's own compiled engine, if any, stays behind: the wheel compiles its own)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.png", "*.so", "*.c", "_compiled.json")
    shutil.copytree(ROOT / "supplysim", src / "supplysim", ignore=ignore)
    shutil.copytree(ROOT / "models", src / "models", ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    # (the build compiles the engine unless told not to: whatever this session runs, the wheel is the default)
    env = {k: v for k, v in os.environ.items() if k != "SUPPLYSIM_ENGINE"}
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                       capture_output=True, text=True, timeout=600, env=env)
    if r.returncode != 0 and "No matching distribution" in r.stderr + r.stdout:
        pytest.skip("the build tools could not be fetched")
    assert r.returncode == 0, r.stderr[-3000:]
    return next(out.glob("supplysim-*.whl"))


def test_wheel_holds_every_shipped_model_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"supplysim/models/{p.relative_to(ROOT / 'models').as_posix()}"
               for p in (ROOT / "models").rglob("*") if p.suffix in (".toml", ".md")}
    assert shipped and shipped <= names, sorted(shipped - names)
    assert not any(n.startswith("models/") for n in names)


def test_wheel_holds_the_compiled_engine_where_a_c_compiler_is_at_hand(wheel, c_compiler):
    from supplysim.engine.compiled import MANIFEST, MODULES
    if not c_compiler:
        pytest.skip("no C compiler: the wheel holds the engine's Python source only")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in MODULES:
        assert f"supplysim/engine/{name}.py" in names
        for suffix in (".pxd", ".pyx"):   # (the record hashes them: the installed engine reads them)
            assert f"supplysim/engine/{name}{suffix}" in names or not (ROOT / "supplysim" / "engine" / (name + suffix)).exists()
        assert any(n.startswith(f"supplysim/engine/{name}.") and n.endswith(".so") for n in names), name
    assert f"supplysim/engine/{MANIFEST}" in names



@pytest.mark.slow
def test_installed_wheel_lists_scenarios_and_runs(wheel, tmp_path, c_compiler):
    env_dir = tmp_path / "venv"
    # nothing of this checkout may be visible to the installed package (nor to pip deciding what is installed)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SUPPLYSIM_MODELS", "SUPPLYSIM_ENGINE")}
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True, timeout=300, env=env)
    py = env_dir / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    # the dependencies come from this environment (no download), after the wheel's own site-packages,
    # so supplysim itself is the installed wheel, not this checkout
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "elsewhere"
    work.mkdir()
    exe = env_dir / "bin" / "supplysim"
    where = subprocess.run([str(py), "-c", "import supplysim, supplysim.paths as p; print(supplysim.__file__); "
                            "print(p.default_model_path()); print(supplysim.engine.ENGINE)"],
                           capture_output=True, text=True, cwd=work, env=env)
    assert str(env_dir) in where.stdout and "site-packages" in where.stdout.splitlines()[1], where.stdout
    assert where.stdout.split()[2] == ("compiled" if c_compiler else "python"), where.stdout
    r = subprocess.run([str(exe), "scenarios"], capture_output=True, text=True, cwd=work, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "cn-2025-04-licensing" in r.stdout and "baseline" in r.stdout
    r = subprocess.run([str(exe), "run", "--reps", "1", "--days", "62", "--seed", "1", "--quiet"],
                       capture_output=True, text=True, cwd=work, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "model rare_earths" in r.stdout and "delivered share" in r.stdout
    assert (work / "runs" / "rare_earths-baseline" / "summary.json").exists()
