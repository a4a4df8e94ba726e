"""Builders shared by the concurrency and security tests. No tests here.

A questionnaire with every answer type (choice codes, a grid, a bounded number, a short text,
skip logic), a world of one open wave with cards issued by the real service, and
:func:`answer_problems`, which checks every stored answer row against the questionnaire:
the storage contract that no hostile or concurrent request may break.

Import as ``from tests.concurrency.pupil_world import ...``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from surveyapp.catalog import get_catalog
from surveyapp.extensions import db
from surveyapp.models import Answer, Response, School, SchoolClass, Wave
from surveyapp.participants import issue_cards
from surveyapp.questionnaire import navigation
from surveyapp.questionnaire.conditions import DECLINED
from surveyapp.questionnaire.model import (
    GridQuestion,
    InfoItem,
    LikertQuestion,
    MultiChoiceQuestion,
    NumberQuestion,
    Questionnaire,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)
from tests import builders
from tests.builders import class_named, school, survey_wave

QUESTIONNAIRE_ID = "t_hammer"
QUESTIONNAIRE_YAML = """\
id: t_hammer
title: {en: "Hammer"}
languages: [en]
default_language: en
scales:
  agree4:
    display: faces
    options:
      - {code: 1, label: {en: "No"}}
      - {code: 2, label: {en: "Not really"}}
      - {code: 3, label: {en: "A bit"}}
      - {code: 4, label: {en: "Yes, a lot"}}
pages:
  - id: p_one
    questions:
      - id: like_music
        type: likert
        scale: agree4
        required: true
        text: {en: "I like music."}
      - id: plays
        type: yes_no
        text: {en: "Do you play an instrument?"}
  - id: p_two
    questions:
      - id: home_langs
        type: multi_choice
        text: {en: "Languages at home"}
        choices:
          - {code: 1, label: {en: "English"}}
          - {code: 2, label: {en: "Arabic"}}
          - {code: 3, label: {en: "Another"}}
      - id: age
        type: number
        min: 5
        max: 16
        text: {en: "How old are you?"}
      - id: minutes
        type: number
        min: 0
        max: 90
        integer: false
        text: {en: "Minutes of practice"}
      - id: wish
        type: text
        max_length: 40
        text: {en: "What would you like to learn?"}
  - id: p_three
    questions:
      - id: feelings
        type: grid
        scale: agree4
        text: {en: "At school I feel..."}
        rows:
          - {id: feel_happy, text: {en: "happy"}}
          - {id: feel_safe, text: {en: "safe"}}
      - id: instrument
        type: single_choice
        show_if: "plays == 1"
        text: {en: "Which instrument?"}
        choices:
          - {code: 1, label: {en: "Violin"}}
          - {code: 2, label: {en: "Cello"}}
      - id: note
        type: info
        text: {en: "Nearly done!"}
