"""Login and password forms (Flask-WTF: every form carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Enter your username.")), Length(max=120)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordChangeForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a new password.")), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        _l("New password again"),
        validators=[EqualTo("new", _l("The two new passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )


class EmptyForm(FlaskForm):
    """A form with only its CSRF token (log out, and action buttons)."""
