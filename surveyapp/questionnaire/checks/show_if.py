"""``show_if`` conditions: they parse, refer to answers on earlier pages, and can hold."""

from __future__ import annotations

import math
from collections.abc import Iterator

from ...yamlsource import Path_
from ..condition_parser import parse_condition
from ..condition_tree import (
    Answered,
    Compare,
    Condition,
    ConditionError,
    Contains,
    InList,
    Literal,
    walk,
)
from ..model import YES_NO_CODES as YES_NO
from .base import Answerable, CheckerBase, show


class ShowIfChecks(CheckerBase):
    """Parse each show_if, then check what it refers to and the values it compares."""

    def check_conditions(self, pages: list) -> None:
        for p_index, page in enumerate(pages):
            if not isinstance(page, dict) or not isinstance(page.get("questions"), list):
                continue
            for q_index, question in enumerate(page["questions"]):
                if not isinstance(question, dict) or "show_if" not in question:
                    continue
                path: Path_ = ("pages", p_index, "questions", q_index, "show_if")
                text = question["show_if"]
                if text is None:
                    continue
                if not isinstance(text, str):
                    self.add(path, "show_if must be text", "e.g. show_if: plays_instrument == 1")
                    continue
                try:
                    condition = parse_condition(text)
                except ConditionError as exc:
                    message, hint = _split(exc.message)
                    self.add_at(self.locate(path, exc.column), f"show_if: {message}", hint)
                    continue
                before = len(self.problems)
                self.check_condition(path, p_index, condition)
                if len(self.problems) == before:
                    self.conditions[path] = condition

    def locate(self, path: Path_, column: int) -> tuple[int, int]:
        """Where column ``column`` of a show_if text is in the file (its key if unknown)."""
        return self.source.position_in_value(path, column) or self.source.position(path)

    def check_condition(self, path: Path_, p_index: int, condition: Condition) -> None:
        for name, column in _references(condition):
            item = self.answerables.get(name)
            where = self.locate(path, column)
            if item is None:
                if name.lower() in self.names:
                    other = self.names[name.lower()][0]
                    self.add_at(
                        where,
                        f"show_if refers to '{name}', which is not a question with an answer",
                        f"did you mean '{other}'?" if other != name else "refer to a question id",
                    )
                else:
                    self.add_at(
                        where,
                        f"show_if refers to unknown question '{name}'",
                        self.suggest(name, "use the id of a question on an earlier page"),
                    )
                continue
            if item.page_index >= p_index:
                same = item.page_index == p_index
                self.add_at(
                    where,
                    f"show_if refers to '{name}', which is on "
                    + ("the same page" if same else "a later page"),
                    "a condition can only use answers from earlier pages",
                )
                continue
            if item.kind == "info":
                self.add_at(where, f"show_if refers to '{name}', an info item with no answer")
            elif item.kind == "grid":
                self.add_at(
                    where,
                    f"show_if refers to grid '{name}', which has no answer of its own",
                    f"refer to one of its rows: {', '.join(item.grid_rows)}",
                )
        for node in condition.comparisons:
            item = self.answerables.get(node.name)
            if item is None or item.page_index >= p_index or item.kind in {"info", "grid"}:
                continue
            problem = _impossible(node, item)
            if problem:
                self.add_at(self.locate(path, node.column), *problem)


def _references(condition: Condition) -> Iterator[tuple[str, int]]:
    """Each id a condition reads, once, with the column of its first mention."""
    seen: set[str] = set()
    for node in walk(condition.root):
        if isinstance(node, (Compare, InList, Contains, Answered)) and node.name not in seen:
            seen.add(node.name)
            yield node.name, node.column


def _split(message: str) -> tuple[str, str]:
    what, _, hint = message.partition("; ")
    return what, hint


def _codes_hint(item: Answerable) -> str:
    if item.kind == "yes_no":
        return "yes is 1, no is 0"
    return f"its codes: {', '.join(str(c) for c in item.codes or ())}"


def _impossible(node: Compare | InList | Contains, item: Answerable) -> tuple[str, str] | None:
    """Why a comparison can never be as meant for this question, or None if it can."""
    values: tuple[Literal, ...] = node.values if isinstance(node, InList) else (node.value,)
    name = item.id
    kind = "grid row" if item.kind == "grid_row" else f"{item.kind} question"
    if isinstance(node, Contains):
        if item.kind != "multi_choice":
            return (
                f"show_if: {show(node.value)} in {name} needs a multi_choice question, "
                f"but '{name}' is a {kind}",
                f"write {name} == {show(node.value)}",
            )
    elif item.kind == "multi_choice":
        example = show(values[0])
        return (
            f"show_if compares multi_choice '{name}' as if it had one answer",
            f"to ask whether {example} was ticked write {example} in {name}",
        )
    op = node.op if isinstance(node, Compare) else ("!=" if node.negated else "==")
    for value in values:
        if item.kind == "text":
            if not isinstance(value, str):
                return (
                    f"show_if compares text question '{name}' with the number {show(value)}",
                    "put the text in quotes",
                )
            continue
        if isinstance(value, str):
            if item.kind == "yes_no" and value.lower() in YES_NO:
                return (
                    f"show_if compares yes_no question '{name}' with the text {show(value)}",
                    f"yes is 1 and no is 0: write {name} == {YES_NO[value.lower()]}",
                )
            return (
                f"show_if compares {kind} '{name}' with the text {show(value)}",
                "compare with a number" if item.kind == "number" else _codes_hint(item),
            )
        if item.kind == "number":
            reason = _outside_range(op, value, item)
            if reason:
                return (f"show_if: {name} {op} {show(value)} {reason}", _range_hint(item))
            continue
        if item.codes is None:
            continue  # unknown scale, reported already
        if op in {"==", "!="}:
            if value not in item.codes:
                return (
                    f"show_if compares '{name}' with {show(value)}, which is not one of its codes",
                    _codes_hint(item),
                )
        elif not any(_holds(code, op, value) for code in item.codes):
            return (
                f"show_if: {name} {op} {show(value)} can never be true",
                _codes_hint(item),
            )
    return None


def _holds(left: float, op: str, right: float) -> bool:
    return {
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]


def _outside_range(op: str, value: float, item: Answerable) -> str | None:
    low = item.minimum if item.minimum is not None else -math.inf
    high = item.maximum if item.maximum is not None else math.inf
    if op in {"==", "!="}:
        if not low <= value <= high:
            return "is outside the question's range"
        if item.integer and not float(value).is_integer():
            return "can never hold, the answer is a whole number"
        return None
    possible = {
        "<": low < value,
        "<=": low <= value,
        ">": high > value,
        ">=": high >= value,
    }[op]
    return None if possible else "can never be true"


def _range_hint(item: Answerable) -> str:
    low = show(item.minimum) if item.minimum is not None else "no minimum"
    high = show(item.maximum) if item.maximum is not None else "no maximum"
    whole = ", whole numbers" if item.integer else ""
    return f"answers run from {low} to {high}{whole}"
