"""The questionnaire loader: a valid file loads, every bad file gets its exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from surveyapp.questionnaire.conditions import Condition
from surveyapp.questionnaire.loader import load_questionnaire
from surveyapp.questionnaire.model import GridQuestion, localise
from surveyapp.yamlsource import SourceError

DATA = Path(__file__).resolve().parent.parent / "data" / "questionnaires"
BAD_FILES = sorted((DATA / "bad").glob("*.yaml"))


def problems_of(path: Path | str, text: str | None = None) -> list[str]:
    with pytest.raises(SourceError) as info:
        load_questionnaire(path, text)
    return [str(p).removeprefix(f"{path}:") for p in info.value.problems]


def expected(path: Path) -> list[str]:
    prefix = "# expect: "
    return [
        line[len(prefix) :] for line in path.read_text().splitlines() if line.startswith(prefix)
    ]


def test_good_file_loads_with_conditions_and_version():
    q = load_questionnaire(DATA / "good.yaml")
    assert q.id == "demo_pupil"
    assert len(q.version) == 12 and q.source.endswith("good.yaml")
    assert isinstance(q.question("instrument").condition, Condition)
    assert q.question("instrument").condition.references == {"plays"}
    assert q.question("enjoy_music").condition is None
    grid = q.question("practice")
    assert isinstance(grid, GridQuestion)
    assert [r.id for r in grid.rows] == ["practice_fun", "practice_hard"]


def test_version_follows_content():
    text = (DATA / "good.yaml").read_text()
    a = load_questionnaire("a.yaml", text)
    b = load_questionnaire("b.yaml", text)
    c = load_questionnaire("c.yaml", text + "\n# a comment changes the version\n")
    assert a.version == b.version != c.version


def test_norway_key_stays_the_string_no():
    """YAML 1.1 reads `no:` as False; the YAML 1.2 loader must keep the language code."""
    q = load_questionnaire(DATA / "good.yaml")
    assert q.languages == ["en", "cy", "no"]
    assert localise(q.title, "no") == "Om deg"
    assert q.language_names["no"] == "Norsk"
    options = q.scales["agree4"].options
    assert [localise(o.label, "no") for o in options][0] == "Nei"


def test_unquoted_yes_and_no_values_stay_text():
    text = """
id: norway
title: {en: "Yes", no: "Ja"}
languages: [en, no]
pages:
  - id: p1
    questions:
      - id: q1
        type: single_choice
        text: {en: Pick, no: Velg}
        choices:
          - {code: 1, label: {en: yes, no: ja}}
          - {code: 0, label: {en: no, no: nei}}
"""
    q = load_questionnaire("norway.yaml", text)
    labels = [c.label for c in q.question("q1").choices]
    assert labels == [{"en": "yes", "no": "ja"}, {"en": "no", "no": "nei"}]


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_bad_file_reports_exactly_its_problems(path: Path):
    want = expected(path)
    assert want, f"{path.name} lists no '# expect:' lines"
    assert problems_of(path) == want


def test_every_rule_has_a_bad_file():
    names = {p.stem for p in BAD_FILES}
    assert {
        "yaml_syntax",
        "duplicate_key",
        "unknown_key",
        "missing_language",
        "default_language",
        "duplicate_id",
        "invalid_name",
        "meta_clash",
        "multi_choice_clash",
        "duplicate_code",
        "unknown_scale",
        "construct_items",
        "show_if_syntax",
        "show_if_references",
        "show_if_values",
        "number_range",
    } <= names


def test_problems_from_both_passes_come_together():
    """A type error elsewhere does not hide the other checks."""
    text = """
id: mix
title: x
languages: [en]
pages:
  - id: p1
    questions:
      - id: q1
        type: yes_no
        text: x
        required: perhaps
      - id: q1
        type: likert
        scale: nope
        text: x
"""
    assert problems_of("mix.yaml", text) == [
        "11:9: 'required' must be true or false (not 'perhaps')",
        "12:9: duplicate id 'q1': already used at line 8 (ids of questions, grid rows, "
        "pages and constructs become export columns, so each must be unique, ignoring case)",
        "14:9: unknown scale 'nope' (define it under scales: at the top of the file)",
    ]


def test_construct_name_shares_the_namespace():
    text = """
id: c
title: x
languages: [en]
scales:
  s: {options: [{code: 1, label: a}, {code: 2, label: b}]}
pages:
  - id: p1
    questions:
      - {id: happy, type: likert, scale: s, text: x}
constructs:
  happy: {label: x, items: [happy]}
"""
    assert problems_of("c.yaml", text) == [
        "12:3: duplicate id 'happy': already used at line 10 (ids of questions, grid rows, "
        "pages and constructs become export columns, so each must be unique, ignoring case)"
    ]


def test_multi_choice_columns_must_be_valid_names():
    long_id = "a" * 30
    text = f"""
id: m
title: x
languages: [en]
pages:
  - id: p1
    questions:
      - id: {long_id}
        type: multi_choice
        text: x
        choices: [{{code: 1, label: a}}, {{code: 10, label: b}}]
      - id: other
        type: multi_choice
        text: x
        choices: [{{code: -1, label: a}}, {{code: 2, label: b}}]
"""
    assert problems_of("m.yaml", text) == [
        f"8:9: multi_choice '{long_id}' makes the export column '{long_id}_10', "
        "longer than 32 characters (shorten the id)",
        "12:9: multi_choice 'other' has the negative code -1, which would make the export "
        "column 'other_-1' (use codes 0 or above for multi_choice choices)",
    ]


def test_show_if_error_columns_point_into_the_file():
    text = """
id: s
title: x
languages: [en]
pages:
  - id: p1
    questions:
      - {id: q1, type: yes_no, text: x}
  - id: p2
    questions:
      - {id: q2, type: yes_no, text: x, show_if: "q1 == 1 and q1 === 2"}
"""
    # The condition starts at file column 51 (after the quote); the third '=' of '===' is
    # its column 18, so file column 68.
    assert problems_of("s.yaml", text) == [
        "11:68: show_if: '=' is not a comparison (use '==' to test equality)"
    ]


def test_unreadable_and_missing_files():
    assert problems_of(DATA / "does_not_exist.yaml")[0].startswith("1:1: cannot read file")


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: caf\xe9\n".encode("latin-1"))
    assert problems_of(path) == ["1:1: file is not valid UTF-8 (save it as UTF-8)"]


def test_yaml_1_1_directive_is_refused():
    text = "# old style\n%YAML 1.1\n---\n" + (DATA / "good.yaml").read_text()
    assert problems_of("old.yaml", text) == [
        "2:1: the file asks for YAML 1.1, which reads no, yes, on and off as true/false "
        "(remove this %YAML line; files are read as YAML 1.2)"
    ]
    # An explicit 1.2 directive is fine.
    q = load_questionnaire("new.yaml", "%YAML 1.2\n---\n" + (DATA / "good.yaml").read_text())
    assert q.languages == ["en", "cy", "no"]


def test_ids_that_are_words_of_the_condition_language():
    text = """
id: k
title: x
languages: [en]
pages:
  - id: p1
    questions:
      - {id: answered, type: yes_no, text: x}
      - {id: in, type: yes_no, text: x}
"""
    assert problems_of("k.yaml", text) == [
        "8:10: question id 'answered' is a word of the show_if language "
        "(rename it, so that conditions can refer to it)",
        "9:10: question id 'in' is a word of the show_if language "
        "(rename it, so that conditions can refer to it)",
    ]
