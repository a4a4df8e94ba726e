"""The ``show_if`` language: a small, safe expression language over earlier answers.

Researchers write conditions such as::

    plays_instrument == 1 and (year_group >= 5 or not answered(year_group))
    3 in home_languages
    gender not in [3, 4]

Nothing here ever calls ``eval``: text is split into tokens, parsed by a recursive-descent
parser into an AST of frozen dataclasses and evaluated by walking that tree. Anything
outside the grammar raises :class:`ConditionError` with a message and a 1-based column.

Grammar::

    condition  := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | primary
    primary    := "(" condition ")" | "answered" "(" NAME ")" | comparison
    comparison := NAME CMP literal | literal CMP NAME
                | NAME ["not"] "in" "[" literal ("," literal)* [","] "]"
                | literal ["not"] "in" NAME            # a multi_choice answer contains it
    literal    := NUMBER | STRING
    CMP        := "==" | "!=" | "<" | "<=" | ">" | ">="

Semantics: a comparison (including ``!=`` and ``not in``) with a question that is not
answered or was declined is false; ``not answered(x)`` is how to ask for that case.
"""

from __future__ import annotations

from .condition_parser import (
    COMPARISON_OPERATORS,
    KEYWORDS,
    MAX_DEPTH,
    MAX_LENGTH,
    Token,
    parse_condition,
    tokenize,
)
from .condition_tree import (
    DECLINED,
    And,
    Answered,
    Compare,
    Comparison,
    Condition,
    ConditionError,
    Contains,
    InList,
    Literal,
    Node,
    Not,
    Or,
    evaluate,
    is_answered,
    walk,
)

__all__ = [
    "COMPARISON_OPERATORS",
    "DECLINED",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "And",
    "Answered",
    "Compare",
    "Comparison",
    "Condition",
    "ConditionError",
    "Contains",
    "InList",
    "Literal",
    "Node",
    "Not",
    "Or",
    "Token",
    "evaluate",
    "is_answered",
    "parse_condition",
    "tokenize",
    "walk",
]
