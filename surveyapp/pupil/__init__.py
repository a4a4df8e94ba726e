"""Blueprint: pupil."""

from flask import Blueprint

bp = Blueprint("pupil", __name__)

from . import views  # noqa: E402,F401
