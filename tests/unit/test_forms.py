"""The questionnaire page -> WTForms builder, without the database or a request."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from surveyapp.forms import build_page_form
from surveyapp.questionnaire.conditions import DECLINED
from surveyapp.questionnaire.loader import load_questionnaire

YAML = """\
id: form_test
title: {en: "Forms", cy: "Ffurflenni"}
languages: [en, cy]
scales:
  agree3:
    display: stars
    options:
      - {code: 1, label: {en: "No", cy: "Na"}}
      - {code: 2, label: {en: "Maybe", cy: "Efallai"}}
      - {code: 3, label: {en: "Yes", cy: "Ie"}}
pages:
  - id: p1
    questions:
      - {id: happy, type: likert, scale: agree3, required: true, text: {en: "Happy?", cy: "Hapus?"}}
      - {id: pet, type: yes_no, allow_decline: false, text: {en: "A pet?", cy: "Anifail anwes?"}}
      - id: fruit
        type: multi_choice
        text: {en: "Fruit?", cy: "Ffrwythau?"}
        choices:
          - {code: 1, label: {en: "Apple", cy: "Afal"}}
          - {code: 2, label: {en: "Pear", cy: "Gellygen"}}
      - {id: height, type: number, min: 0.5, max: 2.5, integer: false, text: {en: "Height?", cy: "Taldra?"}}
      - {id: name_pet, type: text, max_length: 5, text: {en: "Its name?", cy: "Ei enw?"}}
      - id: rows
        type: grid
        scale: agree3
        text: {en: "I like", cy: "Rwy'n hoffi"}
        rows:
          - {id: like_a, text: {en: "A", cy: "A"}}
          - {id: like_b, text: {en: "B", cy: "B"}}
      - {id: note, type: info, text: {en: "Note", cy: "Nodyn"}}
  - id: p2
    questions:
      - {id: data, type: text, text: {en: "A question called data", cy: "Cwestiwn"}}
