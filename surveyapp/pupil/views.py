"""Pupil flow: code entry (typed or QR), language, welcome (assent), question pages, finish.

Views orchestrate; the rules live in :mod:`surveyapp.responses` (saving, completing),
:mod:`surveyapp.questionnaire.navigation` (skip logic), :mod:`surveyapp.forms` (parsing and
validating answers) and :mod:`surveyapp.codes` (what a code means).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from .. import responses
from ..codes import CodeState, resolve_code
from ..extensions import db, limiter
from ..forms import build_page_form
from ..i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language, set_language, text_direction
from ..models import Response
from ..questionnaire import navigation
from ..questionnaire.model import Page, Questionnaire
from . import bp
from .question_page import questionnaire_language, render_page
from .tablet import (
    clear_pupil,
    current_response_id,
    pupil_tablet_key,
    response_from_token,
    start_pupil,
)

ENTERS = {CodeState.ISSUED, CodeState.STARTED}
STATE_MESSAGES = {
    CodeState.UNKNOWN: _l("We could not find that code. Please check it and try again."),
    CodeState.REVOKED: _l("This card does not work any more. Please ask your teacher for help."),
    CodeState.REPLACED: _l(
        "This card has been swapped for a new one. Please use your new card, or ask your teacher."
    ),
    CodeState.EXPIRED: _l("This survey is not open right now. Please ask your teacher."),
    CodeState.COMPLETED: _l("You have already finished this survey. Thank you!"),
}
ACTIONS = ("next", "back", "stop")
MEDIA_SUFFIXES = {".mp3", ".ogg", ".oga", ".wav", ".m4a", ".png", ".jpg", ".jpeg", ".webp", ".svg"}
RETURN_SECONDS = 10


# --------------------------------------------------------------------------- code entry


def _code_rejected(_response: Any) -> bool:
    """Only wrong codes count towards the guessing limits."""
    return bool(g.get("code_rejected"))


def _start_page_get() -> bool:
    """Showing the start page is never limited; entering a code (POST, or a QR link) is."""
    return request.method == "GET" and request.endpoint == "pupil.start"


tablet_limit = limiter.shared_limit(
    lambda: current_app.config["CODE_ENTRY_LIMIT_TABLET"],
    scope="code-entry-tablet",
    key_func=pupil_tablet_key,
    deduct_when=_code_rejected,
    exempt_when=_start_page_get,
)
ip_limit = limiter.shared_limit(
    lambda: current_app.config["CODE_ENTRY_LIMIT_IP"],
    scope="code-entry-ip",
    key_func=get_remote_address,
    deduct_when=_code_rejected,
    exempt_when=_start_page_get,
)


@limiter.request_filter
def _question_pages_have_no_limit() -> bool:
    """Question pages carry no rate limit (only a limited code entry leads to them), so the
    busiest endpoint skips flask-limiter's per-request lookup of limits (seen in the profile)."""
    return request.endpoint == "pupil.page"


@bp.route("/", methods=["GET", "POST"])
@tablet_limit
@ip_limit
def start():
    if request.method == "POST":
        return _enter(request.form.get("code", ""))
    return render_template("pupil/start.html", code="", message=None)


@bp.route("/s/<code>")
@tablet_limit
@ip_limit
def scan(code: str):
    """The URL on the QR card: enter the code it carries."""
    return _enter(code, scanned=True)


def _enter(typed: str, scanned: bool = False):
    state, access = resolve_code(typed)
    if state in ENTERS and access is not None:
        response = responses.start_or_resume(access, current_language())
        if response.completed_at is None:
            clear_pupil(keep_language=True)
            start_pupil(response.id)
            return redirect(_after_entry(response))
        state = CodeState.COMPLETED
    g.code_rejected = state is CodeState.UNKNOWN
    return render_template(
        "pupil/start.html",
        code=typed[:40] if state is CodeState.UNKNOWN and not scanned else "",
        message=STATE_MESSAGES[state],
        state=str(state),
    ), (404 if state is CodeState.UNKNOWN and scanned else 200)


def _after_entry(response: Response) -> str:
    q = responses.questionnaire_for(response)
    if session.get("lang") not in _language_choices(q):
        return url_for("pupil.language")
    if response.current_page is None:
        return url_for("pupil.welcome")
    return url_for("pupil.resume")


# --------------------------------------------------------------------------- helpers


