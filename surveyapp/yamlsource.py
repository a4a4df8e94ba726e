"""YAML 1.2 loading that remembers where every value came from.

Questionnaire and study files are written by researchers, so every problem is reported
as ``file:line:column: what is wrong (what would be right)``. ruamel.yaml reads YAML 1.2,
which avoids the "Norway problem" (``no:`` read as ``False``) of YAML 1.1 loaders.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError

MAX_FILE_BYTES = 1_000_000
# Values after aliases (*name) are expanded: a file of nested aliases ("billion laughs") would
# otherwise take hours and gigabytes to read. The In Harmony pupil file has about 1,400.
MAX_VALUES = 100_000
# A %YAML 1.1 directive would bring the "Norway problem" back, so it is refused.
_YAML_11 = re.compile(r"^%YAML[ \t]+1\.[01]\b", re.MULTILINE)

Path_ = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}:{self.column}: {self.message}{hint}"


class SourceError(Exception):
    """A file that cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class Source:
    """Plain data from a YAML file plus the position of every key and item in it."""

    file: str
    data: Any
    text: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    # Where the value of a mapping entry starts (for a scalar: its first character, or its
    # opening quote), so a problem inside a value such as a ``show_if`` can point at it.
    value_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]

    def position(self, path: Path_) -> tuple[int, int]:
        """Line and column (1-based) of the deepest known node on ``path``."""
        for end in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:end]))
            if pos:
                return pos
        return (1, 1)

    def problem(self, path: Path_, message: str, hint: str = "") -> Problem:
        line, column = self.position(path)
        return Problem(self.file, line, column, message, hint)

    def position_in_value(self, path: Path_, offset: int) -> tuple[int, int] | None:
        """File position of the 1-based ``offset`` inside the one-line scalar value at ``path``.

        None when the value spans lines or is written with escapes, where a column inside
        the text no longer maps to one in the file.
        """
        start = self.value_positions.get(tuple(path))
        value = self._value_at(path)
        if start is None or not isinstance(value, str):
            return None
        line, column = start
        lines = self.text.splitlines()
        if not 1 <= line <= len(lines):
            return None
        rest = lines[line - 1][column - 1 :]
        if rest[:1] in {"'", '"'}:
            rest = rest[1:]
            column += 1
        if not rest.startswith(value):
            return None
        return (line, column + offset - 1)

    def _value_at(self, path: Path_) -> Any:
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node


class _TooManyValuesError(Exception):
    pass


