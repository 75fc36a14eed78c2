"""Staff log in and out of the web pages (sessions); the API keeps its bearer tokens."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..web import staff_page
from .service import check_password

bp = Blueprint("auth_pages", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("staff_home.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = check_password(form.username.data.strip(), form.password.data)
        if user is not None and user.active:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_l("Wrong username or password."))
    return render_template("staff/login.html", form=form), 200 if request.method == "GET" else 422


@bp.post("/logout")
@staff_page()
def logout():
    logout_user()
    flash(_l("You are logged out."), "info")
    return redirect(url_for("auth_pages.login"))
