"""Login, logout, sessions, throttling and password changes, through the test client."""

from __future__ import annotations

import pytest
from flask import session

from surveyapp import passwords
from surveyapp.admin.accounts import find_user, set_password, update_user
from surveyapp.extensions import db
from surveyapp.models import AuditEvent
from tests.builders import PASSWORD, csrf_token, login
from tests.web.test_auth_support import world_fixture  # noqa: F401 - a fixture

FAILED = "Wrong username or password."


@pytest.fixture
def teacher(world):
    return world.teacher_a


@pytest.mark.parametrize(
    ("username", "home"),
    [("teacher.a", "/teacher/"), ("admin", "/admin/"), ("researcher", "/research/")],
)
def test_login_lands_on_the_role_home_with_an_expiring_session(client, world, username, home):
    response = login(client, username)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    with client.session_transaction() as sess:
        assert sess.permanent  # so PERMANENT_SESSION_LIFETIME applies
        assert sess["_user_id"] == find_user(username).get_id()  # id + session token
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
    assert client.get(home).status_code == 200


def test_username_is_case_insensitive(client, world):
    assert login(client, "Teacher.A").headers["Location"] == "/teacher/"


def test_unknown_user_and_wrong_password_look_the_same(client, world, monkeypatch):
    verified = []
    real = passwords._hasher

    class CountingHasher:
        def verify(self, hash_, password):
            verified.append(hash_)
            return real.verify(hash_, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    wrong = login(client, "teacher.a", "not the password")
    unknown = login(client, "nobody.here", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    for response in (wrong, unknown):
        assert FAILED in response.get_data(as_text=True)
    # Both did one argon2 verification: the unknown user against the dummy hash.
    assert len(verified) == 2
    assert verified[1] == passwords._dummy_hash()
    # The pages differ only in the CSRF token and the echoed username.
    a = wrong.get_data(as_text=True).replace("teacher.a", "X")
    b = unknown.get_data(as_text=True).replace("nobody.here", "X")
    strip = lambda html: [ln for ln in html.splitlines() if "csrf_token" not in ln]  # noqa: E731
    assert strip(a) == strip(b)


def test_an_inactive_account_gets_the_same_message(client, world):
    update_user(world.teacher_a, "teacher", [world.school_a], False, None)
    db.session.commit()
    response = login(client, "teacher.a")
    assert response.status_code == 200
    assert FAILED in response.get_data(as_text=True)


def test_login_needs_a_csrf_token(client, world):
    response = client.post("/auth/login", data={"username": "teacher.a", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/teacher/").status_code == 302  # not logged in


def test_login_throttle_per_username_after_the_configured_failures(app, client, world):
    limit = int(app.config["LOGIN_LIMIT"].split()[0])
    for _ in range(limit):
        assert login(client, "teacher.a", "wrong password!").status_code == 200
    blocked = login(client, "teacher.a", PASSWORD)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.get_data(as_text=True)
    # Another username from the same address is not locked by teacher.a's failures ...
    assert login(client, "teacher.b").status_code == 302


def test_login_throttle_per_address_across_usernames(app, client, world):
    limit = int(app.config["LOGIN_LIMIT_IP"].split()[0])
    assert limit > int(app.config["LOGIN_LIMIT"].split()[0])  # staff share a school's IP
    for i in range(limit):
        assert login(client, f"someone{i}", "wrong password!").status_code == 200
    assert login(client, "teacher.b").status_code == 429


def test_successful_logins_do_not_count_towards_the_throttle(app, client, world):
    limit = int(app.config["LOGIN_LIMIT"].split()[0])
    for _ in range(limit + 2):
        assert login(client, "teacher.a").status_code == 302
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/teacher/")})


def test_next_is_followed_only_to_local_pages(client, world):
    token = csrf_token(client)
    data = {"username": "teacher.a", "password": PASSWORD, "csrf_token": token}
    response = client.post("/auth/login?next=/teacher/classes/1", data=data)
    assert response.headers["Location"] == "/teacher/classes/1"
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/teacher/")})
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        data["csrf_token"] = csrf_token(client)
        response = client.post(f"/auth/login?next={evil}", data=data)
        assert response.headers["Location"] == "/teacher/", evil
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/teacher/")})


def test_logout_needs_post_and_ends_the_session(client, world):
    login(client, "teacher.a")
    assert client.get("/auth/logout").status_code == 405
    response = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/teacher/")})
    assert response.status_code == 302
    assert client.get("/teacher/").status_code == 302


def test_a_password_change_elsewhere_logs_out_every_session(app, client, world):
    login(client, "teacher.a")
    other = app.test_client()
    login(other, "teacher.a")
    assert other.get("/teacher/").status_code == 200
    set_password(world.teacher_a, "a brand new secret", None)
    db.session.commit()
    assert client.get("/teacher/").status_code == 302
    assert other.get("/teacher/").status_code == 302
    assert login(client, "teacher.a", "a brand new secret").status_code == 302


def test_deactivation_logs_out_at_once(client, world):
    login(client, "teacher.a")
    update_user(world.teacher_a, "teacher", [world.school_a], False, None)
    db.session.commit()
    assert client.get("/teacher/").status_code == 302


def test_changing_ones_own_password_keeps_this_session_only(app, client, world):
    login(client, "teacher.a")
    other = app.test_client()
    login(other, "teacher.a")
    token = csrf_token(client, "/auth/password")
    bad = client.post(
        "/auth/password",
        data={"current": "wrong", "new": "x", "repeat": "x", "csrf_token": token},
    )
    assert "This is not your current password." in bad.get_data(as_text=True)
    short = client.post(
        "/auth/password",
        data={"current": PASSWORD, "new": "short", "repeat": "short", "csrf_token": token},
    )
    assert "at least 10 characters" in short.get_data(as_text=True)
    ok = client.post(
        "/auth/password",
        data={
            "current": PASSWORD,
            "new": "my new long secret",
            "repeat": "my new long secret",
            "csrf_token": token,
        },
    )
    assert ok.status_code == 302
    assert client.get("/teacher/").status_code == 200
    assert other.get("/teacher/").status_code == 302
    assert (
        db.session.execute(db.select(AuditEvent).filter_by(action="user.password"))
        .scalar_one()
        .target
        == "user:teacher.a"
    )


def test_passwords_are_argon2_hashes(world):
    assert world.teacher_a.password_hash.startswith("$argon2id$")
    assert PASSWORD not in world.teacher_a.password_hash


def test_staff_pages_need_a_login(client, world):
    for url in ("/teacher/", "/admin/", "/admin/users", f"/teacher/classes/{world.class_a.id}"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/auth/login")


def test_session_lifetime_is_configured(app):
    with app.test_request_context():
        assert app.permanent_session_lifetime.total_seconds() <= 24 * 3600
        assert not session.permanent


def test_a_weaker_old_hash_is_upgraded_at_login(client, world):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    world.teacher_a.password_hash = weak
    db.session.commit()
    assert passwords.needs_rehash(weak)
    assert login(client, "teacher.a").status_code == 302
    upgraded = find_user("teacher.a").password_hash
    assert upgraded != weak and not passwords.needs_rehash(upgraded)
    assert passwords.verify_password(upgraded, PASSWORD)
