"""Teacher forms: issuing cards, reprinting, moving a pupil to another class."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from ..participants import MAX_CARDS_PER_BATCH


class IssueForm(FlaskForm):
    count = IntegerField(
        _l("Number of cards"),
        validators=[
            InputRequired(_l("Enter how many cards to print.")),
            NumberRange(
                min=1,
                max=MAX_CARDS_PER_BATCH,
                message=_l("Choose between 1 and %(n)d cards.", n=MAX_CARDS_PER_BATCH),
            ),
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_CARDS_PER_BATCH},
    )
    # One token per form shown, so pressing reload on the printed sheet cannot issue twice.
    batch = HiddenField(validators=[DataRequired()])


class ReprintForm(FlaskForm):
    participants = SelectMultipleField(_l("Pupils"), choices=[], validate_choice=True)


class MoveForm(FlaskForm):
    class_id = SelectField(_l("Move to class"), coerce=int, choices=[])
