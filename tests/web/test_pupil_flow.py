"""The pupil flow through the test client: entry, skip logic, saving, resume, double submit,
the back button, the completed-response lock, and what actually lands in the answer table."""

from __future__ import annotations

from surveyapp.extensions import db
from surveyapp.models import Answer, Response
from tests.builders import csrf_from, page_token_from, response_of, stored_answers
from tests.web.test_pupil_support import (  # noqa: F401
    CODES,
    begin,
    choose_language,
    enter_code,
    post_from_page,
    pupil_world_fixture,
    shown_path,
    submit_page,
)

FULL_RUN = [
    ("p_like", {"like_music": "4"}, "/q/p_plays"),
    ("p_plays", {"plays": "1"}, "/q/p_instrument"),
    ("p_instrument", {"instrument": "2", "practice": "3"}, "/q/p_home"),
    ("p_home", {"home_langs": ["3", "1"]}, "/q/p_age"),
    ("p_age", {"age": "10"}, "/q/p_feel"),
    ("p_feel", {"feel_happy": "4", "feel_safe": "declined"}, "/q/p_words"),
    ("p_words", {"wish": "  to play the drums  "}, "/done"),
]


def run_all(client, pages=FULL_RUN):
    for page_id, answers, target in pages:
        reply = submit_page(client, page_id, answers)
        expected = 302 if target == "/done" else 200  # the next page comes in the reply
        assert reply.status_code == expected, (page_id, reply.get_data(as_text=True)[:2000])
        assert shown_path(reply) == target


def test_entry_language_welcome_then_the_first_question(client, pupil_world):
    reply = enter_code(client, "abcd-2345", follow=False)  # case and hyphen do not matter
    assert reply.headers["Location"] == "/language"
    reply = choose_language(client, "en", follow=False)
    assert reply.headers["Location"] == "/welcome"
    welcome = client.get("/welcome").get_data(as_text=True)
    assert "There are no right or wrong answers" in welcome
    assert "You can skip any question" in welcome
    assert "You can stop at any time" in welcome
    first = begin(client)
    assert first.request.path == "/q/p_like"
    html = first.get_data(as_text=True)
    assert "I like music." in html
    assert 'name="like_music" value="4"' in html
    assert "I&#39;d rather not say" in html


def test_a_whole_questionnaire_stores_every_answer_and_completes(client, pupil_world):
    begin(client)
    run_all(client)
    done = client.get("/done")
    assert "You did it" in done.get_data(as_text=True)
    participant = pupil_world.participants[0]
    assert stored_answers(participant.id) == {
        "like_music": (4, False),
        "plays": (1, False),
        "instrument": (2, False),
        "practice": (3, False),
        "home_langs": ([1, 3], False),
        "age": (10, False),
        "feel_happy": (4, False),
        "feel_safe": (None, True),
        "wish": ("to play the drums", False),
    }
    response = response_of(participant.id)
    assert response.completed_at is not None
    assert response.arm == "in_harmony"
    assert response.wave_id == pupil_world.wave.id
    assert response.questionnaire_id == "t_pupil"
    assert response.questionnaire_version == pupil_world.questionnaire.version
    assert response.language == "en"
    assert response.pages_done == response.pages_total == 7
    # The tablet is handed back: no pupil in the session any more.
    with client.session_transaction() as sess:
        assert "response_id" not in sess
        assert "tablet_id" in sess


def test_skip_logic_leaves_out_the_instrument_page_for_non_players(client, pupil_world):
    begin(client)
    submit_page(client, "p_like", {"like_music": "1"})
    reply = submit_page(client, "p_plays", {"plays": "0"})
    assert shown_path(reply) == "/q/p_home"
    assert "3 of 6" in reply.get_data(as_text=True)
    # Typing the hidden page's address does not show it.
    hidden = client.get("/q/p_instrument")
    assert hidden.status_code == 302
    assert client.get(hidden.headers["Location"]).headers["Location"] == "/q/p_home"
    page = client.get("/q/p_home").get_data(as_text=True)
    assert "3 of 6" in page  # six pages are shown to a non-player


def test_answers_hidden_by_a_changed_answer_are_dropped_at_completion(client, pupil_world):
    begin(client)
    run_all(client, FULL_RUN[:3])
    participant = pupil_world.participants[0]
    assert "instrument" in stored_answers(participant.id)
    # Back to the yes/no question: now the pupil does not play.
    reply = submit_page(client, "p_plays", {"plays": "0"})
    assert shown_path(reply) == "/q/p_home"
    run_all(
        client,
        [
            ("p_home", {"home_langs": "1"}, "/q/p_age"),
            ("p_age", {}, "/q/p_feel"),
            ("p_feel", {}, "/q/p_words"),
            ("p_words", {}, "/done"),
        ],
    )
    stored = stored_answers(participant.id)
    assert "instrument" not in stored
    assert "practice" not in stored
    assert stored["plays"] == (0, False)