def _language_choices(q: Questionnaire | None) -> dict[str, str]:
    """Languages the pupil may pick: the questionnaire's, where the UI is translated too."""
    if q is None:
        return dict(LANGUAGES)
    names = {
        code: q.language_names.get(code) or LANGUAGES[code]
        for code in q.languages
        if code in LANGUAGES
    }
    return names or {DEFAULT_LANGUAGE: LANGUAGES[DEFAULT_LANGUAGE]}


def _current_response() -> Response | None:
    response_id = current_response_id()
    if response_id is None:
        return None
    response = db.session.get(Response, response_id)
    if response is None:
        clear_pupil(keep_language=True)
    return response


def _no_pupil():
    """Nobody is signed in on this tablet: back to the start page."""
    return redirect(url_for("pupil.start"))


def _already_finished(status: int = 200):
    clear_pupil(keep_language=True)
    return render_template("pupil/already_finished.html", return_seconds=RETURN_SECONDS), status


def _no_store(resp):
    """Shared tablets: never let the back button show a page from the browser cache."""
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.after_request
def _pupil_headers(resp):
    if request.endpoint != "pupil.media":
        _no_store(resp)
    return resp


# --------------------------------------------------------------------------- language


@bp.route("/language", methods=["GET", "POST"])
def language():
    response = _current_response()
    q = responses.questionnaire_for(response) if response is not None else None
    choices = _language_choices(q)
    error = None
    if request.method == "POST":
        chosen = request.form.get("lang", "")
        if chosen in choices and set_language(chosen):
            if response is None:
                return redirect(url_for("pupil.start"))
            if response.completed_at is not None:
                return _already_finished()
            try:
                responses.save_answers(response.id, {}, language=chosen)
            except responses.ResponseCompletedError:
                return _already_finished()
            if response.current_page is None:
                return redirect(url_for("pupil.welcome"))
            return redirect(url_for("pupil.resume"))
        error = _l("Please choose one of the languages.")
    return render_template(
        "pupil/language.html",
        choices=[(code, name, text_direction(code)) for code, name in choices.items()],
        error=error,
        has_pupil=response is not None,
    ), (422 if error else 200)


# --------------------------------------------------------------------------- welcome


@bp.route("/welcome", methods=["GET", "POST"])
def welcome():
    response = _current_response()
    if response is None:
        return _no_pupil()
    if response.completed_at is not None:
        return _already_finished(409 if request.method == "POST" else 200)
    if request.method == "POST":
        if request.form.get("action") == "stop":
            return _stop()
        q = responses.questionnaire_for(response)
        answers = responses.load_answers(response.id)
        page = responses.resume_page(q, response, answers)
        if page is None:
            return _finish(response, q)
        try:
            responses.set_position(
                response.id,
                page.id,
                navigation.route(q, answers).progress(page.id),
                language=current_language(),
            )
        except responses.ResponseCompletedError:
            return _already_finished(409)
        return redirect(url_for("pupil.page", page_id=page.id))
    return render_template("pupil/welcome.html")


@bp.route("/continue")
def resume():
    """Carry on where this pupil stopped."""
    response = _current_response()
    if response is None:
        return _no_pupil()
    if response.completed_at is not None:
        return _already_finished()
    q = responses.questionnaire_for(response)
    page = responses.resume_page(q, response, responses.load_answers(response.id))
    if page is None:
        return redirect(url_for("pupil.welcome"))
    return redirect(url_for("pupil.page", page_id=page.id))


# --------------------------------------------------------------------------- question pages


def _page_or_none(q: Questionnaire, page_id: str) -> Page | None:
    try:
        return q.page(page_id)
    except KeyError:
        return None


@bp.route("/q/<page_id>", methods=["GET", "POST"])
def page(page_id: str):
    # The busiest view: the response and its answers come in one query.
    response_id = current_response_id()
    loaded = responses.load_state(response_id) if response_id is not None else None
    if loaded is None:
        if response_id is not None:
            clear_pupil(keep_language=True)
        return _no_pupil()
    response, stored = loaded
    if response.completed_at is not None:
        return _already_finished(409 if request.method == "POST" else 200)
    q = responses.questionnaire_for(response)
    current = _page_or_none(q, page_id)
    route = navigation.route(q, stored)
    if current is None or current.id not in route.page_ids():
        return redirect(url_for("pupil.resume"))

    if request.method == "POST":
        if response_from_token(request.form.get("page_token")) != response.id:
            # A page left open from an earlier pupil on this tablet: never write it here.
            return render_template("pupil/stale_page.html"), 409
        return _submit(q, response, current, stored, route)

    if not request.args.get("check"):
        return render_page(current, None, response.id, route)
    form = build_page_form(
        q,
        current,
        questionnaire_language(q),
        questions=route.visible_questions(current),
        stored=route.effective,
    )
    form.check(enforce_required=True)
    return render_page(current, form, response.id, route)


