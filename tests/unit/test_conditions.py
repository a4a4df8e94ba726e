"""The show_if language: grammar, meaning, limits and hostile input."""

from __future__ import annotations

import builtins

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.questionnaire.conditions import (
    DECLINED,
    MAX_DEPTH,
    MAX_LENGTH,
    Answered,
    Compare,
    ConditionError,
    Contains,
    InList,
    Not,
    evaluate,
    parse_condition,
)


def holds(text: str, **answers) -> bool:
    return evaluate(parse_condition(text), answers)


# --------------------------------------------------------------------------- grammar


def test_comparison_operators():
    assert holds("age == 9", age=9)
    assert holds("age != 9", age=8)
    assert holds("age < 9", age=8) and not holds("age < 9", age=9)
    assert holds("age <= 9", age=9) and not holds("age <= 9", age=10)
    assert holds("age > 9", age=10) and not holds("age > 9", age=9)
    assert holds("age >= 9", age=9) and not holds("age >= 9", age=8)


def test_literal_first_comparison_is_flipped():
    condition = parse_condition("9 < age")
    assert condition.root == Compare("age", ">", 9, 1)
    assert holds("9 < age", age=10) and not holds("9 < age", age=9)


def test_numbers_negative_and_decimal():
    assert holds("temp == -2", temp=-2)
    assert holds("hours >= 1.5", hours=2)
    assert not holds("hours >= 1.5", hours=1)
    assert holds("x==-1", x=-1)


def test_quoted_text_either_quote():
    assert holds("name == 'Ann'", name="Ann")
    assert holds('name == "Ann"', name="Ann")
    assert holds('name == "it\'s"', name="it's")
    assert holds("city == 'Łódź'", city="Łódź")


def test_in_list_and_not_in():
    assert holds("g in [1, 2, 3]", g=2)
    assert not holds("g in [1, 2, 3]", g=4)
    assert holds("g not in [1, 2]", g=3)
    assert not holds("g not in [1, 2]", g=1)
    assert holds("g in [1, 2,]", g=1)  # a trailing comma is fine
    assert holds("g in ['a', 'b']", g="b")


def test_code_in_multi_choice_answer():
    assert holds("3 in langs", langs=[1, 3])
    assert not holds("3 in langs", langs=[1, 2])
    assert holds("3 not in langs", langs=[1, 2])
    assert not holds("3 not in langs", langs=[3])
    assert not holds("3 in langs", langs=3)  # not a list: never contains


def test_and_or_not_precedence():
    # not binds tighter than and, which binds tighter than or.
    assert holds("a == 1 or b == 1 and c == 1", a=1, b=0, c=0)
    assert not holds("(a == 1 or b == 1) and c == 1", a=1, b=0, c=0)
    assert holds("not a == 1 and b == 1", a=2, b=1)
    assert not holds("not (a == 2 and b == 1)", a=2, b=1)


def test_answered():
    assert holds("answered(x)", x=0)
    assert holds("answered(x)", x=[])  # a stored empty list is a value (storage contract)
    assert not holds("answered(x)")
    assert not holds("answered(x)", x=None)
    assert not holds("answered(x)", x=DECLINED)
    assert holds("not answered(x)", x=DECLINED)


def test_unanswered_or_declined_makes_every_comparison_false():
    for value in ({}, {"x": None}, {"x": DECLINED}):
        for text in ("x == 1", "x != 1", "x < 5", "x in [1]", "x not in [1]", "1 in x"):
            assert evaluate(parse_condition(text), value) is False, (text, value)
        assert holds("not x == 1", **value)
        assert holds("not x != 1", **value)


def test_text_and_number_do_not_compare():
    assert not holds("x == 1", x="1")
    assert not holds("x != 1", x="1")
    assert not holds("x < 'b'", x=1)
    assert not holds("x == 1", x=[1])


def test_yes_no_codes():
    assert holds("plays == 1", plays=1)
    assert holds("plays == 0", plays=0)
    assert not holds("plays == 1", plays=0)


def test_references_literals_and_comparisons():
    c = parse_condition("a == 1 or (b in [2, 3] and 4 in c and not answered(d) and a < 'x')")
    assert c.references == frozenset({"a", "b", "c", "d"})
    assert c.literals() == {"a": frozenset({1, "x"}), "b": frozenset({2, 3}), "c": frozenset({4})}
    kinds = [type(n) for n in c.comparisons]
    assert kinds == [Compare, InList, Contains, Compare]
    assert c.comparisons[1].column == 12


