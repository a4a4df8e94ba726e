"""Friendly error pages, and recovery of a pupil's page after a CSRF failure (pitfall 1).

A CSRF failure on a question page usually means the tablet's session was lost (idle
overnight, cookie cleared) while the page stayed on screen. The page's signed token says
which response it was drawn for, so the page is drawn again with the pupil's answers still
in it and a fresh CSRF token: pressing Next again saves them. A page from a *different*
pupil than the one now using the tablet is never recovered into the current pupil.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from .. import responses
from ..extensions import db
from ..forms import build_page_form
from ..models import Response
from ..questionnaire import navigation
from . import bp, views
from .question_page import questionnaire_language, render_page
from .tablet import current_response_id, ensure_tablet_id, response_from_token, start_pupil

AGAIN_NEXT = _l("Sorry, that did not work. We kept your answers: please press Next again.")
AGAIN_START = _l("Sorry, that did not work. Please press Start again.")


def _is_pupil() -> bool:
    return request.blueprint == "pupil"


@bp.app_errorhandler(CSRFError)
def csrf_error(exc: CSRFError):
    if not _is_pupil():
        return render_template("errors/csrf.html"), 400
    if request.endpoint == "pupil.page":
        recovered = _recover_page((request.view_args or {}).get("page_id", ""))
        if recovered is not None:
            return recovered
        return render_template("pupil/session_lost.html"), 400
    if request.endpoint == "pupil.start":
        code = request.form.get("code", "")[:40]
        return render_template("pupil/start.html", code=code, message=AGAIN_START), 400
    if request.endpoint == "pupil.next_pupil":
        # POST only (a GET of it is a 405): the start page has a fresh token.
        return redirect(url_for("pupil.start"), code=303)
    # Language and welcome buttons hold no answers: draw the page again with a fresh token.
    return redirect(request.path, code=303)


def _recover_page(page_id: str):
    session_id = current_response_id()
    # Restoring a lost session needs a fresh page; a matching session needs only a valid one.
    max_age = None if session_id is not None else current_app.config["PAGE_TOKEN_RECOVERY_SECONDS"]
    token_id = response_from_token(request.form.get("page_token"), max_age=max_age)
    if token_id is None or (session_id is not None and session_id != token_id):
        return None
    response = db.session.get(Response, token_id)
    if response is None:
        return None
    if response.completed_at is not None:
        return views._already_finished(409)
    if session_id is None:
        ensure_tablet_id()
        start_pupil(response.id)  # the signed page proves which pupil this is
    q = responses.questionnaire_for(response)
    current = views._page_or_none(q, page_id)
    stored = responses.load_answers(response.id)
    route = navigation.route(q, stored)
    if current is None or current.id not in route.page_ids():
        return None
    form = build_page_form(
        q,
        current,
        questionnaire_language(q),
        questions=route.visible_questions(current),
        stored=route.effective,
        formdata=request.form,
    )
    form.check(enforce_required=False)
    return render_page(current, form, response.id, route, status=400, notice=str(AGAIN_NEXT))


@bp.app_errorhandler(429)
def too_many_tries(exc):
    if _is_pupil():
        return render_template("pupil/locked.html"), 429
    return render_template("errors/429.html"), 429


@bp.app_errorhandler(404)
def not_found(exc):
    return render_template("errors/404.html"), 404


@bp.app_errorhandler(413)
def too_large(exc):
    return render_template("errors/413.html"), 413


@bp.app_errorhandler(500)
def server_error(exc):
    db.session.rollback()
    return render_template("errors/500.html"), 500
