"""The results store: one SQLite file per experiment (standard library ``sqlite3``).

Tables
------
manifest(key, value)
    JSON values: command line, model files' text and hash, scenario
    definitions, root entropy, package versions, start and end times.
replications(scenario, replication, metrics, series, wall_s)
    One row per finished replication, committed in its own transaction as
    soon as it arrives: ``metrics`` is JSON (``name[key] -> value``) and
    ``series`` the replication's monthly region, trade and production series
    (see :func:`_pack`). An interrupted run keeps every finished row;
    ``resume`` runs only the missing ones.
"""
from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import numpy as np

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replications (
    scenario TEXT NOT NULL, replication INTEGER NOT NULL, metrics TEXT NOT NULL, series BLOB NOT NULL,
    months TEXT NOT NULL, wall_s REAL NOT NULL, PRIMARY KEY (scenario, replication));
"""


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
        self.db = sqlite3.connect(self.path)
        self.db.executescript(_SCHEMA)
        self.db.commit()

    def close(self):
        self.db.close()

    # -- manifest -------------------------------------------------------------------------------
    def set_manifest(self, values: dict):
        with self.db:
            for k, v in values.items():
                self.db.execute("INSERT OR REPLACE INTO manifest VALUES (?, ?)", (k, json.dumps(v, default=str)))

    def manifest(self) -> dict:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM manifest")}

    # -- replications -----------------------------------------------------------------------------
    def add(self, scenario, replication, metrics, series, months, wall_s):
        """Commit one replication (its own transaction)."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO replications VALUES (?, ?, ?, ?, ?, ?)",
                            (scenario, int(replication), json.dumps(metrics), _pack(series), json.dumps(months),
                             float(wall_s)))

    def done(self) -> set:
        return {(s, r) for s, r in self.db.execute("SELECT scenario, replication FROM replications")}

    def scenarios(self) -> list:
        return [s for (s,) in self.db.execute("SELECT DISTINCT scenario FROM replications ORDER BY scenario")]

    def replications(self, scenario) -> list:
        """Replication indices stored for ``scenario``, in order."""
        return [r for (r,) in self.db.execute("SELECT replication FROM replications WHERE scenario = ? "
                                              "ORDER BY replication", (scenario,))]

    def metrics(self, scenario) -> list:
        """Metrics dicts of a scenario's replications, in replication order."""
        rows = self.db.execute("SELECT replication, metrics FROM replications WHERE scenario = ? "
                               "ORDER BY replication", (scenario,))
        return [(r, json.loads(m)) for r, m in rows]

    def series(self, scenario):
        """Yield ``(replication, months, series)`` in replication order (streamed, one at a time)."""
        rows = self.db.execute("SELECT replication, months, series FROM replications WHERE scenario = ? "
                               "ORDER BY replication", (scenario,))
        for r, months, blob in rows:
            yield r, json.loads(months), _unpack(blob)