"""


@pytest.fixture(scope="module")
def questionnaire():
    return load_questionnaire("form_test.yaml", text=YAML)


def build(q, formdata=None, stored=None, language="en", page="p1"):
    form = build_page_form(
        q,
        q.page(page),
        language,
        stored=stored,
        formdata=MultiDict(formdata) if formdata is not None else None,
    )
    return form


def test_one_field_per_answer_key_named_by_the_key(questionnaire):
    form = build(questionnaire)
    assert [f.name for f in form] == [
        "happy",
        "pet",
        "fruit",
        "height",
        "name_pet",
        "like_a",
        "like_b",
    ]
    assert [b.display for b in form.blocks] == [
        "stars",
        "yes_no",
        "checks",
        "number",
        "text",
        "stars",
        "info",
    ]
    assert form.blocks[5].row_texts == {"like_a": "A", "like_b": "B"}


def test_a_question_id_cannot_shadow_a_form_attribute(questionnaire):
    form = build(questionnaire, formdata=[("data", "hello")], page="p2")
    assert form.check()
    assert form.valid_answers() == {"data": "hello"}
    assert callable(form.validate)


def test_texts_follow_the_language(questionnaire):
    form = build(questionnaire, language="cy")
    assert form.blocks[0].text == "Hapus?"
    assert [o.label for o in form["happy"].answer_options] == ["Na", "Efallai", "Ie"]


def test_valid_answers_become_stored_values(questionnaire):
    form = build(
        questionnaire,
        formdata=[
            ("happy", "3"),
            ("pet", "0"),
            ("fruit", "2"),
            ("fruit", "1"),
            ("height", "1,25"),
            ("name_pet", " Rex "),
            ("like_a", "declined"),
            ("like_b", "1"),
        ],
    )
    assert form.check()
    assert form.valid_answers() == {
        "happy": 3,
        "pet": 0,
        "fruit": [1, 2],
        "height": 1.25,
        "name_pet": "Rex",
        "like_a": DECLINED,
        "like_b": 1,
    }


def test_required_is_enforced_only_when_asked(questionnaire):
    form = build(questionnaire, formdata=[])
    assert not form.check(enforce_required=True)
    assert form["happy"].errors == ["Please choose an answer, or “I'd rather not say”."]
    assert form["pet"].errors == []
    form = build(questionnaire, formdata=[])
    assert form.check(enforce_required=False)
    assert form.valid_answers()["happy"] is None


def test_decline_is_only_offered_where_allowed(questionnaire):
    form = build(questionnaire, formdata=[("pet", "declined")])
    assert not form.check(enforce_required=False)
    assert form["pet"].errors == ["Please choose one of the answers on the screen."]
    assert [o.value for o in form["pet"].options] == ["1", "0"]
    assert [o.value for o in form["happy"].options][-1] == "declined"


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("0.4", "Please type a number from 0.5 to 2.5."),
        ("3", "Please type a number from 0.5 to 2.5."),
        ("1.2.3", "Please type a number, like 7."),
        ("inf", "Please type a number, like 7."),
        ("--1", "Please type a number, like 7."),
    ],
)
def test_bad_numbers(questionnaire, typed, error):
    form = build(questionnaire, formdata=[("height", typed)])
    assert not form.check(enforce_required=False)
    assert form["height"].errors == [error]
    assert "height" not in form.valid_answers()
    assert form["height"].typed_value == typed


def test_text_longer_than_allowed(questionnaire):
    form = build(questionnaire, formdata=[("name_pet", "Rexxxx")])
    assert not form.check(enforce_required=False)
    assert form["name_pet"].errors == [
        "That is too long: please use at most 5 letters (you used 6)."
    ]


def test_stored_answers_fill_the_form_when_nothing_is_sent(questionnaire):
    stored = {"happy": 2, "fruit": [1], "height": 1.5, "name_pet": "Rex", "like_a": DECLINED}
    form = build(questionnaire, stored=stored)
    happy = form["happy"]
    assert [happy.is_selected(o) for o in happy.options] == [False, True, False, False]
    assert [form["fruit"].is_selected(o) for o in form["fruit"].options] == [True, False, False]
    assert form["height"].typed_value == "1.5"
    assert form["name_pet"].typed_value == "Rex"
    like_a = form["like_a"]
    assert [like_a.is_selected(o) for o in like_a.options] == [False, False, False, True]


def test_what_was_sent_wins_over_what_was_stored(questionnaire):
    form = build(questionnaire, stored={"happy": 2}, formdata=[("happy", "1")])
    happy = form["happy"]
    assert [happy.is_selected(o) for o in happy.options] == [True, False, False, False]


def test_only_the_questions_shown_get_fields(questionnaire):
    page = questionnaire.page("p1")
    form = build_page_form(questionnaire, page, "en", questions=page.questions[:2])
    assert [f.name for f in form] == ["happy", "pet"]


def test_forms_of_one_page_never_share_answers_or_errors(questionnaire):
    """Field factories and blocks are cached per page; each form still gets its own fields."""
    first = build(questionnaire, formdata={"happy": "3", "height": "9"})
    first.check()
    second = build(questionnaire, formdata={"happy": "1"})
    second.check(enforce_required=False)
    assert first["happy"].data == 3 and second["happy"].data == 1
    assert first["height"].errors and not second["height"].errors
    assert first.blocks[0].fields[0] is first["happy"]
    assert second.blocks[0].fields[0] is second["happy"]
    assert not second.blocks[3].errors


def test_a_changed_questionnaire_with_the_same_id_gets_its_own_form():
    """An edited file keeps its id; its forms must show the new texts, not cached ones."""
    old = load_questionnaire("form_test.yaml", text=YAML)
    new = load_questionnaire("form_test.yaml", text=YAML.replace('"Happy?"', '"Glad?"'))
    assert build(old).blocks[0].text == "Happy?"
    assert build(new).blocks[0].text == "Glad?"
    assert build(old, language="cy").blocks[0].text == "Hapus?"


def test_the_decline_label_follows_the_ui_language(app, questionnaire):
    from surveyapp.i18n import set_language

    labels = {}
    for lang in ("en", "cy"):
        with app.test_request_context("/"):
            set_language(lang)
            labels[lang] = build(questionnaire, language=lang)["happy"].decline_label
    assert labels["en"] == "I'd rather not say"
    assert labels["cy"] != labels["en"]
