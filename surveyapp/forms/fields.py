"""WTForms fields for questionnaire answers: one field per answer key.

Each field turns what the browser sent into the stored value of the storage contract
(int code, sorted list of codes, int or float, str) or :data:`DECLINED`, or refuses it with
a message a child can act on. A refused value is never stored; the pupil sees what they
typed next to the message.

Fields are rendered by the Jinja templates (face buttons and the like), not by WTForms
widgets, so they carry what the templates need: ``options``, ``display``, ``is_selected``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.fields import Field
from wtforms.utils import unset_value
from wtforms.validators import StopValidation

from ..questionnaire.conditions import DECLINED

#: The form value of "I'd rather not say".
DECLINE_VALUE = "declined"
#: Suffix of the checkbox that declines a number or text answer.
DECLINE_SUFFIX = "-declined"
MAX_NUMBER_CHARS = 30

_INTEGER = re.compile(r"^[+-]?\d+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

REQUIRED = _l("Please answer this question.")
REQUIRED_OR_DECLINE = _l("Please choose an answer, or “I'd rather not say”.")
NOT_A_CHOICE = _l("Please choose one of the answers on the screen.")
ONLY_ONE = _l("Please choose just one answer.")
NOT_BOTH_CHOICES = _l("Please choose answers, or “I'd rather not say”, but not both.")
NOT_BOTH_TYPED = _l("Please type an answer, or choose “I'd rather not say”, but not both.")
NOT_A_NUMBER = _l("Please type a number, like 7.")
WHOLE_NUMBER = _l("Please type a whole number, like 7.")


def number_text(value: float | int) -> str:
    """10.0 -> "10", 2.5 -> "2.5": numbers as a child would write them."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Option:
    """One answer button: its form value, its words, and its code (None for declining)."""

    value: str
    label: str
    code: int | None = None
    image: str | None = None

    @property
    def declines(self) -> bool:
        return self.value == DECLINE_VALUE


class RequiredAnswer:
    """Required questions need an answer (or "I'd rather not say" where that is offered).

    Going Back or stopping does not enforce it: the form's ``enforce_required`` says when.
    """

    field_flags = {"required": True}

    def __call__(self, form: Any, field: AnswerField) -> None:
        if field.process_errors or not getattr(form, "enforce_required", True):
            return
        if field.data is None:
            raise StopValidation(str(REQUIRED_OR_DECLINE if field.allow_decline else REQUIRED))


