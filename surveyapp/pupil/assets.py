"""Static files with content-hashed URLs, so browsers may keep them for a year.

``asset_url('css/app.css')`` gives ``/static/css/app.css?v=<hash>``; a request carrying
``v`` is answered with ``Cache-Control: public, max-age=31536000, immutable``. Plain static
URLs keep the default max-age (``SEND_FILE_MAX_AGE_DEFAULT``).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app, request, url_for
from markupsafe import Markup

from . import bp

IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=256)
def _file_hash(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]


# Outside debug mode static files do not change while the server runs: one stat and one
# URL build per file per process instead of one per icon on every page (the load profile
# showed both). Keyed by the script root too, in case the app is mounted under a prefix.
_urls: dict[tuple[str, str], str] = {}


@bp.app_template_global()
def asset_url(filename: str) -> str:
    key = (request.script_root, filename)
    if not current_app.debug and key in _urls:
        return _urls[key]
    path = Path(current_app.static_folder or "") / filename
    try:
        version = _file_hash(str(path), path.stat().st_mtime_ns)
    except OSError:
        return url_for("static", filename=filename)
    url = url_for("static", filename=filename, v=version)
    _urls[key] = url
    return url


@bp.after_app_request
def _static_cache(response):
    if request.endpoint == "static" and request.args.get("v") and response.status_code == 200:
        response.headers["Cache-Control"] = IMMUTABLE
    return response


@bp.app_template_global()
def icon(name: str, css_class: str = "icon") -> Markup:
    """An icon from the pupil sprite, hidden from screen readers (the words carry the meaning)."""
    return _icon_markup(asset_url("img/pupil.svg"), name, css_class)


@lru_cache(maxsize=512)
def _icon_markup(sprite_url: str, name: str, css_class: str) -> Markup:
    href = f"{sprite_url}#{name}"
    return Markup(
        '<svg class="{}" aria-hidden="true" focusable="false"><use href="{}"></use></svg>'
    ).format(css_class, href)
