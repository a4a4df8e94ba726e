"""Pitfall 1: a lost or stale CSRF token must never lose a pupil's answer or show a bare 400."""

from __future__ import annotations

from tests.builders import csrf_from, page_token_from, stored_answers
from tests.web.test_pupil_support import (  # noqa: F401
    CODES,
    begin,
    post_from_page,
    pupil_world_fixture,
    submit_page,
)

NOTICE = "We kept your answers: please press Next again."


def _page(client, page_id="p_instrument"):
    return client.get(f"/q/{page_id}").get_data(as_text=True)


def _to_instrument_page(client):
    begin(client)
    submit_page(client, "p_like", {"like_music": "3"})
    submit_page(client, "p_plays", {"plays": "1"})


def test_a_bad_token_redraws_the_page_with_the_answers_and_a_fresh_token(client, pupil_world):
    _to_instrument_page(client)
    html = _page(client)
    reply = client.post(
        "/q/p_instrument",
        data={
            "csrf_token": "expired-or-forged",
            "page_token": page_token_from(html),
            "action": "next",
            "instrument": "2",
            "practice": "3",
        },
    )
    assert reply.status_code == 400
    redrawn = reply.get_data(as_text=True)
    assert NOTICE in redrawn
    assert 'name="instrument" value="2" checked' in redrawn
    assert 'name="practice" value="3" checked' in redrawn
    participant = pupil_world.participants[0]
    assert "instrument" not in stored_answers(participant.id)  # nothing saved without a token
    # Pressing Next again on the redrawn page saves the answers.
    again = post_from_page(client, "p_instrument", redrawn, {"instrument": "2", "practice": "3"})
    assert again.status_code == 200
    assert stored_answers(participant.id)["instrument"] == (2, False)


def test_a_lost_session_is_recovered_from_the_page_it_was_drawn_for(app, pupil_world):
    tablet = app.test_client()
    _to_instrument_page(tablet)
    html = _page(tablet)
    overnight = app.test_client()  # the session cookie is gone; the page is still on screen
    reply = post_from_page(overnight, "p_instrument", html, {"instrument": "1"})
    assert reply.status_code == 400
    redrawn = reply.get_data(as_text=True)
    assert NOTICE in redrawn
    assert 'name="instrument" value="1" checked' in redrawn
    again = post_from_page(overnight, "p_instrument", redrawn, {"instrument": "1"})
    assert again.status_code == 200
    assert again.headers["Content-Location"] == "/q/p_home"
    assert stored_answers(pupil_world.participants[0].id)["instrument"] == (1, False)


def test_a_stale_page_cannot_restore_a_lost_session(app, pupil_world):
    """A copied page must not become a key to a pupil's answers hours later."""
    tablet = app.test_client()
    _to_instrument_page(tablet)
    html = _page(tablet)
    app.config["PAGE_TOKEN_RECOVERY_SECONDS"] = -1  # every token is already too old
    try:
        stranger = app.test_client()
        reply = stranger.post(
            "/q/p_instrument",
            data={"page_token": page_token_from(html), "action": "next", "instrument": "1"},
        )
        assert reply.status_code == 400
        assert "Sorry, the tablet forgot who you are" in reply.get_data(as_text=True)
        assert NOTICE not in reply.get_data(as_text=True)
        # The stranger got no session either: the next page is refused too.
        assert stranger.get("/q/p_instrument").status_code in (302, 303, 400, 403, 404)
        assert "instrument" not in stored_answers(pupil_world.participants[0].id)
    finally:
        app.config["PAGE_TOKEN_RECOVERY_SECONDS"] = 3 * 3600
    # The pupil's own tablet (session intact) still works with the same page.
    again = post_from_page(tablet, "p_instrument", html, {"instrument": "1"})
    assert again.status_code == 200


def test_without_proof_of_who_it_was_the_pupil_is_asked_for_their_code(app, pupil_world):
    stranger = app.test_client()
    reply = stranger.post("/q/p_like", data={"page_token": "not-a-signed-token", "like_music": "4"})
    assert reply.status_code == 400
    assert "Sorry, the tablet forgot who you are" in reply.get_data(as_text=True)
    assert stored_answers(pupil_world.participants[0].id) == {}


def test_a_page_from_another_pupil_is_not_recovered_into_the_current_one(client, pupil_world):
    begin(client, CODES[0])
    first_pupils_page = _page(client, "p_like")
    begin(client, CODES[1])
    reply = client.post(
        "/q/p_like",
        data={"page_token": page_token_from(first_pupils_page), "like_music": "4"},
    )
    assert reply.status_code == 400
    assert "Sorry, the tablet forgot who you are" in reply.get_data(as_text=True)
    assert stored_answers(pupil_world.participants[0].id) == {}
    assert stored_answers(pupil_world.participants[1].id) == {}


def test_the_start_page_keeps_the_typed_code(client, pupil_world):
    reply = client.post("/", data={"code": "ABCD-2345"})
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "Please press Start again." in html
    assert 'value="ABCD-2345"' in html
    again = client.post("/", data={"code": "ABCD-2345", "csrf_token": csrf_from(html)})
    assert again.status_code == 302


def test_buttons_without_answers_simply_redraw_their_page(client, pupil_world):
    begin(client)
    reply = client.post("/welcome", data={"action": "start"})
    assert reply.status_code == 303
    assert reply.headers["Location"] == "/welcome"
    reply = client.post("/language", data={"lang": "ar"})
    assert reply.status_code == 303
    with client.session_transaction() as sess:
        assert sess["lang"] == "en"
