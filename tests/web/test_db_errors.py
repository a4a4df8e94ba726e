"""A busy or briefly unreachable database: a friendly 503 that keeps the pupil's input.

The database is made to fail for real, never mocked:

- busy: another connection holds the write lock (SQLite: ``BEGIN EXCLUSIVE``; PostgreSQL:
  ``LOCK TABLE answer, response IN ACCESS EXCLUSIVE MODE``) while the app under test runs
  with a tiny busy timeout (SQLite) or lock timeout (PostgreSQL);
- pool exhausted: the app's only pooled connection is checked out elsewhere;
- gone (PostgreSQL): the database refuses connections and the app's backends are killed.

Each time the page keeps what was sent, and pressing its button once the database is back
stores exactly that.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from werkzeug.datastructures import MultiDict

from benchmarks.load.flow import Form, parse_forms, path_of
from benchmarks.load.world import make_world
from surveyapp import create_app
from surveyapp.admin.accounts import create_user
from surveyapp.codes import hash_code
from surveyapp.config import normalise_database_url
from surveyapp.extensions import db
from surveyapp.models import AccessCode, Answer, Response, School

BUSY_MS = 100
TEACHER_PASSWORD = "cello-and-violin-2026"


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _busy_engine_options(url: str, **pool) -> dict:
    if _is_sqlite(url):
        return {"connect_args": {"timeout": BUSY_MS / 1000}, **pool}
    return {
        "pool_pre_ping": True,
        "connect_args": {
            "options": f"-c lock_timeout={BUSY_MS * 3} -c statement_timeout=5000",
            "application_name": "busy-app",
        },
        **pool,
    }


def _make_app(app_config: dict, **pool):
    url = app_config["SQLALCHEMY_DATABASE_URI"]
    app = create_app({**app_config, "SQLALCHEMY_ENGINE_OPTIONS": _busy_engine_options(url, **pool)})
    if _is_sqlite(url):
        with app.app_context():
            # Runs after surveyapp.database's pragmas (15 s busy timeout): a short one here.
            @event.listens_for(db.engine, "connect")
            def _short_busy_timeout(dbapi_connection, _record):
                dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_MS}")

    return app


@pytest.fixture(scope="module")
def busy_app(_migrated_app, app_config):
    """The app with a tiny busy/lock timeout, on the test session's migrated database."""
    app = _make_app(app_config)
    yield app
    with app.app_context():
        db.engine.dispose()


@contextmanager
def database_locked(url: str) -> Iterator[None]:
    """Another connection holds the lock on the tables a pupil writes, until the block ends."""
    db.session.commit()  # the test's own session must hold no lock the blocker would wait on
    if _is_sqlite(url):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=5)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SET lock_timeout = '5s'"))
            conn.execute(sa.text("LOCK TABLE answer, response IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                conn.rollback()
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- pupil helpers


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _form(resp) -> Form:
    forms = parse_forms(_text(resp))
    assert forms, f"no form on the page (HTTP {resp.status_code})"
    return forms[0]


def _enter(client, code: str) -> str:
    """Card link, language, welcome: the path of the first page with a question."""
    resp = client.get(f"/s/{code}")
    assert resp.status_code == 302, _text(resp)
    lang_form = _form(client.get(path_of(resp.location)))
    resp = client.post("/language", data=MultiDict([*lang_form.hidden, ("lang", "en")]))
    assert resp.status_code == 302
    welcome = _form(client.get("/welcome"))
    resp = client.post("/welcome", data=MultiDict([*welcome.hidden, ("action", "start")]))
    assert resp.status_code == 302
    page = path_of(resp.location)
    while True:  # pages without answers (the welcome info page) just need Next
        form = _form(client.get(page))
        if form.radios or form.checkboxes or form.texts:
            return page
        resp = client.post(page, data=MultiDict([*form.hidden, ("action", "next")]))
        page = _next_page(resp)


def _next_page(resp) -> str:
    """The question page an answer POST drew in its reply (named by Content-Location)."""
    assert resp.status_code == 200, _text(resp)
    return path_of(resp.headers["Content-Location"])


def _advance_to(client, page: str, target_key: str) -> tuple[str, Form]:
    """Answer pages (first option of everything) until the page asking ``target_key``."""
    for _ in range(60):
        form = _form(client.get(page))
        if target_key in form.radios or target_key in form.checkboxes:
            return page, form
        fields = [*form.hidden, ("action", "next")]
        fields += [(name, values[0]) for name, values in form.radios.items()]
        resp = client.post(page, data=MultiDict(fields))
        page = _next_page(resp)
    raise AssertionError(f"no page asks {target_key}")


def _stored(code: str, key: str) -> tuple[object, bool] | None:
    db.session.expire_all()
    row = db.session.execute(
        sa.select(Answer.value, Answer.declined)
        .join(Response, Response.id == Answer.response_id)
        .join(
            AccessCode,
            (AccessCode.participant_id == Response.participant_id)
            & (AccessCode.wave_id == Response.wave_id),
        )
        .where(AccessCode.code_hash == hash_code(code, "test-code-key"), Answer.question_id == key)
    ).one_or_none()
    db.session.commit()
    return None if row is None else (row.value, row.declined)


def _assert_csp_safe(html: str) -> None:
    """No inline script or style (the CSP forbids both)."""
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))


@pytest.fixture
def world(app):
    return make_world(3, class_size=3)


# --------------------------------------------------------------------------- busy database


