"""Load a questionnaire file into the typed model, collecting every problem."""

from __future__ import annotations

from pathlib import Path

from ..yamlsource import Problem, SourceError, parse_model, read_source
from .conditions import ConditionError, parse_condition
from .model import Questionnaire


def load_questionnaire(path: str | Path, text: str | None = None) -> Questionnaire:
    """Parse and validate one questionnaire file; raise SourceError listing every problem."""
    source = read_source(path, text)
    questionnaire = parse_model(source, Questionnaire)
    problems: list[Problem] = []
    for p_index, page in enumerate(questionnaire.pages):
        for q_index, question in enumerate(page.questions):
            if question.show_if is None:
                continue
            where = ("pages", p_index, "questions", q_index, "show_if")
            try:
                question._condition = parse_condition(question.show_if)
            except ConditionError as exc:
                problems.append(
                    source.problem(where, f"show_if: {exc.message} (column {exc.column})")
                )
    if problems:
        raise SourceError(problems)
    questionnaire._version = source.content_hash
    questionnaire._source = source.file
    return questionnaire
