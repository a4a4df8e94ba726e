"""Skip logic: which questions and pages a pupil sees, given the answers so far. Pure.

``answers`` maps answer keys (question ids, grid row ids) to stored values, with
:data:`~surveyapp.questionnaire.conditions.DECLINED` for "I'd rather not say".

Hiding cascades: an answer to a question that is now hidden (say the pupil went back and
changed an earlier answer) no longer counts, so it cannot keep a later question visible.
The questionnaire-level functions apply this through :func:`effective_answers`; the
page-level ones take the answers as given, so pass them effective answers.

A page request asks several of these questions of the same answers (which page is next,
where the pupil stands, which questions show): :func:`route` walks the questionnaire once
and answers them all, so a view should build one :class:`Route` per set of answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .conditions import evaluate
from .model import Page, Question, Questionnaire, answer_keys


def is_visible(question: Question, answers: Mapping[str, Any]) -> bool:
    condition = question.condition
    return condition is None or evaluate(condition, answers)


def visible_questions(page: Page, answers: Mapping[str, Any]) -> list[Question]:
    return [q for q in page.questions if is_visible(q, answers)]


@dataclass(frozen=True)
class _Plan:
    """The questionnaire flattened once: what the walk needs, without model lookups."""

    # (question id, parsed condition or None, answer keys) in file order.
    questions: tuple[tuple[str, Any, tuple[str, ...]], ...]
    # (page, ids of its questions) in file order.
    pages: tuple[tuple[Page, tuple[str, ...]], ...]
    index: dict[str, int]


def _plan(questionnaire: Questionnaire) -> _Plan:
    plan = questionnaire._navigation_plan
    if plan is None:
        plan = _Plan(
            questions=tuple(
                (q.id, q.condition, tuple(answer_keys(q))) for q in questionnaire.questions()
            ),
            pages=tuple((p, tuple(q.id for q in p.questions)) for p in questionnaire.pages),
            index={p.id: i for i, p in enumerate(questionnaire.pages)},
        )
        questionnaire._navigation_plan = plan
    return plan


@dataclass(frozen=True)
class Route:
    """One set of answers applied to a questionnaire: what is shown, in which order."""

    questionnaire: Questionnaire
    #: The answers without those to questions that are hidden now.
    effective: dict[str, Any]
    #: Question id -> shown.
    visible: dict[str, bool]
    #: The pages with at least one visible question, in file order.
    pages: tuple[Page, ...]

    def _index(self, page_id: str) -> int:
        try:
            return _plan(self.questionnaire).index[page_id]
        except KeyError:
            raise KeyError(page_id) from None

    def page_ids(self) -> set[str]:
        return {p.id for p in self.pages}

    def first_page(self) -> Page | None:
        return self.pages[0] if self.pages else None

    def next_page(self, page_id: str) -> Page | None:
        """The next visible page after ``page_id`` (which may itself be hidden now), or None."""
        here = self._index(page_id)
        index = _plan(self.questionnaire).index
        return next((p for p in self.pages if index[p.id] > here), None)

    def previous_page(self, page_id: str) -> Page | None:
        """The visible page before ``page_id``, or None on the first."""
        here = self._index(page_id)
        index = _plan(self.questionnaire).index
        return next((p for p in reversed(self.pages) if index[p.id] < here), None)

    def progress(self, page_id: str) -> tuple[int, int]:
        """(1-based position of ``page_id`` among the visible pages, number of visible pages).

        A page that is hidden counts as where it would stand, so the position never goes back.
        """
        here = self._index(page_id)
        index = _plan(self.questionnaire).index
        before = sum(1 for p in self.pages if index[p.id] < here)
        return (before + 1, max(len(self.pages), before + 1))

    def visible_questions(self, page: Page) -> list[Question]:
        return [q for q in page.questions if self.visible.get(q.id, False)]

    def hidden_answer_keys(self) -> set[str]:
        return {
            key
            for question_id, _, keys in _plan(self.questionnaire).questions
            if not self.visible[question_id]
            for key in keys
        }


def route(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> Route:
    """Walk the questions in order, dropping the answers of hidden ones as we go.

    Conditions may only read earlier pages (the loader checks this), so one pass suffices.
    """
    plan = _plan(questionnaire)
    effective = dict(answers)
    visible: dict[str, bool] = {}
    for question_id, condition, keys in plan.questions:
        shown = condition is None or evaluate(condition, effective)
        visible[question_id] = shown
        if not shown:
            for key in keys:
                effective.pop(key, None)
    pages = tuple(page for page, ids in plan.pages if any(visible[i] for i in ids))
    return Route(questionnaire, effective, visible, pages)


def effective_answers(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` without the answers to questions that are hidden."""
    return route(questionnaire, answers).effective


def visible_pages(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> list[Page]:
    """Pages with at least one visible question, in file order."""
    return list(route(questionnaire, answers).pages)


def first_page(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> Page | None:
    return route(questionnaire, answers).first_page()


def next_page(
    questionnaire: Questionnaire, page_id: str, answers: Mapping[str, Any]
) -> Page | None:
    """The next visible page after ``page_id`` (which may itself be hidden now), or None."""
    return route(questionnaire, answers).next_page(page_id)


def previous_page(
    questionnaire: Questionnaire, page_id: str, answers: Mapping[str, Any]
) -> Page | None:
    """The visible page before ``page_id``, or None on the first."""
    return route(questionnaire, answers).previous_page(page_id)


def progress(
    questionnaire: Questionnaire, page_id: str, answers: Mapping[str, Any]
) -> tuple[int, int]:
    """(1-based position of ``page_id`` among the visible pages, number of visible pages)."""
    return route(questionnaire, answers).progress(page_id)


def hidden_answer_keys(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> set[str]:
    """Every answer key whose question is hidden now, so completion can drop those answers."""
    return route(questionnaire, answers).hidden_answer_keys()
