"""Blueprint: research."""

from flask import Blueprint

bp = Blueprint("research", __name__)

from . import exports, plots, views  # noqa: E402,F401 - each module registers its pages
