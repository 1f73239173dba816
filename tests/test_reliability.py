"""Results that can be trusted: damaged stores are detected and repaired, exports survive a kill,
resume says what differs, failures name their replication, workers die with their parent.

Fault injection works on the bytes of the SQLite file itself, as a disk or a careless edit would.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import weakref
from concurrent.futures import Future
from pathlib import Path

import pytest

from supplysim.cli import main
from supplysim.experiment.executors import ReplicationError, _stream, execute
from supplysim.experiment.experiment import Experiment, ExperimentResults
from supplysim.experiment.store import DamagedStoreError, Store, StoreError, repair

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = str(ROOT / "models" / "examples" / "tutorial.toml")
ARGS = ["--scenarios", "baseline", "--reps", "3", "--days", "120", "--seed", "7", "--quiet", "--no-report"]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """A finished three-replication run of the tutorial (copied by each test that damages it)."""
    out = tmp_path_factory.mktemp("clean") / "run"
    assert main(["compare", TUTORIAL, *ARGS, "--out", str(out)]) == 0
    return out


@pytest.fixture
def run(clean_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(clean_run, out)
    return out


def _row(db, replication, column):
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT {column} FROM replications WHERE scenario = 'baseline' AND replication = ?",
                           (replication,)).fetchone()[0]
    finally:
        con.close()


def _overwrite(db, old: bytes, new: bytes):
    """Replace the bytes ``old`` where they sit in the file (exactly once) by ``new``."""
    raw = Path(db).read_bytes()
    assert raw.count(old) == 1 and len(old) == len(new)
    Path(db).write_bytes(raw.replace(old, new))


def _unique_part(db, blob, n):
    """``n`` bytes from the second half of ``blob`` that occur once in the file (where to damage it)."""
    raw = Path(db).read_bytes()
    for i in range(len(blob) // 2, len(blob) - n):
        part = bytes(blob[i:i + n])
        if raw.count(part) == 1:
            return part
    raise AssertionError("no unique stretch in the blob")


def _metrics(out):
    res = ExperimentResults(out)
    try:
        return {r: m for r, m in res.store.metrics("baseline")}
    finally:
        res.store.close()


def _report(out, capsys):
    code = main(["report", str(out)])
    return code, capsys.readouterr().err


# -- damaged rows ---------------------------------------------------------------------------------
def test_overwritten_bytes_in_a_stored_series_are_caught_and_rerun(run, clean_run, capsys):
    db = run / "results.sqlite"
    blob = _row(db, 1, "series")
    part = _unique_part(db, blob, 32)
    _overwrite(db, part, b"\x7f" * 32)        # 32 bytes of a series: huge doubles if trusted
    with pytest.raises(DamagedStoreError) as ei:
        list(ExperimentResults(run).timeseries())
    assert ei.value.replication == 1 and ei.value.scenario == "baseline"
    code, err = _report(run, capsys)
    assert code == 2 and "Traceback" not in err
    assert "replication 1 of scenario 'baseline' is damaged" in err and "--resume" in err
    # resume drops the damaged replication, runs it again and ends with the clean run's numbers
    assert main(["compare", TUTORIAL, *ARGS, "--out", str(run), "--resume"]) == 0
    assert "replication" in capsys.readouterr().err
    assert _metrics(run) == _metrics(clean_run)
    assert (run / "results.sqlite.damaged").exists()
    assert json.loads((run / "summary.json").read_text())["scenarios"] == \
        json.loads((clean_run / "summary.json").read_text())["scenarios"]


def test_one_changed_digit_of_a_stored_metric_is_caught(run, capsys):
    db = run / "results.sqlite"
    raw = db.read_bytes()
    metrics = json.loads(_row(db, 2, "metrics"))
    # a metric whose stored text is unique in the file, changed by one digit
    old = next(t for t in (f'"{k}": {json.dumps(v)}'.encode() for k, v in metrics.items()
                           if isinstance(v, float) and v not in (0.0, 1.0)) if raw.count(t) == 1)
    text = old.decode()
    i = max(k for k, c in enumerate(text) if c.isdigit() and c != "9")
    _overwrite(db, old, (text[:i] + str(int(text[i]) + 1) + text[i + 1:]).encode())
    with pytest.raises(DamagedStoreError) as ei:
        ExperimentResults(run).summary()
    assert ei.value.replication == 2
    code, err = _report(run, capsys)
    assert code == 2 and "replication 2 of scenario 'baseline'" in err and "metrics" in err


def test_repair_keeps_what_verifies(run):
    db = run / "results.sqlite"
    blob = _row(db, 0, "series")
    _overwrite(db, _unique_part(db, blob, 40), b"\x55" * 40)
    fixed = repair(db)
    assert fixed["dropped"] == [("baseline", 0)] and fixed["kept"] == 2
    st = Store(db)
    assert st.done() == {("baseline", 1), ("baseline", 2)} and st.verify() == []
    assert st.manifest()["entropy"] == 7
    st.close()
    assert repair(db)["damaged_file"] is None      # nothing left to repair


# -- damaged files ----------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncated", "zeroed", "text"])
def test_unreadable_store_gives_a_clear_message(run, capsys, damage):
    db = run / "results.sqlite"
    raw = db.read_bytes()
    db.write_bytes({"truncated": raw[:len(raw) // 3], "zeroed": bytes(len(raw)),
                    "text": b"not a database\n" * 100}[damage])
    code, err = _report(run, capsys)
    assert code == 2 and "Traceback" not in err and "DatabaseError" not in err
    assert "results.sqlite" in err and ("damaged" in err or "not a results store" in err)
    # resuming salvages what it can, or says that the run cannot be resumed
    code = main(["compare", TUTORIAL, *ARGS, "--out", str(run), "--resume"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code == 0:
        assert set(_metrics(run)) == {0, 1, 2}
    else:
        assert code == 2 and "cannot be resumed" in err or "beyond repair" in err


def test_a_truncated_tail_is_salvaged_on_resume(clean_run, tmp_path, capsys):
    out = tmp_path / "big"
    assert main(["compare", TUTORIAL, *ARGS[:3], "12", *ARGS[4:], "--out", str(out)]) == 0
    db = out / "results.sqlite"
    raw = db.read_bytes()
    db.write_bytes(raw[:len(raw) - 4096])        # the last page is gone
    assert main(["compare", TUTORIAL, *ARGS[:3], "12", *ARGS[4:], "--out", str(out), "--resume"]) == 0
    assert "damaged" in capsys.readouterr().err
    got = _metrics(out)
    assert set(got) == set(range(12))
    assert {r: got[r] for r in range(3)} == _metrics(clean_run)


# -- exports survive a kill ------------------------------------------------------------------------
def test_kill_during_export_leaves_the_previous_export_intact(run):
    before = {f: (run / f).read_bytes() for f in ("summary.json", "replications.csv", "timeseries.csv")}
    script = textwrap.dedent(f"""
        import csv, os, signal
        from supplysim.experiment.experiment import ExperimentResults
        real = csv.writer
        rows = [0]
        class Dying:
            def __init__(self, fh, *args, **kwargs):
                self.w, self.fh = real(fh, *args, **kwargs), fh
            def writerows(self, rs):
                for r in rs:
                    self.writerow(r)
            def writerow(self, row):
                self.w.writerow(row)
                rows[0] += 1
                if rows[0] > 20:           # in replications.csv or timeseries.csv
                    self.fh.flush()
                    os.kill(os.getpid(), signal.SIGKILL)
        csv.writer = Dying
        ExperimentResults({str(run)!r}).export()
    """)
    p = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == -signal.SIGKILL
    for f, data in before.items():
        assert (run / f).read_bytes() == data, f


def test_failed_export_leaves_no_temporary_file(run, monkeypatch):
    before = (run / "timeseries.csv").read_bytes()

    def broken(self):
        yield from ()
        raise OSError("disk full")
    monkeypatch.setattr(ExperimentResults, "_timeseries", broken)
    with pytest.raises(OSError):
        ExperimentResults(run).export()
    assert (run / "timeseries.csv").read_bytes() == before
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]


# -- resume says what differs -----------------------------------------------------------------------
def test_resume_with_another_seed_is_an_error_that_says_so(run, capsys):
    code = main(["compare", TUTORIAL, "--scenarios", "baseline", "--reps", "3", "--seed", "8", "--quiet",
                 "--no-report", "--out", str(run), "--resume"])
    err = capsys.readouterr().err
    assert code == 2 and "--seed 8 differs from the stored run's seed 7" in err


def test_resume_with_another_horizon_or_scenarios_is_an_error(run, tmp_path, capsys):
    assert main(["compare", TUTORIAL, "--scenarios", "baseline", "--reps", "3", "--days", "200", "--quiet",
                 "--no-report", "--out", str(run), "--resume"]) == 2
    assert "horizon of 200 days differs from the stored 120" in capsys.readouterr().err
    shock = tmp_path / "shock.toml"
    shock.write_text('[scenario]\nname = "shock"\n[demand.jp_ev]\ngrowth = 0.2\n')
    assert main(["compare", TUTORIAL, "--scenarios", f"baseline,{shock}", "--reps", "3", "--quiet",
                 "--no-report", "--out", str(run), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "the scenarios baseline, " in err and "differ from the stored baseline" in err


def test_resume_from_another_folder_and_path_spelling(run, tmp_path, monkeypatch, capsys):
    # the model's digest covers its content, not how its path is written or where the command runs
    monkeypatch.chdir(tmp_path)
    spelled = os.path.relpath(ROOT / "models" / "examples" / ".." / "examples" / "tutorial.toml", tmp_path)
    assert main(["compare", spelled, "--scenarios", "baseline", "--reps", "4", "--quiet", "--no-report",
                 "--out", str(run), "--resume"]) == 0
    assert "asked for 3 replications" in capsys.readouterr().err
    assert set(_metrics(run)) == {0, 1, 2, 3}


def test_resume_after_the_model_changed_names_the_scenario(run, tmp_path, capsys):
    model = tmp_path / "m" / "tutorial.toml"
    model.parent.mkdir()
    model.write_text(Path(TUTORIAL).read_text().replace("capacity = 20000", "capacity = 19000"))
    code = main(["compare", str(model), "--scenarios", "baseline", "--reps", "3", "--quiet", "--no-report",
                 "--out", str(run), "--resume"])
    err = capsys.readouterr().err
    assert code == 2 and "model content of baseline changed" in err and "tutorial.toml" in err


def test_resume_ignores_a_changed_comment(run, tmp_path):
    model = tmp_path / "m" / "tutorial.toml"
    model.parent.mkdir()
    model.write_text("# a new comment\n" + Path(TUTORIAL).read_text())
    assert main(["compare", str(model), "--scenarios", "baseline", "--reps", "3", "--quiet", "--no-report",
                 "--out", str(run), "--resume"]) == 0


# -- failures name their replication ------------------------------------------------------------------
def test_invariant_failure_names_replication_and_invariant(tmp_path, monkeypatch, capsys):
    import supplysim.experiment.experiment as E
    from supplysim import InvariantError
    real = E.run_experiment_task

    def failing(task):
        if task.replication == 1:
            raise InvariantError("mass balance off by 3.2 t at day 31")
        return real(task)
    monkeypatch.setattr(E, "run_experiment_task", failing)
    out = tmp_path / "inv"
    code = main(["compare", TUTORIAL, *ARGS, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "replication 1 of scenario 'baseline' failed: InvariantError: mass balance off by 3.2 t" in err
    st = Store(out / "results.sqlite")
    assert ("baseline", 0) in st.done() and ("baseline", 1) not in st.done()
    st.close()


def _fail_on_two(x):
    if x == 2:
        raise ZeroDivisionError("boom")
    return x


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_failing_task_is_named_on_every_executor(jobs):
    with pytest.raises(ReplicationError) as ei:
        list(execute(_fail_on_two, [0, 1, 2, 3], jobs=jobs))
    assert "ZeroDivisionError: boom" in str(ei.value) and ei.value.task == 2


def test_finished_results_are_released_as_they_are_yielded():
    class Result:
        pass
    futures, refs = [], []

    def submit(t):
        f = Future()
        f.set_result(Result())
        refs.append(weakref.ref(f.result()))
        futures.append(weakref.ref(f))
        return f
    got = 0
    for res in _stream(submit, range(50), 4, lambda fs: [next(iter(fs))]):
        got += 1
        del res
        # nothing finished and handed on is still held: at most the few in flight are alive
        assert sum(r() is not None for r in refs) <= 4
        assert sum(f() is not None for f in futures) <= 4
    assert got == 50


# -- workers die with their parent -------------------------------------------------------------------
def _descendants(pid):
    """Process ids below ``pid`` (Linux /proc)."""
    kids = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_workers_exit_when_compare_is_killed(tmp_path):
    out = tmp_path / "killed"
    p = subprocess.Popen([sys.executable, "-m", "supplysim.cli", "compare", TUTORIAL, "--scenarios", "baseline",
                          "--reps", "60", "--days", "1000", "--jobs", "2", "--seed", "1", "--out", str(out),
                          "--quiet", "--no-report"], cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        # kill once the workers are running replications (a worker still starting up notices its
        # parent's death only when its start-up is done)
        deadline = time.time() + 120
        workers, stored = [], 0
        while time.time() < deadline and stored < 2:
            time.sleep(0.2)
            workers = [w for w in _descendants(p.pid) if _alive(w)]
            try:
                con = sqlite3.connect(out / "results.sqlite", timeout=0.1)
                stored = con.execute("SELECT COUNT(*) FROM replications").fetchone()[0]
                con.close()
            except sqlite3.Error:
                stored = 0
        assert len(workers) >= 2 and stored >= 2, "the pool never ran"
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        deadline = time.time() + 5
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        left = [w for w in workers if _alive(w)]
        assert not left, f"processes {left} outlived the killed command"
    finally:
        p.kill()
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)


# -- nothing written outside the folder the user names ---------------------------------------------
def test_report_writes_only_inside_its_folders_and_removes_its_temporary_ones(run, tmp_path, monkeypatch):
    import tempfile
    st = Store(run / "results.sqlite")
    files = st.manifest()["model_files"]
    # stored names that lead outside, and a model path that no longer exists (so the report
    # rebuilds the model from the stored texts)
    st.set_manifest({"model_files": {**{f"../../escape/{i}.toml": t for i, t in enumerate(files.values())},
                                     "/abs/escape.toml": "x = 1"},
                     "model_path": "../../escape/0.toml"})
    st.close()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.chdir(run)
    before = set(tmp_path.rglob("*"))
    assert main(["report", str(run)]) == 0
    assert list(scratch.iterdir()) == []
    new = {p for p in set(tmp_path.rglob("*")) - before if not p.is_relative_to(run)}
    assert new == set(), new
    assert not (tmp_path.parent / "escape").exists()


def test_run_without_out_slugs_the_scenario_name(tmp_path, monkeypatch, capsys):
    sc = tmp_path / "models" / "scenarios" / "odd.toml"
    sc.parent.mkdir(parents=True)
    sc.write_text('[scenario]\nname = "../../../outside"\n[demand.jp_ev]\ngrowth = 0.1\n')
    model = tmp_path / "models" / "tutorial.toml"
    model.write_text(Path(TUTORIAL).read_text())
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["run", str(model), "--scenario", "odd", "--reps", "1", "--days", "60", "--quiet"]) == 0
    made = {p.relative_to(work) for p in work.rglob("*") if p.is_dir()}
    assert made == {Path("runs"), Path("runs/tutorial-outside")}
    assert not (tmp_path / "outside").exists() and not (tmp_path.parent / "outside").exists()


def test_dask_executor_streams_results_and_names_a_failing_task():
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as c:
        assert sorted(execute(abs, [-3, 1, -2, 5, -4], executor=c, in_flight=2)) == [1, 2, 3, 4, 5]
        with pytest.raises(ReplicationError) as ei:
            list(execute(_fail_on_two, [0, 1, 2, 3], executor=c))
        assert "ZeroDivisionError: boom" in str(ei.value)
