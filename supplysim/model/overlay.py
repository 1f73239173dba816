"""Key-path overrides: single values set by dotted path on a merged model, before validation.

A scenario file overlays whole tables; an exploration needs to set a handful of
numbers deep inside a model for each of hundreds of design points (an approval
probability, a review delay, the end of a control, a capacity step). An
override names one existing value by its key path through tables and lists,
``controls.cn-ndpr.approval.0.prob`` or
``facilities.kmp.capacity_schedule.1.capacity``, and replaces it. The path must
already exist in the model with its scenario and options: a misspelt id or key
is an error naming the file the overrides came from and the key, never a new
entity that nothing reads. Overridden keys record that file as their origin,
so the model's own validation names it when a value is out of range, and the
overrides join the model's files, so :meth:`Model.digest` changes with them.

Examples
--------
>>> from supplysim.model.load import Document
>>> doc = Document({"controls": {"r": {"approval": [{"prob": 0.5}]}}}, {}, {}, "m.toml")
>>> ov = Overrides.of({"controls.r.approval.0.prob": 0.25}, source="spec.toml")
>>> apply_overrides(doc, ov).data["controls"]["r"]["approval"][0]["prob"]
0.25
>>> parse_key_path('lanes."a.b".lead_time')
('lanes', 'a.b', 'lead_time')
"""
from __future__ import annotations

import copy
import datetime as _dt
import difflib
import math
import numbers
from dataclasses import dataclass

from .errors import ModelError, Problem
from .load import Document

__all__ = ["Overrides", "parse_key_path", "apply_overrides", "format_key_path"]


def parse_key_path(text) -> tuple:
    """Split a dotted key path into its segments (``"a.b"`` quotes a segment holding dots).

    Raises
    ------
    ValueError
        If the path is empty, has an empty segment or an unclosed quote.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("expected a dotted key path such as 'facilities.kmp.capacity'")
    out, i, n = [], 0, len(text)
    while i <= n:
        if i < n and text[i] == '"':
            j = text.find('"', i + 1)
            if j < 0:
                raise ValueError(f"unclosed quote in key path {text!r}")
            seg, i = text[i + 1:j], j + 1
            if i < n and text[i] != ".":
                raise ValueError(f"expected '.' after a quoted segment in key path {text!r}")
        else:
            j = text.find(".", i)
            j = n if j < 0 else j
            seg, i = text[i:j].strip(), j
        if not seg:
            raise ValueError(f"empty segment in key path {text!r}")
        out.append(seg)
        i += 1
    return tuple(out)


def format_key_path(path) -> str:
    """The dotted text of a key path (segments with dots are quoted)."""
    return ".".join(f'"{s}"' if "." in str(s) else str(s) for s in path)


def _scalar(v):
    """A TOML scalar for an override value (numpy numbers become Python ones)."""
    if isinstance(v, (bool, str, _dt.date)):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        if not math.isfinite(v):
            raise ValueError(f"expected a finite number, found {v!r}")
        return v
    raise ValueError(f"expected a number, date, boolean or string, found {v!r}")


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, float):
        return repr(v)
    return str(v)


@dataclass(frozen=True)
class Overrides:
    """Values to set by key path, and the file they come from (hashable: models are cached by it).

    Attributes
    ----------
    items : tuple of (str, value)
        Key path text and value, applied in order.
    source : str
        The file named by provenance and error messages (an exploration's spec file).
    """

    items: tuple = ()
    source: str = "<overrides>"

    @classmethod
    def of(cls, overrides, source=None) -> "Overrides":
        """Overrides from a mapping ``{key path: value}`` or another :class:`Overrides`.

        Raises
        ------
        ModelError
            If a value is not a finite number, a date, a boolean or a string.
        """
        if isinstance(overrides, Overrides):
            return overrides if source is None else cls(overrides.items, source)
        src = source or "<overrides>"
        items, problems = [], []
        for k, v in dict(overrides or {}).items():
            try:
                items.append((str(k), _scalar(v)))
            except ValueError as exc:
                problems.append(Problem(src, str(k), str(exc)))
        if problems:
            raise ModelError(problems)
        return cls(tuple(items), src)

    def __bool__(self):
        return bool(self.items)

    def text(self) -> str:
        """One ``key = value`` line per override, as recorded with the model's files."""
        return "".join(f"{k} = {_toml(v)}\n" for k, v in self.items)

    def as_dict(self) -> dict:
        return dict(self.items)


def _step(container, seg, walked):
    """The key or index ``seg`` names in ``container``, or a message saying why it names nothing."""
    here = format_key_path(walked) or "the model"
    if isinstance(container, list):
        if not seg.isdigit():
            return None, f"'{here}' is a list: expected an item index 0..{len(container) - 1}, found '{seg}'"
        i = int(seg)
        if i >= len(container):
            return None, f"'{here}' has {len(container)} item(s): no index {i}"
        return i, None
    if isinstance(container, dict):
        if seg not in container:
            near = difflib.get_close_matches(seg, [str(k) for k in container], n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            keys = ", ".join(sorted(map(str, container))[:12]) + (", ..." if len(container) > 12 else "")
            return None, (f"no key '{seg}' in '{here}'{hint}; it has: {keys or 'nothing'} (an override "
                          "changes a value the model with its scenario and options defines)")
        return seg, None
    return None, f"'{here}' is a single value, not a table or list"


def apply_overrides(doc: Document, overrides, source=None) -> Document:
    """A copy of ``doc`` with every override applied; the overridden keys' origin is the overrides' file.

    Raises
    ------
    ModelError
        Naming the overrides' file and each key path that does not exist, names a
        table or a list instead of a value, or whose value is not a TOML scalar.
    """
    ov = Overrides.of(overrides, source)
    out = Document(copy.deepcopy(doc.data), dict(doc.origin), dict(doc.files), doc.root)
    problems = []
    for key, value in ov.items:
        try:
            segs = parse_key_path(key)
        except ValueError as exc:
            problems.append(Problem(ov.source, key, str(exc)))
            continue
        node, path, msg = out.data, [], None
        for depth, seg in enumerate(segs):
            k, msg = _step(node, seg, path)
            if msg:
                break
            if depth == len(segs) - 1:
                cur = node[k]
                if isinstance(cur, dict) and "dist" not in cur:
                    msg = f"'{key}' is a table; name one value inside it, e.g. {key}.{next(iter(cur), 'KEY')}"
                elif isinstance(cur, list):
                    msg = f"'{key}' is a list; name one item by its index, e.g. {key}.0"
                else:
                    node[k] = value
            else:
                node = node[k]
            path.append(k)
        if msg:
            problems.append(Problem(ov.source, key, msg))
            continue
        path = tuple(path)
        for o in [o for o in out.origin if o[:len(path)] == path]:
            del out.origin[o]
        out.origin[path] = ov.source
    if problems:
        raise ModelError(problems)
    out.files[f"{ov.source} (overrides)"] = ov.text()
    return out
