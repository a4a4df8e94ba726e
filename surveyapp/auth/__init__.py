"""Blueprint: login, logout, roles and school scoping."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import access, views  # noqa: E402,F401
