"""Staff log in and out of the web pages (sessions); the API keeps its bearer tokens."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..web import end_session, staff_page, start_session
from .service import attempt_login, locked_message

bp = Blueprint("auth_pages", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff_home.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    locked = False
    if form.validate_on_submit():
        attempt = attempt_login(form.username.data.strip(), form.password.data)
        if attempt.user is not None:
            start_session(attempt.user)
            return redirect(_safe_next(request.args.get("next")))
        if attempt.locked_until is not None:
            locked = True
            form.password.errors.append(locked_message(attempt.locked_until))
        else:
            form.password.errors.append(_l("Wrong username or password."))
    form.password.data = ""  # a password is never sent back in a page
    status = 200 if request.method == "GET" else (429 if locked else 422)
    return render_template("staff/login.html", form=form, locked=locked), status


@bp.post("/logout")
@staff_page()
def logout():
    end_session()
    flash(_l("You are logged out."), "info")
    return redirect(url_for("auth_pages.login"))
