"""Authorization of every URL, by role, from ``app.url_map``.

Every rule of the app must be classified below: who may use it. A rule that is not
classified fails :func:`test_every_rule_is_classified`, so a route added later cannot slip
through without someone deciding who may use it (and the other tests then check that the
view really enforces it). For rules with parameters, URLs are built for an object of a
school the user may see and for one of a school they may not, and a teacher of school A must
get 403/404 for school B's objects, with none of school B's names in the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.builders import csrf_token
from tests.security.html_checks import inline_code_problems
from tests.security.two_schools import (
    B_WORDS,
    TwoSchools,
    build_two_schools,
    database_state,
    login,
)

PUBLIC = "public"  # anyone, no login (the pupil flow, the login page, static files)
LOGIN = "login"  # any logged-in staff member
STAFF = "staff"  # teachers (own schools only), researchers and admins
PROVISION = "provision"  # teachers (own schools only) and admins
RESEARCH = "research"  # researchers and admins
ADMIN = "admin"  # admins only

ALLOWED_ROLES = {
    LOGIN: {"teacher", "researcher", "admin"},
    STAFF: {"teacher", "researcher", "admin"},
    PROVISION: {"teacher", "admin"},
    RESEARCH: {"researcher", "admin"},
    ADMIN: {"admin"},
}

#: endpoint -> who may use it. Add every new endpoint here (see the module docstring).
ENDPOINT_ACCESS = {
    "static": PUBLIC,
    "pupil.start": PUBLIC,
    "pupil.scan": PUBLIC,
    "pupil.language": PUBLIC,
    "pupil.welcome": PUBLIC,
    "pupil.resume": PUBLIC,
    "pupil.page": PUBLIC,
    "pupil.done": PUBLIC,
    "pupil.stopped": PUBLIC,
    "pupil.next_pupil": PUBLIC,
    "pupil.media": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": LOGIN,
    "auth.change_password": LOGIN,
    "teacher.index": STAFF,
    "teacher.class_detail": STAFF,
    "teacher.progress": STAFF,
    "teacher.progress_json": STAFF,
    "teacher.issue": STAFF,
    "teacher.reprint": STAFF,
    "teacher.replace": STAFF,
    "teacher.revoke": STAFF,
    "teacher.left": STAFF,
    "teacher.returned": STAFF,
    "teacher.move": STAFF,
    "teacher.provision_index": PROVISION,
    "teacher.provision_edit": PROVISION,
    "research.index": RESEARCH,
    "research.waves": RESEARCH,
    "research.wave_action": RESEARCH,
    "research.rates": RESEARCH,
    "research.allocation_log": RESEARCH,
    "research.provision_returns": RESEARCH,
    "research.provision_detail": RESEARCH,
    "research.provision_csv": RESEARCH,
    "research.exports": RESEARCH,
    "research.export_queue": RESEARCH,
    "research.export_status": RESEARCH,
    "research.export_file": RESEARCH,
    "research.plots": RESEARCH,
    "research.plot_image": RESEARCH,
    "admin.index": ADMIN,
    "admin.users": ADMIN,
    "admin.user_new": ADMIN,
    "admin.user_edit": ADMIN,
    "admin.user_password": ADMIN,
    "admin.schools": ADMIN,
    "admin.school": ADMIN,
    "admin.class_new": ADMIN,
    "admin.import_csv": ADMIN,
    "admin.audit": ADMIN,
}

#: URL parameters that name an object of one school: these rules are school-scoped.
SCHOOL_OWNED = {"class_id", "participant_id", "school_id", "return_id"}
_PLOT = re.compile(r"/research/plots/([0-9a-f]{24})/([A-Za-z0-9_]{1,64})\.png")


@dataclass(frozen=True)
class Target:
    endpoint: str
    method: str
    url: str
    scoped: bool  # names an object of one school
    school: str  # "a" or "b"


def _values(world: TwoSchools, which: str, plot: tuple[str, str]) -> dict:
    a = which == "a"
    return {
        "class_id": (world.class_a if a else world.class_b).id,
        "wave_id": world.baseline.id,
        "participant_id": world.participant_a if a else world.participant_b,
        "school_id": (world.school_a if a else world.school_b).id,
        "return_id": (world.return_a if a else world.return_b).id,
        "term": world.term,
        "user_id": world.users["teacher" if a else "teacher_b"].id,
        "export_id": 1,  # no such export: researchers are sent back to the export log
        # Opening an open wave is refused, so an admin's POST changes nothing here.
        "action": "open",
        "key": plot[0],
        "name": plot[1],
    }


def _targets(app, world: TwoSchools, plot: tuple[str, str]) -> list[Target]:
    targets = []
    for rule in app.url_map.iter_rules():
        access = ENDPOINT_ACCESS.get(rule.endpoint)
        if access in (None, PUBLIC):
            continue
        scoped = bool(set(rule.arguments) & SCHOOL_OWNED)
        for which in ("a", "b") if scoped else ("a",):
            values = _values(world, which, plot)
            missing = set(rule.arguments) - set(values)
            assert not missing, (
                f"{rule.rule}: no test value for {sorted(missing)}; add one to _values() in "
                f"{__file__}"
            )
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                targets.append(Target(rule.endpoint, method, url, scoped, which))
    # Logging out ends the session: always last.
    return sorted(targets, key=lambda t: (t.endpoint == "auth.logout", t.method, t.url))


@pytest.fixture
def world(app):
    return build_two_schools()


@pytest.fixture
def plot(app, world):
    """A real plot image URL's parts (drawn by the research area), or a well-formed dummy."""
    client = app.test_client()
    login(client, "researcher")
    match = _PLOT.search(client.get("/research/plots").get_data(as_text=True))
    assert match, "the research plots page shows no plot image"
    return match.group(1), match.group(2)


