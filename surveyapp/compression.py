"""Gzip for pupil pages and their static files (a pupil page must stay under 30 KB on the wire).

Flask serves static files as pass-through streams, which Flask-Compress leaves alone; ours
are small (a few KB), so they are read and compressed like pages. No compressed-response
cache: a cache keyed by URL could hand one pupil's page to another.
"""

from __future__ import annotations

from flask import Flask, Response, request

from .extensions import compress


def _read_static(response: Response) -> Response:
    if request.endpoint == "static" and response.direct_passthrough and response.status_code == 200:
        response.direct_passthrough = False
        response.set_data(response.get_data())  # a buffered body, so it can be compressed
    return response


def init_app(app: Flask) -> None:
    compress.init_app(app)
    # Registered after Flask-Compress, so it runs before it (after_request runs in reverse).
    app.after_request(_read_static)
