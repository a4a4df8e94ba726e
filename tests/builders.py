"""Builders for test worlds, shared by every test package. No tests here.

Plain functions over the real database (inside the ``app`` fixture's app context), in three
kinds:

- ``add_*`` write plain rows (school, class, pupil, access code, response, user) with the
  values you give: no audit event and no service rules, so a test can set up any state and
  still count exactly the events its own requests cause. They flush; the caller commits.
- :func:`school`, :func:`user` and :func:`staff_world` go through the real services, as an
  admin would: codes are assigned, rules apply and each change is audited.
- page and session helpers: the CSRF and page tokens of an HTML page, logging a client in
  through the login form (:func:`login`) or straight into its session (:func:`log_in`).

Import as ``from tests.builders import ...``. The export tests keep their own data in
``tests/unit/test_export_fixtures.py``; they may use these too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, g
from werkzeug.serving import make_server

from surveyapp.admin import schools as school_svc
from surveyapp.admin.accounts import create_user
from surveyapp.catalog import get_catalog
from surveyapp.codes import generate_code, hash_code
from surveyapp.cohorts import allocate_participant
from surveyapp.extensions import db
from surveyapp.models import (
    AccessCode,
    Answer,
    Participant,
    Response,
    School,
    SchoolClass,
    Study,
    User,
    Wave,
)
from surveyapp.participants import IssuedCard, issue_cards
from surveyapp.passwords import hash_password
from surveyapp.questionnaire.loader import load_questionnaire
from surveyapp.questionnaire.model import Questionnaire
from surveyapp.study_sync import sync_study

#: The password of every account the builders make (long enough for the password policy).
PASSWORD = "correct horse battery staple"

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAGE_TOKEN_FIELD = re.compile(r'name="page_token" value="([^"]+)"')


# --------------------------------------------------------------------------- pages and sessions


def csrf_in(html: str) -> str | None:
    """The CSRF token of a page, or None when it has none."""
    match = CSRF_FIELD.search(html)
    return match.group(1) if match else None


def page_token_in(html: str) -> str | None:
    """The page token of a pupil question page, or None when it has none."""
    match = PAGE_TOKEN_FIELD.search(html)
    return match.group(1) if match else None


def csrf_from(html: str) -> str:
    """The CSRF token of a page that must have one."""
    token = csrf_in(html)
    assert token, "no CSRF token on the page"
    return token


def page_token_from(html: str) -> str:
    """The page token of a pupil question page that must have one."""
    token = page_token_in(html)
    assert token, "no page token on the page"
    return token


def csrf_token(client, url: str = "/auth/login", status: int | None = None) -> str:
    """GET ``url`` and return its CSRF token (the session's); ``status``: what the GET must
    answer, when that matters to the test."""
    page = client.get(url)
    if status is not None:
        assert page.status_code == status, f"{url} answered {page.status_code}"
    token = csrf_in(page.get_data(as_text=True))
    assert token, f"no CSRF token on {url} ({page.status_code})"
    return token


def login(client, username: str, password: str = PASSWORD, follow: bool = False):
    """Log in through the login form, as a person would; the reply to the POST."""
    return client.post(
        "/auth/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
        follow_redirects=follow,
    )


def log_in_browser(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form in a Playwright page."""
    page.goto(f"{base_url}/auth/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def log_in(client, user: User) -> None:
    """Put ``user`` straight into the client's session (no login form, no throttle).

    Commits first, so the request can load the user.
    """
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    # The `app` fixture keeps one app context (and so one `g`) for the whole test, and
    # Flask-Login caches the user of the previous request in it: forget that one.
    g.pop("_login_user", None)


@contextmanager
def threaded_server(app) -> Iterator[str]:
    """The app behind a real threaded werkzeug server on a free loopback port; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


# --------------------------------------------------------------------------- study and waves


def shipped_study() -> Study:
    """The shipped study (questionnaires/) in the database: its arms and waves (all draft)."""
    return sync_study(get_catalog().study)


def wave_in_state(study: Study, key: str = "baseline", state: str = "open") -> Wave:
    """The study's wave ``key``, put in ``state`` directly (no audit event)."""
    wave = next(w for w in study.waves if w.key == key)
    wave.state = state
    db.session.flush()
    return wave


def install_questionnaire(app, yaml_text: str, file_name: str) -> Questionnaire:
    """Serve a questionnaire written in a test from the running app's catalog.

    Tests own their questionnaires so the shipped ones can change freely; call
    :func:`forget_questionnaire` when done.
    """
    questionnaire = load_questionnaire(file_name, text=yaml_text)
    app.extensions["catalog"].questionnaires[questionnaire.id] = questionnaire
    return questionnaire


def forget_questionnaire(app, questionnaire_id: str) -> None:
    app.extensions["catalog"].questionnaires.pop(questionnaire_id, None)


def survey_wave(app, yaml_text: str, file_name: str) -> tuple[Questionnaire, Wave]:
    """The shipped study's baseline wave, open and using a questionnaire written in a test."""
    questionnaire = install_questionnaire(app, yaml_text, file_name)
    wave = wave_in_state(shipped_study(), "baseline", "open")
    wave.questionnaire_id = questionnaire.id
    return questionnaire, wave


# --------------------------------------------------------------------------- plain rows


def add_school(
    study: Study,
    code: str,
    arm: str | None = None,
    name: str | None = None,
    stratum: str | None = None,
) -> School:
    """A school row with the code you choose (named ``School <code>`` unless named)."""
    school = School(study=study, name=name or f"School {code}", code=code, arm=arm, stratum=stratum)
    db.session.add(school)
    db.session.flush()
    return school


def add_class(
    school: School,
    name: str,
    code: str | None = None,
    year_group: int | None = 5,
    arm: str | None = None,
) -> SchoolClass:
    """A class row (code ``<school code>-<name>`` unless given)."""
    school_class = SchoolClass(
        school=school,
        name=name,
        code=code or f"{school.code}-{name}",
        year_group=year_group,
        arm=arm,
    )
    db.session.add(school_class)
    db.session.flush()
    return school_class


def add_pupil(
    school_class: SchoolClass, number: int, arm: str | None = None, allocate: bool = False
) -> Participant:
    """A participant labelled ``<class>-<number>`` as the card service labels them.

    ``allocate`` fixes the arm by the study's allocation, as issuing a card does; otherwise
    the arm is ``arm`` (None: not allocated yet, as before a pupil first enters a code).
    """
    participant = Participant(
        school=school_class.school,
        school_class=school_class,
        number=number,
        label=f"{school_class.name}-{number:02d}",
        arm=arm,
    )
    if allocate:
        allocate_participant(participant)
    db.session.add(participant)
    db.session.flush()
    return participant


def add_code(
    participant: Participant, wave: Wave, code: str | None = None, status: str = "issued"
) -> AccessCode:
    """An access code for the participant and wave, hashed with the app's key as issuing
    does; ``code`` is the clear code (a random one unless given)."""
    access = AccessCode(
        code_hash=hash_code(code or generate_code(), current_app.config["CODE_HASH_KEY"]),
        participant=participant,
        wave=wave,
        status=status,
    )
    db.session.add(access)
    db.session.flush()
    return access


def add_response(
    participant: Participant | str,
    wave: Wave,
    completed_at: datetime | None = None,
    version: str = "test",
    pages: int = 0,
) -> Response:
    """A response with the cohort fields the pupil flow sets: the participant's arm, the
    wave and its questionnaire. ``pages``: pages in all (all done when completed)."""
    if isinstance(participant, str):
        participant = db.session.get(Participant, participant)
    response = Response(
        participant=participant,
        wave=wave,
        arm=participant.arm,
        questionnaire_id=wave.questionnaire_id,
        questionnaire_version=version,
        pages_total=pages,
        pages_done=pages if completed_at is not None else 0,
        completed_at=completed_at,
    )
    db.session.add(response)
    db.session.flush()
    return response


def open_response() -> int:
    """One pupil's response in the shipped study's open first wave (committed); its id."""
    study = shipped_study()
    wave = wave_in_state(study)
    school_class = add_class(add_school(study, "State School"), "5A")
    response = add_response(add_pupil(school_class, 1, arm="programme"), wave)
    db.session.commit()
    return response.id


def add_user(
    username: str, role: str, schools: list[School] | tuple = (), password: str = PASSWORD
) -> User:
    """An account row as if it had always been there (no audit event)."""
    user = User(username=username, password_hash=hash_password(password), role=role)
    user.schools = list(schools)
    db.session.add(user)
    db.session.flush()
    return user


# --------------------------------------------------------------------------- through the services


def school(study: Study, name: str, arm: str, classes: tuple[str, ...] = ()) -> School:
    """A school and its classes created as an admin creates them (codes S01, S01-C01, ...)."""
    row = school_svc.create_school(study, name, arm, None)
    for class_name in classes:
        school_svc.create_class(row, class_name, None, None)
    return row


def class_named(school_row: School, name: str) -> SchoolClass:
    """The class of a school with this name."""
    return next(c for c in school_row.classes if c.name == name)


def user(username: str, role: str, schools: list[School] | None = None) -> User:
    """An account created as an admin creates it, with :data:`PASSWORD`."""
    return create_user(username, role, PASSWORD, schools or [], None)


@dataclass
class StaffWorld:
    """Two schools in different arms, a teacher for each, an admin and a researcher.

    School A (``Alpha Primary``, in_harmony, classes 5B and 6C) belongs to ``teacher.a``;
    school B (``Zeta Academy``, comparison, class ZZ9) to ``teacher.b``. The baseline wave is
    open, the follow-up a draft, and three cards are issued for 5B and for ZZ9.
    """

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


def staff_world() -> StaffWorld:
    """Build and commit a :class:`StaffWorld` through the real services."""
    study = shipped_study()
    baseline = wave_in_state(study, "baseline", "open")
    followup = wave_in_state(study, "followup_1", "draft")
    a = school(study, "Alpha Primary", "in_harmony", ("5B", "6C"))
    b = school(study, "Zeta Academy", "comparison", ("ZZ9",))
    world = StaffWorld(
        study=study,
        baseline=baseline,
        followup=followup,
        school_a=a,
        school_b=b,
        class_a=class_named(a, "5B"),
        class_a2=class_named(a, "6C"),
        class_b=class_named(b, "ZZ9"),
        teacher_a=user("teacher.a", "teacher", [a]),
        teacher_b=user("teacher.b", "teacher", [b]),
        admin=user("admin", "admin"),
        researcher=user("researcher", "researcher"),
    )
    world.cards_a = issue_cards(world.class_a, baseline, 3, None)
    world.cards_b = issue_cards(world.class_b, baseline, 3, None)
    db.session.commit()
    return world


# --------------------------------------------------------------------------- reading back


def answer_rows(response_id: int) -> list[tuple[str, object, bool]]:
    """(answer key, value, declined) of one response, fresh from the answer table."""
    db.session.expire_all()
    return list(
        db.session.execute(
            db.select(Answer.question_id, Answer.value, Answer.declined)
            .where(Answer.response_id == response_id)
            .order_by(Answer.question_id)
        ).all()
    )


def stored_answers(participant_id: str) -> dict:
    """Answer key -> (value, declined) of every response of the participant."""
    db.session.expire_all()
    rows = db.session.execute(
        db.select(Answer.question_id, Answer.value, Answer.declined)
        .join(Response, Response.id == Answer.response_id)
        .where(Response.participant_id == participant_id)
    ).all()
    return {key: (value, declined) for key, value, declined in rows}


def response_of(participant_id: str) -> Response | None:
    """The participant's response (tests with one wave), fresh from the database."""
    db.session.expire_all()
    return db.session.execute(
        db.select(Response).filter_by(participant_id=participant_id)
    ).scalar_one_or_none()
