"""Pressing Next is answered with the next page itself, drawn from the page cache when the
pupil has not answered it yet: each pupil still gets their own tokens, their own answers and
their own language, and the page names its own address (Content-Location)."""

from __future__ import annotations

from surveyapp.pupil import page_cache
from surveyapp.pupil.tablet import response_from_token
from tests.builders import csrf_from, page_token_from, response_of, stored_answers
from tests.web.test_pupil_support import (  # noqa: F401
    CODES,
    begin,
    post_from_page,
    pupil_world_fixture,
    shown_path,
    submit_page,
)


def _html(reply) -> str:
    return reply.get_data(as_text=True)


def test_next_answers_with_the_next_page_and_its_address(client, pupil_world):
    begin(client)
    reply = submit_page(client, "p_like", {"like_music": "4"})
    assert reply.status_code == 200
    assert reply.headers["Content-Location"] == "/q/p_plays"
    assert reply.headers["Cache-Control"] == "no-store"
    html = _html(reply)
    assert "Do you play an instrument?" in html
    assert 'action="/q/p_plays"' in html
    assert "2 of 6" in html  # the instrument page waits for "yes, I play"
    # The reply came after the answer was stored, and the place moved on.
    assert stored_answers(pupil_world.participants[0].id) == {"like_music": (4, False)}
    assert response_of(pupil_world.participants[0].id).current_page == "p_plays"


def test_two_pupils_get_the_same_fresh_page_with_their_own_tokens(app, pupil_world):
    page_cache.clear()
    tablets = [app.test_client() for _ in range(2)]
    pages = []
    for tablet, code in zip(tablets, CODES[:2], strict=True):
        begin(tablet, code)
        pages.append(_html(submit_page(tablet, "p_like", {"like_music": "3"})))
    assert page_cache._pages, "the fresh page was not kept"
    first, second = pages
    assert page_token_from(first) != page_token_from(second)
    assert csrf_from(first) != csrf_from(second)
    ids = [response_of(p.id).id for p in pupil_world.participants[:2]]
    with app.test_request_context():
        assert [response_from_token(page_token_from(html)) for html in pages] == ids
    # Each pupil's Next on the shared page stores into their own response only.
    for tablet, html, answer in zip(tablets, pages, ("1", "0"), strict=True):
        assert post_from_page(tablet, "p_plays", html, {"plays": answer}).status_code == 200
    assert stored_answers(pupil_world.participants[0].id)["plays"] == (1, False)
    assert stored_answers(pupil_world.participants[1].id)["plays"] == (0, False)


def test_an_answered_page_is_drawn_with_its_answers(client, pupil_world):
    begin(client)
    submit_page(client, "p_like", {"like_music": "4"})
    again = _html(client.get("/q/p_like"))
    assert 'name="like_music" value="4" checked' in again
    other = client.application.test_client()
    fresh = _html(begin(other, CODES[1]))
    assert "I like music." in fresh
    assert "checked" not in fresh  # nothing of the first pupil's answer


def test_the_same_page_in_another_language_is_its_own(app, pupil_world):
    english, arabic = app.test_client(), app.test_client()
    begin(english, CODES[0], lang="en")
    begin(arabic, CODES[1], lang="ar")
    en_page = _html(submit_page(english, "p_like", {"like_music": "4"}))
    ar_page = _html(submit_page(arabic, "p_like", {"like_music": "4"}))
    assert "Do you play an instrument?" in en_page and 'dir="ltr"' in en_page
    assert "هل تعزف على آلة موسيقية؟" in ar_page and '<html lang="ar" dir="rtl">' in ar_page


def test_an_edited_questionnaire_never_reuses_an_old_page(app, pupil_world):
    q = pupil_world.questionnaire
    page = q.page("p_like")
    key = page_cache.fresh_page_key(q, page, page.questions, {}, "en")
    assert key is not None and q.version in key
    assert page_cache.fresh_page_key(q, page, page.questions, {"like_music": 4}, "en") is None
