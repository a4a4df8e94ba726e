"""Signed tokens made once per value, not once per serializer: the session cookie, the CSRF
token and the page token.

Why: an answered page checks three signatures (session cookie, CSRF token, page token) and
makes two (CSRF token, page token). Flask builds a new serializer for the session cookie on
every request (and its constructor serialises an empty dict to learn the serializer's
type); flask-wtf builds one for every CSRF token; and itsdangerous's URL-safe serializer
runs ``zlib.compress`` on every payload in case it shrinks, about 18 µs on this machine for
a token of 40 characters that never does. Signing and checking took about a tenth of an
answered page's CPU in the load profile, and these three were a good part of it.

The tokens are the same as before: the session cookie is Flask's own (its serializer is only
kept), and a CSRF token made here is one that flask-wtf's ``validate_csrf`` accepts (same
secret, salt and format; an uncompressed payload is one itsdangerous always reads).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from typing import Any

from flask import Flask, current_app, g, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin

#: flask-wtf's salt for CSRF tokens (flask_wtf.csrf.generate_csrf).
CSRF_SALT = "wtf-csrf-token"


class UncompressedSerializer(URLSafeTimedSerializer):
    """A URL-safe timed serializer that never tries zlib on the payload (tokens are short)."""

    def dump_payload(self, obj: Any) -> bytes:
        # The JSON of the plain serializer, skipping the URL-safe mixin's compression attempt.
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))


@lru_cache(maxsize=16)
def serializer(secret_key: str | bytes, salt: str) -> UncompressedSerializer:
    """One serializer per key and purpose, kept for the life of the process."""
    return UncompressedSerializer(secret_key, salt=salt)


def csrf_token() -> str:
    """This request's CSRF token, as flask-wtf's ``generate_csrf`` would make it.

    Templates call it as ``csrf_token()`` (:func:`init_app`); it is also left where
    flask-wtf looks for the request's token (``g``), so a FlaskForm's hidden field gives
    the same one.
    """
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(field)
    if token is None:
        raw = session.get(field)
        if not isinstance(raw, str):
            raw = hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324 - flask-wtf's own format
            session[field] = raw
        secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        token = serializer(secret, CSRF_SALT).dumps(raw)
        setattr(g, field, token)
    return token


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its serializer built once per set of keys."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        fallbacks = tuple(app.config.get("SECRET_KEY_FALLBACKS") or ())
        return self._serializer(app.secret_key, fallbacks)

    @lru_cache(maxsize=4)  # noqa: B019 - one interface per app, kept for the app's life
    def _serializer(
        self, secret_key: str | bytes, fallbacks: tuple[str | bytes, ...]
    ) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            [*fallbacks, secret_key],  # itsdangerous expects the current key last
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )


def init_app(app: Flask) -> None:
    """Must run after ``csrf.init_app``: templates' ``csrf_token()`` becomes ours (flask-wtf
    puts its own in the Jinja globals and in every template's context)."""
    app.session_interface = SessionInterface()
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
