"""The parsed form of a ``show_if`` condition, and what it means for a set of answers.

:mod:`.condition_parser` turns text into the tree of frozen dataclasses defined here;
:func:`evaluate` walks that tree. The grammar and semantics are described in
:mod:`.conditions`, the public face of both modules.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Union

Literal = int | float | str


class _Declined(enum.Enum):
    DECLINED = "declined"

    def __repr__(self) -> str:
        return "DECLINED"


#: Pass this as the value of a declined answer ("I'd rather not say"); it counts as not answered.
DECLINED = _Declined.DECLINED


class ConditionError(ValueError):
    """A ``show_if`` text outside the grammar; ``column`` is 1-based within the text."""

    def __init__(self, message: str, column: int = 1):
        super().__init__(message, column)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return f"{self.message} (at column {self.column})"


# --------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Compare:
    """``name <op> value``; literal-first comparisons are flipped into this form."""

    name: str
    op: str
    value: Literal
    column: int = 1


@dataclass(frozen=True)
class InList:
    """``name in [values]`` (or ``not in``): the single answer is one of the values."""

    name: str
    values: tuple[Literal, ...]
    negated: bool = False
    column: int = 1


@dataclass(frozen=True)
class Contains:
    """``value in name`` (or ``not in``): a multi_choice answer contains the code."""

    name: str
    value: Literal
    negated: bool = False
    column: int = 1


@dataclass(frozen=True)
class Answered:
    name: str
    column: int = 1


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Union[Compare, InList, Contains, Answered, Not, And, Or]  # noqa: UP007 - forward refs
Comparison = Union[Compare, InList, Contains]  # noqa: UP007


def walk(node: Node) -> Iterator[Node]:
    """The node and every node below it, depth first in text order."""
    yield node
    if isinstance(node, Not):
        yield from walk(node.operand)
    elif isinstance(node, (And, Or)):
        for operand in node.operands:
            yield from walk(operand)


@dataclass(frozen=True)
class Condition:
    """A parsed ``show_if``: the source text and its tree."""

    text: str
    root: Node

    @property
    def references(self) -> frozenset[str]:
        """Every question (or grid row) id the condition reads."""
        return frozenset(
            n.name for n in walk(self.root) if isinstance(n, (Compare, InList, Contains, Answered))
        )

    @property
    def comparisons(self) -> tuple[Comparison, ...]:
        """Every comparison, in text order, so the loader can check its values."""
        return tuple(n for n in walk(self.root) if isinstance(n, (Compare, InList, Contains)))

    def literals(self) -> dict[str, frozenset[Literal]]:
        """The literal values compared with each id."""
        out: dict[str, set[Literal]] = {}
        for node in self.comparisons:
            values = node.values if isinstance(node, InList) else (node.value,)
            out.setdefault(node.name, set()).update(values)
        return {name: frozenset(values) for name, values in out.items()}

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        return evaluate(self, answers)


# --------------------------------------------------------------------------- evaluation

_MISSING = object()


def is_answered(value: Any) -> bool:
    """Per the storage contract: no value, null, or declined means not answered."""
    return value is not _MISSING and value is not None and value is not DECLINED


def _kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "text"
    if isinstance(value, (int, float)):
        return "number"
    return None


def _compare(left: Any, op: str, right: Literal) -> bool:
    if _kind(left) is None or _kind(left) != _kind(right):
        return False  # a list, or text against a number: the comparison cannot hold
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    return left >= right


def _node_value(node: Node, answers: Mapping[str, Any]) -> bool:
    if isinstance(node, And):
        return all(_node_value(o, answers) for o in node.operands)
    if isinstance(node, Or):
        return any(_node_value(o, answers) for o in node.operands)
    if isinstance(node, Not):
        return not _node_value(node.operand, answers)
    value = answers.get(node.name, _MISSING)
    if isinstance(node, Answered):
        return is_answered(value)
    if not is_answered(value):
        return False
    if isinstance(node, Compare):
        return _compare(value, node.op, node.value)
    if isinstance(node, InList):
        found = any(_compare(value, "==", v) for v in node.values)
        if _kind(value) is None:
            return False
        return found != node.negated
    # Contains: a multi_choice answer is a list of codes.
    if not isinstance(value, (list, tuple, set, frozenset)):
        return False
    found = any(_compare(v, "==", node.value) for v in value)
    return found != node.negated


def evaluate(condition: Condition, answers: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds for ``answers`` (answer key -> stored value or DECLINED)."""
    return _node_value(condition.root, answers)
