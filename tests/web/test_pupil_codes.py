"""Every code state gets its own friendly message (in the pupil's language); code guessing is
throttled per tablet and, generously, per school IP address (pitfall 2)."""

from __future__ import annotations

import pytest

from surveyapp.extensions import db
from surveyapp.models import AccessCode, Response, utcnow
from tests.builders import add_response, csrf_from, response_of
from tests.web.test_pupil_support import (  # noqa: F401
    CODES,
    begin,
    enter_code,
    pupil_world_fixture,
)

MESSAGES = {
    "unknown": "We could not find that code. Please check it and try again.",
    "revoked": "This card does not work any more. Please ask your teacher for help.",
    "replaced": "This card has been swapped for a new one.",
    "expired": "This survey is not open right now. Please ask your teacher.",
    "completed": "You have already finished this survey. Thank you!",
}
ARABIC = {
    "unknown": "لم نجد هذا الرمز. تحقّق منه وحاول مرة أخرى.",
    "revoked": "هذه البطاقة لم تعد تعمل. اطلب المساعدة من معلّمك.",
    "replaced": "استُبدلت هذه البطاقة ببطاقة جديدة.",
    "expired": "هذا الاستبيان غير مفتوح الآن. اسأل معلّمك.",
    "completed": "لقد أنهيت هذا الاستبيان من قبل. شكرًا لك!",
}


def _make_state(world, state: str) -> str:
    """Put the code CODES[0] into ``state``; return what to type."""
    if state == "unknown":
        return "WXYZ-2345"
    access = db.session.get(AccessCode, world.codes[CODES[0]])
    if state in ("revoked", "replaced"):
        access.status = state
    elif state == "expired":
        world.wave.state = "closed"
    elif state == "completed":
        add_response(access.participant_id, access.wave, completed_at=utcnow(), version="v")
    db.session.commit()
    return CODES[0]


@pytest.mark.parametrize("state", list(MESSAGES))
def test_each_code_state_has_its_own_message_and_does_not_enter(client, pupil_world, state):
    typed = _make_state(pupil_world, state)
    reply = enter_code(client, typed, follow=False)
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    assert MESSAGES[state] in html
    assert 'role="alert"' in html
    for other, message in MESSAGES.items():
        if other != state:
            assert message not in html
    with client.session_transaction() as sess:
        assert "response_id" not in sess
    # The typed code is kept only when it was wrong, so the pupil can correct it.
    assert (f'value="{typed}"' in html) == (state == "unknown")


@pytest.mark.parametrize("state", list(ARABIC))
def test_code_messages_are_in_the_pupils_language(client, pupil_world, state):
    start = client.get("/").get_data(as_text=True)
    client.post("/language", data={"lang": "ar", "csrf_token": csrf_from(start)})
    typed = _make_state(pupil_world, state)
    html = enter_code(client, typed, follow=False).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert ARABIC[state] in html


@pytest.mark.parametrize("typed", ["", "   ", "O0I1L", "x" * 500, "ABCD-2345-EXTRA", "<script>"])
def test_malformed_codes_are_unknown_not_errors(client, pupil_world, typed):
    reply = enter_code(client, typed, follow=False)
    assert reply.status_code == 200
    assert MESSAGES["unknown"] in reply.get_data(as_text=True)
    assert "<script>" not in reply.get_data(as_text=True)


def test_the_qr_link_enters_and_a_bad_one_says_why(client, pupil_world):
    reply = client.get(f"/s/{CODES[0].lower()}")
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/language"
    other = client.application.test_client()
    bad = other.get("/s/WXYZ2345")
    assert bad.status_code == 404
    assert MESSAGES["unknown"] in bad.get_data(as_text=True)


def test_entry_allocates_the_cohort_and_records_the_questionnaire(client, pupil_world):
    participant = pupil_world.participants[0]
    assert participant.arm is None
    enter_code(client, CODES[0])
    db.session.expire_all()
    response = response_of(participant.id)
    assert response.arm == "in_harmony"
    assert response.questionnaire_id == "t_pupil"
    assert response.questionnaire_version == pupil_world.questionnaire.version
    assert response.completed_at is None
    assert db.session.get(type(participant), participant.id).arm == "in_harmony"
    # Entering again resumes the same response.
    enter_code(client, CODES[0])
    db.session.expire_all()
    assert db.session.execute(db.select(db.func.count(Response.id))).scalar_one() == 1


def test_wrong_codes_from_one_tablet_are_throttled(app, client, pupil_world):
    app.config["CODE_ENTRY_LIMIT_TABLET"] = "3 per minute"
    try:
        for _ in range(3):
            assert enter_code(client, "WXYZ-2345", follow=False).status_code == 200
        locked = enter_code(client, "WXYZ-2345", follow=False)
        assert locked.status_code == 429
        assert "Too many tries" in locked.get_data(as_text=True)
        # Even a right code waits now: the tablet is locked out for the minute.
        assert enter_code(client, CODES[0], follow=False).status_code == 429
        # The start page itself still shows (with a GET), so the tablet is not stuck.
        assert client.get("/").status_code == 200
        # Another tablet in the same classroom (same IP) is not affected.
        other = app.test_client()
        assert enter_code(other, CODES[1], follow=False).status_code == 302
    finally:
        app.config["CODE_ENTRY_LIMIT_TABLET"] = "10 per minute"


def test_right_codes_do_not_count_towards_the_limit(app, pupil_world):
    app.config["CODE_ENTRY_LIMIT_TABLET"] = "2 per minute"
    try:
        tablet = app.test_client()
        for code in CODES:
            assert enter_code(tablet, code, follow=False).status_code == 302
    finally:
        app.config["CODE_ENTRY_LIMIT_TABLET"] = "10 per minute"


def test_the_per_ip_limit_catches_guessing_across_many_tablets(app, pupil_world):
    app.config["CODE_ENTRY_LIMIT_IP"] = "4 per minute"
    try:
        statuses = []
        for _ in range(6):
            tablet = app.test_client()  # a fresh cookie each time: a new "tablet"
            statuses.append(enter_code(tablet, "WXYZ-2345", follow=False).status_code)
        assert statuses == [200, 200, 200, 200, 429, 429]
    finally:
        app.config["CODE_ENTRY_LIMIT_IP"] = "300 per minute"


def test_qr_links_share_the_same_throttle(app, client, pupil_world):
    app.config["CODE_ENTRY_LIMIT_TABLET"] = "2 per minute"
    try:
        client.get("/")  # the tablet gets its id
        assert client.get("/s/WXYZ2345").status_code == 404
        assert enter_code(client, "WXYZ-2346", follow=False).status_code == 200
        assert client.get("/s/WXYZ2347").status_code == 429
    finally:
        app.config["CODE_ENTRY_LIMIT_TABLET"] = "10 per minute"
