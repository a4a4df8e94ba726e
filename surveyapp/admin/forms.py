"""Admin forms: users, schools, classes, CSV import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..models import ROLES

try:  # WTForms 3.3 deprecates (value, label) tuples; older versions know only tuples.
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - WTForms < 3.3
    SelectChoice = None


def choices(pairs) -> list:
    """Select options from (value, label) pairs, in the form this WTForms expects."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value=value, label=label) for value, label in pairs]


ROLE_LABELS = {
    "admin": _l("Admin"),
    "researcher": _l("Researcher"),
    "teacher": _l("Teacher"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Enter a username.")), Length(max=120)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    role = SelectField(_l("Role"), choices=choices((r, ROLE_LABELS[r]) for r in ROLES))
    schools = MultiCheckboxField(_l("Schools (teachers only)"), coerce=int, validate_choice=True)
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter a password.")), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )


class UserEditForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices((r, ROLE_LABELS[r]) for r in ROLES))
    schools = MultiCheckboxField(_l("Schools (teachers only)"), coerce=int, validate_choice=True)
    active = BooleanField(_l("Active (can log in)"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a password.")), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[EqualTo("password", _l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )


class SchoolForm(FlaskForm):
    name = StringField(
        _l("School name"),
        validators=[DataRequired(_l("Enter the school's name.")), Length(max=200)],
    )
    arm = SelectField(_l("Arm"), choices=[])
    stratum = StringField(_l("Stratum (optional)"), validators=[Optional(), Length(max=64)])


class ClassForm(FlaskForm):
    name = StringField(
        _l("Class name"),
        validators=[DataRequired(_l("Enter the class name, such as 5B.")), Length(max=20)],
    )
    year_group = StringField(_l("Year group (optional)"), validators=[Optional(), Length(max=3)])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])
