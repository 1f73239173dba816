"""Problems found in model files, reported all at once."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "ModelError"]


@dataclass(frozen=True)
class Problem:
    """One problem in a model file.

    Attributes
    ----------
    file : str
        The file the offending key came from.
    path : str
        Dotted key path, for example ``facilities.kmp.capacity``.
    message : str
        What was expected and what was found.
    """

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class ModelError(Exception):
    """Raised with every problem found while loading or validating a model.

    Examples
    --------
    >>> err = ModelError([Problem("m.toml", "facilities.a.capacity", "expected a number > 0, found -1")])
    >>> print(err)
    1 problem in the model:
      m.toml: facilities.a.capacity: expected a number > 0, found -1
    """

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the model:"
        return "\n".join([head] + [f"  {p}" for p in self.problems])

    def __str__(self) -> str:
        return self._text()
