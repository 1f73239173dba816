"""The results store: one SQLite file per experiment (standard library ``sqlite3``).

Tables
------
manifest(key, value, checksum)
    JSON values: command line, model files' text and hash, scenario
    definitions, root entropy, package versions, start and end times.
replications(scenario, replication, metrics, series, months, wall_s, metrics_sum, series_sum)
    One row per finished replication, committed in its own transaction as
    soon as it arrives: ``metrics`` is JSON (``name[key] -> value``) and
    ``series`` the replication's monthly region, trade and production series
    (see :func:`_pack`). An interrupted run keeps every finished row;
    ``resume`` runs only the missing ones.

Every row carries checksums (BLAKE2b) of what it stores, verified whenever it
is read: a flipped byte in a stored series or one changed digit of a fill rate
raises :class:`DamagedStoreError` naming the replication, instead of flowing
into the exports. :func:`repair` copies the rows that still verify into a new
file and swaps it in, so ``--resume`` reruns only what was lost. A file that
SQLite cannot read at all (truncated, zeroed, not a database) raises
:class:`StoreError` with what to do, never a bare ``sqlite3.DatabaseError``.
Rows written before checksums existed (NULL sums) are read unverified.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sqlite3
from pathlib import Path

import numpy as np

__all__ = ["Store", "StoreError", "DamagedStoreError", "repair"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL, checksum TEXT);
CREATE TABLE IF NOT EXISTS replications (
    scenario TEXT NOT NULL, replication INTEGER NOT NULL, metrics TEXT NOT NULL, series BLOB NOT NULL,
    months TEXT NOT NULL, wall_s REAL NOT NULL, metrics_sum TEXT, series_sum TEXT,
    PRIMARY KEY (scenario, replication));
"""
#: SQLite page cache per connection (KiB).
_CACHE_KB = 256
#: Columns added after the first stores were written (added to older files when opened for writing).
_ADDED = {"manifest": ("checksum",), "replications": ("metrics_sum", "series_sum")}


class StoreError(Exception):
    """A results store that cannot be used; the message says why and what to do."""


class DamagedStoreError(StoreError):
    """A stored row whose content does not match its checksum.

    Attributes
    ----------
    path : str
    scenario : str or None
    replication : int or None
        The damaged replication (``None`` for a manifest entry).
    """

    def __init__(self, path, scenario, replication, what):
        self.path, self.scenario, self.replication = path, scenario, replication
        where = (f"replication {replication} of scenario '{scenario}'" if replication is not None
                 else f"manifest entry '{scenario}'")
        fix = ("run the same command again with --resume to drop the damaged replications and run them "
               "again" if replication is not None else "the run cannot be resumed; start a new --out")
        super().__init__(f"{path}: {where} is damaged: its {what} do not match the checksum stored with it; "
                         f"{fix}")


def _digest(*parts) -> str:
    h = hashlib.blake2b(digest_size=16)
    for x in parts:
        b = x if isinstance(x, (bytes, bytearray, memoryview)) else str(x).encode()
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _metrics_sum(scenario, replication, metrics_json, wall_s):
    return _digest(scenario, int(replication), metrics_json, repr(float(wall_s)))


def _series_sum(scenario, replication, months_json, blob):
    return _digest(scenario, int(replication), months_json, blob)


_MAGIC = b"SSS1"   # series blob: magic, header length (uint32 LE), JSON header, float64 LE values


def _pack(series) -> bytes:
    """``{name: (labels, array)}`` as one blob: a JSON header (names, labels, shapes) and the values.

    Reading it back is one JSON parse and one buffer view, which matters when
    exports and reports read every replication's series (``numpy.savez``, used
    by earlier versions and still read, costs a zip and a header parse per array).
    """
    head, parts = [], []
    for name, (labels, arr) in series.items():
        a = np.ascontiguousarray(arr, dtype="<f8")
        head.append([name, [str(x) for x in labels], list(a.shape)])
        parts.append(a.tobytes())
    h = json.dumps(head, separators=(",", ":")).encode()
    return b"".join([_MAGIC, len(h).to_bytes(4, "little"), h, *parts])


