"""Reading model and scenario files: TOML, ``include``, ``extends`` and provenance.

A model is a TOML file, or a directory holding ``model.toml``. A file may list
``include = [...]`` (files merged in, none may redefine another's keys) and
``extends = "other.toml"`` (a base it overrides, key by key). Every key keeps
the name of the file it came from, so errors can name it.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import ModelError, Problem

__all__ = ["Document", "read_document", "merge_documents", "resolve_model_path"]


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


def resolve_model_path(path) -> Path:
    """A model path: a file, or a directory with ``model.toml``."""
    p = Path(path)
    if p.is_dir():
        p = p / "model.toml"
    return p


def _display(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _mark(data, file, prefix, origin):
    origin[prefix] = file
    if isinstance(data, dict):
        for k, v in data.items():
            _mark(v, file, prefix + (k,), origin)


def _merge_into(dst, src, prefix, doc: Document, src_origin, problems, strict):
    for k, v in src.items():
        path = prefix + (k,)
        # a distribution ({dist = ...}) is one value: an override replaces it whole
        if k in dst and isinstance(dst[k], dict) and isinstance(v, dict) and "dist" not in v:
            _merge_into(dst[k], v, path, doc, src_origin, problems, strict)
            continue
        if strict and k in dst:
            problems.append(Problem(src_origin[path], ".".join(path),
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
    import copy
    out = Document(copy.deepcopy(base.data), dict(base.origin), dict(base.files), base.root)
    out.files.update(over.files)
    probs = problems if problems is not None else []
    _merge_into(out.data, over.data, (), out, over.origin, probs, strict)
    if problems is None and probs:
        raise ModelError(probs)
    return out


def read_document(path, _seen=None) -> Document:
    """Read a TOML file with its ``include`` and ``extends`` chain.

    Raises
    ------
    ModelError
        If a file is missing, is not valid TOML (the line is named), or the
        chain is circular.
    """
    p = resolve_model_path(path)
    name = _display(p)
    seen = _seen or ()
    if p.resolve() in seen:
        raise ModelError([Problem(name, "extends", "circular extends/include chain")])
    if not p.is_file():
        raise ModelError([Problem(name, "", "file not found")])
    text = p.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError([Problem(name, "", f"not valid TOML: {exc}")]) from None
    seen = seen + (p.resolve(),)
    problems = []
    extends = raw.pop("extends", None)
    includes = raw.pop("include", [])
    origin = {}
    _mark(raw, name, (), origin)
    doc = Document(raw, origin, {name: text}, name)
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise ModelError([Problem(name, "include", f"expected a list of file names, found {includes!r}")])
    for inc in includes:
        sub = read_document(p.parent / inc, seen)
        doc = merge_documents(doc, sub, strict=True, problems=problems)
    if problems:
        raise ModelError(problems)
    if extends is not None:
        if isinstance(extends, str):
            extends = [extends]
        if not isinstance(extends, list) or not all(isinstance(e, str) for e in extends):
            raise ModelError([Problem(name, "extends", f"expected a file name or a list of them, found {extends!r}")])
        base = None
        for e in extends:
            b = read_document(p.parent / e, seen)
            base = b if base is None else merge_documents(base, b)
        doc = merge_documents(base, doc)
        doc.root = name
    return doc
