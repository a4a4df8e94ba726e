"""Blueprint: pupil (code entry, language, welcome, question pages, finish), at /."""

from flask import Blueprint

bp = Blueprint("pupil", __name__)

from . import assets, errors, views  # noqa: E402,F401