def _unpack(blob) -> dict:
    blob = bytes(blob)
    if not blob.startswith(_MAGIC):
        return _unpack_npz(blob)
    n = int.from_bytes(blob[4:8], "little")
    head = json.loads(blob[8:8 + n])
    values = np.frombuffer(blob, dtype="<f8", offset=8 + n)
    out, i = {}, 0
    for name, labels, shape in head:
        size = int(np.prod(shape, dtype=np.int64))
        out[name] = (labels, values[i:i + size].reshape(shape))
        i += size
    return out


def _unpack_npz(blob) -> dict:
    """Series written by earlier versions (``numpy.savez``)."""
    z = np.load(io.BytesIO(blob))
    out = {}
    for k in z.files:
        name, part = k.rsplit(".", 1)
        out.setdefault(name, [None, None])[0 if part == "labels" else 1] = z[k]
    return {k: ([str(x) for x in v[0]], v[1]) for k, v in out.items()}


class Store:
    """An experiment's SQLite store.

    Examples
    --------
    >>> st = Store(":memory:")
    >>> st.set_manifest({"entropy": 1})
    >>> st.manifest()["entropy"]
    1
    """

    def __init__(self, path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self._guard():
            self.db = sqlite3.connect(self.path)
            # rows are written once and read back in one streaming pass: a small page cache is
            # enough, and SQLite's default (2 MB) would be a large share of what a long study
            # keeps in the main process
            self.db.execute(f"PRAGMA cache_size = -{_CACHE_KB}")
            self.db.executescript(_SCHEMA)
            for table, cols in _ADDED.items():
                have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
                for c in cols:
                    if c not in have:
                        self.db.execute(f"ALTER TABLE {table} ADD COLUMN {c} TEXT")
            self.db.commit()

    @contextlib.contextmanager
    def _guard(self):
        """Turn SQLite's errors about the file into a :class:`StoreError` that says what to do."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise StoreError(f"{self.path} is in use by another process ({text}); wait for it to "
                                 "finish") from None
            if isinstance(exc, sqlite3.OperationalError) and "no such" not in text and "malformed" not in text:
                raise StoreError(f"{self.path}: cannot use the results store ({text})") from None
            raise StoreError(f"{self.path} is damaged or not a results store ({text}): run the same command "
                             "again with --resume to keep the replications that can still be read and run the "
                             "rest, or start a new --out") from None

    def close(self):
        self.db.close()

    # -- manifest -------------------------------------------------------------------------------
    def set_manifest(self, values: dict):
        with self._guard(), self.db:
            for k, v in values.items():
                text = json.dumps(v, default=str)
                self.db.execute("INSERT OR REPLACE INTO manifest VALUES (?, ?, ?)", (k, text, _digest(k, text)))

    def manifest(self) -> dict:
        """Every manifest entry, verified against its checksum."""
        out = {}
        with self._guard():
            for k, v, c in self.db.execute("SELECT key, value, checksum FROM manifest"):
                if c is not None and c != _digest(k, v):
                    raise DamagedStoreError(self.path, k, None, "value")
                try:
                    out[k] = json.loads(v)
                except ValueError:
                    raise DamagedStoreError(self.path, k, None, "value") from None
        return out

    # -- replications -----------------------------------------------------------------------------
    def add(self, scenario, replication, metrics, series, months, wall_s):
        """Commit one replication (its own transaction), with the checksums of what it stores."""
        m, mo, blob, wall = json.dumps(metrics), json.dumps(months), _pack(series), float(wall_s)
        with self._guard(), self.db:
            self.db.execute("INSERT OR REPLACE INTO replications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (scenario, int(replication), m, blob, mo, wall,
                             _metrics_sum(scenario, replication, m, wall),
                             _series_sum(scenario, replication, mo, blob)))

    def drop(self, keys):
        """Delete the replications ``(scenario, replication)`` in ``keys`` (one transaction)."""
        with self._guard(), self.db:
            self.db.executemany("DELETE FROM replications WHERE scenario = ? AND replication = ?",
                                [(s, int(r)) for s, r in keys])

    def done(self) -> set:
        with self._guard():
            return {(s, r) for s, r in self.db.execute("SELECT scenario, replication FROM replications")}

    def scenarios(self) -> list:
        with self._guard():
            return [s for (s,) in self.db.execute("SELECT DISTINCT scenario FROM replications ORDER BY scenario")]

    def replications(self, scenario) -> list:
        """Replication indices stored for ``scenario``, in order."""
        with self._guard():
            return [r for (r,) in self.db.execute("SELECT replication FROM replications WHERE scenario = ? "
                                                  "ORDER BY replication", (scenario,))]

    def metrics(self, scenario) -> list:
        """``(replication, metrics dict)`` of a scenario's replications, in replication order, verified."""
        return list(self.iter_metrics(scenario))

    def _stream(self, sql, args):
        """Rows of a query one at a time (a study of thousands of replications is never all in memory)."""
        with self._guard():
            cur = self.db.execute(sql, args)
        while True:
            with self._guard():
                row = cur.fetchone()
            if row is None:
                return
            yield row

    def iter_metrics(self, scenario):
        """:meth:`metrics` one row at a time."""
        for row in self._stream("SELECT replication, metrics, wall_s, metrics_sum FROM replications "
                                "WHERE scenario = ? ORDER BY replication", (scenario,)):
            yield row[0], self._metrics(scenario, *row)

    def metric_table(self, scenario):
        """Replication indices and ``{metric: float array over them}`` (NaN where a replication lacks it).

        Built column by column while the rows stream past: 8 bytes a value, where the decoded rows
        held about 9 kB per replication of the tutorial model (3,000 replications: 27 MB).

        Examples
        --------
        >>> st = Store(":memory:")
        >>> st.add("b", 0, {"x": 1.0}, {}, [], 0.1); st.add("b", 1, {"x": 2.0, "y": 5}, {}, [], 0.1)
        >>> reps, cols = st.metric_table("b")
        >>> reps, cols["x"].tolist(), cols["y"].tolist()
        ([0, 1], [1.0, 2.0], [nan, 5.0])
        """
        with self._guard():
            n = self.db.execute("SELECT COUNT(*) FROM replications WHERE scenario = ?", (scenario,)).fetchone()[0]
        reps, cols = [], {}
        for i, (r, m) in enumerate(self.iter_metrics(scenario)):
            if i == n:   # a row added since the count: the table is of the first n
                break
            reps.append(r)
            for k, v in m.items():
                col = cols.get(k)
                if col is None:
                    col = cols[k] = np.full(n, np.nan)
                col[i] = np.nan if v is None else v
        return reps, {k: col[:len(reps)] for k, col in cols.items()}

    def _metrics(self, scenario, r, m, wall, checksum):
        if checksum is not None and checksum != _metrics_sum(scenario, r, m, wall):
            raise DamagedStoreError(self.path, scenario, r, "metrics")
        try:
            return json.loads(m)
        except ValueError:
            raise DamagedStoreError(self.path, scenario, r, "metrics") from None

    def series(self, scenario):
        """Yield ``(replication, months, series)`` in replication order (streamed, one at a time, verified)."""
        for r, months, blob, checksum in self._stream("SELECT replication, months, series, series_sum FROM "
                                                      "replications WHERE scenario = ? ORDER BY replication",
                                                      (scenario,)):
            if checksum is not None and checksum != _series_sum(scenario, r, months, blob):
                raise DamagedStoreError(self.path, scenario, r, "monthly series")
            try:
                out = json.loads(months), _unpack(blob)
            except (ValueError, KeyError, TypeError, OSError) as exc:   # an unverified (older) row
                raise DamagedStoreError(self.path, scenario, r, f"monthly series ({exc})") from None
            yield r, *out

    def verify(self) -> list:
        """``(scenario, replication)`` of every row that fails its checksums (raises if unreadable)."""
        bad = []
        with self._guard():
            rows = self.db.execute("SELECT scenario, replication, metrics, wall_s, months, series, metrics_sum, "
                                   "series_sum FROM replications")
            for s, r, m, w, mo, blob, ms, ss in rows:
                if (ms is not None and ms != _metrics_sum(s, r, m, w)) or \
                        (ss is not None and ss != _series_sum(s, r, mo, blob)):
                    bad.append((s, r))
        return bad


def _salvage_rows(db, table, columns):
    """Yield the readable rows of ``table`` (raw tuples), skipping past pages SQLite cannot read."""
    last, misses = -1, 0
    while misses < 64:
        try:
            cur = db.execute(f"SELECT rowid, {columns} FROM {table} WHERE rowid > ? ORDER BY rowid", (last,))
            for row in cur:
                last = row[0]
                misses = 0
                yield row[1:]
            return
        except sqlite3.DatabaseError:
            last += 1
            misses += 1


def _padded_copy(path) -> Path:
    """A copy of the SQLite file ``path`` extended with zero bytes to the size its header states."""
    raw = Path(path).read_bytes()
    size = len(raw)
    if raw[:16] == b"SQLite format 3\x00" and len(raw) >= 32:
        page = int.from_bytes(raw[16:18], "big")
        page = 65536 if page == 1 else page
        pages = int.from_bytes(raw[28:32], "big")
        if page >= 512:
            size = max(size, pages * page, -(-size // page) * page)
    out = Path(path).with_name(Path(path).name + ".salvage")
    out.write_bytes(raw + bytes(size - len(raw)))
    return out


def repair(path) -> dict:
    """Rebuild the store at ``path`` from what still reads and verifies; keep the old file beside it.

    Returns ``{"kept": n, "dropped": [(scenario, replication), ...], "damaged_file": path or None}``.
    When nothing is damaged the file is left as it is. Raises :class:`StoreError` if not even the
    manifest can be read (the run's seed is lost: it cannot be resumed).
    """
    path = Path(path)
    try:
        st = Store(path)
        try:
            bad = st.verify()
            st.manifest()
        finally:
            st.close()
        if not bad:
            return {"kept": None, "dropped": [], "damaged_file": None}
    except StoreError:
        bad = None
    # copy what reads and verifies into a new file, then swap it in
    new = path.with_name(path.name + ".repairing")
    if new.exists():
        new.unlink()
    source = _padded_copy(path)   # a truncated file reads again once its missing pages are zeros
    old = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    manifest = {k: v for k, v, c in _salvage_rows(old, "manifest", "key, value, checksum")
                if c is None or c == _digest(k, v)}
    if "entropy" not in manifest:
        old.close()
        source.unlink()
        raise StoreError(f"{path} is damaged beyond repair: its manifest (the run's seed and settings) cannot "
                         "be read; start a new --out")
    out = Store(new)
    kept, dropped = 0, []
    with out.db:
        for k, v in manifest.items():
            out.db.execute("INSERT INTO manifest VALUES (?, ?, ?)", (k, v, _digest(k, v)))
        for s, r, m, blob, mo, w, ms, ss in _salvage_rows(
                old, "replications", "scenario, replication, metrics, series, months, wall_s, metrics_sum, series_sum"):
            ok = (ms is None or ms == _metrics_sum(s, r, m, w)) and (ss is None or ss == _series_sum(s, r, mo, blob))
            if ok:
                out.db.execute("INSERT OR REPLACE INTO replications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               (s, r, m, blob, mo, w, ms, ss))
                kept += 1
            else:
                dropped.append((s, r))
    out.close()
    old.close()
    source.unlink()
    damaged = path.with_name(path.name + ".damaged")
    os.replace(path, damaged)
    os.replace(new, path)
    return {"kept": kept, "dropped": sorted(dropped, key=str) if bad is not None else dropped,
            "damaged_file": str(damaged)}
