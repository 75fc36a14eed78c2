"""Users and roles, for administrators: list, create, change role or area, deactivate.

Thin pages: every change is one service function of ledger.auth.service (one transaction
each); an administrator with an area manages only the users of its area and below.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from ..extensions import db
from ..problems import LedgerError, NotFound
from ..types import utcnow
from ..web import ROLE_LABELS, staff, staff_page
from . import service
from .models import ROLES, UserChange

bp = Blueprint("user_pages", __name__)


def _role_choices():
    """The least powerful first: a new user is a recorder unless the admin says otherwise."""
    order = ("recorder", "approver", "auditor", "admin")
    return [(role, ROLE_LABELS[role]) for role in sorted(ROLES, key=lambda r: order.index(r) if r in order else 9)]


_AREA_HINT = _l("An area code, such as 01 (Hà Nội) or 00004 (a ward). Empty: the whole country.")
_PASSWORD_HINT = _l("At least %(n)d characters. Tell it to the user in person; it is not shown again.",
                    n=service.MIN_PASSWORD_LENGTH)


class NewUserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(max=80),
        Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters without accents, digits, dots, dashes and underscores."))])
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=_role_choices, default="recorder", validators=[DataRequired()])
    area_code = StringField(_l("Area code"), validators=[Optional(), Length(max=16)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    password_again = PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


class EditUserForm(FlaskForm):
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=_role_choices, validators=[DataRequired()])
    area_code = StringField(_l("Area code"), validators=[Optional(), Length(max=16)])
    sees_private_data = BooleanField(_l("May read private data (ID numbers, phones, addresses)"))


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    password_again = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


def _put_errors(form: FlaskForm, error: LedgerError) -> list[str]:
    """The service's refusal next to the fields it names; what names no field, on top."""
    top = []
    for name, messages in (error.errors or {}).items():
        if name in form._fields:
            form._fields[name].errors = list(form._fields[name].errors) + [str(m) for m in messages]
        else:
            top.extend(str(m) for m in messages)
    if not error.errors or not any(name in form._fields for name in error.errors):
        top.insert(0, str(error.detail))
    return top


def _user_or_404(user_id: int):
    try:
        return service.get_user(user_id)
    except NotFound:
        abort(404)


@bp.get("/users")
@staff_page("manage")
def list_users():
    users = db.session.scalars(service.list_users(staff())).all()
    return render_template("staff/users/list.html", users=users, now=utcnow())


@bp.route("/users/new", methods=["GET", "POST"])
@staff_page("manage")
def new_user():
    form = NewUserForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            user = service.create_user(form.username.data, form.password.data, form.role.data,
                                       form.area_code.data or None, form.display_name.data, created_by=staff())
        except LedgerError as error:
            problems = _put_errors(form, error)
            status = error.status
        else:
            flash(_l("User %(name)s created. Give them the password in person.", name=user.username), "success")
            return redirect(url_for("user_pages.edit_user", user_id=user.id))
    else:
        status = 200 if request.method == "GET" else 422
    form.password.data = form.password_again.data = ""
    return render_template("staff/users/new.html", form=form, problems=problems,
                           area_hint=_AREA_HINT, password_hint=_PASSWORD_HINT), status


def _render_user(user, form=None, password_form=None, problems=(), status=200):
    form = form or EditUserForm(data={"display_name": user.display_name, "role": user.role,
                                      "area_code": user.area_code or "",
                                      "sees_private_data": user.sees_private_data})
    history = db.session.scalars(select(UserChange).where(UserChange.user_id == user.id)
                                 .order_by(UserChange.id.desc()).limit(50)).all()
    return render_template("staff/users/edit.html", user=user, form=form,
                           user_names=service.usernames(c.changed_by_id for c in history),
                           change_text=lambda name, values: service.describe_user_change({name: values}),
                           password_form=password_form or PasswordForm(), action_form=ActionForm(),
                           problems=problems, history=history, area_hint=_AREA_HINT,
                           password_hint=_PASSWORD_HINT, now=utcnow(),
                           is_self=user.id == staff().id), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@staff_page("manage")
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    form = EditUserForm()
    if request.method == "GET":
        return _render_user(user)
    if form.validate_on_submit():
        try:
            service.update_user(staff(), user.id, display_name=form.display_name.data, role=form.role.data,
                                area_code=form.area_code.data or None, national=not form.area_code.data,
                                sees_private_data=None if user.id == staff().id else form.sees_private_data.data)
        except LedgerError as error:
            db.session.refresh(user)
            return _render_user(user, form=form, problems=_put_errors(form, error), status=error.status)
        flash(_l("Saved."), "success")
        return redirect(url_for("user_pages.edit_user", user_id=user.id))
    return _render_user(user, form=form, status=422)


@bp.post("/users/<int:user_id>/active")
@staff_page("manage")
def set_active(user_id: int):
    user = _user_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        service.set_active(staff(), user.id, active)
    except LedgerError as error:
        db.session.refresh(user)
        return _render_user(user, problems=[str(error.detail)], status=error.status)
    flash(_l("%(name)s can log in again.", name=user.username) if active
          else _l("%(name)s is deactivated: their sessions and tokens no longer work.", name=user.username),
          "success")
    return redirect(url_for("user_pages.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
@staff_page("manage")
def set_password(user_id: int):
    user = _user_or_404(user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            service.set_password(staff(), user.id, form.password.data)
        except LedgerError as error:
            form.password.data = form.password_again.data = ""
            return _render_user(user, password_form=form, problems=_put_errors(form, error), status=error.status)
        flash(_l("New password set for %(name)s; a log-in lock is lifted.", name=user.username), "success")
        return redirect(url_for("user_pages.edit_user", user_id=user.id))
    form.password.data = form.password_again.data = ""
    return _render_user(user, password_form=form, status=422)
