"""Signed tokens made with kept serializers (:mod:`surveyapp.signing`) are the same tokens
Flask and flask-wtf make and accept: a deploy logs no tablet out and breaks no open page."""

from __future__ import annotations

import pytest
from flask import g, render_template_string, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import URLSafeTimedSerializer
from wtforms.validators import ValidationError

from surveyapp.signing import CSRF_SALT, SessionInterface, UncompressedSerializer, csrf_token


def test_uncompressed_tokens_are_read_by_the_standard_serializer():
    long_and_repetitive = "a" * 200  # the standard serializer would compress this one
    ours = UncompressedSerializer("key", salt="s").dumps(long_and_repetitive)
    assert not ours.startswith(".")  # "." marks a compressed payload
    assert URLSafeTimedSerializer("key", salt="s").loads(ours) == long_and_repetitive
    theirs = URLSafeTimedSerializer("key", salt="s").dumps(long_and_repetitive)
    assert theirs.startswith(".")
    assert UncompressedSerializer("key", salt="s").loads(theirs) == long_and_repetitive


def test_our_csrf_token_is_one_flask_wtf_accepts_and_renders(app):
    with app.test_request_context("/"):
        token = csrf_token()
        assert csrf_token() is token  # once per request
        assert generate_csrf() == token  # what a FlaskForm's hidden field puts in the page
        assert render_template_string("{{ csrf_token() }}") == token  # what templates do
        # ... and templates call ours, not flask-wtf's (its context processor included):
        assert render_template_string("{{ csrf_token.__module__ }}") == "surveyapp.signing"
        validate_csrf(token)
        assert (
            URLSafeTimedSerializer(app.secret_key, salt=CSRF_SALT).loads(token)
            == session["csrf_token"]
        )
    with app.test_request_context("/"):
        g.pop("csrf_token", None)
        session["csrf_token"] = "another session's raw token"
        with pytest.raises(ValidationError):
            validate_csrf(token)


def test_flask_wtf_tokens_still_pass_after_ours_took_over(app):
    with app.test_request_context("/"):
        theirs = generate_csrf()
        raw = session["csrf_token"]
    with app.test_request_context("/"):
        g.pop("csrf_token", None)  # the fixture's app context outlives a request: a new one
        session["csrf_token"] = raw
        validate_csrf(theirs)
        ours = csrf_token()
        validate_csrf(ours)


def _cookie(interface, app, data: dict) -> str:
    return interface.get_signing_serializer(app).dumps(data)


def test_session_cookies_are_flasks_own_and_old_keys_still_open_them(app):
    ours, flasks = SessionInterface(), SecureCookieSessionInterface()
    assert isinstance(app.session_interface, SessionInterface)
    data = {"tablet_id": "t1", "response_id": 7, "lang": "cy"}
    assert flasks.get_signing_serializer(app).loads(_cookie(ours, app, data)) == data
    assert ours.get_signing_serializer(app).loads(_cookie(flasks, app, data)) == data
    assert ours.get_signing_serializer(app) is ours.get_signing_serializer(app)

    old_cookie = _cookie(ours, app, data)
    old_key, new_key = app.secret_key, "a new key " + "x" * 40
    try:
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        app.secret_key = new_key
        assert ours.get_signing_serializer(app).loads(old_cookie) == data
        new_cookie = _cookie(ours, app, data)
        app.config["SECRET_KEY_FALLBACKS"] = []
        assert ours.get_signing_serializer(app).loads(new_cookie) == data
        with pytest.raises(Exception, match="Signature"):
            ours.get_signing_serializer(app).loads(old_cookie)
    finally:
        app.secret_key = old_key
        app.config["SECRET_KEY_FALLBACKS"] = []
