"""Teacher's area: the termly provision and participation return for their own schools.

The school comes from the URL and is checked against the user's schools (404 otherwise);
the term must be one of the study's terms. A return can be saved as a draft any number of
times and is locked once submitted.
"""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import provision
from ..auth.access import roles_required, school_or_404, visible_school_ids
from ..changes import commit_or_flash
from ..cohorts import current_design
from ..extensions import db
from ..i18n import current_language
from ..models import School
from ..provision_form import answers_from_form, build_form_class, check_required, form_data, layout
from ..study.terms import term_label, term_of
from . import bp

PROVISION_ROLES = ("teacher", "admin")


def _setup():
    """The design and its provision questionnaire; 404 when the study has none."""
    design = current_design()
    questionnaire = provision.provision_questionnaire(design)
    if questionnaire is None:
        abort(404)
    return design, questionnaire


def _language(questionnaire) -> str:
    language = current_language()
    return language if language in questionnaire.languages else questionnaire.default_language


@bp.route("/provision")
@roles_required(*PROVISION_ROLES)
def provision_index():
    design = current_design()
    questionnaire = provision.provision_questionnaire(design)
    if questionnaire is None:
        return render_template("teacher/provision.html", title=None, schools=[], terms=[])
    allowed = visible_school_ids(current_user)
    query = db.select(School).order_by(School.name)
    if allowed is not None:
        query = query.where(School.id.in_(allowed or [-1]))
    schools = list(db.session.execute(query).scalars())
    terms = provision.study_terms(design)
    return render_template(
        "teacher/provision.html",
        title=questionnaire.text(questionnaire.title, _language(questionnaire)),
        schools=schools,
        terms=[(t, term_label(t)) for t in terms],
        current_term=term_of(date.today()),
        returns=provision.returns_by_school_and_term([s.id for s in schools]),
        status=provision.status,
    )


@bp.route("/provision/<int:school_id>/<term>", methods=["GET", "POST"])
@roles_required(*PROVISION_ROLES)
def provision_edit(school_id: int, term: str):
    design, questionnaire = _setup()
    school = school_or_404(school_id)
    if term not in provision.study_terms(design):
        abort(404)
    language = _language(questionnaire)
    existing = provision.find_return(school, term)
    form_class = build_form_class(questionnaire, language)
    locked = existing is not None and existing.submitted_at is not None
    if request.method == "POST" and not locked:
        form = form_class()
        submit = request.form.get("action") == "submit"
        valid = form.validate_on_submit()
        if valid and submit:
            valid = check_required(questionnaire, form)
        if valid:
            with commit_or_flash(provision.ProvisionError) as change:
                provision.save_return(
                    school,
                    term,
                    questionnaire,
                    answers_from_form(questionnaire, form),
                    current_user,
                    submit=submit,
                )
            if change.saved:
                if submit:
                    flash(
                        _(
                            "Thank you: the return for %(term)s is submitted.",
                            term=term_label(term),
                        ),
                        "info",
                    )
                else:
                    flash(
                        _("Saved as a draft. You can come back and change it until you submit it."),
                        "info",
                    )
                return redirect(url_for("teacher.provision_edit", school_id=school.id, term=term))
        else:
            flash(_("Please check the answers marked below; nothing has been saved yet."), "error")
    elif request.method == "POST":
        flash(_("This return has been submitted and can no longer be changed."), "error")
        return redirect(url_for("teacher.provision_edit", school_id=school.id, term=term))
    else:
        form = form_class(data=form_data(questionnaire, existing.answers if existing else {}))
    return render_template(
        "teacher/provision_form.html",
        school=school,
        term=term,
        term_name=term_label(term),
        questionnaire=questionnaire,
        title=questionnaire.text(questionnaire.title, language),
        description=questionnaire.text(questionnaire.description, language),
        language=language,
        form=form,
        sections=layout(questionnaire, form, language),
        provision_return=existing,
        locked=locked,
        answers=(
            provision.answer_rows(questionnaire, existing.answers or {}, language) if locked else []
        ),
    )