def _plain(
    node: Any,
    path: Path_,
    positions: dict[Path_, tuple[int, int]],
    value_positions: dict[Path_, tuple[int, int]] | None = None,
) -> Any:
    if value_positions is None:
        value_positions = {}
    if len(positions) > MAX_VALUES:
        raise _TooManyValuesError
    if isinstance(node, CommentedMap):
        out: dict = {}
        for key, value in node.items():
            try:
                line, col = node.lc.key(key)
                positions[(*path, key)] = (line + 1, col + 1)
                line, col = node.lc.value(key)
                value_positions[(*path, key)] = (line + 1, col + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            out[key] = _plain(value, (*path, key), positions, value_positions)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            try:
                line, col = node.lc.item(index)
                positions[(*path, index)] = (line + 1, col + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            items.append(_plain(value, (*path, index), positions, value_positions))
        return items
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def read_source(path: str | Path, text: str | None = None) -> Source:
    """Parse a YAML file (or given text) into a :class:`Source`; syntax errors raise SourceError."""
    file = str(path)
    if text is None:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise SourceError([Problem(file, 1, 1, f"cannot read file: {exc.strerror}")]) from exc
        if len(raw) > MAX_FILE_BYTES:
            raise SourceError(
                [Problem(file, 1, 1, "file is too large", f"at most {MAX_FILE_BYTES} bytes")]
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(
                [Problem(file, 1, 1, "file is not valid UTF-8", "save it as UTF-8")]
            ) from exc
    directive = _YAML_11.search(text)
    if directive:
        line = text.count("\n", 0, directive.start()) + 1
        raise SourceError(
            [
                Problem(
                    file,
                    line,
                    1,
                    "the file asks for YAML 1.1, which reads no, yes, on and off as true/false",
                    "remove this %YAML line; files are read as YAML 1.2",
                )
            ]
        )
    yaml = YAML(typ="rt", pure=True)
    yaml.version = (1, 2)
    try:
        node = yaml.load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        first = exc.context_mark.line + 1 if exc.context_mark else None
        key = _duplicate_key(exc.problem or "")
        raise SourceError(
            [
                Problem(
                    file,
                    line,
                    col,
                    f"duplicate key '{key}'" if key else "duplicate key",
                    "each key may appear once in a mapping"
                    + (f"; the mapping starts at line {first}" if first else ""),
                )
            ]
        ) from exc
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = (exc.problem or exc.context or "invalid YAML").strip()
        raise SourceError(
            [Problem(file, line, col, f"YAML syntax error: {what}", _syntax_hint(what))]
        ) from exc
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. duplicate keys)
        raise SourceError([Problem(file, 1, 1, f"YAML error: {exc}")]) from exc
    positions: dict[Path_, tuple[int, int]] = {(): (1, 1)}
    value_positions: dict[Path_, tuple[int, int]] = {}
    try:
        data = _plain(node, (), positions, value_positions)
    except _TooManyValuesError:
        raise SourceError(
            [
                Problem(
                    file,
                    1,
                    1,
                    f"more than {MAX_VALUES} values once aliases (*name) are expanded",
                    "use fewer nested aliases; write repeated parts out or split the file",
                )
            ]
        ) from None
    return Source(
        file=file, data=data, text=text, positions=positions, value_positions=value_positions
    )


# ruamel's words for the commonest slips, and what a researcher should do about them.
_SYNTAX_HINTS = (
    ("mapping values are not allowed", "a ':' inside a value: put the value in quotes"),
    ("'\\t'", "a tab: indent with spaces only"),
    ("expected <block end>", "this line's indentation does not line up with the lines above"),
    ("<stream end>", "a bracket or brace is never closed"),
    ("end of stream", "a quote is never closed"),
    ("undefined alias", "'*' starts an alias: put the value in quotes"),
    ("cannot start any token", "put the value in quotes"),
)


def _syntax_hint(problem: str) -> str:
    for words, hint in _SYNTAX_HINTS:
        if words in problem:
            return hint
    return "check indentation and quoting"


def _duplicate_key(problem: str) -> str:
    match = re.search(r'duplicate key "(.*?)"', problem)
    return match.group(1) if match else ""


_KIND_WORDS = {
    "list": "a list",
    "dict": "a mapping of keys to values",
    "model": "a mapping of keys to values",
    "string": "text",
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
}


def _describe_pydantic(err: dict) -> tuple[str, str]:
    kind = err["type"]
    loc = [part for part in err["loc"] if isinstance(part, str)]
    name = str(loc[-1]) if loc else "value"
    ctx = err.get("ctx", {})
    if kind == "extra_forbidden":
        return f"unknown key '{name}'", "remove it or check its spelling"
    if kind == "missing":
        return f"missing key '{name}'", "this key is required here"
    if kind == "string_pattern_mismatch":
        return (
            f"'{err.get('input')}' is not a valid variable name",
            "letters, digits and underscore, starting with a letter, at most 32 characters",
        )
    if kind.startswith("literal_error"):
        expected = ctx.get("expected", "")
        return f"'{err.get('input')}' is not allowed for '{name}'", f"expected {expected}"
    if kind == "union_tag_invalid":
        expected = ctx.get("expected_tags", "")
        tag = ctx.get("tag", "")
        return f"unknown question type '{tag}'", f"expected one of {expected}"
    if kind == "union_tag_not_found":
        return "question has no 'type'", "add type: likert, single_choice, ..."
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return f"'{name}' needs at least {least} {'entry' if least == 1 else 'entries'}", ""
    if kind in {"string_too_long", "too_long"}:
        most = ctx.get("max_length", "")
        return f"'{name}' is too long", f"at most {most}"
    if kind == "int_from_float":
        return f"'{name}' must be a whole number", f"not {err.get('input')}"
    for prefix, words in _KIND_WORDS.items():
        if kind.startswith(prefix + "_"):
            return f"'{name}' must be {words}", f"not {err.get('input')!r}"[:80]
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        bound = next(iter(ctx.values()), "")
        words = {
            "greater_than_equal": "at least",
            "less_than_equal": "at most",
            "greater_than": "more than",
            "less_than": "less than",
        }[kind]
        return f"'{name}' must be {words} {bound}", ""
    return f"'{name}': {err['msg']}", ""


def model_problems(
    source: Source,
    exc: ValidationError,
    base: Path_ = (),
    skip: Callable[[dict], bool] | None = None,
) -> list[Problem]:
    """Turn pydantic's errors into positioned problems.

    Union member names that pydantic inserts into ``loc`` (e.g. ``'likert'``) are dropped
    so the path matches the YAML structure again. ``skip`` drops errors a caller reports
    itself in its own words.
    """
    problems = []
    seen = set()
    for err in exc.errors():
        if skip and skip(err):
            continue
        path = []
        node = source.data
        for part in (*base, *err["loc"]):
            found = (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and part < len(node)
            )
            if found:
                path.append(part)
                node = node[part]
            elif err["type"] in {"extra_forbidden", "missing"} and part == err["loc"][-1]:
                path.append(part)
        message, hint = _describe_pydantic(err)
        problem = source.problem(tuple(path), message, hint)
        if (problem.line, problem.column, problem.message) not in seen:
            seen.add((problem.line, problem.column, problem.message))
            problems.append(problem)
    return problems


def parse_model(source: Source, model: type[M]) -> M:
    """Validate ``source.data`` against ``model``; raise SourceError with positioned problems."""
    if not isinstance(source.data, dict):
        raise SourceError([source.problem((), "the file must be a mapping of keys to values")])
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        raise SourceError(model_problems(source, exc)) from exc
