"""Shared builders for the pupil-flow tests (web and browser). No tests here.

Import as ``from tests.web.test_pupil_support import ...``; importing
``pupil_world_fixture`` provides the ``pupil_world`` fixture. The questionnaire below is
written for these tests (the shipped one changes as it is revised): every question type,
skip logic, a required question, a grid, and English plus Arabic (right-to-left).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from surveyapp.extensions import db
from tests.builders import (
    add_class,
    add_code,
    add_pupil,
    add_school,
    csrf_from,
    forget_questionnaire,
    page_token_from,
    survey_wave,
)

QUESTIONNAIRE_YAML = """\
id: t_pupil
title: {en: "About you", ar: "عنك"}
languages: [en, ar]
default_language: en
scales:
  agree4:
    display: faces
    options:
      - {code: 1, label: {en: "No", ar: "لا"}}
      - {code: 2, label: {en: "Not really", ar: "ليس كثيرا"}}
      - {code: 3, label: {en: "A bit", ar: "قليلا"}}
      - {code: 4, label: {en: "Yes, a lot", ar: "نعم، كثيرا"}}
  stars3:
    display: stars
    options:
      - {code: 1, label: {en: "Not much", ar: "ليس كثيرا"}}
      - {code: 2, label: {en: "Quite a lot", ar: "كثيرا"}}
      - {code: 3, label: {en: "Very much", ar: "كثيرا جدا"}}
pages:
  - id: p_like
    questions:
      - id: like_music
        type: likert
        scale: agree4
        required: true
        text: {en: "I like music.", ar: "أحب الموسيقى."}
  - id: p_plays
    questions:
      - id: plays
        type: yes_no
        text: {en: "Do you play an instrument?", ar: "هل تعزف على آلة موسيقية؟"}
  - id: p_instrument
    questions:
      - id: instrument
        type: single_choice
        show_if: "plays == 1"
        text: {en: "Which instrument do you play most?", ar: "ما الآلة التي تعزفها أكثر؟"}
        choices:
          - {code: 1, label: {en: "Violin", ar: "الكمان"}}
          - {code: 2, label: {en: "Cello", ar: "التشيلو"}}
          - {code: 3, label: {en: "Something else", ar: "شيء آخر"}}
      - id: practice
        type: likert
        scale: stars3
        show_if: "plays == 1"
        text: {en: "How much do you enjoy practising?", ar: "كم تستمتع بالتمرين؟"}
  - id: p_home
    questions:
      - id: home_langs
        type: multi_choice
        text: {en: "Which languages do you speak at home?", ar: "ما اللغات التي تتحدثها في البيت؟"}
        choices:
          - {code: 1, label: {en: "English", ar: "الإنجليزية"}}
          - {code: 2, label: {en: "Arabic", ar: "العربية"}}
          - {code: 3, label: {en: "Another language", ar: "لغة أخرى"}}
  - id: p_age
    questions:
      - id: age
        type: number
        min: 5
        max: 16
        text: {en: "How old are you?", ar: "كم عمرك؟"}
  - id: p_feel
    questions:
      - id: feelings
        type: grid
        scale: agree4
        text: {en: "At school I feel...", ar: "في المدرسة أشعر..."}
        rows:
          - {id: feel_happy, text: {en: "happy", ar: "سعيد"}}
          - {id: feel_safe, text: {en: "safe", ar: "آمن"}}
  - id: p_words
    questions:
      - id: wish
        type: text
        long: true
        max_length: 40
        identifying: direct
        text: {en: "What would you like to learn?", ar: "ماذا تحب أن تتعلم؟"}
      - id: thanks_note
        type: info
        text: {en: "Nearly done!", ar: "اقتربت من النهاية!"}
"""

CODES = ["ABCD2345", "EFGH6789", "JKMN2345", "PQRS6789", "TUVW2345", "XYZA6789"]


@dataclass
class PupilWorld:
    questionnaire: object
    wave: object
    school: object
    participants: list = field(default_factory=list)
    codes: dict = field(default_factory=dict)  # code -> AccessCode id


def build_world(app, yaml_text: str = QUESTIONNAIRE_YAML) -> PupilWorld:
    """A study with one open wave using the test questionnaire, one class, six codes."""
    q, wave = survey_wave(app, yaml_text, "tests/t_pupil.yaml")
    school = add_school(wave.study, "S01", "in_harmony", name="Test School")
    school_class = add_class(school, "5B", code="S01-C01", year_group=None)
    world = PupilWorld(questionnaire=q, wave=wave, school=school)
    for number, code in enumerate(CODES, start=1):
        participant = add_pupil(school_class, number)
        world.participants.append(participant)
        world.codes[code] = add_code(participant, wave, code).id
    db.session.commit()
    return world


@pytest.fixture(name="pupil_world")
def pupil_world_fixture(app):
    world = build_world(app)
    yield world
    forget_questionnaire(app, world.questionnaire.id)


def enter_code(client, code: str, follow: bool = True):
    start = client.get("/")
    return client.post(
        "/",
        data={"code": code, "csrf_token": csrf_from(start.get_data(as_text=True))},
        follow_redirects=follow,
    )


def choose_language(client, lang: str = "en", follow: bool = True):
    page = client.get("/language")
    return client.post(
        "/language",
        data={"lang": lang, "csrf_token": csrf_from(page.get_data(as_text=True))},
        follow_redirects=follow,
    )


def begin(client, code: str = CODES[0], lang: str = "en"):
    """Enter a code, pick a language and pass the welcome page: the first question page."""
    enter_code(client, code)
    choose_language(client, lang, follow=False)
    welcome = client.get("/welcome")
    return client.post(
        "/welcome",
        data={"action": "start", "csrf_token": csrf_from(welcome.get_data(as_text=True))},
        follow_redirects=True,
    )


def post_from_page(
    client, page_id: str, html: str, answers: dict, action: str = "next", follow=False
):
    """Post ``answers`` from the page as it was drawn (``html``), with the tokens it carries:
    what a browser sends from a page kept on screen, in its history or in another tab."""
    data = {"csrf_token": csrf_from(html), "page_token": page_token_from(html), "action": action}
    data.update(answers)
    return client.post(f"/q/{page_id}", data=data, follow_redirects=follow)


def submit_page(client, page_id: str, answers: dict, action: str = "next", follow=False):
    """Post a page as the browser would, with fresh tokens from a GET of it."""
    html = client.get(f"/q/{page_id}").get_data(as_text=True)
    return post_from_page(client, page_id, html, answers, action, follow)


def shown_path(reply) -> str | None:
    """Where a page POST took the pupil: the next question page comes back in the reply
    itself (200, named by Content-Location); finishing, stopping and Back redirect."""
    if reply.status_code in (301, 302, 303):
        return reply.headers["Location"]
    return reply.headers.get("Content-Location")
