"""Login, logout and changing one's own password.

A failed login says the same thing and does the same argon2 work whether the username is
unknown, the account inactive, or the password wrong, so neither the page nor its timing tells
which usernames exist. Failures are throttled per address and per username (LOGIN_LIMIT).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from ..admin.accounts import AccountError, find_user, normalise_username, set_password
from ..audit import record
from ..extensions import db, limiter, login_manager
from ..passwords import burn_time, hash_password, needs_rehash, verify_password
from . import bp
from .forms import EmptyForm, LoginForm, PasswordChangeForm

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.login_message_category = "info"

LOGIN_FAILED = _l("Wrong username or password.")


def _login_limit() -> str:
    return current_app.config["LOGIN_LIMIT"]


def _login_limit_ip() -> str:
    return current_app.config.get("LOGIN_LIMIT_IP") or current_app.config["LOGIN_LIMIT"]


def _username_key() -> str:
    return "login-user:" + normalise_username(request.form.get("username"))[:120]


def _login_failed(_response) -> bool:
    """Only failed attempts count towards the throttle."""
    return bool(g.get("login_failed"))


def home_for(user) -> str:
    if user.role == "teacher":
        return url_for("teacher.index")
    if user.role == "admin":
        return url_for("admin.index")
    return url_for("research.index")


def _safe_next(target: str | None) -> str | None:
    """A local path to return to after login, or None (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit_ip, methods=["POST"], deduct_when=_login_failed, key_func=get_remote_address
)
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_login_failed, key_func=_username_key)
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user(form.username.data)
        password = form.password.data
        if user is None or not user.active:
            burn_time(password)
            ok = False
        else:
            ok = verify_password(user.password_hash, password)
        if ok:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # no session fixation: a fresh session for the logged-in user
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
            login_user(user, remember=False)
            record(user.id, "auth.login", f"user:{user.username}")
            db.session.commit()
            return redirect(next_url or home_for(user))
        g.login_failed = True
        flash(str(LOGIN_FAILED), "error")
    elif request.method == "POST":
        g.login_failed = True
    return render_template("auth/login.html", form=form)


@bp.errorhandler(429)
def too_many_attempts(_error):
    form = LoginForm()
    return (
        render_template(
            "auth/login.html",
            form=form,
            locked=_("Too many failed attempts. Please wait a minute, then try again."),
        ),
        429,
    )


@bp.route("/logout", methods=["POST"])
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            try:
                set_password(current_user, form.new.data, current_user.id)
            except AccountError as exc:
                db.session.rollback()
                form.new.errors.append(str(exc))
            else:
                db.session.commit()
                # The new session token logged out every other session; keep this one.
                session.clear()
                session.permanent = True
                login_user(current_user._get_current_object(), remember=False)
                flash(_("Your password has been changed. Other sessions are logged out."), "info")
                return redirect(home_for(current_user))
    return render_template("auth/password.html", form=form)
