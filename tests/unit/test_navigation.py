"""Skip logic on the small test questionnaire (tests/data/questionnaires/good.yaml).

Pages: p_about (info, year_group, plays, home_lang) -> p_music (instrument if plays == 1,
enjoy_music) -> p_polish (polish_school if 3 in home_lang and (year_group >= 5 or not
answered(year_group))) -> p_practice (practice grid if instrument in [1, 2], about_music).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from surveyapp.questionnaire.conditions import DECLINED
from surveyapp.questionnaire.loader import load_questionnaire
from surveyapp.questionnaire.navigation import (
    answer_keys,
    effective_answers,
    first_page,
    hidden_answer_keys,
    is_visible,
    next_page,
    previous_page,
    progress,
    visible_pages,
    visible_questions,
)
from surveyapp.questionnaire.navigation import route as route_for

DATA = Path(__file__).resolve().parent.parent / "data" / "questionnaires"


@pytest.fixture(scope="module")
def q():
    return load_questionnaire(DATA / "good.yaml")


def page_ids(pages) -> list[str]:
    return [p.id for p in pages]


def test_answer_keys(q):
    assert answer_keys(q.question("welcome")) == []
    assert answer_keys(q.question("year_group")) == ["year_group"]
    assert answer_keys(q.question("practice")) == ["practice_fun", "practice_hard"]


def test_question_visibility(q):
    instrument = q.question("instrument")
    assert not is_visible(instrument, {})
    assert is_visible(instrument, {"plays": 1})
    assert not is_visible(instrument, {"plays": 0})
    assert not is_visible(instrument, {"plays": DECLINED})
    assert is_visible(q.question("enjoy_music"), {})


def test_visible_questions_on_a_page(q):
    music = q.page("p_music")
    assert [x.id for x in visible_questions(music, {})] == ["enjoy_music"]
    assert [x.id for x in visible_questions(music, {"plays": 1})] == ["instrument", "enjoy_music"]


def test_pages_without_visible_questions_are_skipped(q):
    assert page_ids(visible_pages(q, {})) == ["p_about", "p_music", "p_practice"]
    answers = {"plays": 1, "instrument": 2, "home_lang": [1, 3], "year_group": 6}
    assert page_ids(visible_pages(q, answers)) == ["p_about", "p_music", "p_polish", "p_practice"]


def test_polish_page_rule(q):
    def shown(**answers) -> bool:
        return "p_polish" in page_ids(visible_pages(q, answers))

    assert shown(home_lang=[3])  # year group not answered
    assert shown(home_lang=[3], year_group=DECLINED)
    assert shown(home_lang=[2, 3], year_group=5)
    assert not shown(home_lang=[3], year_group=4)
    assert not shown(home_lang=[1, 2], year_group=7)
    assert not shown(home_lang=DECLINED)


def test_next_and_previous_skip_hidden_pages(q):
    answers = {"plays": 0, "home_lang": [1]}
    assert first_page(q, answers).id == "p_about"
    assert next_page(q, "p_about", answers).id == "p_music"
    assert next_page(q, "p_music", answers).id == "p_practice"  # p_polish skipped
    assert next_page(q, "p_practice", answers) is None
    assert previous_page(q, "p_practice", answers).id == "p_music"
    assert previous_page(q, "p_about", answers) is None
    # From a page that has just become hidden, the neighbours are still found.
    assert next_page(q, "p_polish", answers).id == "p_practice"
    assert previous_page(q, "p_polish", answers).id == "p_music"


def test_unknown_page_id(q):
    with pytest.raises(KeyError):
        next_page(q, "nope", {})


def test_progress_counts_visible_pages(q):
    answers = {"plays": 1, "instrument": 1, "home_lang": [3]}
    assert [progress(q, p, answers) for p in ["p_about", "p_music", "p_polish", "p_practice"]] == [
        (1, 4),
        (2, 4),
        (3, 4),
        (4, 4),
    ]
    fewer = {"plays": 1, "instrument": 1, "home_lang": [1]}
    assert progress(q, "p_music", fewer) == (2, 3)
    assert progress(q, "p_practice", fewer) == (3, 3)
    # A hidden page counts where it would stand.
    assert progress(q, "p_polish", fewer) == (3, 3)


def test_hiding_cascades_through_stale_answers(q):
    """Changing 'plays' to no hides 'instrument', so its old answer no longer shows the grid."""
    answers = {"plays": 0, "instrument": 1, "practice_fun": 4, "home_lang": [1]}
    assert page_ids(visible_pages(q, answers)) == ["p_about", "p_music", "p_practice"]
    assert not is_visible(q.question("practice"), effective_answers(q, answers))
    assert "instrument" not in effective_answers(q, answers)
    hidden = hidden_answer_keys(q, answers)
    assert {"instrument", "practice_fun", "practice_hard", "polish_school"} == hidden
    # With plays == 1 the same answers keep everything visible but the Polish page.
    answers["plays"] = 1
    assert hidden_answer_keys(q, answers) == {"polish_school"}


def test_a_hidden_last_page_ends_the_questionnaire():
    text = """
id: h
title: x
languages: [en]
pages:
  - id: p1
    questions:
      - {id: a, type: yes_no, text: x}
  - id: p2
    questions:
      - {id: b, type: yes_no, text: x, show_if: a == 1}
"""
    q = load_questionnaire("h.yaml", text)
    assert page_ids(visible_pages(q, {})) == ["p1"]
    assert next_page(q, "p1", {"a": 0}) is None
    assert next_page(q, "p1", {"a": 1}).id == "p2"
    assert progress(q, "p1", {"a": 0}) == (1, 1)


def test_one_route_answers_a_page_request(q):
    """A view walks the skip logic once and asks the route everything a page needs."""
    answers = {"plays": 0, "instrument": 1, "practice_fun": 4, "home_lang": [3], "year_group": 6}
    route = route_for(q, answers)
    assert route.effective == {"plays": 0, "home_lang": [3], "year_group": 6}
    assert page_ids(route.pages) == ["p_about", "p_music", "p_polish", "p_practice"]
    assert route.page_ids() == {"p_about", "p_music", "p_polish", "p_practice"}
    assert route.first_page().id == "p_about"
    assert route.next_page("p_music").id == "p_polish"
    assert route.previous_page("p_practice").id == "p_polish"
    assert route.progress("p_polish") == (3, 4)
    assert [x.id for x in route.visible_questions(q.page("p_music"))] == ["enjoy_music"]
    assert [x.id for x in route.visible_questions(q.page("p_practice"))] == ["about_music"]
    assert route.hidden_answer_keys() == {"instrument", "practice_fun", "practice_hard"}
    with pytest.raises(KeyError):
        route.next_page("nope")
    # The answers given are not changed by the walk.
    assert answers["instrument"] == 1
