"""Reading model and scenario files: TOML, ``include``, ``extends`` and provenance.

A model is a TOML file, or a directory holding ``model.toml``. A file may list
``include = [...]`` (files merged in, none may redefine another's keys) and
``extends = "other.toml"`` (a base it overrides, key by key). Every key keeps
the name of the file it came from, so errors can name it.

``include`` and ``extends`` read only inside the folder tree of the file the
user named (the model's folder; a scenario file's folder): a model cannot
pull in ``/etc/passwd`` or a neighbour's files, whose text would otherwise be
copied into every manifest. Other folders are read only when named in
``allow`` (the command line's ``--allow-dir``, or the ``SUPPLYSIM_ALLOW_DIRS``
environment variable, paths separated by ``os.pathsep``, which worker
processes inherit).
"""
from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path

from .errors import ModelError, Problem

__all__ = ["Document", "read_document", "merge_documents", "resolve_model_path", "allowed_roots",
           "ALLOW_ENV", "MAX_FILE_BYTES", "MAX_DEPTH"]

#: Environment variable listing extra folders ``include``/``extends`` may read from.
ALLOW_ENV = "SUPPLYSIM_ALLOW_DIRS"
#: Largest model file read (bytes): the default model's files total about 150 kB.
MAX_FILE_BYTES = 20_000_000
#: Deepest nesting of tables accepted (the format itself needs five or six levels).
MAX_DEPTH = 32


class Document:
    """Merged TOML data with the file each key came from.

    Attributes
    ----------
    data : dict
        The merged tables.
    origin : dict
        Maps key-path tuples to file names.
    files : dict
        Maps every file read to its text (for manifests).
    """

    def __init__(self, data=None, origin=None, files=None, root="."):
        self.data = data if data is not None else {}
        self.origin = origin if origin is not None else {}
        self.files = files if files is not None else {}
        self.root = root

    def file_of(self, path) -> str:
        """The file that defined ``path`` (or its nearest defined parent)."""
        path = tuple(path)
        while path:
            if path in self.origin:
                return self.origin[path]
            path = path[:-1]
        return self.origin.get((), self.root)

    def blame(self, path) -> str:
        """The file to name for a problem at ``path``: of the files that set keys under it, the one
        merged last (an overlay that changed one key of a base table broke it), else :meth:`file_of`."""
        path = tuple(path)
        n = len(path)
        under = {f for k, f in self.origin.items() if k[:n] == path}
        if len(under) <= 1:
            return under.pop() if under else self.file_of(path)
        order = {f: i for i, f in enumerate(self.files)}
        return max(under, key=lambda f: order.get(f, -1))


def resolve_model_path(path) -> Path:
    """A model path: a file, or a directory with ``model.toml``."""
    p = Path(path)
    if p.is_dir():
        p = p / "model.toml"
    return p


def allowed_roots(path, allow=()) -> tuple:
    """Folders whose files ``path`` may include or extend: its own folder, ``allow``, and ``$SUPPLYSIM_ALLOW_DIRS``.

    Examples
    --------
    >>> import os
    >>> allowed_roots("models/examples/tutorial.toml")[0] == Path("models/examples").resolve()
    True
    """
    extra = [d for d in os.environ.get(ALLOW_ENV, "").split(os.pathsep) if d]
    return tuple(Path(d).resolve() for d in [resolve_model_path(path).parent, *allow, *extra])


def _display(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)


def _inside(p: Path, roots) -> bool:
    rp = p.resolve()
    return any(rp == r or r in rp.parents for r in roots)


def _mark(data, file, origin):
    """Record ``file`` as the origin of every key path in ``data``; return the deepest nesting."""
    deepest = 0
    stack = [((), data)]
    while stack:
        prefix, d = stack.pop()
        origin[prefix] = file
        deepest = max(deepest, len(prefix))
        if isinstance(d, dict) and len(prefix) <= MAX_DEPTH:
            stack.extend((prefix + (k,), v) for k, v in d.items())
    return deepest


def _merge_into(dst, src, prefix, doc: Document, src_origin, problems, strict):
    for k, v in src.items():
        path = prefix + (k,)
        # a distribution ({dist = ...}) is one value: an override replaces it whole
        if k in dst and isinstance(dst[k], dict) and isinstance(v, dict) and "dist" not in v:
            _merge_into(dst[k], v, path, doc, src_origin, problems, strict)
            continue
        if strict and k in dst:
            problems.append(Problem(src_origin.get(path, doc.root), ".".join(map(str, path)),
                                    f"defined twice (also in {doc.file_of(path)})"))
            continue
        dst[k] = v
        # drop stale provenance under the replaced key
        for key in [o for o in doc.origin if o[:len(path)] == path]:
            del doc.origin[key]
        for key, f in src_origin.items():
            if key[:len(path)] == path:
                doc.origin[key] = f
    for key, f in src_origin.items():
        if key[:len(prefix)] == prefix and key not in doc.origin:
            doc.origin[key] = f