def test_a_pupil_who_leaves_continues_where_they_stopped(app, pupil_world):
    first_tablet = app.test_client()
    begin(first_tablet)
    run_all(first_tablet, FULL_RUN[:3])
    # The same card on another tablet: straight back to the page after the last one done.
    other_tablet = app.test_client()
    reply = enter_code(other_tablet, CODES[0], follow=False)
    assert reply.headers["Location"] == "/language"
    reply = choose_language(other_tablet, "en", follow=True)
    assert reply.request.path == "/q/p_home"
    # Earlier answers are there when going back.
    reply = submit_page(other_tablet, "p_home", {}, action="back")
    assert reply.headers["Location"] == "/q/p_instrument"
    page = other_tablet.get("/q/p_instrument").get_data(as_text=True)
    assert 'value="2" checked' in page
    # The same tablet with a language already chosen skips the language page.
    reply = enter_code(other_tablet, CODES[0], follow=False)
    assert reply.headers["Location"] == "/continue"
    assert other_tablet.get("/continue").headers["Location"] == "/q/p_instrument"


def test_stop_for_now_saves_the_page_and_hands_the_tablet_back(client, pupil_world):
    begin(client)
    reply = submit_page(client, "p_like", {"like_music": "2"}, action="stop")
    assert reply.headers["Location"] == "/stopped"
    assert "Your answers so far are saved" in client.get("/stopped").get_data(as_text=True)
    assert client.get("/q/p_like").headers["Location"] == "/"
    assert stored_answers(pupil_world.participants[0].id) == {"like_music": (2, False)}
    # "Stop" does not enforce required questions, and resume lands on the same page.
    enter_code(client, CODES[0])
    reply = choose_language(client, "en")
    assert reply.request.path == "/q/p_like"


def test_not_now_on_the_welcome_page_stops_without_answers(client, pupil_world):
    enter_code(client, CODES[0])
    choose_language(client, "en", follow=False)
    html = client.get("/welcome").get_data(as_text=True)
    reply = client.post("/welcome", data={"action": "stop", "csrf_token": csrf_from(html)})
    assert reply.headers["Location"] == "/stopped"
    assert stored_answers(pupil_world.participants[0].id) == {}


def test_saving_the_same_page_twice_is_harmless(client, pupil_world):
    begin(client)
    html = client.get("/q/p_home").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(html),
        "page_token": page_token_from(html),
        "action": "next",
        "home_langs": ["1", "2"],
    }
    first = client.post("/q/p_home", data=data)
    second = client.post("/q/p_home", data=data)  # a double tap on Next
    assert first.status_code == second.status_code == 200
    assert shown_path(first) == shown_path(second) == "/q/p_age"
    db.session.expire_all()
    rows = db.session.execute(db.select(Answer).filter_by(question_id="home_langs")).scalars()
    assert [(r.value, r.declined) for r in rows] == [([1, 2], False)]


def test_back_button_resubmit_of_an_earlier_page_updates_that_answer(client, pupil_world):
    begin(client)
    old_page = client.get("/q/p_like").get_data(as_text=True)  # the page the browser keeps
    run_all(client, FULL_RUN[:4])
    reply = post_from_page(client, "p_like", old_page, {"like_music": "2"})
    assert reply.status_code == 200
    assert shown_path(reply) == "/q/p_plays"
    stored = stored_answers(pupil_world.participants[0].id)
    assert stored["like_music"] == (2, False)
    assert stored["home_langs"] == ([1, 3], False)
    db.session.expire_all()
    assert db.session.execute(db.select(db.func.count(Answer.id))).scalar_one() == len(stored)


def test_back_on_the_first_page_returns_to_the_welcome_page(client, pupil_world):
    begin(client)
    reply = submit_page(client, "p_like", {}, action="back")  # required, but Back is allowed
    assert reply.headers["Location"] == "/welcome"


def test_a_completed_response_cannot_be_changed(app, pupil_world):
    tablet_a = app.test_client()
    tablet_b = app.test_client()
    begin(tablet_a)
    run_all(tablet_a, FULL_RUN[:2])
    stale = tablet_a.get("/q/p_like").get_data(as_text=True)
    # The same pupil finishes on another tablet.
    enter_code(tablet_b, CODES[0])
    choose_language(tablet_b, "en")
    run_all(tablet_b, FULL_RUN[2:])
    participant = pupil_world.participants[0]
    before = stored_answers(participant.id)
    completed_at = response_of(participant.id).completed_at
    # Tablet A still shows an earlier page: a later POST changes nothing.
    reply = post_from_page(tablet_a, "p_like", stale, {"like_music": "1"})
    assert reply.status_code == 409
    assert "You have already finished" in reply.get_data(as_text=True)
    assert stored_answers(participant.id) == before
    assert response_of(participant.id).completed_at == completed_at
    # Neither a language change nor the welcome page reopens it.
    enter = enter_code(tablet_a, CODES[0])
    assert "You have already finished this survey" in enter.get_data(as_text=True)
    assert stored_answers(participant.id) == before


def test_completion_happens_exactly_once(app, pupil_world):
    from surveyapp import responses

    begin(app.test_client())
    response = response_of(pupil_world.participants[0].id)
    q = pupil_world.questionnaire
    assert responses.complete(response.id, q) is True
    assert responses.complete(response.id, q) is False
    try:
        responses.save_answers(response.id, {"like_music": 1})
    except responses.ResponseCompletedError:
        pass
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("saving into a completed response must be refused")
    assert stored_answers(pupil_world.participants[0].id) == {}