"""

PAGES = ("p_one", "p_two", "p_three")


def write_questionnaire_dir(folder: Path) -> Path:
    """A questionnaire folder for separate server processes: the shipped files plus ours."""
    from surveyapp.config import PROJECT_ROOT

    folder.mkdir(parents=True, exist_ok=True)
    for shipped in (PROJECT_ROOT / "questionnaires").glob("*.yaml"):
        (folder / shipped.name).write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / f"{QUESTIONNAIRE_ID}.yaml").write_text(QUESTIONNAIRE_YAML, encoding="utf-8")
    return folder


@dataclass
class HammerWorld:
    questionnaire: Questionnaire
    wave: Wave
    school: School
    school_class: SchoolClass
    codes: list[str] = field(default_factory=list)
    participant_ids: list[str] = field(default_factory=list)


def build_world(app, cards: int = 4, school_name: str = "Hammer School") -> HammerWorld:
    """One open wave using the test questionnaire, one school and class, ``cards`` real cards."""
    q, wave = survey_wave(app, QUESTIONNAIRE_YAML, f"tests/{QUESTIONNAIRE_ID}.yaml")
    school_row = school(wave.study, school_name, "in_harmony", ("5B",))
    school_class = class_named(school_row, "5B")
    issued = issue_cards(school_class, wave, cards, None)
    db.session.commit()
    return HammerWorld(
        questionnaire=q,
        wave=wave,
        school=school_row,
        school_class=school_class,
        codes=[card.code for card in issued],
        participant_ids=[card.participant_id for card in issued],
    )


def forget_questionnaire(app) -> None:
    builders.forget_questionnaire(app, QUESTIONNAIRE_ID)


# --------------------------------------------------------------------------- validation


def _choice_codes(q: Questionnaire, question: Any) -> set[int]:
    return {c.code for c in q.choices_for(question)}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def value_problem(q: Questionnaire, question: Any, value: Any) -> str | None:
    """Why ``value`` may not be stored for ``question`` (None when it may)."""
    if isinstance(question, YesNoQuestion):
        return None if _is_int(value) and value in (0, 1) else "yes/no must be 0 or 1"
    if isinstance(question, (LikertQuestion, SingleChoiceQuestion, GridQuestion)):
        ok = _is_int(value) and value in _choice_codes(q, question)
        return None if ok else "not one of the choice codes"
    if isinstance(question, MultiChoiceQuestion):
        if not isinstance(value, list) or not value:
            return "multi choice must be a non-empty list"
        codes = _choice_codes(q, question)
        if not all(_is_int(v) and v in codes for v in value):
            return "a code that is not a choice"
        if value != sorted(set(value)):
            return "codes not sorted or repeated"
        return None
    if isinstance(question, NumberQuestion):
        if not (_is_int(value) or isinstance(value, float)):
            return "number must be int or float"
        if question.integer and not _is_int(value):
            return "whole number expected"
        if value != value or value in (float("inf"), float("-inf")):
            return "not a finite number"
        if question.min is not None and value < question.min:
            return "below the minimum"
        if question.max is not None and value > question.max:
            return "above the maximum"
        return None
    if isinstance(question, TextQuestion):
        if not isinstance(value, str) or not value:
            return "text must be a non-empty string"
        if len(value) > question.max_length:
            return "longer than max_length"
        if "\x00" in value:
            return "NUL in text"
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
            return "lone surrogate in text"
        if not question.long and "\n" in value:
            return "line break in a one-line text"
        return None
    return f"no answer may be stored for a {question.type} item"


def answer_problems(q: Questionnaire, rows: list[tuple[str, Any, bool]], completed: bool) -> list:
    """Every way ``rows`` (key, value, declined) of one response break the storage contract."""
    owner: dict[str, Any] = {}
    for question in q.questions():
        if isinstance(question, InfoItem):
            owner[question.id] = question
            continue
        for key in navigation.answer_keys(question):
            owner[key] = question
    problems = []
    seen: set[str] = set()
    answers: dict[str, Any] = {}
    for key, value, declined in rows:
        if key in seen:
            problems.append(f"{key}: stored twice")
        seen.add(key)
        question = owner.get(key)
        if question is None:
            problems.append(f"{key}: not an answer key of {q.id}")
            continue
        if declined:
            if value is not None:
                problems.append(f"{key}: declined with a value {value!r}")
            if not question.allow_decline or isinstance(question, InfoItem):
                problems.append(f"{key}: declined but declining is not offered")
            answers[key] = DECLINED
            continue
        if value is None:
            problems.append(f"{key}: a row with neither value nor declined")
            continue
        why = value_problem(q, question, value)
        if why:
            problems.append(f"{key}: {why} ({value!r})")
        answers[key] = value
    if completed:
        hidden = navigation.hidden_answer_keys(q, answers) & set(answers)
        problems += [
            f"{key}: hidden by skip logic but kept at completion" for key in sorted(hidden)
        ]
    return problems


def all_answer_problems() -> list[str]:
    """Check every stored answer of every response against its questionnaire."""
    db.session.expire_all()
    catalog = get_catalog()
    problems = []
    for response in db.session.execute(sa.select(Response)).scalars():
        rows = db.session.execute(
            sa.select(Answer.question_id, Answer.value, Answer.declined).where(
                Answer.response_id == response.id
            )
        ).all()
        q = catalog.questionnaires.get(response.questionnaire_id)
        if q is None:
            problems.append(f"response {response.id}: unknown questionnaire")
            continue
        for problem in answer_problems(q, list(rows), response.completed_at is not None):
            problems.append(f"response {response.id}: {problem}")
    return problems
