"""Checks on a questionnaire file that a type check alone cannot make.

They read the plain YAML data (not the typed model), defensively, so they still run when
other parts of the file have type errors: a researcher sees every problem in one go.
Each problem says where (file:line:column), what is wrong and what would be right.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..yamlsource import Path_, Problem, Source
from .conditions import (
    KEYWORDS,
    Answered,
    Compare,
    Condition,
    ConditionError,
    Contains,
    InList,
    Literal,
    parse_condition,
    walk,
)
from .model import (
    VARIABLE_NAME,
    Choice,
    Construct,
    GridQuestion,
    GridRow,
    InfoItem,
    LikertQuestion,
    MultiChoiceQuestion,
    NumberQuestion,
    Page,
    Questionnaire,
    Scale,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)

#: Columns every export row carries besides the answers; a question may not take their names.
META_COLUMNS = (
    "pseudonym",
    "arm",
    "wave",
    "school",
    "class",
    "questionnaire_version",
    "language",
    "status",
    "started",
    "completed",
    "duration_min",
)

QUESTION_TYPES: dict[str, type] = {
    "likert": LikertQuestion,
    "single_choice": SingleChoiceQuestion,
    "multi_choice": MultiChoiceQuestion,
    "yes_no": YesNoQuestion,
    "number": NumberQuestion,
    "text": TextQuestion,
    "grid": GridQuestion,
    "info": InfoItem,
}
CHOICE_TYPES = {"likert", "single_choice", "yes_no", "grid_row"}
YES_NO = {"yes": 1, "no": 0}

# Fields holding visible text (a plain string or a language map), per kind of mapping.
TEXT_FIELDS = {
    "questionnaire": ("title", "description"),
    "choice": ("label",),
    "page": ("title",),
    "question": ("text", "help", "label", "unit"),
    "grid_row": ("text", "label"),
    "construct": ("label",),
}
TEXT_OWNERS: dict[str, type] = {
    "questionnaire": Questionnaire,
    "choice": Choice,
    "page": Page,
    "question": NumberQuestion,  # has every text field a question can have
    "grid_row": GridRow,
    "construct": Construct,
}
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_VARIABLE = re.compile(VARIABLE_NAME)


def _fields(model: type) -> list[str]:
    return list(model.model_fields)


ALL_QUESTION_FIELDS = sorted({f for m in QUESTION_TYPES.values() for f in _fields(m)})


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
class Checker:
    """One pass over the plain data; problems accumulate, nothing stops at the first."""

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

    # ------------------------------------------------------------------ structure

    def run(self) -> None:
        data = self.source.data
        if data is None:
            self.add((), "the file is empty", "start with id:, title:, languages: and pages:")
            return
        if not isinstance(data, dict):
            return  # the loader reports that the file must be a mapping
        self.check_keys((), data, _fields(Questionnaire), "the questionnaire")
        self.check_languages(data)
        self.check_texts((), data, "questionnaire")
        self.check_language_names(data)
        self.check_scales(data.get("scales"))
        pages = data.get("pages")
        if isinstance(pages, list):
            for p_index, page in enumerate(pages):
                self.check_page(p_index, page)
            self.check_multi_choice_columns()
        self.check_constructs(data.get("constructs"))
        if isinstance(pages, list):
            self.check_conditions(pages)

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

    def check_languages(self, data: dict) -> None:
        languages = data.get("languages")
        if not isinstance(languages, list):
            return
        seen: set[str] = set()
        for index, language in enumerate(languages):
            if not isinstance(language, str) or not LANGUAGE_CODE.match(language):
                self.add(
                    ("languages", index),
                    f"'{language}' is not a language code",
                    "a code such as en, cy, pl or pt-BR",
                )
                continue
            if language in seen:
                self.add(("languages", index), f"language '{language}' is listed twice")
                continue
            seen.add(language)
            self.languages.append(language)
        default = data.get("default_language", "en")
        if isinstance(default, str) and self.languages and default not in self.languages:
            where = ("default_language",) if "default_language" in data else ("languages",)
            self.add(
                where,
                f"default_language '{default}' is not among languages",
                f"one of: {', '.join(self.languages)}",
            )

    def check_language_names(self, data: dict) -> None:
        names = data.get("language_names")
        if isinstance(names, dict) and self.languages:
            for key in names:
                if key not in self.languages:
                    self.add(
                        ("language_names", key),
                        f"name given for undeclared language '{key}'",
                        f"declared: {', '.join(self.languages)}",
                    )

    def check_texts(self, path: Path_, node: dict, kind: str) -> None:
        model = TEXT_OWNERS[kind]
        for name in TEXT_FIELDS[kind]:
            if name not in node:
                continue  # a missing required text is reported by the type check
            if node[name] is not None:
                self.check_text((*path, name), node[name], name)
            elif name in model.model_fields and model.model_fields[name].is_required():
                self.add((*path, name), f"'{name}' is empty", "write the text")

    def check_text(self, path: Path_, value: Any, name: str) -> None:
        if isinstance(value, str):
            if not value.strip():
                self.add(path, f"'{name}' is empty", "write the text, or leave the key out")
            return
        if not isinstance(value, dict):
            self.add(
                path,
                f"'{name}' must be text",
                "quote it, or give one text per language such as {en: ..., cy: ...}",
            )
            return
        if not self.languages:
            return
        for key, text in value.items():
            if key not in self.languages:
                self.add(
                    (*path, key),
                    f"text for undeclared language '{key}'",
                    f"declared: {', '.join(self.languages)}; add it to languages or remove it",
                )
            elif not isinstance(text, str) or not text.strip():
                self.add(
                    (*path, key),
                    f"the '{key}' text of '{name}' is empty or not text",
                    "write the translation in quotes",
                )
        for language in self.languages:
            if language not in value:
                self.add(
                    path,
                    f"'{name}' has no text for language '{language}'",
                    f"add {language}: ...; this file declares {', '.join(self.languages)}",
                )

    def check_name(self, path: Path_, name: Any, what: str) -> None:
        """Ids, row ids and page ids share one namespace: they all become export columns."""
        if not isinstance(name, str) or not _VARIABLE.match(name):
            return  # the type check reports invalid variable names
        if name in KEYWORDS:
            self.add(
                path,
                f"{what} '{name}' is a word of the show_if language",
                "rename it, so that conditions can refer to it",
            )
        if name in META_COLUMNS:
            self.add(
                path,
                f"{what} '{name}' clashes with the export column '{name}'",
                f"these names are reserved: {', '.join(META_COLUMNS)}",
            )
        key = name.lower()
        if key in self.names:
            first, first_path = self.names[key]
            line = self.source.position(first_path)[0]
            message = (
                f"duplicate id '{name}': already used at line {line}"
                if first == name
                else f"id '{name}' differs only in case from '{first}' at line {line}"
            )
            self.add(
                path,
                message,
                "ids of questions, grid rows, pages and constructs become export columns, "
                "so each must be unique, ignoring case",
            )
            return
        self.names[key] = (name, path)

    def check_choices(self, path: Path_, options: Any, owner: str) -> tuple[int, ...]:
        if not isinstance(options, list):
            return ()
        codes: list[int] = []
        seen: dict[int, int] = {}
        for index, option in enumerate(options):
            if not isinstance(option, dict):
                continue
            self.check_keys((*path, index), option, _fields(Choice), "a choice")
            self.check_texts((*path, index), option, "choice")
            code = option.get("code")
            if not isinstance(code, int) or isinstance(code, bool):
                continue
            if code in seen:
                self.add(
                    (*path, index, "code"),
                    f"duplicate code {code} in {owner}: already used at line {seen[code]}",
                    "every choice needs its own code",
                )
                continue
            seen[code] = self.source.position((*path, index, "code"))[0]
            codes.append(code)
        return tuple(codes)

    def check_scales(self, scales: Any) -> None:
        if not isinstance(scales, dict):
            return
        for name, scale in scales.items():
            if not isinstance(scale, dict):
                continue
            path: Path_ = ("scales", name)
            self.check_keys(path, scale, _fields(Scale), "a scale")
            self.scale_codes[str(name)] = self.check_choices(
                (*path, "options"), scale.get("options"), f"scale '{name}'"
            )

    def check_page(self, p_index: int, page: Any) -> None:
        if not isinstance(page, dict):
            return
        path: Path_ = ("pages", p_index)
        self.check_keys(path, page, _fields(Page), "a page")
        self.check_texts(path, page, "page")
        self.check_name((*path, "id"), page.get("id"), "page id")
        questions = page.get("questions")
        if not isinstance(questions, list):
            return
        for q_index, question in enumerate(questions):
            if isinstance(question, dict):
                self.check_question(p_index, (*path, "questions", q_index), question)

    def check_question(self, p_index: int, path: Path_, question: dict) -> None:
        kind = question.get("type")
        model = QUESTION_TYPES.get(kind) if isinstance(kind, str) else None
        allowed = _fields(model) if model else ALL_QUESTION_FIELDS
        self.check_keys(path, question, allowed, f"a {kind} question" if model else "a question")
        self.check_texts(path, question, "question")
        audio = question.get("audio")
        if isinstance(audio, dict) and self.languages:
            for key in audio:
                if key not in self.languages:
                    self.add(
                        (*path, "audio", key),
                        f"audio for undeclared language '{key}'",
                        f"declared: {', '.join(self.languages)}",
                    )
        qid = question.get("id")
        self.check_name((*path, "id"), qid, "question id")
        if model is None or not isinstance(qid, str):
            return
        item = Answerable(id=qid, kind=kind, page_index=p_index, path=path)
        if kind in {"likert", "grid"}:
            item.scale = self.check_scale_reference(path, question.get("scale"))
            item.codes = self.scale_codes.get(item.scale) if item.scale else None
        elif kind in {"single_choice", "multi_choice"}:
            item.codes = self.check_choices(
                (*path, "choices"), question.get("choices"), f"question '{qid}'"
            )
        elif kind == "yes_no":
            item.codes = (1, 0)
        elif kind == "number":
            self.check_number(path, question, item)
        elif kind == "info" and question.get("required") is True:
            self.add(
                (*path, "required"),
                "an info item has no answer, so it cannot be required",
                "remove required",
            )
        if kind == "grid":
            rows = question.get("rows")
            row_ids = []
            if isinstance(rows, list):
                for r_index, row in enumerate(rows):
                    if not isinstance(row, dict):
                        continue
                    row_path = (*path, "rows", r_index)
                    self.check_keys(row_path, row, _fields(GridRow), "a grid row")
                    self.check_texts(row_path, row, "grid_row")
                    row_id = row.get("id")
                    self.check_name((*row_path, "id"), row_id, "grid row id")
                    if isinstance(row_id, str) and row_id not in self.answerables:
                        row_ids.append(row_id)
                        self.answerables[row_id] = Answerable(
                            id=row_id,
                            kind="grid_row",
                            page_index=p_index,
                            path=row_path,
                            scale=item.scale,
                            codes=item.codes,
                        )
            item.grid_rows = tuple(row_ids)
        if qid not in self.answerables:
            self.answerables[qid] = item

    def check_scale_reference(self, path: Path_, scale: Any) -> str | None:
        if not isinstance(scale, str):
            return None
        if scale in self.scale_codes:
            return scale
        known = sorted(self.scale_codes)
        close = difflib.get_close_matches(scale, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"defined scales: {', '.join(known)}"
        if not known:
            hint = "define it under scales: at the top of the file"
        self.add((*path, "scale"), f"unknown scale '{scale}'", hint)
        return None

    def check_number(self, path: Path_, question: dict, item: Answerable) -> None:
        low, high = question.get("min"), question.get("max")
        numeric = (int, float)
        item.integer = question.get("integer", True) is not False
        if isinstance(low, numeric) and not isinstance(low, bool):
            item.minimum = low
        if isinstance(high, numeric) and not isinstance(high, bool):
            item.maximum = high
        if item.minimum is not None and item.maximum is not None and item.minimum > item.maximum:
            self.add(
                (*path, "min"),
                f"min {_show(item.minimum)} is greater than max {_show(item.maximum)}",
                "swap them, min must be at most max",
            )

    def check_multi_choice_columns(self) -> None:
        """A multi_choice question exports one 0/1 column per choice, named <id>_<code>."""
        for item in list(self.answerables.values()):
            if item.kind != "multi_choice" or not item.codes:
                continue
            for code in item.codes:
                column = f"{item.id}_{code}"
                where = (*item.path, "id")
                if code < 0:
                    self.add(
                        where,
                        f"multi_choice '{item.id}' has the negative code {code}, which would "
                        f"make the export column '{column}'",
                        "use codes 0 or above for multi_choice choices",
                    )
                elif len(column) > 32:
                    self.add(
                        where,
                        f"multi_choice '{item.id}' makes the export column '{column}', "
                        "longer than 32 characters",
                        "shorten the id",
                    )
                clash = self.names.get(column.lower())
                if clash:
                    self.add(
                        clash[1],
                        f"id '{clash[0]}' clashes with the export column '{column}' "
                        f"of multi_choice question '{item.id}' (line "
                        f"{self.source.position(where)[0]})",
                        "rename one of them",
                    )

    # ------------------------------------------------------------------ constructs

    def check_constructs(self, constructs: Any) -> None:
        if not isinstance(constructs, dict):
            return
        for name, construct in constructs.items():
            path: Path_ = ("constructs", name)
            self.check_name(path, name, "construct")
            if not isinstance(construct, dict):
                continue
            self.check_keys(path, construct, _fields(Construct), "a construct")
            self.check_texts(path, construct, "construct")
            items = construct.get("items")
            if items is None or items == []:
                self.add(
                    (*path, "items") if "items" in construct else path,
                    f"construct '{name}' has no items",
                    "list the likert questions or grid rows it scores under items:",
                )
                continue
            if not isinstance(items, list):
                continue
            ranges: dict[tuple[int, int], str] = {}
            seen: set[str] = set()
            for index, item_id in enumerate(items):
                if not isinstance(item_id, str):
                    continue
                where = (*path, "items", index)
                if item_id in seen:
                    self.add(where, f"item '{item_id}' is listed twice in construct '{name}'")
                    continue
                seen.add(item_id)
                item = self.answerables.get(item_id)
                if item is None:
                    self.add(
                        where,
                        f"construct '{name}' has unknown item '{item_id}'",
                        self.suggest(item_id, "ids of likert questions or grid rows"),
                    )
                    continue
                if item.kind not in {"likert", "grid_row"}:
                    self.add(
                        where,
                        f"construct item '{item_id}' is a {item.kind} question",
                        "construct items must be likert questions or grid rows",
                    )
                    continue
                if item.codes:
                    span = (min(item.codes), max(item.codes))
                    ranges.setdefault(span, item_id)
                    if len(ranges) > 1 and ranges.get(span) == item_id:
                        other_span, other = next(iter(ranges.items()))
                        self.add(
                            where,
                            f"construct '{name}' mixes scales of different ranges: "
                            f"'{item_id}' is {span[0]}-{span[1]}, "
                            f"'{other}' is {other_span[0]}-{other_span[1]}",
                            "score together only items on scales with the same codes",
                        )
            reverse = construct.get("reverse")
            if isinstance(reverse, list):
                for index, item_id in enumerate(reverse):
                    if isinstance(item_id, str) and item_id not in seen:
                        self.add(
                            (*path, "reverse", index),
                            f"reverse item '{item_id}' is not among the items of construct "
                            f"'{name}'",
                            "add it to items, or remove it from reverse",
                        )
            minimum = construct.get("min_answered")
            if (
                isinstance(minimum, int)
                and not isinstance(minimum, bool)
                and not 1 <= minimum <= len(items)
            ):
                self.add(
                    (*path, "min_answered"),
                    f"min_answered {minimum} is impossible for {len(items)} items",
                    f"a number from 1 to {len(items)}",
                )

    def suggest(self, name: str, fallback: str) -> str:
        close = difflib.get_close_matches(name, list(self.answerables), n=1, cutoff=0.6)
        return f"did you mean '{close[0]}'?" if close else fallback

    # ------------------------------------------------------------------ show_if

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


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"' if "'" in value and '"' not in value else f"'{value}'"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
                f"show_if: {_show(node.value)} in {name} needs a multi_choice question, "
                f"but '{name}' is a {kind}",
                f"write {name} == {_show(node.value)}",
            )
    elif item.kind == "multi_choice":
        example = _show(values[0])
        return (
            f"show_if compares multi_choice '{name}' as if it had one answer",
            f"to ask whether {example} was ticked write {example} in {name}",
        )
    op = node.op if isinstance(node, Compare) else ("!=" if node.negated else "==")
    for value in values:
        if item.kind == "text":
            if not isinstance(value, str):
                return (
                    f"show_if compares text question '{name}' with the number {_show(value)}",
                    "put the text in quotes",
                )
            continue
        if isinstance(value, str):
            if item.kind == "yes_no" and value.lower() in YES_NO:
                return (
                    f"show_if compares yes_no question '{name}' with the text {_show(value)}",
                    f"yes is 1 and no is 0: write {name} == {YES_NO[value.lower()]}",
                )
            return (
                f"show_if compares {kind} '{name}' with the text {_show(value)}",
                "compare with a number" if item.kind == "number" else _codes_hint(item),
            )
        if item.kind == "number":
            reason = _outside_range(op, value, item)
            if reason:
                return (f"show_if: {name} {op} {_show(value)} {reason}", _range_hint(item))
            continue
        if item.codes is None:
            continue  # unknown scale, reported already
        if op in {"==", "!="}:
            if value not in item.codes:
                return (
                    f"show_if compares '{name}' with {_show(value)}, which is not one of its codes",
                    _codes_hint(item),
                )
        elif not any(_holds(code, op, value) for code in item.codes):
            return (
                f"show_if: {name} {op} {_show(value)} can never be true",
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
    low = _show(item.minimum) if item.minimum is not None else "no minimum"
    high = _show(item.maximum) if item.maximum is not None else "no maximum"
    whole = ", whole numbers" if item.integer else ""
    return f"answers run from {low} to {high}{whole}"


def check_source(source: Source) -> tuple[list[Problem], dict[Path_, Condition]]:
    """Every problem the type check cannot see, and the parsed conditions by show_if path."""
    checker = Checker(source)
    checker.run()
    return checker.problems, checker.conditions
