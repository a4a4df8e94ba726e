"""Skip logic: which questions and pages a pupil sees, given the answers so far. Pure.

``answers`` maps answer keys (question ids, grid row ids) to stored values, with
:data:`~surveyapp.questionnaire.conditions.DECLINED` for "I'd rather not say".

Hiding cascades: an answer to a question that is now hidden (say the pupil went back and
changed an earlier answer) no longer counts, so it cannot keep a later question visible.
The questionnaire-level functions apply this through :func:`effective_answers`; the
page-level ones take the answers as given, so pass them effective answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .conditions import evaluate
from .model import Page, Question, Questionnaire, answer_keys


def is_visible(question: Question, answers: Mapping[str, Any]) -> bool:
    condition = question.condition
    return condition is None or evaluate(condition, answers)


def visible_questions(page: Page, answers: Mapping[str, Any]) -> list[Question]:
    return [q for q in page.questions if is_visible(q, answers)]


def _visibility(
    questionnaire: Questionnaire, answers: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, bool]]:
    """Walk the questions in order, dropping the answers of hidden ones as we go.

    Conditions may only read earlier pages (the loader checks this), so one pass suffices.
    """
    effective = dict(answers)
    visible: dict[str, bool] = {}
    for question in questionnaire.questions():
        shown = is_visible(question, effective)
        visible[question.id] = shown
        if not shown:
            for key in answer_keys(question):
                effective.pop(key, None)
    return effective, visible


def effective_answers(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` without the answers to questions that are hidden."""
    return _visibility(questionnaire, answers)[0]


def visible_pages(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> list[Page]:
    """Pages with at least one visible question, in file order."""
    _, visible = _visibility(questionnaire, answers)
    return [p for p in questionnaire.pages if any(visible[q.id] for q in p.questions)]


def first_page(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> Page | None:
    pages = visible_pages(questionnaire, answers)
    return pages[0] if pages else None


def _index(questionnaire: Questionnaire, page_id: str) -> int:
    for index, page in enumerate(questionnaire.pages):
        if page.id == page_id:
            return index
    raise KeyError(page_id)


def next_page(
    questionnaire: Questionnaire, page_id: str, answers: Mapping[str, Any]
) -> Page | None:
    """The next visible page after ``page_id`` (which may itself be hidden now), or None."""
    here = _index(questionnaire, page_id)
    shown = {p.id for p in visible_pages(questionnaire, answers)}
    for page in questionnaire.pages[here + 1 :]:
        if page.id in shown:
            return page
    return None


def previous_page(
    questionnaire: Questionnaire, page_id: str, answers: Mapping[str, Any]
) -> Page | None:
    """The visible page before ``page_id``, or None on the first."""
    here = _index(questionnaire, page_id)
    shown = {p.id for p in visible_pages(questionnaire, answers)}
    for page in reversed(questionnaire.pages[:here]):
        if page.id in shown:
            return page
    return None


def progress(
    questionnaire: Questionnaire, page_id: str, answers: Mapping[str, Any]
) -> tuple[int, int]:
    """(1-based position of ``page_id`` among the visible pages, number of visible pages).

    A page that is hidden counts as where it would stand, so the position never goes back.
    """
    here = _index(questionnaire, page_id)
    pages = visible_pages(questionnaire, answers)
    order = {p.id: i for i, p in enumerate(questionnaire.pages)}
    before = sum(1 for p in pages if order[p.id] < here)
    return (before + 1, max(len(pages), before + 1))


def hidden_answer_keys(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> set[str]:
    """Every answer key whose question is hidden now, so completion can drop those answers."""
    _, visible = _visibility(questionnaire, answers)
    return {key for q in questionnaire.questions() if not visible[q.id] for key in answer_keys(q)}
