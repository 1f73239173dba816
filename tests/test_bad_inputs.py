"""A corpus of bad inputs, each rejected through the command line with exit status 2 and a message
that names the file and the key (or the option) at fault, never a traceback.

The cases live in ``tests/bad_inputs/``: ``scenarios/*.toml`` are overlays on the tutorial model
(``supplysim validate TUTORIAL --scenario FILE``), ``models/*.toml`` are model files of their own
(``supplysim validate FILE``), and ``args:`` rows are command lines. ``expected.csv`` gives, per
case, the exit status, the file and key the message must name, and words it must hold
(separated by ``;``).
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from supplysim.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "bad_inputs"
TUTORIAL = "models/examples/tutorial.toml"


def _cases():
    with open(CORPUS / "expected.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


CASES = _cases()


def _argv(case, out):
    name = case["case"]
    if name.startswith("scenarios/"):
        return ["validate", TUTORIAL, "--scenario", f"tests/bad_inputs/{name}"]
    if name.startswith("models/"):
        return ["validate", f"tests/bad_inputs/{name}"]
    return [a.replace("{OUT}", str(out)) for a in case["args"].split()]


def test_corpus_is_large_and_every_file_has_a_row():
    assert len(CASES) >= 150
    listed = {c["case"] for c in CASES}
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.toml")}
    # helper files that other cases extend or include are not cases themselves
    helpers = {"models/circular-b.toml", "models/twice-part.toml"}
    assert on_disk - helpers == {c for c in listed if not c.startswith("args:")}


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_bad_input_is_rejected_naming_file_and_key(case, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    code = main(_argv(case, out))
    err = capsys.readouterr().err
    assert code == int(case["exit"]), err
    assert "Traceback" not in err
    where = ": ".join(x for x in (case["file"], case["key"]) if x)
    lines = [ln for ln in err.splitlines() if where in ln]
    assert lines, f"no line names {where!r}:\n{err}"
    words = [w for w in case["words"].split(";") if w]
    assert any(all(w.lower() in ln.lower() for w in words) for ln in lines), \
        f"no line naming {where!r} says {words}:\n{err}"
    assert not out.exists(), "a rejected command wrote its output folder"


@pytest.mark.parametrize("name", ["models/binary-junk.toml", "scenarios/capacity-400-digits.toml",
                                  "scenarios/recipe-empty-table.toml"])
def test_bad_input_in_a_fresh_process_prints_no_traceback(name):
    case = next(c for c in CASES if c["case"] == name)
    p = subprocess.run([sys.executable, "-m", "supplysim.cli", *_argv(case, None)], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert f"{case['file']}: {case['key']}".rstrip(": ") in p.stderr


def test_a_byte_order_mark_is_not_an_error(tmp_path):
    from supplysim import load_model
    p = tmp_path / "bom.toml"
    p.write_bytes(b"\xef\xbb\xbf" + (ROOT / TUTORIAL).read_bytes())
    assert load_model(p).digest() == load_model(ROOT / TUTORIAL).digest()
