"""Whatever a researcher writes, the loader answers with a questionnaire or a SourceError."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from surveyapp.questionnaire.loader import load_questionnaire
from surveyapp.questionnaire.model import Questionnaire
from surveyapp.yamlsource import SourceError, read_source

GOOD = Path(__file__).resolve().parent.parent / "data" / "questionnaires" / "good.yaml"
GOOD_DATA = read_source(GOOD).data

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "en", "no", "agree4", "plays", "plays == 1", "3 in home_lang", "x ="]),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers(0, 3)), inner, max_size=4),
    ),
    max_leaves=12,
)


def dump(data) -> str:
    yaml = YAML()
    yaml.version = (1, 2)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


ALL_PATHS = [p for p in paths(GOOD_DATA) if p]


def replaced(data, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {k: (replaced(v, rest, value) if k == head else v) for k, v in data.items()}
    return [replaced(v, rest, value) if i == head else v for i, v in enumerate(data)]


def outcome(text: str) -> None:
    try:
        result = load_questionnaire("fuzz.yaml", text)
    except SourceError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.line >= 1 and problem.column >= 1 and problem.message
    else:
        assert isinstance(result, Questionnaire)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ALL_PATHS), values)
def test_one_value_replaced_anywhere_in_a_good_file(path, value):
    outcome(dump(replaced(GOOD_DATA, path, value)))


@settings(max_examples=80, deadline=None)
@given(values)
def test_any_yaml_document(data):
    outcome(dump(data))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_any_text(text):
    outcome(text)