def test_busy_answer_page_keeps_answers_and_saves_them_on_try_again(
    app, busy_app, world, database_url
):
    code = world.codes[0]
    client = busy_app.test_client()
    page, form = _advance_to(client, _enter(client, code), "home_languages")
    sent = [*form.hidden, ("action", "next"), ("home_languages", "1"), ("home_languages", "3")]

    with database_locked(database_url):
        resp = client.post(page, data=MultiDict(sent))
        assert resp.status_code == 503
        assert int(resp.headers["Retry-After"]) > 0
        assert resp.headers["Cache-Control"] == "no-store"
        html = _text(resp)
        _assert_csp_safe(html)
        assert "Try again" in html
        busy = _form(resp)
        assert path_of(busy.action) == page
        kept = [field for field in busy.hidden if field[0] != "csrf_token"]
        assert kept == [field for field in sent if field[0] != "csrf_token"]
        assert [name for name, _ in busy.hidden].count("csrf_token") == 1

        # Pressing Try again while the database is still busy: the same page again.
        again = client.post(path_of(busy.action), data=MultiDict(busy.hidden))
        assert again.status_code == 503
        assert [f for f in _form(again).hidden if f[0] != "csrf_token"] == kept

    assert _stored(code, "home_languages") is None  # nothing half-saved while busy
    retry = client.post(path_of(busy.action), data=MultiDict(_form(again).hidden))
    assert _next_page(retry) != page  # on to the next question
    assert _stored(code, "home_languages") == ([1, 3], False)


def test_busy_card_link_gives_a_retry_link(app, busy_app, world, database_url):
    code = world.codes[1]
    client = busy_app.test_client()
    with database_locked(database_url):
        resp = client.get(f"/s/{code}")
        assert resp.status_code == 503
        assert resp.headers["Retry-After"]
        html = _text(resp)
        _assert_csp_safe(html)
        assert parse_forms(html) == []
        assert f'href="/s/{code}"' in html
    resp = client.get(f"/s/{code}")
    assert resp.status_code == 302
    assert path_of(resp.location) == "/language"


def test_busy_welcome_button_works_on_try_again(app, busy_app, world, database_url):
    code = world.codes[2]
    client = busy_app.test_client()
    resp = client.get(f"/s/{code}")
    lang_form = _form(client.get(path_of(resp.location)))
    client.post("/language", data=MultiDict([*lang_form.hidden, ("lang", "en")]))
    welcome = _form(client.get("/welcome"))
    with database_locked(database_url):
        resp = client.post("/welcome", data=MultiDict([*welcome.hidden, ("action", "start")]))
        assert resp.status_code == 503
        busy = _form(resp)
    assert ("action", "start") in busy.hidden
    resp = client.post(path_of(busy.action), data=MultiDict(busy.hidden))
    assert resp.status_code == 302
    assert path_of(resp.location).startswith("/q/")


# --------------------------------------------------------------------------- pool exhausted


@pytest.fixture
def tiny_pool_app(_migrated_app, app_config):
    """One pooled connection and a 0.2 s wait for it."""
    app = _make_app(app_config, pool_size=1, max_overflow=0, pool_timeout=0.2)
    yield app
    with app.app_context():
        db.engine.dispose()


@contextmanager
def pool_exhausted(app) -> Iterator[None]:
    with app.app_context():
        conn = db.engine.connect()
        conn.execute(sa.text("SELECT 1"))
    try:
        yield
    finally:
        conn.close()


def test_pool_exhausted_for_a_logged_in_teacher_gives_503_not_500(app, tiny_pool_app, world):
    school = db.session.execute(sa.select(School)).scalars().first()
    create_user("busy-teacher", "teacher", TEACHER_PASSWORD, [school], None)
    db.session.commit()
    client = tiny_pool_app.test_client()
    login = _form(client.get("/auth/login"))
    resp = client.post(
        "/auth/login",
        data=MultiDict(
            [*login.hidden, ("username", "busy-teacher"), ("password", TEACHER_PASSWORD)]
        ),
    )
    assert resp.status_code == 302
    with pool_exhausted(tiny_pool_app):
        resp = client.get("/teacher/")
        assert resp.status_code == 503
        assert 'href="/teacher/"' in _text(resp)
    assert client.get("/teacher/").status_code == 200


def test_pool_exhausted_login_never_writes_the_password_into_the_page(app, tiny_pool_app):
    client = tiny_pool_app.test_client()
    login = _form(client.get("/auth/login"))
    with pool_exhausted(tiny_pool_app):
        resp = client.post(
            "/auth/login",
            data=MultiDict(
                [*login.hidden, ("username", "someone"), ("password", TEACHER_PASSWORD)]
            ),
        )
    assert resp.status_code == 503
    html = _text(resp)
    assert TEACHER_PASSWORD not in html
    assert parse_forms(html) == []
    assert 'href="/auth/login"' in html


# --------------------------------------------------------------------------- database gone


ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgres")


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs PostgreSQL (TEST_DATABASE_URL): a SQLite file cannot go away briefly",
)
def test_database_gone_then_back_keeps_the_answer(app, busy_app, world, database_url):
    code = world.codes[0]
    client = busy_app.test_client()
    page, form = _advance_to(client, _enter(client, code), "school_like")
    sent = [*form.hidden, ("action", "next"), ("school_like", "4")]
    name = database_url.rsplit("/", 1)[1]
    admin_url = normalise_database_url(os.environ["TEST_DATABASE_URL"])
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    db.session.commit()
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND application_name = 'busy-app'"
                ),
                {"name": name},
            )
        resp = client.post(page, data=MultiDict(sent))
        assert resp.status_code == 503
        busy = _form(resp)
        assert [f for f in busy.hidden if f[0] != "csrf_token"] == [
            f for f in sent if f[0] != "csrf_token"
        ]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
    retry = client.post(path_of(busy.action), data=MultiDict(busy.hidden))
    assert _next_page(retry) != page
    assert _stored(code, "school_like") == (4, False)
