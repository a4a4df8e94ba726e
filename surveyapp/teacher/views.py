"""Teacher's area: classes, issuing and printing cards, replacing and revoking, live progress.

Every URL is scoped to the schools the user may see (``auth.access``): another school's class,
participant or wave answers 404, so a page never confirms that it exists. The card sheet is the
response to the POST that issued the codes: the clear codes are never stored, so the page is
sent with ``Cache-Control: no-store`` and a reload cannot issue a second batch.
"""

from __future__ import annotations

import secrets

from flask import abort, flash, jsonify, make_response, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..admin.forms import choices
from ..auth.access import (
    STAFF_ROLES,
    class_or_404,
    participant_or_404,
    roles_required,
    visible_school_ids,
    wave_for_school_or_404,
)
from ..auth.forms import EmptyForm
from ..cards import build_cards, sheet_pages
from ..changes import commit_or_flash
from ..extensions import db
from ..models import School, SchoolClass, Wave
from ..participants import (
    IssuedCard,
    ParticipantError,
    issue_cards,
    mark_left,
    mark_returned,
    move_participant,
    replace_code,
    returning_participants,
    revoke_code,
)
from ..progress import class_progress
from . import bp
from .forms import IssueForm, MoveForm, ReprintForm
from .labels import STATE_LABELS, state_label

BATCHES_REMEMBERED = 30


@bp.before_request
@roles_required(*STAFF_ROLES)
def _staff_only() -> None:
    """Every page here needs a logged-in staff member; school scoping is per view."""
    return None


def _visible_schools() -> list[School]:
    allowed = visible_school_ids(current_user)
    query = db.select(School).order_by(School.code)
    if allowed is not None:
        query = query.filter(School.id.in_(allowed or [-1]))
    return list(db.session.execute(query).scalars())


def _waves_for(school: School) -> list[Wave]:
    return list(
        db.session.execute(
            db.select(Wave).filter_by(study_id=school.study_id).order_by(Wave.position)
        ).scalars()
    )


def _class_and_wave(class_id: int, wave_id: int) -> tuple[SchoolClass, Wave]:
    school_class = class_or_404(class_id)
    return school_class, wave_for_school_or_404(wave_id, school_class.school)


def _sheet_response(issued: list[IssuedCard], title: str, back_url: str):
    """The printable card sheet, never cached: it holds clear codes."""
    cards = build_cards(issued)
    html = render_template(
        "teacher/cards.html",
        pages=sheet_pages(cards),
        count=len(cards),
        title=title,
        back_url=back_url,
    )
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store, max-age=0"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.route("/")
def index():
    schools = _visible_schools()
    overview = []
    for school in schools:
        open_waves = [w for w in _waves_for(school) if w.is_open]
        classes = [(c, {w.id: class_progress(c, w) for w in open_waves}) for c in school.classes]
        overview.append((school, open_waves, classes))
    return render_template("teacher/index.html", overview=overview, state_label=state_label)


@bp.route("/classes/<int:class_id>")
def class_detail(class_id: int):
    school_class = class_or_404(class_id)
    waves = _waves_for(school_class.school)
    progress = {w.id: class_progress(school_class, w) for w in waves}
    other_classes = [c for c in school_class.school.classes if c.id != school_class.id]
    move_form = MoveForm(formdata=None)
    move_form.class_id.choices = choices((c.id, c.name) for c in other_classes)
    return render_template(
        "teacher/class.html",
        school_class=school_class,
        waves=waves,
        progress=progress,
        move_form=move_form,
        other_classes=other_classes,
        state_label=state_label,
    )


@bp.route("/classes/<int:class_id>/waves/<int:wave_id>/issue", methods=["GET", "POST"])
def issue(class_id: int, wave_id: int):
    school_class, wave = _class_and_wave(class_id, wave_id)
    form = IssueForm()
    returning = returning_participants(school_class, wave)
    back_url = url_for("teacher.progress", class_id=class_id, wave_id=wave_id)
    if form.validate_on_submit():
        used = session.get("issued_batches", [])
        if form.batch.data in used:
            flash(
                _(
                    "These cards were issued already (the page was sent twice). If the sheet "
                    "did not print, choose the pupils below and print new cards for them."
                ),
                "error",
            )
            return redirect(back_url)
        clash = _("Cards for this class were being issued at the same moment; please try again.")
        with commit_or_flash(ParticipantError, conflict=clash) as change:
            issued = issue_cards(school_class, wave, form.count.data, current_user.id)
        if change.saved:
            session["issued_batches"] = (used + [form.batch.data])[-BATCHES_REMEMBERED:]
            title = _("%(cls)s, %(wave)s", cls=school_class.name, wave=wave.label)
            return _sheet_response(issued, title, back_url)
    if not form.is_submitted():
        form.count.data = max(len(returning), 1) if returning else None
    form.batch.data = secrets.token_urlsafe(12)
    return render_template(
        "teacher/issue.html",
        form=form,
        school_class=school_class,
        wave=wave,
        returning=returning,
    )


