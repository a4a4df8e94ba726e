"""Shared builders for the staff-area tests (accounts, schools, cards). No tests here.

Import from the test modules as ``from tests.web.test_auth_support import ...``; importing
``world_fixture`` into a test module gives its tests the ``world`` fixture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from surveyapp.admin import schools as school_svc
from surveyapp.admin.accounts import create_user
from surveyapp.catalog import get_catalog
from surveyapp.extensions import db
from surveyapp.models import Response, School, SchoolClass, Study, User, Wave, utcnow
from surveyapp.participants import IssuedCard, issue_cards
from surveyapp.study_sync import sync_study

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
BATCH = re.compile(r'name="batch"[^>]*value="([^"]+)"')
_CODE_ON_CARD = re.compile(r'<p class="card-code">([A-Z0-9]{4}-[A-Z0-9]{4})</p>')


def csrf_token(client, url: str = "/auth/login") -> str:
    page = client.get(url)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD, follow: bool = False):
    token = csrf_token(client)
    return client.post(
        "/auth/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=follow,
    )


def post(client, url: str, data: dict | None = None, token_from: str = "/teacher/", **kwargs):
    """POST with the session's CSRF token (taken from a page the user may see)."""
    payload = {"csrf_token": csrf_token(client, token_from)}
    payload.update(data or {})
    return client.post(url, data=payload, **kwargs)


def issue_sheet(client, world, count: int, class_row=None, wave_row=None):
    class_row = class_row or world.class_a
    wave_row = wave_row or world.baseline
    url = f"/teacher/classes/{class_row.id}/waves/{wave_row.id}/issue"
    form = client.get(url)
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    batch = BATCH.search(html).group(1)
    token = _CSRF.search(html).group(1)
    return client.post(url, data={"count": str(count), "batch": batch, "csrf_token": token})


def codes_on_sheet(html: str) -> list[str]:
    return _CODE_ON_CARD.findall(html)


def study() -> Study:
    return sync_study(get_catalog().study)


def wave(study_row: Study, key: str = "baseline", state: str = "open") -> Wave:
    row = next(w for w in study_row.waves if w.key == key)
    row.state = state
    db.session.flush()
    return row


def school(study_row: Study, name: str, arm: str, classes: tuple[str, ...] = ("5B",)) -> School:
    row = school_svc.create_school(study_row, name, arm, None)
    for class_name in classes:
        school_svc.create_class(row, class_name, None, None)
    return row


def user(username: str, role: str, schools: list[School] | None = None) -> User:
    return create_user(username, role, PASSWORD, schools or [], None)


def school_class(school_row: School, name: str) -> SchoolClass:
    return next(c for c in school_row.classes if c.name == name)


def finish(participant_id: str, wave_row: Wave, pages: int = 6, completed: bool = True) -> Response:
    """What the pupil flow stores when a pupil works through the survey (state only)."""
    response = db.session.execute(
        db.select(Response).filter_by(participant_id=participant_id, wave_id=wave_row.id)
    ).scalar_one_or_none()
    if response is None:
        response = Response(
            participant_id=participant_id,
            wave_id=wave_row.id,
            questionnaire_id=wave_row.questionnaire_id,
            questionnaire_version="test",
            pages_total=pages,
        )
        db.session.add(response)
    response.pages_done = pages if completed else max(1, pages // 2)
    response.completed_at = utcnow() if completed else None
    db.session.flush()
    return response


@dataclass
class World:
    """Two schools in different arms, a teacher for each, an admin and a researcher."""

    study: Study
    baseline: Wave
    followup: Wave
    school_a: School
    school_b: School
    class_a: SchoolClass
    class_a2: SchoolClass
    class_b: SchoolClass
    teacher_a: User
    teacher_b: User
    admin: User
    researcher: User
    cards_a: list[IssuedCard] = field(default_factory=list)
    cards_b: list[IssuedCard] = field(default_factory=list)


@pytest.fixture(name="world")
def world_fixture(app) -> World:
    s = study()
    baseline = wave(s, "baseline", "open")
    followup = wave(s, "followup_1", "draft")
    a = school(s, "Alpha Primary", "in_harmony", ("5B", "6C"))
    b = school(s, "Zeta Academy", "comparison", ("ZZ9",))
    w = World(
        study=s,
        baseline=baseline,
        followup=followup,
        school_a=a,
        school_b=b,
        class_a=school_class(a, "5B"),
        class_a2=school_class(a, "6C"),
        class_b=school_class(b, "ZZ9"),
        teacher_a=user("teacher.a", "teacher", [a]),
        teacher_b=user("teacher.b", "teacher", [b]),
        admin=user("admin", "admin"),
        researcher=user("researcher", "researcher"),
    )
    w.cards_a = issue_cards(w.class_a, baseline, 3, None)
    w.cards_b = issue_cards(w.class_b, baseline, 3, None)
    db.session.commit()
    return w
