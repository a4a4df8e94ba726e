"""Checks on a questionnaire file that a type check alone cannot make.

They read the plain YAML data (not the typed model), defensively, so they still run when
other parts of the file have type errors: a researcher sees every problem in one go.
Each problem says where (file:line:column), what is wrong and what would be right.

This module walks the file (questionnaire, pages, questions, grid rows); the checks
themselves live in :mod:`.checks`, one module per kind: texts and languages, ids, codes and
ranges, constructs, and ``show_if`` conditions.
"""

from __future__ import annotations

from typing import Any

from ..yamlsource import Path_, Problem, Source
from .checks.base import Answerable, model_fields
from .checks.codes import CodeChecks
from .checks.constructs import ConstructChecks
from .checks.names import NameChecks
from .checks.show_if import YES_NO, ShowIfChecks
from .checks.texts import LANGUAGE_CODE, TEXT_FIELDS, TEXT_OWNERS, TextChecks
from .columns import META_COLUMNS
from .condition_tree import Condition
from .model import (
    GridQuestion,
    GridRow,
    InfoItem,
    LikertQuestion,
    MultiChoiceQuestion,
    NumberQuestion,
    Page,
    Questionnaire,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)

__all__ = [
    "ALL_QUESTION_FIELDS",
    "LANGUAGE_CODE",
    "META_COLUMNS",
    "QUESTION_TYPES",
    "TEXT_FIELDS",
    "TEXT_OWNERS",
    "YES_NO",
    "Answerable",
    "Checker",
    "check_source",
]

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


ALL_QUESTION_FIELDS = sorted({f for m in QUESTION_TYPES.values() for f in model_fields(m)})


class Checker(TextChecks, NameChecks, CodeChecks, ConstructChecks, ShowIfChecks):
    """One pass over the plain data; problems accumulate, nothing stops at the first."""

    def run(self) -> None:
        data = self.source.data
        if data is None:
            self.add((), "the file is empty", "start with id:, title:, languages: and pages:")
            return
        if not isinstance(data, dict):
            return  # the loader reports that the file must be a mapping
        self.check_keys((), data, model_fields(Questionnaire), "the questionnaire")
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

    def check_page(self, p_index: int, page: Any) -> None:
        if not isinstance(page, dict):
            return
        path: Path_ = ("pages", p_index)
        self.check_keys(path, page, model_fields(Page), "a page")
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
        allowed = model_fields(model) if model else ALL_QUESTION_FIELDS
        self.check_keys(path, question, allowed, f"a {kind} question" if model else "a question")
        self.check_texts(path, question, "question")
        self.check_audio(path, question.get("audio"))
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
            item.grid_rows = self.check_grid_rows(p_index, path, question.get("rows"), item)
        if qid not in self.answerables:
            self.answerables[qid] = item

    def check_grid_rows(
        self, p_index: int, path: Path_, rows: Any, grid: Answerable
    ) -> tuple[str, ...]:
        """Check each row of a grid and make it answerable in its own right; its row ids."""
        row_ids = []
        if isinstance(rows, list):
            for r_index, row in enumerate(rows):
                if not isinstance(row, dict):
                    continue
                row_path = (*path, "rows", r_index)
                self.check_keys(row_path, row, model_fields(GridRow), "a grid row")
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
                        scale=grid.scale,
                        codes=grid.codes,
                    )
        return tuple(row_ids)


def check_source(source: Source) -> tuple[list[Problem], dict[Path_, Condition]]:
    """Every problem the type check cannot see, and the parsed conditions by show_if path."""
    checker = Checker(source)
    checker.run()
    return checker.problems, checker.conditions
