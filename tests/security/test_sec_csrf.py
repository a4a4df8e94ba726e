"""CSRF on every state-changing request: every POST rule of ``app.url_map`` refuses a request
without a token, with a forged one, or with another session's, and changes nothing.

Each POST endpoint has a body below that *would* change something with a valid token; for
most of them the test shows that it does (the positive control), so the refusal is down to
the token and nothing else. A POST rule without a body here fails the test with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from surveyapp.extensions import csrf
from tests.builders import PASSWORD, csrf_token, page_token_in
from tests.concurrency.pupil_world import build_world, forget_questionnaire
from tests.concurrency.tablet import FlaskTransport, Tablet
from tests.security.two_schools import build_two_schools, database_state, login


@dataclass
class Worlds:
    staff: object
    pupil: object


@pytest.fixture
def worlds(app):
    staff = build_two_schools()
    pupil = build_world(app, cards=3, school_name="Tablet School")
    yield Worlds(staff, pupil)
    forget_questionnaire(app)


# endpoint -> (role or "pupil", function(worlds) -> (url, body that would change something))
Body = Callable[[Worlds], tuple[str, dict]]
POST_BODIES: dict[str, tuple[str, Body]] = {
    "pupil.start": ("anonymous", lambda w: ("/", {"code": w.pupil.codes[1]})),
    "pupil.language": ("pupil", lambda w: ("/language", {"lang": "en"})),
    "pupil.welcome": ("pupil", lambda w: ("/welcome", {"action": "start"})),
    "pupil.page": ("pupil", lambda w: ("/q/p_one", {"like_music": "4", "action": "next"})),
    "pupil.next_pupil": ("pupil", lambda w: ("/next-pupil", {})),
    "auth.login": ("anonymous", lambda w: ("/auth/login", {"username": "admin"})),
    "auth.logout": ("admin", lambda w: ("/auth/logout", {})),
    "auth.change_password": (
        "admin",
        lambda w: (
            "/auth/password",
            {
                "current": PASSWORD,
                "new": "a brand new passphrase",
                "repeat": "a brand new passphrase",
            },
        ),
    ),
    "admin.user_new": (
        "admin",
        lambda w: (
            "/admin/users/new",
            {"username": "intruder", "role": "admin", "password": "an unusual passphrase 42"},
        ),
    ),
    "admin.user_edit": (
        "admin",
        lambda w: (
            f"/admin/users/{w.staff.users['researcher'].id}",
            {"role": "admin", "active": "y"},
        ),
    ),
    "admin.user_password": (
        "admin",
        lambda w: (
            f"/admin/users/{w.staff.users['researcher'].id}/password",
            {"password": "owned owned owned", "repeat": "owned owned owned"},
        ),
    ),
    "admin.schools": (
        "admin",
        lambda w: ("/admin/schools", {"name": "Fake School", "arm": "in_harmony"}),
    ),
    "admin.school": (
        "admin",
        lambda w: (
            f"/admin/schools/{w.staff.school_a.id}",
            {"name": "Renamed", "arm": "in_harmony"},
        ),
    ),
    "admin.class_new": (
        "admin",
        lambda w: (f"/admin/schools/{w.staff.school_a.id}/classes", {"class-name": "9Z"}),
    ),
    "admin.import_csv": ("admin", lambda w: ("/admin/import", {})),
    "teacher.issue": (
        "admin",
        lambda w: (
            f"/teacher/classes/{w.staff.class_a.id}/waves/{w.staff.baseline.id}/issue",
            {"count": "2", "batch": "b1"},
        ),
    ),
    "teacher.reprint": (
        "admin",
        lambda w: (
            f"/teacher/classes/{w.staff.class_a.id}/waves/{w.staff.baseline.id}/reprint",
            {"participants": w.staff.participant_a},
        ),
    ),
    "teacher.replace": (
        "admin",
        lambda w: (
            f"/teacher/participants/{w.staff.participant_a}/waves/{w.staff.baseline.id}/replace",
            {},
        ),
    ),
    "teacher.revoke": (
        "admin",
        lambda w: (
            f"/teacher/participants/{w.staff.participant_a}/waves/{w.staff.baseline.id}/revoke",
            {},
        ),
    ),
    "teacher.left": (
        "admin",
        lambda w: (f"/teacher/participants/{w.staff.participant_a}/left", {}),
    ),
    "teacher.returned": (
        "admin",
        lambda w: (f"/teacher/participants/{w.staff.participant_a}/returned", {}),
    ),
    "teacher.move": (
        "admin",
        lambda w: (
            f"/teacher/participants/{w.staff.participant_a}/move",
            {"class_id": str(w.staff.class_a2.id)},
        ),
    ),
    "teacher.provision_edit": (
        "admin",
        lambda w: (f"/teacher/provision/{w.staff.school_b.id}/{w.staff.term}", {"action": "save"}),
    ),
    "research.wave_action": (
        "admin",
        lambda w: (f"/research/waves/{w.staff.baseline.id}/close", {}),
    ),
    "research.export_queue": (
        "admin",
        lambda w: ("/research/exports", {"formats": "csv", "waves": "baseline", "k": "5"}),
    ),
}

#: Endpoints whose body changes the database when the token is right (positive control).
CHANGES_WITH_TOKEN = {
    "pupil.start",
    "pupil.page",
    "pupil.welcome",
    "admin.user_new",
    "admin.user_edit",
    "admin.user_password",
    "admin.schools",
    "admin.school",
    "admin.class_new",
    "teacher.issue",
    "teacher.replace",
    "teacher.revoke",
    "teacher.left",
    "teacher.move",
    "research.wave_action",
}


def _post_rules(app) -> dict[str, str]:
    return {rule.endpoint: rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods}


def _client_for(app, worlds: Worlds, who: str):
    client = app.test_client()
    if who == "pupil":
        tablet = Tablet(FlaskTransport(app))
        tablet.transport.client = client
        tablet.begin(worlds.pupil.codes[0])
    elif who != "anonymous":
        login(client, worlds.staff.users[who].username)
    return client


def _page_token(client) -> str:
    token = page_token_in(client.get("/q/p_one").get_data(as_text=True))
    assert token
    return token


def test_every_post_rule_has_a_body_here(app):
    missing = sorted(set(_post_rules(app)) - set(POST_BODIES))
    assert not missing, (
        f"POST routes without a CSRF test body: {missing}. Add each to POST_BODIES in "
        "tests/security/test_sec_csrf.py (who posts it, and a body that would change something)."
    )


def test_no_view_is_exempt_from_csrf(app):
    assert not csrf._exempt_views
    assert not csrf._exempt_blueprints
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    assert app.config.get("WTF_CSRF_CHECK_DEFAULT", True) is True


@pytest.mark.parametrize("variant", ["missing", "forged", "other-session"])
def test_every_post_refuses_a_bad_token_and_changes_nothing(app, worlds, variant, capsys):
    foreign = csrf_token(app.test_client(), "/auth/login")
    refused = 0
    for endpoint in sorted(_post_rules(app)):
        who, body = POST_BODIES[endpoint]
        client = _client_for(app, worlds, who)
        url, data = body(worlds)
        data = dict(data)
        if endpoint == "pupil.page":
            data["page_token"] = _page_token(client)
        if variant == "forged":
            data["csrf_token"] = "IjAwMDAi.forged.token"
        elif variant == "other-session":
            data["csrf_token"] = foreign
        before = database_state()
        reply = client.post(url, data=data)
        status, location = reply.status_code, reply.headers.get("Location")
        # Refused: 400 with a message, or (pupil buttons that hold no answers) a redirect
        # to a page with a fresh token: the same one, or the start page.
        redrawn = status == 303 and location in (url, "/")
        assert status == 400 or redrawn, f"{endpoint} {variant}: {status} {location}"
        assert database_state() == before, f"{endpoint} {variant}: the database changed"
        if redrawn:
            assert client.get(location).status_code == 200, f"{endpoint}: redirect target fails"
        if who not in ("anonymous", "pupil"):
            assert client.get("/auth/password").status_code == 200, f"{endpoint}: logged out"
        refused += 1
    with capsys.disabled():
        print(f"\n[csrf] {variant}: {refused} POST routes refused, database unchanged")


def test_the_same_bodies_with_a_token_do_change_things(app, worlds):
    """Positive control: the refusals above are down to the token."""
    unchanged = []
    # A pupil who left gets no new card, and a closed wave none at all: those two come last.
    last = ("teacher.left", "research.wave_action")
    for endpoint in sorted(
        CHANGES_WITH_TOKEN, key=lambda e: (e in last, last.index(e) if e in last else 0, e)
    ):
        who, body = POST_BODIES[endpoint]
        client = _client_for(app, worlds, who)
        url, data = body(worlds)
        data = dict(data)
        source = {"pupil": "/welcome", "anonymous": "/"}.get(who, "/auth/password")
        data["csrf_token"] = csrf_token(client, source)
        if endpoint == "pupil.page":
            data["page_token"] = _page_token(client)
        before = database_state()
        reply = client.post(url, data=data)
        assert reply.status_code < 500, f"{endpoint}: {reply.status_code}"
        if database_state() == before:
            unchanged.append((endpoint, reply.status_code))
    assert not unchanged, f"with a valid token these changed nothing: {unchanged}"
