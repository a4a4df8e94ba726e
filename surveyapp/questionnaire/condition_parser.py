"""Text -> tree for ``show_if``: a tokenizer and a recursive-descent parser.

Nothing here ever calls ``eval``. Anything outside the grammar (see :mod:`.conditions`)
raises :class:`~.condition_tree.ConditionError` with a message and a 1-based column, for the
leftmost problem first: tokens are produced one at a time as the parser asks for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .condition_tree import (
    And,
    Answered,
    Compare,
    Condition,
    ConditionError,
    Contains,
    InList,
    Literal,
    Node,
    Not,
    Or,
)

MAX_LENGTH = 500
MAX_DEPTH = 20

KEYWORDS = frozenset({"and", "or", "not", "in", "answered"})
COMPARISON_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # NAME, KEYWORD, NUMBER, STRING, OP, "(", ")", "[", "]", ",", END
    value: Any
    column: int
    text: str


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# ASCII digits only: \d would accept other scripts' digits, which int() would then read.
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?![A-Za-z0-9_.])")
_SPACE = " \t\r\n"


def _describe(token: Token) -> str:
    if token.kind == "END":
        return "the end of the condition"
    return f"'{token.text}'"


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with END; raises ConditionError at the first bad one."""
    return list(_tokens(text))


def _tokens(text: str) -> Iterator[Token]:
    """Tokens one at a time, so the parser reports the leftmost problem first."""
    tokens: list[Token] = []  # those so far, to tell a minus sign from a negative number
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        column = i + 1
        if ch in _SPACE:
            i += 1
            continue
        if ch in "()[],":
            yield _keep(tokens, Token(ch, ch, column, ch))
            i += 1
            continue
        two = text[i : i + 2]
        if two in ("==", "!=", "<=", ">="):
            yield _keep(tokens, Token("OP", two, column, two))
            i += 2
            continue
        if ch in "<>":
            yield _keep(tokens, Token("OP", ch, column, ch))
            i += 1
            continue
        if ch == "=":
            raise ConditionError("'=' is not a comparison; use '==' to test equality", column)
        if ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise ConditionError(
                    f"text starting with {ch} is never closed; end it with {ch}", column
                )
            value = text[i + 1 : end]
            yield _keep(tokens, Token("STRING", value, column, text[i : end + 1]))
            i = end + 1
            continue
        match = _NUMBER.match(text, i)
        if match and (ch != "-" or not _follows_value(tokens)):
            raw = match.group()
            value: int | float = float(raw) if "." in raw else int(raw)
            yield _keep(tokens, Token("NUMBER", value, column, raw))
            i = match.end()
            continue
        if ch.isascii() and (ch.isalpha() or ch == "_"):
            match = _NAME.match(text, i)
            assert match is not None
            word = match.group()
            kind = "KEYWORD" if word in KEYWORDS else "NAME"
            yield _keep(tokens, Token(kind, word, column, word))
            i = match.end()
            continue
        raise ConditionError(_unexpected_character(text, i), column)
    yield Token("END", None, n + 1, "")


def _keep(tokens: list[Token], token: Token) -> Token:
    tokens.append(token)
    return token


def _follows_value(tokens: list[Token]) -> bool:
    return bool(tokens) and tokens[-1].kind in {"NAME", "NUMBER", "STRING", ")", "]"}


