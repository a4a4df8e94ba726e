"""No user enumeration on login; throttles on login and code entry that spare a shared school IP."""

from __future__ import annotations

import re

import pytest

from surveyapp import passwords
from surveyapp.admin.accounts import create_user
from surveyapp.extensions import db
from tests.builders import csrf_token, login
from tests.concurrency.pupil_world import build_world, forget_questionnaire

PASSWORD = "the right passphrase 7"
_TOKEN_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


class _CountingHasher:
    """The real argon2 hasher, counting verifications (the costly step an attacker times)."""

    def __init__(self, real) -> None:
        self.real = real
        self.verifications = 0

    def verify(self, *args, **kwargs):
        self.verifications += 1
        return self.real.verify(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def accounts(app):
    create_user("known.user", "researcher", PASSWORD, [], None)
    gone = create_user("gone.user", "researcher", PASSWORD, [], None)
    gone.active = False
    db.session.commit()


def _attempt(client, username: str, password: str) -> tuple[int, str]:
    reply = login(client, username, password)
    body = reply.get_data(as_text=True)
    body = _TOKEN_VALUE.sub(r"\1TOKEN\2", body).replace(username, "USERNAME")
    return reply.status_code, body


def test_failed_logins_look_and_cost_the_same(app, accounts, monkeypatch):
    counting = _CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    passwords._dummy_hash()  # made once, not inside one of the attempts below
    outcomes = {}
    for case, (username, password) in {
        "unknown user": ("nobody.here", "some password 1"),
        "wrong password": ("known.user", "some password 1"),
        "inactive, right password": ("gone.user", PASSWORD),
        "inactive, wrong password": ("gone.user", "some password 1"),
    }.items():
        client = app.test_client()
        before = counting.verifications
        outcomes[case] = _attempt(client, username, password)
        assert counting.verifications - before == 1, f"{case}: argon2 work differs"
        assert client.get("/auth/password").status_code == 302, f"{case}: logged in"
    statuses = {status for status, _ in outcomes.values()}
    bodies = {body for _, body in outcomes.values()}
    assert statuses == {200}
    assert len(bodies) == 1, "the login page tells the cases apart"
    assert "Wrong username or password." in bodies.pop()
    # And the right password for an active account does log in (the test can tell success).
    client = app.test_client()
    status, _ = _attempt(client, "known.user", PASSWORD)
    assert status == 302 and client.get("/auth/password").status_code == 200


def test_login_throttle_per_address_across_usernames(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_IP", "5 per minute")
    client = app.test_client()
    codes = [_attempt(client, f"guess{n}", "wrong password 1")[0] for n in range(6)]
    assert codes == [200] * 5 + [429]
    status, body = _attempt(client, "guess9", "wrong password 1")
    assert status == 429 and "Too many failed attempts" in body


# --------------------------------------------------------------------------- code entry


@pytest.fixture
def world(app):
    w = build_world(app, cards=3)
    yield w
    forget_questionnaire(app)


def _enter(client, code: str) -> int:
    token = csrf_token(client, "/")
    return client.post("/", data={"code": code, "csrf_token": token}).status_code


def test_one_tablet_guessing_codes_is_stopped(app, world):
    tablet = app.test_client()
    limit = int(app.config["CODE_ENTRY_LIMIT_TABLET"].split()[0])
    guesses = [_enter(tablet, "ABCD-EFGH") for _ in range(limit)]
    assert set(guesses) == {200}  # "we could not find that code"
    assert _enter(tablet, "ABCD-EFGH") == 429
    # Scanning (a QR URL) counts against the same tablet.
    assert tablet.get("/s/ABCDEFGH").status_code == 429
    # Even a right code waits: the guesser learns nothing from the locked page.
    assert _enter(tablet, world.codes[0]) == 429
    # The classmate on the next tablet, behind the same school IP, is not locked out.
    assert _enter(app.test_client(), world.codes[0]) == 302


def test_a_whole_class_behind_one_ip_enters_its_codes(app, world):
    """Right codes never count: 60 tablets on one address all get in (pitfall 2)."""
    statuses = [_enter(app.test_client(), world.codes[n % 3]) for n in range(60)]
    assert set(statuses) == {302}


def test_many_tablets_guessing_from_one_address_hit_the_address_limit(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "CODE_ENTRY_LIMIT_IP", "12 per minute")
    results = [_enter(app.test_client(), "WXYZ-2345") for _ in range(13)]
    assert results == [200] * 12 + [429]
