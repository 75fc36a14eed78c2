"""Staff log-in and sessions: passwords, lockout, expiry, log-out, CSRF, headers, and the API
staying token-only."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from ledger.auth import service as auth
from ledger.auth.models import User
from ledger.extensions import db
from ledger.types import utcnow
from ledger.web import LOGGED_IN_AT, SEEN_AT
from tests.helpers import PASSWORD, Api, make_user
from tests.web_helpers import csrf_token, login, logout, text_of


def _user(username) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def _english(client):
    client.set_cookie("lang", "en")
    return client


def test_log_in_opens_the_dashboard_and_log_out_ends_the_session(ctx):
    make_user("lan", "recorder", "01")
    client = ctx.test_client()
    assert client.get("/staff/").status_code == 302  # not logged in: to the log-in page
    resp = login(client, "lan")
    assert resp.headers["Location"].endswith("/staff/")
    page = client.get("/staff/")
    assert page.status_code == 200 and "lan" in text_of(page)
    assert client.get("/staff/login").status_code == 302  # already in: no second log-in form
    logout(client)
    with client.session_transaction() as session:
        assert "_user_id" not in session and LOGGED_IN_AT not in session
    resp = client.get("/staff/")
    assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]


def test_the_session_cookie_is_httponly_lax_and_secure_for_an_https_site(ctx):
    make_user("lan", "recorder")
    client = ctx.test_client()
    resp = login(client, "lan")
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" in cookie  # the test app's LEDGER_PUBLIC_URL is https
    assert ctx.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)


def test_wrong_password_is_refused_and_the_username_is_kept(ctx):
    make_user("lan", "recorder")
    client = _english(ctx.test_client())
    resp = login(client, "lan", "not the password", expect_success=False)
    assert resp.status_code == 422
    body = text_of(resp)
    assert "Wrong username or password." in body
    assert 'value="lan"' in body and "not the password" not in body
    assert _user("lan").failed_logins == 1
    login(client, "lan")  # then the right one works and the count starts again
    assert _user("lan").failed_logins == 0


def test_five_failures_lock_the_username_for_15_minutes_then_it_opens_again(ctx):
    make_user("lan", "recorder")
    client = _english(ctx.test_client())
    for attempt in range(1, 5):
        resp = login(client, "lan", f"wrong {attempt}", expect_success=False)
        assert resp.status_code == 422 and "locked" not in text_of(resp)
    resp = login(client, "lan", "wrong 5", expect_success=False)
    assert resp.status_code == 429 and "locked until" in text_of(resp)
    user = _user("lan")
    assert user.failed_logins == 5
    assert timedelta(minutes=14) < user.locked_until - utcnow() <= timedelta(minutes=15)
    # Even the right password is refused while locked, and the API's tokens obey the same lock.
    resp = login(client, "lan", PASSWORD, expect_success=False)
    assert resp.status_code == 429 and "locked until" in text_of(resp)
    api = Api(ctx.test_client())
    resp = api.post("/auth/token", {"username": "lan", "password": PASSWORD}, lang="en")
    assert resp.status_code == 401 and "locked until" in resp.get_json()["detail"]
    # 15 minutes later (the clock moved by moving the lock): the right password opens it.
    db.session.execute(update(User).where(User.username == "lan").values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    login(client, "lan")
    user = _user("lan")
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_after_a_lock_runs_out_a_wrong_password_starts_a_new_count(ctx):
    make_user("lan", "recorder")
    client = ctx.test_client()
    for attempt in range(5):
        login(client, "lan", f"wrong {attempt}", expect_success=False)
    db.session.execute(update(User).where(User.username == "lan").values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    resp = login(client, "lan", "wrong again", expect_success=False)
    assert resp.status_code == 422
    user = _user("lan")
    assert (user.failed_logins, user.locked_until) == (1, None)


def test_unknown_usernames_are_never_said_to_be_locked(ctx, monkeypatch):
    client = _english(ctx.test_client())
    hashed = []
    real = auth._hasher

    class CountingHasher:
        def hash(self, password):
            hashed.append(1)
            return real.hash(password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(auth, "_hasher", CountingHasher())
    for attempt in range(7):
        resp = login(client, "nobody", f"wrong {attempt}", expect_success=False)
        assert resp.status_code == 422
        assert "Wrong username or password." in text_of(resp) and "locked" not in text_of(resp)
    assert len(hashed) == 7  # each refusal spent an Argon2 hash, as a real check would


def test_api_token_failures_count_towards_the_lock(ctx):
    make_user("lan", "recorder")
    api = Api(ctx.test_client())
    for _ in range(5):
        assert api.post("/auth/token", {"username": "lan", "password": "wrong password"}).status_code == 401
    assert _user("lan").locked_until is not None
    resp = login(_english(ctx.test_client()), "lan", expect_success=False)
    assert resp.status_code == 429


def test_an_idle_session_ends_after_an_hour(ctx):
    make_user("lan", "recorder")
    client = ctx.test_client()
    login(client, "lan")
    with client.session_transaction() as session:
        session[SEEN_AT] = int(time.time()) - 59 * 60  # 59 minutes idle: still open
    assert client.get("/staff/").status_code == 200
    with client.session_transaction() as session:
        assert session[SEEN_AT] >= int(time.time()) - 5  # the request counts as activity
        session[SEEN_AT] = int(time.time()) - 61 * 60
    resp = client.get("/staff/users?x=1")
    assert resp.status_code == 302
    assert "/staff/login" in resp.headers["Location"] and "next=" in resp.headers["Location"]
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert client.get("/staff/").status_code == 302


def test_a_session_ends_after_its_absolute_lifetime_even_when_active(ctx):
    make_user("lan", "recorder")
    client = ctx.test_client()
    login(client, "lan")
    with client.session_transaction() as session:
        session[LOGGED_IN_AT] = int(time.time()) - 8 * 3600 - 1
        session[SEEN_AT] = int(time.time())
    resp = client.get("/staff/")
    assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]


def test_a_session_without_its_clocks_is_not_accepted(ctx):
    user = make_user("lan", "recorder")
    client = ctx.test_client()
    with client.session_transaction() as session:  # e.g. a cookie made before sessions had clocks
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert client.get("/staff/").status_code == 302


def test_a_deactivated_users_session_stops_working_at_once(ctx):
    admin = make_user("boss", "admin")
    lan = make_user("lan", "recorder")
    client = ctx.test_client()
    login(client, "lan")
    assert client.get("/staff/").status_code == 200
    auth.set_active(admin, lan.id, False)
    resp = client.get("/staff/")
    assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]
    resp = login(client, "lan", expect_success=False)
    assert resp.status_code == 422  # and cannot log in again


def test_only_local_paths_are_followed_after_log_in(ctx):
    make_user("lan", "recorder")
    client = ctx.test_client()
    token = csrf_token(text_of(client.get("/staff/login")))
    for target, expected in (("//evil.example/x", "/staff/"), ("https://evil.example/", "/staff/"),
                             ("/\\evil.example", "/staff/"), ("/staff/?a=1", "/staff/?a=1")):
        resp = client.post(f"/staff/login?next={target}",
                           data={"csrf_token": token, "username": "lan", "password": PASSWORD})
        assert resp.status_code == 302 and resp.headers["Location"] == expected, target
        client.post("/staff/logout", data={"csrf_token": csrf_token(text_of(client.get("/staff/")))})
        token = csrf_token(text_of(client.get("/staff/login")))


def test_a_form_without_its_csrf_token_is_refused_with_a_readable_page(ctx):
    make_user("lan", "recorder")
    client = ctx.test_client()
    resp = client.post("/staff/login", data={"username": "lan", "password": PASSWORD})
    assert resp.status_code == 400
    body = text_of(resp)
    assert "<html" in body and "Bad Request" not in body
    assert 'lang="vi"' in body  # Vietnamese first
    english = _english(ctx.test_client()).post("/staff/login", data={"username": "lan", "password": PASSWORD})
    assert "The form could not be accepted" in text_of(english)
    login(client, "lan")
    resp = client.post("/staff/logout", data={"csrf_token": "forged"})
    assert resp.status_code == 400
    assert client.get("/staff/").status_code == 200  # still logged in: the forged log-out did nothing


def test_the_api_does_not_take_the_session_cookie(ctx):
    make_user("lan", "admin")
    client = ctx.test_client()
    login(client, "lan")
    for path in ("/api/v1/donors", "/api/v1/funds", "/api/v1/households"):
        resp = client.get(path)
        assert resp.status_code == 401, path
        assert resp.headers["Content-Type"].startswith("application/problem+json")
    resp = client.post("/api/v1/campaigns", json={"code": "X", "name": "x", "area_code": "01",
                                                   "starts_on": "2025-01-01"})
    assert resp.status_code == 401
    # and the API needs no CSRF token: a bearer token is enough
    token, _ = auth.issue_token("lan", PASSWORD, 60)
    assert Api(ctx.test_client(), token).get("/donors").status_code == 200


def test_pages_and_api_answers_carry_the_security_headers(ctx):
    make_user("lan", "recorder")
    client = ctx.test_client()
    login(client, "lan")
    for resp in (client.get("/staff/login"), client.get("/staff/"), client.get("/api/v1/areas")):
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_the_staff_pages_have_no_inline_script_or_style(ctx):
    make_user("lan", "admin")
    client = ctx.test_client()
    login(client, "lan")
    for path in ("/staff/login", "/staff/", "/staff/users", "/staff/users/new", "/staff/audit"):
        body = text_of(client.get(path))
        assert "<script>" not in body and "<style" not in body and " style=" not in body, path