def _unexpected_character(text: str, i: int) -> str:
    ch = text[i]
    shown = repr(ch)[1:-1] if not ch.isprintable() else ch
    if ch == ".":
        return "'.' is not allowed here; write a question id, a number such as 2.5, or quoted text"
    if ch in "&|!":
        return f"'{shown}' is not allowed; use 'and', 'or', 'not' (or '!=' for not equal)"
    if ch in "+-*/%" and (ch != "-" or not re.match(r"-[0-9]", text[i : i + 2])):
        return f"'{ch}' is not allowed; conditions compare answers with values, without arithmetic"
    if ch in "0123456789-":
        word = re.match(r"-?[0-9A-Za-z_.]*", text[i:])
        shown = word.group() if word else ch
        return f"'{shown[:40]}' is not a number; write numbers like 3, -1 or 2.5"
    if ch.isdigit() and not ch.isascii():
        return f"'{shown}' is not allowed; write numbers with the digits 0-9"
    if ch.isalpha():
        return (
            f"'{shown}' is not allowed outside quotes; question ids use letters a-z, digits and _"
        )
    return f"'{shown}' is not allowed in a condition"


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, tokens: Iterator[Token]):
        self.source = tokens
        self.tokens: list[Token] = []  # read so far
        self.pos = 0
        self.depth = 0

    def peek_at(self, offset: int) -> Token:
        while len(self.tokens) <= self.pos + offset:
            if self.tokens and self.tokens[-1].kind == "END":
                return self.tokens[-1]
            self.tokens.append(next(self.source))
        return self.tokens[self.pos + offset]

    @property
    def peek(self) -> Token:
        return self.peek_at(0)

    def advance(self) -> Token:
        token = self.peek
        if token.kind != "END":
            self.pos += 1
        return token

    def is_keyword(self, word: str, offset: int = 0) -> bool:
        token = self.peek_at(offset)
        return token.kind == "KEYWORD" and token.value == word

    def expect(self, kind: str, what: str) -> Token:
        token = self.peek
        if token.kind != kind:
            raise ConditionError(f"expected {what}, found {_describe(token)}", token.column)
        return self.advance()

    def nest(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionError(
                f"the condition is nested too deeply (at most {MAX_DEPTH} levels)", column
            )

    def parse(self) -> Node:
        if self.peek.kind == "END":
            raise ConditionError("the condition is empty; write e.g. question_id == 1", 1)
        node = self.parse_or()
        token = self.peek
        if token.kind != "END":
            if token.kind == ")":
                raise ConditionError("')' has no matching '('", token.column)
            raise ConditionError(
                f"expected 'and', 'or' or the end of the condition, found {_describe(token)}",
                token.column,
            )
        return node

    def parse_or(self) -> Node:
        return self.parse_chain("or", self.parse_and, Or)

    def parse_and(self) -> Node:
        return self.parse_chain("and", self.parse_not, And)

    def parse_chain(
        self, word: str, parse_operand: Callable[[], Node], node: type[And] | type[Or]
    ) -> Node:
        """``operand (word operand)*``: one node for the whole chain, or the lone operand."""
        operands = [parse_operand()]
        while self.is_keyword(word):
            self.advance()
            operands.append(parse_operand())
        return operands[0] if len(operands) == 1 else node(tuple(operands))

    def parse_not(self) -> Node:
        if self.is_keyword("not"):
            token = self.advance()
            self.nest(token.column)
            operand = self.parse_not()
            self.depth -= 1
            return Not(operand)
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.peek
        if token.kind == "(":
            self.advance()
            self.nest(token.column)
            node = self.parse_or()
            if self.peek.kind != ")":
                raise ConditionError(
                    f"'(' at column {token.column} is never closed; expected ')', "
                    f"found {_describe(self.peek)}",
                    self.peek.column,
                )
            self.advance()
            self.depth -= 1
            return node
        if self.is_keyword("answered"):
            return self.parse_answered()
        if token.kind == "NAME":
            return self.parse_name_first()
        if token.kind in {"NUMBER", "STRING"}:
            return self.parse_literal_first()
        if token.kind == "KEYWORD":
            raise ConditionError(
                f"'{token.value}' cannot start a comparison; expected a question id", token.column
            )
        raise ConditionError(
            f"expected a question id, a comparison or '(', found {_describe(token)}", token.column
        )

    def parse_answered(self) -> Node:
        self.advance()
        open_ = self.expect("(", "'(' after 'answered'")
        name = self.name_token("a question id inside answered(...)")
        if self.peek.kind != ")":
            raise ConditionError(
                f"answered(...) takes exactly one question id; expected ')' to close the '(' "
                f"at column {open_.column}, found {_describe(self.peek)}",
                self.peek.column,
            )
        self.advance()
        return Answered(name.value, name.column)

    def name_token(self, what: str) -> Token:
        token = self.peek
        if token.kind == "NAME":
            _check_name(token)
            return self.advance()
        raise ConditionError(f"expected {what}, found {_describe(token)}", token.column)

    def parse_name_first(self) -> Node:
        name = self.advance()
        _check_name(name)
        token = self.peek
        if token.kind == "(":
            raise ConditionError(
                f"'{name.value}(...)' is not allowed; the only function is answered(question_id)",
                name.column,
            )
        if token.kind == "OP":
            self.advance()
            value = self.literal(f"a number or quoted text after '{token.value}'")
            return Compare(name.value, token.value, value.value, name.column)
        negated = False
        if self.is_keyword("not") and self.is_keyword("in", 1):
            self.advance()
            negated = True
        if self.is_keyword("in"):
            self.advance()
            return InList(name.value, self.literal_list(), negated, name.column)
        raise ConditionError(
            f"expected a comparison after '{name.value}' (==, !=, <, <=, >, >=, in, not in), "
            f"found {_describe(token)}",
            token.column,
        )

    def parse_literal_first(self) -> Node:
        value = self.advance()
        token = self.peek
        if token.kind == "OP":
            self.advance()
            name = self.name_token(f"a question id after '{value.text} {token.value}'")
            return Compare(name.value, _FLIPPED[token.value], value.value, value.column)
        negated = False
        if self.is_keyword("not") and self.is_keyword("in", 1):
            self.advance()
            negated = True
        if self.is_keyword("in"):
            self.advance()
            if self.peek.kind == "[":
                raise ConditionError(
                    "compare a question with a list, not a value: write question_id in [1, 2]",
                    value.column,
                )
            name = self.name_token(f"a question id after '{value.text} in'")
            return Contains(name.value, value.value, negated, value.column)
        raise ConditionError(
            f"expected a comparison after {value.text} (==, !=, <, <=, >, >=, in), "
            f"found {_describe(token)}",
            token.column,
        )

    def literal(self, what: str) -> Token:
        token = self.peek
        if token.kind in {"NUMBER", "STRING"}:
            return self.advance()
        if token.kind == "NAME":
            raise ConditionError(
                f"expected {what}, found the name '{token.value}' "
                "(compare a question with a value; put text in quotes)",
                token.column,
            )
        raise ConditionError(f"expected {what}, found {_describe(token)}", token.column)

    def literal_list(self) -> tuple[Literal, ...]:
        open_ = self.expect("[", "'[' starting a list of values, e.g. [1, 2]")
        values: list[Literal] = []
        while True:
            if self.peek.kind == "]" and values:
                break
            values.append(self.literal("a number or quoted text in the list").value)
            if self.peek.kind == ",":
                self.advance()
                continue
            if self.peek.kind != "]":
                raise ConditionError(
                    f"expected ',' or ']' to close the list at column {open_.column}, "
                    f"found {_describe(self.peek)}",
                    self.peek.column,
                )
        self.advance()
        return tuple(values)


def _check_name(token: Token) -> None:
    name = token.value
    if name.startswith("_") or len(name) > 32:
        raise ConditionError(
            f"'{name[:40]}' is not a question id "
            "(letters, digits and _, starting with a letter, at most 32 characters)",
            token.column,
        )


def parse_condition(text: str) -> Condition:
    """Parse a ``show_if`` text; raise ConditionError for anything outside the grammar."""
    if not isinstance(text, str):
        raise ConditionError("a condition must be text, e.g. question_id == 1", 1)
    if len(text) > MAX_LENGTH:
        raise ConditionError(
            f"the condition is too long ({len(text)} characters, at most {MAX_LENGTH})",
            MAX_LENGTH + 1,
        )
    parser = _Parser(_tokens(text))
    return Condition(text=text, root=parser.parse())
