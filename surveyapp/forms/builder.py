"""Questionnaire page -> WTForms form.

One form per page; one field per answer key (a question's id, or each row id of a grid),
named by that key so the form field, the database row and the export column share a name.
The form is a :class:`wtforms.form.BaseForm` rather than a ``Form`` subclass so that no
question id (``data``, ``errors``, ``validate`` ...) can shadow a form attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms.form import BaseForm

from ..questionnaire.conditions import DECLINED
from ..questionnaire.model import (
    GridQuestion,
    InfoItem,
    LikertQuestion,
    MultiChoiceQuestion,
    NumberQuestion,
    Page,
    Question,
    Questionnaire,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)
from .fields import (
    AnswerField,
    ChoiceAnswerField,
    MultiAnswerField,
    NumberAnswerField,
    Option,
    TextAnswerField,
)

DECLINE_LABEL = _l("I'd rather not say")
YES = _l("Yes")
NO = _l("No")


@dataclass
class QuestionBlock:
    """What a template needs to draw one question: texts in the pupil's language, fields."""

    question: Question
    kind: str
    text: str
    help: str = ""
    display: str = "words"
    field_names: list[str] = field(default_factory=list)
    fields: list[AnswerField] = field(default_factory=list)
    row_texts: dict[str, str] = field(default_factory=dict)
    audio: str | None = None
    image: str | None = None

    @property
    def id(self) -> str:
        return self.question.id

    @property
    def errors(self) -> list[str]:
        return [e for f in self.fields for e in f.errors]


class PageForm(BaseForm):
    """The answers of one page. ``enforce_required`` is False when going Back or stopping."""

    def __init__(self, fields: list[tuple[str, Any]], blocks: list[QuestionBlock]):
        super().__init__(fields)
        self.blocks = blocks
        self.enforce_required = True

    def bind_blocks(self) -> None:
        for block in self.blocks:
            block.fields = [self[name] for name in block.field_names]

    def answer_fields(self) -> list[AnswerField]:
        return [f for f in self if isinstance(f, AnswerField)]

    def check(self, *, enforce_required: bool = True) -> bool:
        """Validate every field; True when nothing is wrong."""
        self.enforce_required = enforce_required
        return self.validate()

    def valid_answers(self) -> dict[str, Any]:
        """Answer key -> value, DECLINED or None (not answered), for the fields without errors.

        Call after :meth:`check`. A field with an error is left out, so nothing is stored for
        it and the stored answer (if any) stays as it was.
        """
        return {f.name: f.data for f in self.answer_fields() if not f.errors}

    @property
    def has_errors(self) -> bool:
        return any(f.errors for f in self.answer_fields())


def _choice_options(questionnaire: Questionnaire, question: Question, language: str):
    return tuple(
        Option(str(c.code), questionnaire.text(c.label, language), c.code, c.image)
        for c in questionnaire.choices_for(question)
    )


def _answer_field(
    questionnaire: Questionnaire,
    question: Question,
    language: str,
    text: str,
    common: dict[str, Any],
) -> tuple[str, AnswerField]:
    """How a question with one answer key is displayed, and its field."""

    def options() -> tuple[Option, ...]:
        return _choice_options(questionnaire, question, language)

    if isinstance(question, LikertQuestion):
        display = questionnaire.scales[question.scale].display
        return display, ChoiceAnswerField(text, display=display, options=options(), **common)
    if isinstance(question, YesNoQuestion):
        yes_no = (Option("1", str(YES), 1), Option("0", str(NO), 0))
        return "yes_no", ChoiceAnswerField(text, display="yes_no", options=yes_no, **common)
    if isinstance(question, SingleChoiceQuestion):
        return "list", ChoiceAnswerField(text, display="list", options=options(), **common)
    if isinstance(question, MultiChoiceQuestion):
        return "checks", MultiAnswerField(text, display="checks", options=options(), **common)
    if isinstance(question, NumberQuestion):
        return "number", NumberAnswerField(
            text,
            display="number",
            minimum=question.min,
            maximum=question.max,
            integer=question.integer,
            unit=questionnaire.text(question.unit, language) if question.unit else "",
            **common,
        )
    if isinstance(question, TextQuestion):
        display = "long_text" if question.long else "text"
        return display, TextAnswerField(
            text, display=display, max_length=question.max_length, long=question.long, **common
        )
    raise TypeError(f"unknown question type {question.type!r}")  # pragma: no cover - closed union


