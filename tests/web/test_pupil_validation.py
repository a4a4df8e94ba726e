"""Bad answers get a clear message on the page; nothing is stored for the bad field and the
other fields of the page are kept."""

from __future__ import annotations

import pytest

from tests.builders import stored_answers
from tests.web.test_pupil_support import (  # noqa: F401
    begin,
    pupil_world_fixture,
    shown_path,
    submit_page,
)


@pytest.fixture
def pupil(client, pupil_world):
    begin(client)
    submit_page(client, "p_like", {"like_music": "3"})
    submit_page(client, "p_plays", {"plays": "1"})
    return pupil_world.participants[0]


def _html(reply) -> str:
    return reply.get_data(as_text=True)


def test_a_required_question_needs_an_answer_or_a_decline(client, pupil_world):
    begin(client)
    reply = submit_page(client, "p_like", {})
    assert reply.status_code == 422
    assert "Please choose an answer, or “I&#39;d rather not say”." in _html(reply)
    assert 'aria-describedby="q-like_music-error"' in _html(reply)
    assert stored_answers(pupil_world.participants[0].id) == {}
    reply = submit_page(client, "p_like", {"like_music": "declined"})
    assert shown_path(reply) == "/q/p_plays"
    assert stored_answers(pupil_world.participants[0].id) == {"like_music": (None, True)}


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"instrument": "9"}, "Please choose one of the answers on the screen."),
        ({"instrument": "abc"}, "Please choose one of the answers on the screen."),
        ({"instrument": "1.0"}, "Please choose one of the answers on the screen."),
        ({"instrument": ["1", "2"]}, "Please choose just one answer."),
        ({"instrument": "١"}, "Please choose one of the answers on the screen."),
    ],
)
def test_a_code_that_is_not_a_choice_is_refused_and_the_other_field_kept(
    client, pupil, answers, message
):
    reply = submit_page(client, "p_instrument", {**answers, "practice": "2"})
    assert reply.status_code == 422
    assert message in _html(reply)
    stored = stored_answers(pupil.id)
    assert "instrument" not in stored
    assert stored["practice"] == (2, False)
    # The valid choice is still shown as chosen on the redrawn page.
    assert 'name="practice" value="2" checked' in _html(reply)


def test_a_bad_value_never_overwrites_a_stored_answer(client, pupil):
    submit_page(client, "p_instrument", {"instrument": "1"})
    reply = submit_page(client, "p_instrument", {"instrument": "7"})
    assert reply.status_code == 422
    assert stored_answers(pupil.id)["instrument"] == (1, False)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("99", "Please type a number from 5 to 16."),
        ("4", "Please type a number from 5 to 16."),
        ("nine", "Please type a number, like 7."),
        ("7.5", "Please type a whole number, like 7."),
        ("1e3", "Please type a number, like 7."),
        ("nan", "Please type a number, like 7."),
        ("1" * 31, "Please type a number, like 7."),
    ],
)
def test_numbers_out_of_range_or_not_numbers_get_a_message(client, pupil, typed, message):
    reply = submit_page(client, "p_age", {"age": typed})
    assert reply.status_code == 422
    html = _html(reply)
    assert message in html
    assert f'value="{typed}"' in html  # what the pupil typed stays in the box
    assert 'aria-invalid="true"' in html
    assert "age" not in stored_answers(pupil.id)


@pytest.mark.parametrize(("typed", "stored"), [("9", 9), (" 12 ", 12), ("٩", 9), ("+7", 7)])
def test_numbers_are_read_as_a_child_writes_them(client, pupil, typed, stored):
    reply = submit_page(client, "p_age", {"age": typed})
    assert reply.status_code == 200
    assert stored_answers(pupil.id)["age"] == (stored, False)


def test_typing_and_declining_at_once_is_refused(client, pupil):
    reply = submit_page(client, "p_age", {"age": "9", "age-declined": "1"})
    assert reply.status_code == 422
    assert "Please type an answer, or choose “I&#39;d rather not say”, but not both." in _html(
        reply
    )
    reply = submit_page(client, "p_age", {"age": "", "age-declined": "1"})
    assert reply.status_code == 200
    assert stored_answers(pupil.id)["age"] == (None, True)


def test_text_that_is_too_long_is_refused_with_its_length(client, pupil):
    long_text = "x" * 41
    reply = submit_page(client, "p_words", {"wish": long_text})
    assert reply.status_code == 422
    assert "please use at most 40 letters (you used 41)" in _html(reply)
    assert long_text in _html(reply)
    assert "wish" not in stored_answers(pupil.id)


def test_text_is_cleaned_of_control_characters(client, pupil):
    reply = submit_page(client, "p_words", {"wish": "drums\x00 and\r\nsinging"})
    assert reply.status_code == 302
    assert stored_answers(pupil.id)["wish"] == ("drums and\nsinging", False)


def test_multi_choice_checks_each_code_and_refuses_decline_with_answers(client, pupil):
    reply = submit_page(client, "p_home", {"home_langs": ["1", "5"]})
    assert reply.status_code == 422
    assert "Please choose one of the answers on the screen." in _html(reply)
    reply = submit_page(client, "p_home", {"home_langs": ["1", "declined"]})
    assert reply.status_code == 422
    assert "but not both" in _html(reply)
    assert "home_langs" not in stored_answers(pupil.id)
    reply = submit_page(client, "p_home", {"home_langs": ["2", "2", "1"]})
    assert reply.status_code == 200
    assert stored_answers(pupil.id)["home_langs"] == ([1, 2], False)


def test_clearing_an_answer_removes_it(client, pupil):
    submit_page(client, "p_words", {"wish": "piano"}, action="back")  # Next would finish
    assert stored_answers(pupil.id)["wish"] == ("piano", False)
    submit_page(client, "p_words", {"wish": "   "}, action="back")
    assert "wish" not in stored_answers(pupil.id)


def test_going_back_does_not_need_required_answers_but_keeps_bad_values_visible(
    client, pupil_world
):
    begin(client)
    reply = submit_page(client, "p_like", {}, action="back")
    assert reply.status_code == 302
    submit_page(client, "p_like", {"like_music": "2"})
    submit_page(client, "p_plays", {"plays": "1"})
    submit_page(client, "p_instrument", {})
    submit_page(client, "p_home", {})
    reply = submit_page(client, "p_age", {"age": "200"}, action="back")
    assert reply.status_code == 422  # a wrong number is never silently dropped
    assert "Please type a number from 5 to 16." in _html(reply)


def test_the_grid_validates_each_row_on_its_own(client, pupil):
    reply = submit_page(client, "p_feel", {"feel_happy": "3", "feel_safe": "8"})
    assert reply.status_code == 422
    stored = stored_answers(pupil.id)
    assert stored["feel_happy"] == (3, False)
    assert "feel_safe" not in stored
    assert 'id="q-feel_safe-error"' in _html(reply)


def test_unknown_form_fields_and_actions_are_ignored(client, pupil):
    reply = submit_page(
        client,
        "p_instrument",
        {"instrument": "3", "plays": "0", "like_music": "1", "evil": "x"},
        action="explode",
    )
    assert reply.status_code == 200  # an unknown action is taken as Next
    stored = stored_answers(pupil.id)
    assert stored["instrument"] == (3, False)
    assert stored["plays"] == (1, False)  # not on this page: untouched
    assert stored["like_music"] == (3, False)
    assert "evil" not in stored
