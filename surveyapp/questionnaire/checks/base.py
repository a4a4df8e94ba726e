"""What every check shares: the problems found so far and what the walk has learnt.

The checks read the plain YAML data defensively (not the typed model), so they still run
when other parts of the file have type errors.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ...yamlsource import Path_, Problem, Source
from ..condition_tree import Condition


def model_fields(model: type) -> list[str]:
    """The keys a mapping of this model may hold."""
    return list(model.model_fields)


@dataclass
class Answerable:
    """Something a condition or construct can name: a question, or a row of a grid."""

    id: str
    kind: str  # a question type, or "grid_row"
    page_index: int
    path: Path_
    scale: str | None = None
    codes: tuple[int, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = True
    grid_rows: tuple[str, ...] = ()


@dataclass
class CheckerBase:
    """What the checks share: the problems so far and what the walk has learnt.

    Problems accumulate; nothing stops at the first.
    """

    source: Source
    problems: list[Problem] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    names: dict[str, tuple[str, Path_]] = field(default_factory=dict)  # lower-case id -> (id, path)
    answerables: dict[str, Answerable] = field(default_factory=dict)
    scale_codes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    conditions: dict[Path_, Condition] = field(default_factory=dict)

    def add(self, path: Path_, message: str, hint: str = "") -> None:
        self.problems.append(self.source.problem(path, message, hint))

    def add_at(self, position: tuple[int, int], message: str, hint: str = "") -> None:
        line, column = position
        self.problems.append(Problem(self.source.file, line, column, message, hint))

    def check_keys(self, path: Path_, node: dict, allowed: list[str], where: str) -> None:
        for key in node:
            if key in allowed:
                continue
            shown = str(key)
            close = difflib.get_close_matches(shown, allowed, n=1, cutoff=0.6)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else f"allowed in {where}: {', '.join(sorted(allowed))}"
            )
            self.add((*path, key), f"unknown key '{shown}'", hint)

    def suggest(self, name: str, fallback: str) -> str:
        close = difflib.get_close_matches(name, list(self.answerables), n=1, cutoff=0.6)
        return f"did you mean '{close[0]}'?" if close else fallback


def show(value: Any) -> str:
    """A value as a message quotes it: text in quotes, 2.0 as 2."""
    if isinstance(value, str):
        return f'"{value}"' if "'" in value and '"' not in value else f"'{value}'"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