#: Field factories and question blocks of a page, per questionnaire, shown questions and
#: languages: building them took more time than filling them (load profile). Each entry
#: holds its questionnaire, so the questionnaire's id in the key cannot be reused meanwhile.
_layouts: dict[
    tuple[Any, ...], tuple[Questionnaire, list[tuple[str, Any]], list[QuestionBlock]]
] = {}
MAX_LAYOUTS = 2048


def _layout(
    questionnaire: Questionnaire, shown: Iterable[Question], language: str
) -> tuple[list[tuple[str, Any]], list[QuestionBlock]]:
    unbound: list[tuple[str, Any]] = []
    blocks: list[QuestionBlock] = []
    decline = str(DECLINE_LABEL)
    for question in shown:
        first_field = len(unbound)
        text = questionnaire.text(question.text, language)
        block = QuestionBlock(
            question=question,
            kind=question.type,
            text=text,
            help=questionnaire.text(question.help, language) if question.help else "",
            audio=(question.audio or {}).get(language),
        )
        common = {
            "allow_decline": question.allow_decline,
            "decline_label": decline,
            "required": question.required,
            "question_id": question.id,
        }
        if isinstance(question, InfoItem):
            block.display = "info"
            block.image = question.image
        elif isinstance(question, GridQuestion):
            scale = questionnaire.scales[question.scale]
            block.display = scale.display
            options = _choice_options(questionnaire, question, language)
            for row in question.rows:
                block.row_texts[row.id] = questionnaire.text(row.text, language)
                unbound.append(
                    (
                        row.id,
                        ChoiceAnswerField(
                            block.row_texts[row.id],
                            display=scale.display,
                            options=options,
                            **common,
                        ),
                    )
                )
        else:
            block.display, answer_field = _answer_field(
                questionnaire, question, language, text, common
            )
            unbound.append((question.id, answer_field))
        block.field_names = [name for name, _ in unbound[first_field:]]
        blocks.append(block)

    return unbound, blocks


def build_page_form(
    questionnaire: Questionnaire,
    page: Page,
    language: str,
    *,
    questions: Iterable[Question] | None = None,
    stored: Mapping[str, Any] | None = None,
    formdata: Any = None,
) -> PageForm:
    """The form for ``page`` showing ``questions`` (default: all of the page's questions).

    ``stored`` holds the saved answers (key -> value or DECLINED) that fill the form when
    nothing is submitted; ``formdata`` (a MultiDict) is what the browser sent.
    """
    stored = stored or {}
    shown = tuple(page.questions if questions is None else questions)
    key = (
        id(questionnaire),  # unique while its entry lives: the entry holds the questionnaire
        page.id,
        tuple(question.id for question in shown),
        language,
        str(get_locale()),  # the UI language: "I'd rather not say", Yes, No
    )
    layout = _layouts.get(key)
    if layout is None:
        if len(_layouts) >= MAX_LAYOUTS:
            _layouts.clear()
        layout = _layouts[key] = (questionnaire, *_layout(questionnaire, shown, language))
    _, unbound, drawn = layout
    # Blocks get this form's fields; what they share with the cached layout is read-only.
    blocks = [replace(block, fields=[]) for block in drawn]
    form = PageForm(unbound, blocks)
    form.process(formdata, data={k: v for k, v in stored.items()})
    form.bind_blocks()
    return form


def stored_for_form(value: Any, declined: bool) -> Any:
    """A stored answer row as the forms and conditions see it."""
    return DECLINED if declined else value
