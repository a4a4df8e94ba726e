"""Admin area: users, schools, classes, CSV import and the audit log. Admins only."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import roles_required
from ..changes import commit_or_flash
from ..extensions import db
from ..models import AuditEvent, School, SchoolClass, User
from . import bp
from . import schools as school_svc
from .accounts import AccountError, create_user, set_password, update_user
from .forms import (
    ClassForm,
    ImportForm,
    SchoolForm,
    SetPasswordForm,
    UserEditForm,
    UserForm,
    choices,
)
from .importing import MAX_BYTES, import_schools

AUDIT_PAGE_SIZE = 50


@bp.before_request
@roles_required("admin")
def _admins_only() -> None:
    """Every admin page needs an admin; checked once here so no view can forget it."""
    return None


def _all_schools() -> list[School]:
    study = school_svc.current_study()
    return list(
        db.session.execute(
            db.select(School).filter_by(study_id=study.id).order_by(School.code)
        ).scalars()
    )


def _school_choices(form) -> dict[int, School]:
    schools = {s.id: s for s in _all_schools()}
    form.schools.choices = choices((s.id, f"{s.code} {s.name}") for s in schools.values())
    return schools


def _arm_choices(form) -> None:
    arms = school_svc.study_arms()
    options = [(a, a) for a in arms]
    if not school_svc.arm_required():
        options.insert(0, ("", _("(allocated later)")))
    form.arm.choices = choices(options)


@bp.route("/")
def index():
    counts = {
        "users": db.session.execute(db.select(db.func.count(User.id))).scalar_one(),
        "schools": db.session.execute(db.select(db.func.count(School.id))).scalar_one(),
        "classes": db.session.execute(db.select(db.func.count(SchoolClass.id))).scalar_one(),
    }
    return render_template("admin/index.html", counts=counts)


# --- users -------------------------------------------------------------------------------


@bp.route("/users")
def users():
    rows = db.session.execute(db.select(User).order_by(User.role, User.username)).scalars().all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserForm()
    schools = _school_choices(form)
    if form.validate_on_submit():
        taken = _("The username '%(name)s' is taken.", name=form.username.data)
        with commit_or_flash(AccountError, conflict=taken) as change:
            user = create_user(
                form.username.data,
                form.role.data,
                form.password.data,
                [schools[i] for i in form.schools.data or []],
                current_user.id,
            )
        if change.saved:
            flash(_("Account '%(name)s' created.", name=user.username), "info")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form)


def _user_edit_form(user: User, **kwargs) -> UserEditForm:
    # The stored values fill the form only when nothing was posted.
    return UserEditForm(
        role=user.role, active=user.active, schools=[s.id for s in user.schools], **kwargs
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = _user_edit_form(user)
    schools = _school_choices(form)
    if form.validate_on_submit():
        with commit_or_flash(AccountError) as change:
            update_user(
                user,
                form.role.data,
                [schools[i] for i in form.schools.data or []],
                bool(form.active.data),
                current_user.id,
            )
        if change.saved:
            flash(_("Account '%(name)s' saved.", name=user.username), "info")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_edit.html", user=user, form=form, password_form=SetPasswordForm(formdata=None)
    )


@bp.route("/users/<int:user_id>/password", methods=["POST"])
def user_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = SetPasswordForm()
    if form.validate_on_submit():
        with commit_or_flash(AccountError) as change:
            set_password(user, form.password.data, current_user.id)
        if change.saved:
            flash(
                _(
                    "New password set for '%(name)s'; their sessions are logged out.",
                    name=user.username,
                ),
                "info",
            )
            return redirect(url_for("admin.user_edit", user_id=user.id))
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
    edit_form = _user_edit_form(user, formdata=None)
    _school_choices(edit_form)
    return render_template("admin/user_edit.html", user=user, form=edit_form, password_form=form)


# --- schools and classes -----------------------------------------------------------------


@bp.route("/schools", methods=["GET", "POST"])
def schools():
    form = SchoolForm()
    _arm_choices(form)
    if form.validate_on_submit():
        clash = _("Someone added a school at the same moment; please try again.")
        with commit_or_flash(school_svc.SchoolError, conflict=clash) as change:
            school = school_svc.create_school(
                school_svc.current_study(),
                form.name.data,
                form.arm.data or None,
                current_user.id,
                stratum=form.stratum.data,
            )
        if change.saved:
            flash(_("School %(code)s %(name)s added.", code=school.code, name=school.name), "info")
            return redirect(url_for("admin.school", school_id=school.id))
    return render_template("admin/schools.html", schools=_all_schools(), form=form)


@bp.route("/schools/<int:school_id>", methods=["GET", "POST"])
def school(school_id: int):
    school = db.session.get(School, school_id) or abort(404)
    form = SchoolForm(obj=None if request.method == "POST" else school)
    _arm_choices(form)
    if form.validate_on_submit():
        with commit_or_flash(school_svc.SchoolError) as change:
            school_svc.update_school(
                school, form.name.data, form.arm.data or None, form.stratum.data, current_user.id
            )
        if change.saved:
            flash(_("School %(code)s saved.", code=school.code), "info")
            return redirect(url_for("admin.school", school_id=school.id))
    return render_template(
        "admin/school.html",
        school=school,
        form=form,
        class_form=ClassForm(formdata=None, prefix="class"),
    )


@bp.route("/schools/<int:school_id>/classes", methods=["POST"])
def class_new(school_id: int):
    school = db.session.get(School, school_id) or abort(404)
    class_form = ClassForm(prefix="class")
    if class_form.validate_on_submit():
        clash = _("Someone added a class at the same moment; please try again.")
        with commit_or_flash(school_svc.SchoolError, conflict=clash) as change:
            created = school_svc.create_class(
                school, class_form.name.data, class_form.year_group.data, current_user.id
            )
        if change.saved:
            flash(
                _("Class %(name)s added as %(code)s.", name=created.name, code=created.code), "info"
            )
            return redirect(url_for("admin.school", school_id=school.id))
    form = SchoolForm(formdata=None, obj=school)
    _arm_choices(form)
    return render_template("admin/school.html", school=school, form=form, class_form=class_form)


# --- CSV import --------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
def import_csv():
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        data = form.file.data.stream.read(MAX_BYTES + 1)
        report = import_schools(data, current_user.id)
        if report.ok:
            db.session.commit()
            flash(
                _(
                    "Imported: %(schools)d new schools, %(classes)d new classes.",
                    schools=len(report.schools_created),
                    classes=len(report.classes_created),
                ),
                "info",
            )
        else:
            db.session.rollback()
    return render_template("admin/import.html", form=form, report=report)


# --- audit log ---------------------------------------------------------------------------


@bp.route("/audit")
def audit():
    page = request.args.get("page", 1, type=int) or 1
    action = (request.args.get("action") or "").strip()[:40]
    query = db.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        query = query.filter(AuditEvent.action.startswith(action))
    events = db.paginate(query, page=max(page, 1), per_page=AUDIT_PAGE_SIZE, error_out=False)
    return render_template("admin/audit.html", events=events, action=action)
