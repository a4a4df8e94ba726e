"""`flask demo`: idempotent, prints logins that work and codes that work, twice."""

from __future__ import annotations

import re

from surveyapp.codes import CodeState, normalise_code, resolve_code
from surveyapp.extensions import db
from surveyapp.models import AccessCode, Participant, School, User
from surveyapp.participants import revoke_code
from tests.builders import csrf_token

CODE_LINE = re.compile(r"^\s+(\S+-\d\d)\s+([A-Z2-9]{4}-[A-Z2-9]{4})\s+(\S+/s/[A-Z2-9]{8})$", re.M)
LOGIN_LINE = re.compile(r"^\s+(admin|researcher|teacher)\s+(demo-\S+)\s+(\S+)$", re.M)


def _run(app) -> str:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return result.output


def _codes(output: str) -> list[tuple[str, str, str]]:
    return CODE_LINE.findall(output)


def test_demo_prints_working_logins_and_codes(app):
    output = _run(app)
    assert "wave 'baseline' is open" in output
    for url in ("/auth/login", "/teacher/", "/research/", "/admin/"):
        assert f"http://localhost:5000{url}" in output
    logins = LOGIN_LINE.findall(output)
    assert [role for role, _u, _p in logins] == ["admin", "researcher", "teacher"]
    homes = {"admin": "/admin/", "researcher": "/research/", "teacher": "/teacher/"}
    for role, username, password in logins:
        client = app.test_client()
        token = csrf_token(client)
        response = client.post(
            "/auth/login", data={"username": username, "password": password, "csrf_token": token}
        )
        assert response.headers.get("Location") == homes[role], (username, response.status_code)
    codes = _codes(output)
    assert len(codes) == 5
    for label, code, url in codes:
        assert url.endswith("/s/" + code.replace("-", ""))
        state, access = resolve_code(code)
        assert state == CodeState.ISSUED, (label, state)
        assert access.participant.label == label
        assert access.participant.arm == "in_harmony"
    schools = db.session.execute(db.select(School)).scalars().all()
    arms = sorted(s.arm for s in schools)
    assert arms == ["comparison", "comparison", "in_harmony", "in_harmony"]
    assert all(len(s.classes) >= 2 for s in schools)


def test_demo_is_idempotent_and_reprints_the_same_codes(app):
    first = _run(app)
    counts = {
        model: db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()
        for model in (School, User, Participant, AccessCode)
    }
    second = _run(app)
    assert _codes(second) == _codes(first)
    assert LOGIN_LINE.findall(second) == LOGIN_LINE.findall(first)
    assert {
        model: db.session.execute(db.select(db.func.count()).select_from(model)).scalar_one()
        for model in counts
    } == counts


def test_a_rerun_replaces_used_up_demo_codes_with_working_ones(app):
    codes = _codes(_run(app))
    _label, revoked_code, _url = codes[0]
    state, access = resolve_code(revoked_code)
    revoke_code(access.participant, access.wave, None)
    db.session.commit()
    assert resolve_code(revoked_code)[0] == CodeState.REVOKED

    again = _codes(_run(app))
    assert len(again) == 5
    assert again[0][0] == codes[0][0]  # same pupil ...
    assert again[0][1] != revoked_code  # ... with a new code
    assert again[1:] == codes[1:]
    for _label, code, _url in again:
        assert resolve_code(code)[0] == CodeState.ISSUED
        assert normalise_code(code)


def test_demo_refuses_to_run_in_production(app):
    app.config["ENV_NAME"] = "production"
    try:
        result = app.test_cli_runner().invoke(args=["demo"])
    finally:
        app.config["ENV_NAME"] = "development"
    assert result.exit_code != 0
    assert "never runs in production" in result.output
    assert db.session.execute(db.select(db.func.count(User.id))).scalar_one() == 0