def _submit(
    q: Questionnaire,
    response: responses.ResponseState,
    current: Page,
    stored: dict[str, Any],
    route: navigation.Route,
):
    action = request.form.get("action", "next")
    if action not in ACTIONS:
        action = "next"
    qlang = questionnaire_language(q)
    form = build_page_form(
        q,
        current,
        qlang,
        questions=route.visible_questions(current),
        stored=route.effective,
        formdata=request.form,
    )
    form.check(enforce_required=action == "next")
    # Conditions only read earlier pages (the loader checks this), so this page's answers
    # never change which of its own questions are shown.
    to_save = form.valid_answers()
    merged = dict(stored)
    for key, value in to_save.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    after = navigation.route(q, merged)
    lang = current_language()

    try:
        if action == "stop":
            responses.save_answers(response.id, to_save, language=lang)
            return _stop()
        if form.has_errors:
            # Stay on the page: keep what is valid, show the rest with its message.
            responses.save_answers(response.id, to_save, language=lang)
            return render_page(current, form, response.id, after, status=422)
        if action == "back":
            previous = after.previous_page(current.id)
            target = previous or current
            responses.save_answers(
                response.id,
                to_save,
                current_page=target.id,
                position=after.progress(target.id),
                language=lang,
            )
            if previous is None:
                return redirect(url_for("pupil.welcome"))
            return redirect(url_for("pupil.page", page_id=previous.id))
        following = after.next_page(current.id)
        if following is not None:
            responses.save_answers(
                response.id,
                to_save,
                current_page=following.id,
                position=after.progress(following.id),
                language=lang,
            )
            # The next page comes back in this reply, not behind a redirect: one request per
            # answered page instead of two. Content-Location (and pupil.js, which puts the
            # page's own URL in the address bar) keeps reload and Back on plain GETs.
            return render_page(following, None, response.id, after)
        responses.save_answers(response.id, to_save, current_page=current.id, language=lang)
    except responses.ResponseCompletedError:
        return _already_finished(409)
    return _finish(response, q)


def _finish(response: Response | responses.ResponseState, q: Questionnaire):
    answers = responses.load_answers(response.id)
    missing = responses.missing_required(q, answers)
    if missing is not None:
        # Only reachable by skipping pages by hand: send the pupil to what is missing.
        return redirect(url_for("pupil.page", page_id=missing[0].id, check=1))
    if not responses.complete(response.id, q):
        return _already_finished(409)
    session.pop("response_id", None)
    session["finished"] = "done"
    return redirect(url_for("pupil.done"))


def _stop():
    session.pop("response_id", None)
    session["finished"] = "stopped"
    return redirect(url_for("pupil.stopped"))


# --------------------------------------------------------------------------- the end


@bp.route("/done")
def done():
    if session.get("finished") != "done":
        return _no_pupil()
    html = render_template("pupil/done.html", return_seconds=RETURN_SECONDS)
    clear_pupil()  # the tablet is ready for the next pupil, in their own language
    return html


@bp.route("/stopped")
def stopped():
    if session.get("finished") != "stopped":
        return _no_pupil()
    html = render_template("pupil/stopped.html", return_seconds=RETURN_SECONDS)
    clear_pupil()
    return html


@bp.route("/next-pupil", methods=["POST"])
def next_pupil():
    clear_pupil()
    return redirect(url_for("pupil.start"))


# --------------------------------------------------------------------------- media


@bp.route("/media/<path:filename>")
def media(filename: str):
    """Audio and pictures named in the questionnaire files, from the questionnaire folder."""
    if Path(filename).suffix.lower() not in MEDIA_SUFFIXES:
        abort(404)
    return send_from_directory(
        Path(current_app.config["QUESTIONNAIRE_DIR"]).resolve(), filename, max_age=86400
    )
