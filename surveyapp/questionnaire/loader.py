"""Load a questionnaire file into the typed model, collecting every problem.

Two passes over the same YAML: the checks in :mod:`.validation` (names, languages, codes,
references, conditions) and the type check of the pydantic model. Both always run, so a
researcher sees every problem at once, each as ``file:line:column: what (what instead)``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ..yamlsource import Problem, Source, SourceError, model_problems, read_source
from .model import Questionnaire
from .validation import check_source

# Reported by the checks in their own words, so the type check's version is dropped.
_TEXT_UNION_MEMBERS = {"str", "dict[str,str]"}


def _reported_by_checks(err: dict) -> bool:
    loc = err["loc"]
    if err["type"] == "extra_forbidden":
        return True  # unknown keys, with a "did you mean" hint
    if any(part in _TEXT_UNION_MEMBERS for part in loc):
        return True  # texts that are neither a string nor a language map
    return err["type"] == "too_short" and len(loc) == 3 and loc[0] == "constructs"


def _type_problems(source: Source, exc: ValidationError, found: list[Problem]) -> list[Problem]:
    """The type check's problems, minus those the checks already reported in their words.

    An error is only dropped if the checks reported something on the same line, so a
    file never fails without a message saying why.
    """
    lines = {p.line for p in found}
    reported = model_problems(source, exc, skip=_reported_by_checks)
    covered = model_problems(source, exc, skip=lambda err: not _reported_by_checks(err))
    return reported + [p for p in covered if p.line not in lines]


def load_questionnaire(path: str | Path, text: str | None = None) -> Questionnaire:
    """Parse and validate one questionnaire file; raise SourceError listing every problem."""
    source = read_source(path, text)
    problems, conditions = check_source(source)
    questionnaire = None
    if isinstance(source.data, dict):
        try:
            questionnaire = Questionnaire.model_validate(source.data)
        except ValidationError as exc:
            problems.extend(_type_problems(source, exc, problems))
    elif source.data is not None:  # an empty file is reported by the checks
        problems.append(source.problem((), "the file must be a mapping of keys to values"))
    if problems or questionnaire is None:
        raise SourceError(_unique(problems))
    for p_index, page in enumerate(questionnaire.pages):
        for q_index, question in enumerate(page.questions):
            question._condition = conditions.get(
                ("pages", p_index, "questions", q_index, "show_if")
            )
    questionnaire._version = source.content_hash
    questionnaire._source = source.file
    return questionnaire


def _unique(problems: list) -> list:
    seen = set()
    out = []
    for problem in problems:
        key = (problem.line, problem.column, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out