class AnswerField(Field):
    """Base class: parses in ``process`` so a bad value becomes a process error."""

    kind = "answer"

    def __init__(
        self,
        label: str | None = None,
        validators: list | None = None,
        *,
        display: str = "words",
        options: tuple[Option, ...] = (),
        allow_decline: bool = False,
        decline_label: str = "",
        required: bool = False,
        question_id: str = "",
        **kwargs: Any,
    ) -> None:
        validators = list(validators or [])
        if required:
            validators.insert(0, RequiredAnswer())
        super().__init__(label, validators, **kwargs)
        self.display = display
        self.allow_decline = allow_decline
        self.decline_label = decline_label
        self.required = required
        self.question_id = question_id
        self.answer_options = tuple(options)
        self.submitted = False

    # -- parsing -------------------------------------------------------------------------

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        self.process_errors = []
        if data is unset_value:
            data = None
        self.object_data = data
        self.data = data
        self.raw_data = None
        if formdata is None:
            return
        self.submitted = True
        self.raw_data = formdata.getlist(self.name)
        try:
            self.data = self.parse(formdata)
        except ValueError as exc:
            self.data = None
            self.process_errors.append(str(exc.args[0]))

    def parse(self, formdata: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _text_values(self) -> list[str]:
        return [v if isinstance(v, str) else "" for v in (self.raw_data or [])]

    @property
    def declined(self) -> bool:
        return self.data is DECLINED

    # -- rendering -----------------------------------------------------------------------

    @property
    def options(self) -> tuple[Option, ...]:
        extra = (Option(DECLINE_VALUE, self.decline_label),) if self.allow_decline else ()
        return self.answer_options + extra

    def dom_id(self, suffix: str = "") -> str:
        return f"q-{self.name}" + (f"-{suffix}" if suffix else "")

    @property
    def error_id(self) -> str:
        return self.dom_id("error")


class ChoiceAnswerField(AnswerField):
    """One choice from a list: likert scales, single choice, yes/no, one grid row."""

    kind = "choice"

    def parse(self, formdata: Any) -> Any:
        values = [v for v in self._text_values() if v.strip() != ""]
        if not values:
            return None
        if len(values) > 1:
            raise ValueError(ONLY_ONE)
        raw = values[0].strip()
        if raw == DECLINE_VALUE and self.allow_decline:
            return DECLINED
        if _INTEGER.match(raw) and raw.isascii():
            code = int(raw)
            if code in {o.code for o in self.answer_options}:
                return code
        raise ValueError(NOT_A_CHOICE)

    def is_selected(self, option: Option) -> bool:
        if self.submitted:
            return option.value in self._text_values()
        if self.data is DECLINED:
            return option.declines
        return self.data is not None and option.code == self.data


class MultiAnswerField(AnswerField):
    """Several choices: a sorted list of codes."""

    kind = "multi"

    def parse(self, formdata: Any) -> Any:
        values = [v.strip() for v in self._text_values() if v.strip() != ""]
        if not values:
            return None
        if DECLINE_VALUE in values and self.allow_decline:
            if len(set(values)) > 1:
                raise ValueError(NOT_BOTH_CHOICES)
            return DECLINED
        codes = {o.code for o in self.answer_options}
        chosen: set[int] = set()
        for raw in values:
            if not (_INTEGER.match(raw) and raw.isascii()) or int(raw) not in codes:
                raise ValueError(NOT_A_CHOICE)
            chosen.add(int(raw))
        return sorted(chosen)

    def is_selected(self, option: Option) -> bool:
        if self.submitted:
            return option.value in self._text_values()
        if self.data is DECLINED:
            return option.declines
        return isinstance(self.data, list) and option.code in self.data


class _TypedAnswerField(AnswerField):
    """A typed answer (number or text) with a separate "I'd rather not say" checkbox."""

    @property
    def decline_name(self) -> str:
        return self.name + DECLINE_SUFFIX

    def parse(self, formdata: Any) -> Any:
        self.decline_ticked = bool(formdata.getlist(self.decline_name)) and self.allow_decline
        typed = self.clean(self._text_values()[0] if self._text_values() else "")
        if self.decline_ticked:
            if typed:
                raise ValueError(NOT_BOTH_TYPED)
            return DECLINED
        if not typed:
            return None
        return self.convert(typed)

    def clean(self, raw: str) -> str:
        return raw.strip()

    def convert(self, typed: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def typed_value(self) -> str:
        """What the input box shows: what was sent, else the stored answer."""
        if self.submitted:
            values = self._text_values()
            return values[0] if values else ""
        if self.data is None or self.data is DECLINED:
            return ""
        return number_text(self.data) if isinstance(self.data, (int, float)) else str(self.data)

    @property
    def decline_checked(self) -> bool:
        if self.submitted:
            return getattr(self, "decline_ticked", False)
        return self.data is DECLINED


class NumberAnswerField(_TypedAnswerField):
    """A number within optional bounds; accepts 7, 7.5, 7,5 and Arabic-Indic digits."""

    kind = "number"

    def __init__(
        self,
        *args: Any,
        minimum: float | None = None,
        maximum: float | None = None,
        integer: bool = True,
        unit: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.minimum = minimum
        self.maximum = maximum
        self.integer = integer
        self.unit = unit

    def convert(self, typed: str) -> Any:
        if len(typed) > MAX_NUMBER_CHARS:
            raise ValueError(NOT_A_NUMBER)
        text = _ascii_digits(typed).replace(" ", "").replace("\u066b", ".")
        if "," in text and "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")  # decimal comma (Welsh, Polish, Romanian habits)
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
            raise ValueError(NOT_A_NUMBER)
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(NOT_A_NUMBER)
        if self.integer:
            if not number.is_integer():
                raise ValueError(WHOLE_NUMBER)
            value: int | float = int(number)
        else:
            value = number
        self._check_range(value)
        return value

    def _check_range(self, value: float) -> None:
        low, high = self.minimum, self.maximum
        too_low = low is not None and value < low
        too_high = high is not None and value > high
        if not (too_low or too_high):
            return
        if low is not None and high is not None:
            raise ValueError(
                _l(
                    "Please type a number from %(min)s to %(max)s.",
                    min=number_text(low),
                    max=number_text(high),
                )
            )
        if too_low:
            raise ValueError(_l("Please type a number of %(min)s or more.", min=number_text(low)))
        raise ValueError(_l("Please type a number of %(max)s or less.", max=number_text(high)))

    @property
    def min_text(self) -> str:
        return number_text(self.minimum) if self.minimum is not None else ""

    @property
    def max_text(self) -> str:
        return number_text(self.maximum) if self.maximum is not None else ""

    @property
    def inputmode(self) -> str:
        return "numeric" if self.integer else "decimal"


class TextAnswerField(_TypedAnswerField):
    """Free text, short (one line) or long, at most ``max_length`` characters."""

    kind = "text"

    def __init__(self, *args: Any, max_length: int = 500, long: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_length = max_length
        self.long = long

    def clean(self, raw: str) -> str:
        text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
        text = _CONTROL.sub("", text)
        if not self.long:
            text = " ".join(text.split("\n"))
        return text.strip()

    def convert(self, typed: str) -> Any:
        if len(typed) > self.max_length:
            raise ValueError(
                _l(
                    "That is too long: please use at most %(max)s letters (you used %(used)s).",
                    max=self.max_length,
                    used=len(typed),
                )
            )
        return typed


def _ascii_digits(text: str) -> str:
    """Arabic-Indic and other decimal digits -> 0-9, so "٧" is read as 7."""
    out = []
    for ch in text:
        if ch.isdigit() and not ch.isascii():
            try:
                out.append(str(unicodedata.decimal(ch)))
                continue
            except ValueError:
                pass
        out.append(ch)
    return "".join(out)
