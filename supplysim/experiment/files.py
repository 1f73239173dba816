"""Writing result files safely: atomic replacement, contained names, temporary folders that go away.

One home for the rules every writer of results follows:

* a file is written to a temporary file in the same folder and renamed into
  place (``os.replace``), so a reader (or a run killed half-way) sees the old
  file or the new one, never a truncated one;
* names taken from data (scenario names, stored file names) are slugged or
  checked so that nothing is written outside the folder the user named.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path, PurePosixPath, PureWindowsPath

__all__ = ["atomic_write", "write_text", "slug", "contained", "write_tree"]


@contextlib.contextmanager
def atomic_write(path, mode="w", **kwargs):
    """Open a temporary file beside ``path`` for writing; rename it onto ``path`` when the block ends.

    If the block raises (or the process dies), ``path`` keeps its previous
    content and the temporary file is removed (or, after a kill, left as a
    hidden ``.NAME.*.tmp`` file).

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> with atomic_write(d / "a.txt") as fh:
    ...     _ = fh.write("new")
    >>> (d / "a.txt").read_text()
    'new'
    """
    path = Path(path)
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
        if "newline" not in kwargs and "csv" in path.suffix:
            kwargs["newline"] = ""
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, mode.replace("w", "x"), **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path, text: str):
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_write(path) as fh:
        fh.write(text)


def slug(name, limit=80) -> str:
    """A file-name-safe form of ``name``: letters, digits, ``._+-`` only, no leading dot.

    Examples
    --------
    >>> slug("../../etc/cn+us embargo")
    'etc-cn+us-embargo'
    >>> slug("..")
    'unnamed'
    """
    parts = re.sub(r"[^A-Za-z0-9._+-]+", "-", str(name)).split("-")
    s = "-".join(p for p in parts if p.strip("."))   # '..' and '.' are not names
    s = re.sub(r"\.{2,}", ".", s)
    return s[:limit].strip("-.") or "unnamed"


def contained(root, name) -> Path:
    """``root / name`` if ``name`` is a relative path that stays inside ``root``; else ``ValueError``.

    Examples
    --------
    >>> contained("/tmp/x", "a/b.toml").as_posix()
    '/tmp/x/a/b.toml'
    >>> contained("/tmp/x", "../y.toml")
    Traceback (most recent call last):
    ...
    ValueError: '../y.toml' would leave /tmp/x
    """
    root = Path(root)
    n = str(name)
    parts = PurePosixPath(n.replace("\\", "/")).parts
    if not n or "\x00" in n or PurePosixPath(n).is_absolute() or PureWindowsPath(n).is_absolute() \
            or PureWindowsPath(n).drive or ".." in parts:
        raise ValueError(f"{n!r} would leave {root}")
    return root.joinpath(*parts)


def write_tree(files: dict, root) -> dict:
    """Write ``{relative name: text}`` under ``root``; names that would leave it are skipped.

    Returns ``{name: path written}``.
    """
    out = {}
    for name, text in files.items():
        try:
            p = contained(root, name)
        except ValueError:
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(str(text), encoding="utf-8")
        out[name] = p
    return out