def _request(client, target: Target, token: str | None):
    if target.method == "GET":
        return client.get(target.url)
    return client.post(target.url, data={"csrf_token": token} if token else {})


def _is_login_redirect(reply) -> bool:
    return reply.status_code in (301, 302, 303) and "/auth/login" in (
        reply.headers.get("Location") or ""
    )


def test_every_rule_is_classified(app):
    unclassified = sorted(
        f"{rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in ENDPOINT_ACCESS
    )
    assert not unclassified, (
        "These routes are not classified for the authorization tests: "
        f"{unclassified}. Add each endpoint to ENDPOINT_ACCESS in "
        "tests/security/test_sec_authorization.py with who may use it "
        "(public, login, staff, provision, research, admin), and guard the view "
        "(roles_required / school_or_404) accordingly."
    )
    stale = sorted(set(ENDPOINT_ACCESS) - {r.endpoint for r in app.url_map.iter_rules()})
    assert not stale, f"ENDPOINT_ACCESS names endpoints that no longer exist: {stale}"


def test_anonymous_is_sent_to_login_everywhere(app, world, plot, capsys):
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    before = database_state()
    checked = 0
    for target in _targets(app, world, plot):
        reply = _request(client, target, token)
        assert _is_login_redirect(reply), (
            f"anonymous {target.method} {target.url} answered {reply.status_code} "
            f"{reply.headers.get('Location')}, not a redirect to the login page"
        )
        checked += 1
    assert database_state() == before
    assert checked > 40
    with capsys.disabled():
        print(f"\n[authorization] anonymous: {checked} requests sent to the login page")


@pytest.mark.parametrize("role", ["teacher", "researcher", "admin"])
def test_each_role_reaches_exactly_its_urls(app, world, plot, role, capsys):
    """Granted: no 401/403/404 and no login redirect. Refused: 403/404 and nothing changed."""
    client = app.test_client()
    login(client, world.users[role].username)
    token = csrf_token(client, "/auth/password")
    granted = refused = 0
    for target in _targets(app, world, plot):
        access = ENDPOINT_ACCESS[target.endpoint]
        role_ok = role in ALLOWED_ROLES[access]
        school_ok = role != "teacher" or not target.scoped or target.school == "a"
        before = database_state() if target.method == "POST" else None
        reply = _request(client, target, token)
        status = reply.status_code
        label = f"{role} {target.method} {target.url} ({target.endpoint})"
        assert status < 500, f"{label} answered {status}"
        if target.endpoint == "auth.logout":  # always last: the session ends here
            assert _is_login_redirect(reply), f"{label} answered {status}"
            assert _is_login_redirect(client.get("/auth/password")), "still logged in"
            granted += 1
        elif role_ok and school_ok:
            assert not _is_login_redirect(reply), f"{label}: sent to the login page"
            assert status not in (401, 403), f"{label} refused with {status}"
            if target.method == "GET" and target.endpoint != "research.plot_image":
                assert status < 400, f"{label} answered {status}"
            elif target.method == "GET":
                assert status in (200, 404), f"{label} answered {status}"
            else:
                assert status != 404 or not target.scoped, f"{label} answered 404"
            granted += 1
        else:
            assert status in (403, 404), f"{label} should be refused, answered {status}"
            if before is not None:
                assert database_state() == before, f"{label} changed the database"
            refused += 1
        if role == "teacher":
            body = reply.get_data(as_text=True)
            leaked = [w for w in B_WORDS if w in body]
            assert not leaked, f"{label} shows school B's {leaked}"
    assert granted and (refused or role == "admin")
    with capsys.disabled():
        print(f"\n[authorization] {role}: {granted} requests granted, {refused} refused")


def test_teacher_b_cannot_touch_school_a_either(app, world, plot):
    """The same boundary from the other side, for the school-scoped rules only."""
    client = app.test_client()
    login(client, "teacher.b")
    token = csrf_token(client, "/auth/password")
    before = database_state()
    for target in _targets(app, world, plot):
        if not target.scoped or target.school != "a":
            continue
        if ENDPOINT_ACCESS[target.endpoint] not in (STAFF, PROVISION):
            continue
        reply = _request(client, target, token)
        assert reply.status_code in (403, 404), f"teacher.b {target} -> {reply.status_code}"
        assert "Alpha Primary" not in reply.get_data(as_text=True)
    assert database_state() == before


@pytest.mark.parametrize("role", ["teacher", "researcher", "admin"])
def test_staff_pages_carry_no_inline_code(app, world, plot, role):
    """The CSP forbids inline script and style: no page may rely on them."""
    client = app.test_client()
    login(client, world.users[role].username)
    pages = 0
    for target in _targets(app, world, plot):
        if target.method != "GET":
            continue
        reply = client.get(target.url)
        if reply.status_code != 200 or reply.mimetype != "text/html":
            continue
        problems = inline_code_problems(reply.get_data(as_text=True))
        assert not problems, f"{target.url}: {problems}"
        pages += 1
    assert pages > 5