def merge_documents(base: Document, over: Document, strict=False, problems=None) -> Document:
    """Deep-merge ``over`` onto ``base`` (tables merge, other values replace)."""
    out = Document(copy.deepcopy(base.data), dict(base.origin), dict(base.files), base.root)
    out.files.update(over.files)
    probs = problems if problems is not None else []
    _merge_into(out.data, over.data, (), out, over.origin, probs, strict)
    if problems is None and probs:
        raise ModelError(probs)
    return out


def read_document(path, roots=None, allow=()) -> Document:
    """Read a TOML file with its ``include`` and ``extends`` chain.

    Parameters
    ----------
    path : str or Path
        The file (or a directory holding ``model.toml``).
    roots : tuple of Path, optional
        Folders that ``include`` and ``extends`` may read from (default:
        :func:`allowed_roots` of ``path`` and ``allow``).

    Raises
    ------
    ModelError
        With every problem found: a missing file (named with the file and key
        that refer to it), a file that is not UTF-8 text, not valid TOML (the
        line is named) or empty, a target outside the allowed folders, a
        circular chain.
    """
    if roots is None:
        roots = allowed_roots(path, allow)
    problems = []
    doc = _read(resolve_model_path(path), roots, (), None, problems)
    if problems or doc is None:
        raise ModelError(problems or [Problem(_display(Path(path)), "", "could not be read")])
    return doc


def _read(p: Path, roots, seen, ref, problems):
    """One file and its chain; ``ref`` is ``(file, key)`` that named it. Problems go to ``problems``."""
    name = _display(p)

    def fail(message, file=None, key=""):
        problems.append(Problem(file or name, key, message))

    try:
        real = p.resolve()
        if real in seen:
            fail("circular extends/include chain", *(ref or (None, "extends")))
            return None
        if not p.is_file():
            if ref:
                fail(f"file not found: '{name}'", *ref)
            else:
                fail("file not found" + (" (a folder without model.toml)" if p.parent.is_dir() and
                                         p.name == "model.toml" and not p.exists() else ""))
            return None
        if p.stat().st_size > MAX_FILE_BYTES:
            fail(f"file too large ({p.stat().st_size:,} bytes; a model file holds at most {MAX_FILE_BYTES:,})")
            return None
        blob = p.read_bytes()
    except (OSError, ValueError) as exc:   # unreadable, or a name with a NUL byte
        fail(f"cannot read the file: {exc}", *(ref or (None, "")))
        return None
    try:
        text = blob.decode("utf-8").removeprefix("\ufeff")   # a byte-order mark some editors write
    except UnicodeDecodeError as exc:
        fail(f"not a text file: byte 0x{blob[exc.start]:02x} at offset {exc.start} is not UTF-8 "
             "(a model file is TOML text)")
        return None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        fail(f"not valid TOML: {exc}")
        return None
    except RecursionError:
        fail(f"not valid TOML: values nested too deeply (at most {MAX_DEPTH} levels)")
        return None
    if not raw:
        fail("the file is empty: expected TOML tables such as [facilities.ID] or [scenario]")
        return None
    seen = seen + (real,)
    extends = raw.pop("extends", None)
    includes = raw.pop("include", [])
    origin = {}
    if _mark(raw, name, origin) > MAX_DEPTH:
        fail(f"tables nested deeper than {MAX_DEPTH} levels")
        return None
    doc = Document(raw, origin, {name: text}, name)
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        fail(f"expected a list of file names, found {includes!r}"[:200], key="include")
        includes = []
    merge_problems = []
    for i, inc in enumerate(includes):
        sub = _target(p, inc, roots, seen, (name, f"include.{i}"), problems)
        if sub is not None:
            doc = merge_documents(doc, sub, strict=True, problems=merge_problems)
    problems.extend(merge_problems)
    if extends is not None:
        many = isinstance(extends, list)
        if isinstance(extends, str):
            extends = [extends]
        if not isinstance(extends, list) or not extends or not all(isinstance(e, str) for e in extends):
            fail(f"expected a file name or a list of them, found {extends!r}"[:200], key="extends")
            return doc
        base = None
        for i, e in enumerate(extends):
            b = _target(p, e, roots, seen, (name, f"extends.{i}" if many else "extends"), problems)
            if b is not None:
                base = b if base is None else merge_documents(base, b)
        if base is not None:
            doc = merge_documents(base, doc)
            doc.root = name
    return doc


def _target(p, rel, roots, seen, ref, problems):
    """The document that ``include``/``extends`` entry ``rel`` of ``p`` names, if it may be read."""
    t = p.parent / rel
    try:
        inside = _inside(resolve_model_path(t), roots)
    except (OSError, ValueError) as exc:
        problems.append(Problem(ref[0], ref[1], f"cannot read '{rel}': {exc}"))
        return None
    if not inside:
        problems.append(Problem(ref[0], ref[1], f"'{rel}' is outside the model's folder "
                                                f"({', '.join(str(r) for r in roots)}); files from "
                                                "elsewhere are read only when allowed with --allow-dir DIR"))
        return None
    return _read(resolve_model_path(t), roots, seen, ref, problems)