def test_tree_is_frozen():
    c = parse_condition("not answered(x)")
    assert c.root == Not(Answered("x", 14))  # the column of the id
    with pytest.raises(AttributeError):
        c.root.operand = None  # type: ignore[misc]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("", 1, "the condition is empty"),
        ("   ", 1, "the condition is empty"),
        ("x = 1", 3, "'=' is not a comparison"),
        ("x == ", 6, "expected a number or quoted text after '=='"),
        ("x", 2, "expected a comparison after 'x'"),
        ("x == y", 6, "found the name 'y'"),
        ("x == 'open", 6, "text starting with ' is never closed"),
        ('x == "open', 6, 'text starting with " is never closed'),
        ("(x == 1", 8, "'(' at column 1 is never closed"),
        ("x == 1)", 7, "')' has no matching '('"),
        ("x == 1 y == 2", 8, "expected 'and', 'or' or the end of the condition"),
        ("x == 1 and", 11, "expected a question id, a comparison or '('"),
        ("x in 1", 6, "expected '[' starting a list"),
        ("x in []", 7, "expected a number or quoted text in the list"),
        ("x in [1 2]", 9, "expected ',' or ']'"),
        ("1 in [1, 2]", 1, "compare a question with a list"),
        ("1 == 2", 6, "expected a question id after '1 =='"),
        ("x && y", 3, "'&' is not allowed; use 'and', 'or', 'not'"),
        ("!x", 1, "'!' is not allowed"),
        ("x + 1 == 2", 3, "'+' is not allowed; conditions compare answers with values"),
        ("x - 1 == 2", 3, "'-' is not allowed; conditions compare answers with values"),
        ("3abc == x", 1, "'3abc' is not a number"),
        ("1.2.3 == x", 1, "'1.2.3' is not a number"),
        ("x == ٣", 6, "write numbers with the digits 0-9"),
        ("ñ == 1", 1, "'ñ' is not allowed outside quotes"),
        ("and == 1", 1, "'and' cannot start a comparison"),
        ("answered x", 10, "expected '(' after 'answered'"),
        ("answered(x, y)", 11, "answered(...) takes exactly one question id"),
        ("answered('x')", 10, "expected a question id inside answered(...)"),
        ("_x == 1", 1, "'_x' is not a question id"),
        ("x" * 33 + " == 1", 1, "is not a question id"),
    ],
)
def test_errors_have_message_and_column(text, column, message):
    with pytest.raises(ConditionError) as info:
        parse_condition(text)
    assert message in info.value.message
    assert info.value.column == column
    assert str(info.value).endswith(f"(at column {column})")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('rm -rf /')", "'__import__' is not a question id"),
        ("__import__ == 1", "'__import__' is not a question id"),
        ("x.__class__ == 1", "'.' is not allowed here"),
        ("x.y == 1", "'.' is not allowed here"),
        ("lambda: 1", "':' is not allowed in a condition"),
        ("open('/etc/passwd')", "'open(...)' is not allowed; the only function is answered"),
        ("exec('x') == 1", "'exec(...)' is not allowed"),
        ("len(x) > 1", "'len(...)' is not allowed"),
        ("x == 1; import os", "';' is not allowed"),
        ("x == {1: 2}", "'{' is not allowed"),
        ("x[0] == 1", "expected a comparison after 'x'"),
        ("x == `ls`", "'`' is not allowed"),
        ("x == 1 if y else 2", "expected 'and', 'or' or the end"),
        ("x == 1\x00", "'\\x00' is not allowed"),
        ("x\u202e== 1", "'\\u202e' is not allowed"),
        ("{{ config }}", "'{' is not allowed"),
        ("x == 1e5", "'1e5' is not a number"),
        ("x == 0x10", "'0x10' is not a number"),
        ("x == True", "found the name 'True'"),
    ],
)
def test_hostile_strings_are_refused(text, message):
    with pytest.raises(ConditionError) as info:
        parse_condition(text)
    assert message in info.value.message


def test_unicode_inside_quotes_is_text():
    assert holds("answer == '日本語 🎻'", answer="日本語 🎻")


