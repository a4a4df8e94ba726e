"""Security headers, cookie flags, HTTPS behind a proxy, and refusing a weak production setup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from surveyapp import create_app
from surveyapp.admin.accounts import create_user
from surveyapp.config import DEV_SECRET_KEY
from surveyapp.extensions import db
from tests.builders import csrf_token
from tests.concurrency.pupil_world import build_world, forget_questionnaire
from tests.concurrency.tablet import FlaskTransport, Tablet
from tests.security.html_checks import inline_code_problems

ROOT = Path(__file__).resolve().parents[2]


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_secure_headers(reply, https: bool = False) -> None:
    h = reply.headers
    csp = _directives(h.get("Content-Security-Policy", ""))
    assert csp.get("default-src") == ["'self'"]
    assert csp.get("script-src") == ["'self'"], "scripts only from this site, none inline"
    assert csp.get("style-src") == ["'self'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    assert csp.get("object-src") == ["'none'"]
    assert csp.get("base-uri") == ["'self'"]
    assert csp.get("form-action") == ["'self'"]
    assert not any("unsafe" in v for values in csp.values() for v in values)
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("Referrer-Policy") == "no-referrer"
    assert h.get("X-Frame-Options") == "DENY"
    if https:
        assert h.get("Strict-Transport-Security", "").startswith("max-age=31536000")
    else:
        assert "Strict-Transport-Security" not in h


@pytest.fixture
def pupil_world(app):
    world = build_world(app, cards=1)
    yield world
    forget_questionnaire(app)


def test_every_kind_of_answer_has_the_headers(app, client):
    for url, status in [
        ("/", 200),
        ("/auth/login", 200),
        ("/static/css/app.css", 200),
        ("/teacher/", 302),
        ("/no/such/page", 404),
        ("/s/NOPE-NOPE", 404),
    ]:
        reply = client.get(url)
        assert reply.status_code == status, url
        assert_secure_headers(reply)
    reply = client.post("/auth/login", data={"username": "x", "password": "y"})  # no CSRF
    assert reply.status_code == 400
    assert_secure_headers(reply)


def test_hsts_only_over_https(app, client):
    assert_secure_headers(client.get("/", base_url="https://localhost"), https=True)
    assert_secure_headers(client.get("/", base_url="http://localhost"), https=False)


def test_forwarded_headers_are_ignored_without_a_configured_proxy(app, client):
    reply = client.get(
        "/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    assert "Strict-Transport-Security" not in reply.headers


def test_pupil_pages_have_headers_and_no_inline_code(app, pupil_world):
    tablet = Tablet(FlaskTransport(app))
    first = tablet.begin(pupil_world.codes[0])
    for path in ["/", "/language", "/welcome", first, "/q/p_two", "/q/p_three"]:
        reply = tablet.transport.client.get(path)
        assert reply.status_code == 200, path
        assert_secure_headers(reply)
        assert reply.headers.get("Cache-Control") == "no-store", path
        assert not inline_code_problems(reply.get_data(as_text=True)), path


def _set_cookie_headers(reply) -> list[str]:
    return [v for k, v in reply.headers.items() if k.lower() == "set-cookie"]


def test_session_cookie_flags_over_http(app, client):
    cookies = _set_cookie_headers(client.get("/"))
    assert cookies, "the start page sets the session cookie (CSRF token)"
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # plain HTTP: a Secure cookie would never come back


def _second_app(app_config, monkeypatch, env: dict | None = None, **overrides):
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    config = dict(app_config)
    config.update(overrides)
    return create_app(config)


@pytest.mark.parametrize("via", ["config", "environment"])
def test_https_on_makes_cookies_secure(app, app_config, monkeypatch, via):
    if via == "config":
        other = _second_app(app_config, monkeypatch, HTTPS=True)
    else:
        other = _second_app(app_config, monkeypatch, env={"HTTPS": "1"})
    assert other.config["SESSION_COOKIE_SECURE"] is True
    assert other.config["REMEMBER_COOKIE_SECURE"] is True
    assert other.config["PREFERRED_URL_SCHEME"] == "https"
    with other.test_client() as client:
        reply = client.get("/", base_url="https://localhost")
        session_cookie = next(c for c in _set_cookie_headers(reply) if c.startswith("session="))
        for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
            assert flag in session_cookie


def test_behind_a_proxy_https_and_client_address_come_from_it(app, app_config, monkeypatch):
    other = _second_app(
        app_config,
        monkeypatch,
        PROXY_COUNT=1,
        LOGIN_LIMIT_IP="3 per minute",
        LOGIN_LIMIT="50/minute",
    )
    from surveyapp.extensions import limiter

    limiter.reset()
    with other.test_client() as client:
        reply = client.get("/", headers={"X-Forwarded-Proto": "https"})
        assert_secure_headers(reply, https=True)
        # Failed logins count per client address (X-Forwarded-For), not per proxy address.
        token = csrf_token(client, "/auth/login")

        def fail(address: str, n: int) -> int:
            return client.post(
                "/auth/login",
                data={"username": f"nobody{n}", "password": "wrong", "csrf_token": token},
                headers={"X-Forwarded-For": address},
            ).status_code

        assert [fail("198.51.100.7", n) for n in range(4)] == [200, 200, 200, 429]
        assert fail("198.51.100.8", 9) == 200  # another school behind the same proxy
    limiter.reset()


def test_without_proxy_forwarded_for_cannot_dodge_the_login_limit(app, app_config, monkeypatch):
    other = _second_app(app_config, monkeypatch, LOGIN_LIMIT_IP="3 per minute")
    from surveyapp.extensions import limiter

    limiter.reset()
    with other.test_client() as client:
        token = csrf_token(client, "/auth/login")
        codes = [
            client.post(
                "/auth/login",
                data={"username": f"nobody{n}", "password": "wrong", "csrf_token": token},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            ).status_code
            for n in range(4)
        ]
        assert codes == [200, 200, 200, 429]
    limiter.reset()


def test_negative_proxy_count_is_refused(app, app_config, monkeypatch):
    with pytest.raises(RuntimeError, match="PROXY_COUNT"):
        _second_app(app_config, monkeypatch, PROXY_COUNT=-1)


# --------------------------------------------------------------------------- production


def _production_env(monkeypatch, **values: str) -> None:
    monkeypatch.setenv("SURVEYAPP_ENV", "production")
    for name in ("SECRET_KEY", "CODE_HASH_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_production_refuses_the_development_secret(app, database_url, monkeypatch):
    _production_env(monkeypatch)
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set in production"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    _production_env(monkeypatch, SECRET_KEY=DEV_SECRET_KEY)
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set in production"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})


def test_production_refuses_a_short_secret(app, database_url, monkeypatch):
    _production_env(monkeypatch, SECRET_KEY="short")
    with pytest.raises(RuntimeError, match="shorter than 16"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    _production_env(monkeypatch, SECRET_KEY="k" * 40, CODE_HASH_KEY=DEV_SECRET_KEY)
    with pytest.raises(RuntimeError, match="CODE_HASH_KEY must be set"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})


def test_production_starts_with_a_real_secret(app, database_url, monkeypatch):
    _production_env(monkeypatch, SECRET_KEY="a-real-secret-" + "x" * 30)
    prod = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    assert prod.config["CODE_HASH_KEY"] == prod.config["SECRET_KEY"]
    assert prod.test_client().get("/").status_code == 200


def test_development_still_starts_with_the_default(app, database_url, monkeypatch):
    monkeypatch.delenv("SURVEYAPP_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    dev = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    assert dev.config["SECRET_KEY"] == DEV_SECRET_KEY


def test_gunicorn_entry_point_refuses_to_start_in_production(database_url, tmp_path):
    """``gunicorn wsgi:app`` imports wsgi.py: the same refusal, with a message, exit code 1."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "CODE_HASH_KEY", "TEST_DATABASE_URL")
    }
    env.update(SURVEYAPP_ENV="production", DATABASE_URL=database_url)
    done = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "SECRET_KEY must be set in production" in done.stderr


def test_login_limit_counts_failures_per_username(app, client, monkeypatch):
    """Ten wrong passwords for one account lock that account's login for a minute."""
    create_user("victim", "researcher", "the right password 1", [], None)
    db.session.commit()
    token = csrf_token(client, "/auth/login")
    codes = [
        client.post(
            "/auth/login",
            data={"username": "victim", "password": f"guess {n}", "csrf_token": token},
        ).status_code
        for n in range(11)
    ]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    # Even the right password waits now: the guesser cannot tell it was right.
    right = client.post(
        "/auth/login",
        data={"username": "victim", "password": "the right password 1", "csrf_token": token},
    )
    assert right.status_code == 429