def test_finishing_with_a_required_question_skipped_by_hand_goes_back_to_it(client, pupil_world):
    begin(client)
    # Jump straight to the last page by typing its address, and press Finish.
    reply = submit_page(client, "p_words", {"wish": "hello"})
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/q/p_like?check=1"
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Please choose an answer, or “I&#39;d rather not say”." in page
    assert response_of(pupil_world.participants[0].id).completed_at is None


def test_a_page_left_open_from_an_earlier_pupil_never_writes_into_the_next(client, pupil_world):
    begin(client, CODES[0])
    old_page = client.get("/q/p_like").get_data(as_text=True)
    begin(client, CODES[1])  # the next pupil on the same tablet
    reply = post_from_page(client, "p_like", old_page, {"like_music": "4"})
    assert reply.status_code == 409
    assert "left open from before" in reply.get_data(as_text=True)
    assert stored_answers(pupil_world.participants[0].id) == {}
    assert stored_answers(pupil_world.participants[1].id) == {}


def test_pupil_pages_are_never_cached_but_versioned_static_files_are(client, pupil_world):
    page = begin(client)
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    css_url = html.split('rel="stylesheet" href="')[1].split('"')[0]
    assert "?v=" in css_url
    css = client.get(css_url)
    assert css.status_code == 200
    assert css.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = client.get("/static/css/app.css")
    assert "max-age=86400" in plain.headers["Cache-Control"]


def test_the_language_choice_drives_ui_and_questionnaire_text(client, pupil_world):
    enter_code(client, CODES[2])
    picker = client.get("/language").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in picker
    assert "العربية" in picker and "English" in picker
    assert "Polski" not in picker  # the questionnaire is in English and Arabic only
    page = begin(client, CODES[2], lang="ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page
    assert "أحب الموسيقى." in page
    assert "التالي" in page  # "Next"
    assert response_of(pupil_world.participants[2].id).language == "ar"
    # Switching language mid-way keeps the place and records the new language.
    reply = choose_language(client, "en", follow=False)
    assert reply.headers["Location"] == "/continue"
    assert response_of(pupil_world.participants[2].id).language == "en"


def test_an_unknown_language_is_refused_with_a_message(client, pupil_world):
    enter_code(client, CODES[0])
    html = client.get("/language").get_data(as_text=True)
    reply = client.post("/language", data={"lang": "xx", "csrf_token": csrf_from(html)})
    assert reply.status_code == 422
    assert "Please choose one of the languages." in reply.get_data(as_text=True)
    with client.session_transaction() as sess:
        assert "lang" not in sess


def test_the_start_page_sets_the_language_for_the_next_pupil(client, pupil_world):
    html = client.get("/").get_data(as_text=True)
    reply = client.post("/language", data={"lang": "pl", "csrf_token": csrf_from(html)})
    assert reply.headers["Location"] == "/"
    start = client.get("/").get_data(as_text=True)
    assert '<html lang="pl"' in start
    assert "Wpisz kod ze swojej karty" in start


def test_a_new_code_on_the_same_tablet_replaces_the_previous_pupil(client, pupil_world):
    begin(client, CODES[0])
    with client.session_transaction() as sess:
        first_response, tablet = sess["response_id"], sess["tablet_id"]
    begin(client, CODES[1])
    with client.session_transaction() as sess:
        assert sess["response_id"] != first_response
        assert sess["tablet_id"] == tablet
    db.session.expire_all()
    assert db.session.execute(db.select(db.func.count(Response.id))).scalar_one() == 2


def test_media_serves_only_audio_and_pictures_from_the_questionnaire_folder(app, client, tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    (audio / "hello.mp3").write_bytes(b"ID3 fake mp3")
    (tmp_path / "secret.yaml").write_text("id: x")
    old = app.config["QUESTIONNAIRE_DIR"]
    app.config["QUESTIONNAIRE_DIR"] = str(tmp_path)
    try:
        assert client.get("/media/audio/hello.mp3").data == b"ID3 fake mp3"
        assert client.get("/media/secret.yaml").status_code == 404
        assert client.get("/media/../secret.mp3").status_code == 404
        assert client.get("/media/audio/missing.mp3").status_code == 404
    finally:
        app.config["QUESTIONNAIRE_DIR"] = old


def test_session_lookup_ignores_a_forged_response_id(client, pupil_world):
    with client.session_transaction() as sess:
        sess["response_id"] = "1; DROP TABLE answer"
    assert client.get("/q/p_like").headers["Location"] == "/"


def test_the_start_page_has_no_pupil_data_after_finishing(client, pupil_world):
    begin(client)
    run_all(client)
    client.get("/done")
    with client.session_transaction() as sess:
        assert "response_id" not in sess
        assert "lang" not in sess  # the next pupil chooses their own language
    start = client.get("/").get_data(as_text=True)
    assert 'value=""' in start  # the code box is empty for the next pupil
