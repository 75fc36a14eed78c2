"""Helpers for the staff pages' tests (Flask test client): log in, read CSRF tokens, post forms.

    from tests.web_helpers import login, post_form, csrf_token

    client = app.test_client()
    login(client, "recorder")                       # asserts the redirect to the dashboard
    resp = post_form(client, "/staff/donors/new", {"name": "..."})   # token read from the form page
"""
from __future__ import annotations

import re

from tests.helpers import PASSWORD

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str | bytes) -> str:
    """The CSRF token of the first form on a page."""
    if isinstance(html, bytes):
        html = html.decode()
    match = _TOKEN.search(html)
    assert match, "no csrf_token field on the page"
    return match.group(1) or match.group(2)


def page_token(client, path: str) -> str:
    """GET a page (must answer 200) and return its form's CSRF token."""
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code, resp.get_data(as_text=True)[:500])
    return csrf_token(resp.get_data(as_text=True))


def post_form(client, path: str, data: dict | None = None, form_page: str | None = None, **kwargs):
    """POST a form with a valid CSRF token, read from `form_page` (default: `path` itself)."""
    body = dict(data or {})
    body.setdefault("csrf_token", page_token(client, form_page or path))
    return client.post(path, data=body, **kwargs)


def login(client, username: str, password: str = PASSWORD, expect_success: bool = True):
    """Log in through /staff/login as a person would: fetch the form, read its CSRF token,
    post, and assert the redirect (to the dashboard, or the page named by ?next=)."""
    resp = post_form(client, "/staff/login", {"username": username, "password": password})
    if expect_success:
        assert resp.status_code == 302, (resp.status_code, resp.get_data(as_text=True)[:500])
        assert "/staff/login" not in resp.headers["Location"]
    return resp


def logout(client):
    """Log out with the dashboard's log-out form (POST with the CSRF token)."""
    resp = post_form(client, "/staff/logout", {}, form_page="/staff/")
    assert resp.status_code == 302, resp.status_code
    return resp


def text_of(resp) -> str:
    return resp.get_data(as_text=True)
