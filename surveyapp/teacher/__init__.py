"""Blueprint: teacher."""

from flask import Blueprint

bp = Blueprint("teacher", __name__)

from . import views  # noqa: E402,F401