def test_length_limit():
    ok = "x in [" + ",".join(["1"] * ((MAX_LENGTH - 7) // 2)) + "]"
    assert len(ok) <= MAX_LENGTH
    parse_condition(ok)
    with pytest.raises(ConditionError, match="too long"):
        parse_condition("x == 1 " + " " * MAX_LENGTH)


def test_depth_limit_for_parentheses_and_not():
    parse_condition("(" * MAX_DEPTH + "x == 1" + ")" * MAX_DEPTH)
    parse_condition("not " * MAX_DEPTH + "x == 1")
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse_condition("(" * (MAX_DEPTH + 1) + "x == 1" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse_condition("not " * (MAX_DEPTH + 1) + "x == 1")
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse_condition("not (" * 11 + "x == 1" + ")" * 11)


def test_long_flat_chains_are_fine():
    text = " and ".join(f"q{i} == 1" for i in range(36))
    assert len(text) <= MAX_LENGTH
    assert holds(text, **{f"q{i}": 1 for i in range(36)})


def test_non_text_is_refused():
    with pytest.raises(ConditionError):
        parse_condition(3)  # type: ignore[arg-type]


def test_nothing_is_ever_evaluated_by_python(monkeypatch):
    """Parsing and evaluating work without eval, exec or compile."""

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec/compile called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", forbidden)
    assert holds("a == 1 and (3 in b or not answered(c)) and d in ['x']", a=1, b=[3], d="x")
    with pytest.raises(ConditionError):
        parse_condition("__import__('os')")


# --------------------------------------------------------------------------- properties

GRAMMAR_PIECES = st.sampled_from(
    [
        "x", "y", "answered", "and", "or", "not", "in", "(", ")", "[", "]", ",", "==", "!=",
        "<", "<=", ">", ">=", "=", "1", "-2", "3.5", "'a'", '"b"', "'", '"', " ", ".", "_",
        "é", "٣", "\x00", "\n", "-", "1e5",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=600))
def test_arbitrary_text_only_ever_raises_condition_error(text):
    try:
        condition = parse_condition(text)
    except ConditionError as exc:
        assert isinstance(exc.column, int) and exc.column >= 1
        assert exc.message
    else:
        evaluate(condition, {})


@settings(max_examples=600, deadline=None)
@given(st.lists(GRAMMAR_PIECES, max_size=60).map(" ".join))
def test_grammar_soup_only_ever_raises_condition_error(text):
    try:
        condition = parse_condition(text)
    except ConditionError as exc:
        assert 1 <= exc.column <= max(len(text), MAX_LENGTH) + 1
    else:
        evaluate(condition, {"x": 1, "y": [1, 2]})
        evaluate(condition, {"x": DECLINED})


# A random expression tree, rendered with as few parentheses as precedence allows,
# must parse back to something that means the same.

NAMES = ["a", "b", "c"]
ANSWERS = st.fixed_dictionaries(
    {n: st.one_of(st.none(), st.just(DECLINED), st.integers(0, 3)) for n in NAMES}
)
leaf = st.one_of(
    st.tuples(st.just("cmp"), st.sampled_from(NAMES), st.sampled_from(["==", "!=", "<", ">="]),
              st.integers(0, 3)),
    st.tuples(st.just("answered"), st.sampled_from(NAMES)),
)  # fmt: skip
trees = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.tuples(st.just("not"), inner),
        st.tuples(st.sampled_from(["and", "or"]), inner, inner),
    ),
    max_leaves=8,
)
PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4, "answered": 4}


def render(tree, parent: int = 0) -> str:
    kind = tree[0]
    if kind == "cmp":
        text = f"{tree[1]} {tree[2]} {tree[3]}"
    elif kind == "answered":
        text = f"answered({tree[1]})"
    elif kind == "not":
        text = "not " + render(tree[1], PRECEDENCE["not"])
    else:
        mine = PRECEDENCE[kind]
        text = f"{render(tree[1], mine)} {kind} {render(tree[2], mine + 1)}"
    return f"({text})" if PRECEDENCE[kind] < parent else text


def meaning(tree, answers) -> bool:
    kind = tree[0]
    if kind == "answered":
        return answers[tree[1]] not in (None, DECLINED)
    if kind == "cmp":
        value = answers[tree[1]]
        if value in (None, DECLINED):
            return False
        return {
            "==": value == tree[3],
            "!=": value != tree[3],
            "<": value < tree[3],
            ">=": value >= tree[3],
        }[tree[2]]
    if kind == "not":
        return not meaning(tree[1], answers)
    if kind == "and":
        return meaning(tree[1], answers) and meaning(tree[2], answers)
    return meaning(tree[1], answers) or meaning(tree[2], answers)


@settings(max_examples=300, deadline=None)
@given(trees, ANSWERS)
def test_rendered_trees_parse_back_to_the_same_meaning(tree, answers):
    text = render(tree)
    assert evaluate(parse_condition(text), answers) == meaning(tree, answers), text
