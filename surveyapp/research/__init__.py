"""Blueprint: research."""

from flask import Blueprint

bp = Blueprint("research", __name__)

from . import views  # noqa: E402,F401
from . import exports, plots  # noqa: E402,F401
