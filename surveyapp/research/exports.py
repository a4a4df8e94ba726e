"""Research area: queue an anonymised export, watch the export log, download the file.

The view only orchestrates. Posting the form queues the export
(:func:`surveyapp.export_jobs.queue_export`); a worker thread makes it off the request. The
log page shows each export's status, refreshed by a little script polling
``exports/status`` (a plain reload link without JavaScript), and offers the zip once it is
done. Downloads are for researchers and admins only and are logged.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import CheckboxInput, ListWidget

from .. import audit
from ..auth.access import roles_required
from ..export_jobs import (
    ACTIVE,
    DONE,
    EXPIRED,
    FAILED,
    QUEUED,
    RUNNING,
    queue_export,
    recover_stale,
    retention,
    stored_file,
)
from ..export_query import options_for, policy_for
from ..exporting import FORMATS, ExportOptionsError
from ..exporting.options import FORMAT_NAMES, MIN_K
from ..extensions import db
from ..i18n import current_language
from ..models import ExportRecord, User
from ..questionnaire.model import localise
from . import bp
from .views import RESEARCH_ROLES, study_or_404

LOG_LENGTH = 20

try:  # WTForms 3.3 deprecates (value, label) tuples in favour of SelectChoice.
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None


def _choices(pairs) -> list:
    pairs = list(pairs)
    return pairs if SelectChoice is None else [SelectChoice(v, label) for v, label in pairs]


TIME_LABELS = {
    "term": _l("School term (e.g. 2026-autumn)"),
    "week": _l("Week (e.g. 2026-W37)"),
    "date": _l("Date (no time of day)"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ExportForm(FlaskForm):
    waves = MultiCheckboxField(_l("Waves (none ticked: every wave)"), validate_choice=True)
    arms = MultiCheckboxField(_l("Arms (none ticked: every arm)"), validate_choice=True)
    formats = MultiCheckboxField(
        _l("Formats"),
        choices=_choices((f, FORMAT_NAMES[f]) for f in FORMATS),
        validate_choice=True,
        validators=[InputRequired(_l("Choose at least one format."))],
    )
    language = SelectField(_l("Language of labels"))
    time_resolution = SelectField(_l("Dates shown as"), choices=_choices(TIME_LABELS.items()))
    k = IntegerField(
        _l("Smallest group shown (k)"),
        validators=[InputRequired(_l("Enter k, a whole number."))],
    )
    include_free_text = BooleanField(_l("Include free-text answers"))
    unlinkable = BooleanField(_l("Unlinkable pseudonyms (a fresh key for this export only)"))
    long_format = BooleanField(_l("Also a long file (one row per answer)"))
    bom = BooleanField(_l("CSV with a byte-order mark (for Excel)"))


def _form(design, study) -> ExportForm:
    policy = policy_for(study)
    form = ExportForm()
    language = current_language()
    form.waves.choices = _choices((w.key, f"{w.label} ({w.key})") for w in study.waves)
    form.arms.choices = _choices((a.id, localise(a.label, language)) for a in design.arms)
    languages = list(
        dict.fromkeys(
            lang
            for w in study.waves
            if w.questionnaire_id in _catalog_questionnaires()
            for lang in _catalog_questionnaires()[w.questionnaire_id].languages
        )
    ) or ["en"]
    form.language.choices = _choices((lang, lang) for lang in languages)
    minimum = policy.k if policy is not None else MIN_K
    form.k.validators = [
        InputRequired(_l("Enter k, a whole number.")),
        NumberRange(
            min=minimum,
            message=_l(
                "k must be at least %(k)s: the study sets it; an export may only raise it.",
                k=minimum,
            ),
        ),
    ]
    if not form.is_submitted():
        form.formats.data = ["csv", "xlsx"]
        form.language.data = language if language in languages else languages[0]
        if policy is not None:
            form.k.data = policy.k
            form.time_resolution.data = policy.time_resolution
            form.include_free_text.data = policy.include_free_text
            form.unlinkable.data = policy.unlinkable
        else:
            form.k.data = 5
    return form


def _catalog_questionnaires() -> dict:
    from ..catalog import get_catalog

    return get_catalog().questionnaires


def status_label(record: ExportRecord) -> str:
    if record.status == EXPIRED:
        hours = int(retention().total_seconds() // 3600)
        return _("Deleted (files are kept for %(hours)s hours)", hours=hours)
    return {
        QUEUED: _("Waiting"),
        RUNNING: _("Being made"),
        DONE: _("Ready"),
        FAILED: _("Failed"),
    }.get(record.status, record.status)


def _history(study) -> list[tuple[ExportRecord, str]]:
    rows = db.session.execute(
        db.select(ExportRecord, User.username)
        .outerjoin(User, User.id == ExportRecord.user_id)
        .where(ExportRecord.study_key == study.key)
        .order_by(ExportRecord.at.desc(), ExportRecord.id.desc())
        .limit(LOG_LENGTH)
    ).all()
    return [(record, username or _("command line")) for record, username in rows]


def _entry(record: ExportRecord) -> dict:
    """One export as the status endpoint reports it."""
    ready = stored_file(record) is not None
    return {
        "id": record.id,
        "status": record.status,
        "status_label": status_label(record),
        "error": record.error or "",
        "rows": record.row_count if record.status == DONE else None,
        "protection": (record.options or {}).get("protection", ""),
        "warnings": list((record.options or {}).get("warnings") or []),
        "download_url": url_for("research.export_file", export_id=record.id) if ready else None,
        "filename": record.filename,
        "sha256": record.sha256,
    }


def _page(form: ExportForm, study, status: int = 200):
    recover_stale()  # exports left running by a process that died are failed, with a message
    history = _history(study)
    return render_template(
        "research/exports.html",
        form=form,
        history=history,
        entries={record.id: _entry(record) for record, _who in history},
        active=any(record.status in ACTIVE for record, _who in history),
        retention_hours=int(retention().total_seconds() // 3600),
    ), status


@bp.route("/exports", methods=["GET"])
@roles_required(*RESEARCH_ROLES)
def exports():
    design, study = study_or_404()
    return _page(_form(design, study), study)


@bp.route("/exports", methods=["POST"])
@roles_required(*RESEARCH_ROLES)
def export_queue():
    design, study = study_or_404()
    form = _form(design, study)
    if not form.validate_on_submit():
        return _page(form, study, 400)
    try:
        options = options_for(
            study,
            formats=form.formats.data,
            waves=form.waves.data,
            arms=form.arms.data,
            k=form.k.data,
            time_resolution=form.time_resolution.data,
            include_free_text=form.include_free_text.data,
            unlinkable=form.unlinkable.data,
            language=form.language.data,
            bom=form.bom.data,
            long_format=form.long_format.data,
            zip=True,
        )
    except ExportOptionsError as exc:
        form.formats.errors = [*form.formats.errors, str(exc)]
        return _page(form, study, 400)
    record = queue_export(study, options, current_user.id)
    if options.include_free_text:
        flash(
            _(
                "This export includes free-text answers. Pupils may have written names or "
                "other identifying details: review them before sharing."
            ),
            "warning",
        )
    flash(
        _(
            "Export %(id)s is queued. The log below shows when it is ready to download.",
            id=record.id,
        ),
        "info",
    )
    return redirect(url_for("research.exports", _anchor=f"export-{record.id}"), 303)


@bp.route("/exports/status", methods=["GET"])
@roles_required(*RESEARCH_ROLES)
def export_status():
    """The export log as JSON, for the page's progressive refresh."""
    _design, study = study_or_404()
    recover_stale()
    history = _history(study)
    return jsonify(
        exports=[_entry(record) for record, _who in history],
        active=any(record.status in ACTIVE for record, _who in history),
    )


@bp.route("/exports/<int:export_id>/download", methods=["GET"])
@roles_required(*RESEARCH_ROLES)
def export_file(export_id: int):
    record = db.session.get(ExportRecord, export_id)
    path = stored_file(record) if record is not None else None
    if path is None:
        if record is None:
            flash(_("There is no export number %(id)s.", id=export_id), "error")
        elif record.status in ACTIVE:
            flash(_("Export %(id)s is not ready yet.", id=export_id), "error")
        elif record.status == FAILED:
            flash(_("Export %(id)s failed: %(error)s", id=export_id, error=record.error), "error")
        else:
            flash(
                _(
                    "The files of export %(id)s have been deleted; please make it again.",
                    id=export_id,
                ),
                "error",
            )
        return redirect(url_for("research.exports"), 303)
    audit.record(
        current_user.id,
        "export.download",
        record.study_key,
        export_id=record.id,
        filename=record.filename,
        sha256=record.sha256,
    )
    db.session.commit()
    response = send_file(
        path,
        as_attachment=True,
        download_name=record.filename,
        mimetype="application/zip",
        max_age=0,
        conditional=False,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
