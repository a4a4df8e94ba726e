"""A one-page WTForms form built from a school-audience questionnaire (adults, laptops).

Pupils get one big question per screen; a school contact filling in a termly return gets the
whole questionnaire on one page: number boxes with their limits, checkboxes for multi-choice,
radio buttons for single choices, text boxes. A field's name is the question id, so the
answers map straight onto the storage contract (see :func:`answers_from_form`).

Drafts may leave questions empty; ``required`` questions are enforced only on submission
(:func:`check_required`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    FloatField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice.
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None

from .forms.fields import number_text
from .questionnaire.model import (
    GridQuestion,
    InfoItem,
    LikertQuestion,
    MultiChoiceQuestion,
    NumberQuestion,
    Questionnaire,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
    answer_keys,
)


class ReturnForm(FlaskForm):
    """Base class; one field per answer variable is added by :func:`build_form_class`."""


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _range_message(q: NumberQuestion) -> str:
    if q.min is not None and q.max is not None:
        return _l(
            "Enter a number from %(min)s to %(max)s.",
            min=number_text(q.min),
            max=number_text(q.max),
        )
    if q.min is not None:
        return _l("Enter a number of at least %(min)s.", min=number_text(q.min))
    return _l("Enter a number of at most %(max)s.", max=number_text(q.max))


def _number_field(q: NumberQuestion, label: str, help_text: str) -> Field:
    validators: list = [Optional()]
    if q.min is not None or q.max is not None:
        validators.append(NumberRange(min=q.min, max=q.max, message=_range_message(q)))
    if q.integer:
        return IntegerField(
            label,
            validators=validators,
            description=help_text,
            render_kw={"inputmode": "numeric", **_bounds(q, step="1")},
        )
    return FloatField(
        label,
        validators=validators,
        description=help_text,
        render_kw={"inputmode": "decimal", **_bounds(q, step="any")},
    )


def _bounds(q: NumberQuestion, step: str) -> dict[str, str]:
    kw = {"step": step}
    if q.min is not None:
        kw["min"] = number_text(q.min)
    if q.max is not None:
        kw["max"] = number_text(q.max)
    return kw


def variables(questionnaire: Questionnaire) -> list[str]:
    """The answer variables in order: question ids, grid row ids in place of grids, no info."""
    return questionnaire.answer_keys()


def build_form_class(questionnaire: Questionnaire, language: str) -> type[ReturnForm]:
    """A form class with one field per answer variable, labelled in ``language``."""

    def text(value) -> str:
        return questionnaire.text(value, language)

    def choices(q) -> list:
        if SelectChoice is None:  # pragma: no cover - older WTForms
            return [(c.code, text(c.label)) for c in questionnaire.choices_for(q)]
        return [SelectChoice(c.code, text(c.label)) for c in questionnaire.choices_for(q)]

    attrs: dict[str, Any] = {}
    for q in questionnaire.questions():
        label, help_text = text(q.text), text(q.help)
        if isinstance(q, NumberQuestion):
            attrs[q.id] = _number_field(q, label, help_text)
        elif isinstance(q, MultiChoiceQuestion):
            attrs[q.id] = CheckboxesField(
                label, choices=choices(q), coerce=int, description=help_text
            )
        elif isinstance(q, SingleChoiceQuestion | YesNoQuestion | LikertQuestion):
            attrs[q.id] = RadioField(
                label,
                choices=choices(q),
                coerce=int,
                validators=[Optional()],
                description=help_text,
            )
        elif isinstance(q, GridQuestion):
            for row in q.rows:
                attrs[row.id] = RadioField(
                    text(row.text), choices=choices(q), coerce=int, validators=[Optional()]
                )
        elif isinstance(q, TextQuestion):
            field_class = TextAreaField if q.long else StringField
            attrs[q.id] = field_class(
                label,
                validators=[
                    Optional(),
                    Length(
                        max=q.max_length,
                        message=_l("At most %(max)d characters, please.", max=q.max_length),
                    ),
                ],
                description=help_text,
                render_kw={"maxlength": str(q.max_length)},
            )
    return type(f"{questionnaire.id}_form", (ReturnForm,), attrs)


def answers_from_form(questionnaire: Questionnaire, form: ReturnForm) -> dict[str, Any]:
    """The form's answers by variable, per the storage contract; unanswered ones are left out."""
    answers: dict[str, Any] = {}
    for q in questionnaire.questions():
        if isinstance(q, InfoItem):
            continue
        if isinstance(q, GridQuestion):
            for row in q.rows:
                if form[row.id].data is not None:
                    answers[row.id] = int(form[row.id].data)
            continue
        data = form[q.id].data
        if isinstance(q, MultiChoiceQuestion):
            if data:
                answers[q.id] = sorted(set(data))
        elif isinstance(q, TextQuestion):
            if data and data.strip():
                answers[q.id] = data.strip()
        elif isinstance(q, NumberQuestion):
            if data is not None:
                answers[q.id] = int(data) if q.integer else float(data)
        elif data is not None:
            answers[q.id] = int(data)
    return answers


def form_data(questionnaire: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    """Stored answers as initial form data (the inverse of :func:`answers_from_form`)."""
    return {name: answers[name] for name in variables(questionnaire) if name in answers}


def check_required(questionnaire: Questionnaire, form: ReturnForm) -> bool:
    """Mark every unanswered required question on ``form``; True when none is missing."""
    answers = answers_from_form(questionnaire, form)
    ok = True
    for q in questionnaire.questions():
        if not q.required or isinstance(q, InfoItem):
            continue
        for name in answer_keys(q):
            if name not in answers and not form[name].errors:
                form[name].errors = [*form[name].errors, _l("Please answer this question.")]
                ok = False
    return ok


@dataclass
class LayoutItem:
    """One question on the page: its field(s), or the text of an info item."""

    question_id: str
    kind: str
    text: str
    help: str
    unit: str
    required: bool
    fields: list


@dataclass
class Section:
    title: str
    items: list[LayoutItem]


def layout(questionnaire: Questionnaire, form: ReturnForm, language: str) -> list[Section]:
    """The questionnaire's pages as sections of the single form page."""

    def text(value) -> str:
        return questionnaire.text(value, language)

    sections = []
    for page in questionnaire.pages:
        items = []
        for q in page.questions:
            fields = [form[key] for key in answer_keys(q)]
            unit = text(q.unit) if isinstance(q, NumberQuestion) else ""
            items.append(
                LayoutItem(q.id, q.type, text(q.text), text(q.help), unit, q.required, fields)
            )
        sections.append(Section(text(page.title), items))
    return sections