@bp.route("/classes/<int:class_id>/waves/<int:wave_id>")
def progress(class_id: int, wave_id: int):
    school_class, wave = _class_and_wave(class_id, wave_id)
    data = class_progress(school_class, wave)
    return render_template(
        "teacher/progress.html",
        school_class=school_class,
        wave=wave,
        progress=data,
        state_label=state_label,
        states=STATE_LABELS,
        reprint_form=ReprintForm(formdata=None),
    )


@bp.route("/classes/<int:class_id>/waves/<int:wave_id>/progress.json")
def progress_json(class_id: int, wave_id: int):
    school_class, wave = _class_and_wave(class_id, wave_id)
    data = class_progress(school_class, wave).as_json()
    for row in data["participants"]:
        row["state_label"] = state_label(row["state"])
    data["count_labels"] = {s: state_label(s) for s in data["counts"]}
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/classes/<int:class_id>/waves/<int:wave_id>/reprint", methods=["POST"])
def reprint(class_id: int, wave_id: int):
    """New cards for chosen pupils of one class (printer jam, lost sheet): old codes stop."""
    school_class, wave = _class_and_wave(class_id, wave_id)
    back_url = url_for("teacher.progress", class_id=class_id, wave_id=wave_id)
    data = class_progress(school_class, wave)
    form = ReprintForm()
    form.participants.choices = choices(
        (r.participant_id, r.label) for r in data.rows if r.can_replace
    )
    if not form.validate_on_submit() or not form.participants.data:
        flash(
            _("Choose the pupils who need a new card (only pupils who have not finished)."), "error"
        )
        return redirect(back_url)
    chosen = set(form.participants.data)
    participants = [p for p in school_class.participants if p.id in chosen]
    with commit_or_flash(ParticipantError, conflict=_("Please try again.")) as change:
        issued = [replace_code(p, wave, current_user.id) for p in participants]
    if not change.saved:
        return redirect(back_url)
    title = _("%(cls)s, %(wave)s: new cards", cls=school_class.name, wave=wave.label)
    return _sheet_response(issued, title, back_url)


@bp.route("/participants/<participant_id>/waves/<int:wave_id>/replace", methods=["POST"])
def replace(participant_id: str, wave_id: int):
    participant = participant_or_404(participant_id)
    wave = wave_for_school_or_404(wave_id, participant.school)
    back_url = url_for("teacher.progress", class_id=participant.class_id, wave_id=wave.id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with commit_or_flash(ParticipantError, conflict=_("Please try again.")) as change:
        card = replace_code(participant, wave, current_user.id)
    if not change.saved:
        return redirect(back_url)
    title = _("New card for %(label)s", label=participant.label)
    return _sheet_response([card], title, back_url)


@bp.route("/participants/<participant_id>/waves/<int:wave_id>/revoke", methods=["POST"])
def revoke(participant_id: str, wave_id: int):
    participant = participant_or_404(participant_id)
    wave = wave_for_school_or_404(wave_id, participant.school)
    if not EmptyForm().validate_on_submit():
        abort(400)
    with commit_or_flash(ParticipantError) as change:
        revoke_code(participant, wave, current_user.id)
    if change.saved:
        flash(_("The card of %(label)s no longer works.", label=participant.label), "info")
    return redirect(url_for("teacher.progress", class_id=participant.class_id, wave_id=wave.id))


def _participant_action(participant_id: str, action) -> str:
    participant = participant_or_404(participant_id)
    class_id = participant.class_id
    if not EmptyForm().validate_on_submit():
        abort(400)
    with commit_or_flash(ParticipantError) as change:
        message = action(participant)
    if change.saved:
        flash(message, "info")
    return redirect(url_for("teacher.class_detail", class_id=class_id))


@bp.route("/participants/<participant_id>/left", methods=["POST"])
def left(participant_id: str):
    def action(p):
        mark_left(p, current_user.id)
        return _(
            "%(label)s is marked as left; their unfinished cards no longer work.", label=p.label
        )

    return _participant_action(participant_id, action)


@bp.route("/participants/<participant_id>/returned", methods=["POST"])
def returned(participant_id: str):
    def action(p):
        mark_returned(p, current_user.id)
        return _("%(label)s is back and can be given cards again.", label=p.label)

    return _participant_action(participant_id, action)


@bp.route("/participants/<participant_id>/move", methods=["POST"])
def move(participant_id: str):
    participant = participant_or_404(participant_id)
    old_class_id = participant.class_id
    form = MoveForm()
    form.class_id.choices = choices(
        (c.id, c.name) for c in participant.school.classes if c.id != old_class_id
    )
    if not form.validate_on_submit():
        flash(_("Choose one of this school's other classes."), "error")
        return redirect(url_for("teacher.class_detail", class_id=old_class_id))
    new_class = class_or_404(form.class_id.data)
    with commit_or_flash(ParticipantError) as change:
        move_participant(participant, new_class, current_user.id)
    if change.saved:
        flash(
            _(
                "%(label)s is now in %(cls)s (same pupil number).",
                label=participant.label,
                cls=new_class.name,
            ),
            "info",
        )
    return redirect(url_for("teacher.class_detail", class_id=old_class_id))
