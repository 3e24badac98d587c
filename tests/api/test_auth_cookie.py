"""The browser session cookie routes."""

from __future__ import annotations

from crm_app.routes import SESSION_COOKIE
from crm_app.services import auth
from tests.factories import PASSWORD


def test_handoff_code_sets_an_httponly_session_cookie(client, db, people):
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    response = client.post("/auth/session", json={"code": outcome.handoff_code})
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    token = response.cookies[SESSION_COOKIE]
    assert auth.authenticate(db, token).id == people.bob.id


def test_a_used_or_bad_code_is_401(client, db, people):
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    assert client.post("/auth/session", json={"code": outcome.handoff_code}).status_code == 204
    assert client.post("/auth/session", json={"code": outcome.handoff_code}).status_code == 401
    assert client.post("/auth/session", json={"code": "nope"}).status_code == 401


def test_sign_out_ends_the_session_and_clears_the_cookie(client, db, people):
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    token = client.post("/auth/session", json={"code": outcome.handoff_code}).cookies[
        SESSION_COOKIE
    ]
    response = client.post("/auth/sign-out")
    assert response.status_code == 204
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert auth.authenticate(db, token) is None


def test_cross_site_posts_are_refused(client, db, people):
    outcome = auth.sign_in(db, email="bob@example.com", password=PASSWORD)
    response = client.post(
        "/auth/session",
        json={"code": outcome.handoff_code},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    ok = client.post(
        "/auth/session",
        json={"code": outcome.handoff_code},
        headers={"Origin": "http://testserver"},
    )
    assert ok.status_code == 204
