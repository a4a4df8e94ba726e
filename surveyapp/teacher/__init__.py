"""Blueprint: teacher."""

from flask import Blueprint

bp = Blueprint("teacher", __name__)

from . import provision, views  # noqa: E402,F401
