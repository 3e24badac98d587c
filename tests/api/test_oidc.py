"""The single sign-on routes: off to the provider, and back with a session cookie."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlmodel import select

from crm_app.models import UserIdentity
from crm_app.routes import SESSION_COOKIE
from crm_app.services import auth
from tests import oidc_provider
from tests.oidc_provider import authorize

local_provider, sso = oidc_provider.local_provider, oidc_provider.sso  # the fixtures


def link_bob(db, people, provider) -> None:
    db.add(UserIdentity(user_id=people.bob.id, issuer=provider.issuer, subject="subject-1"))
    db.flush()


def start(client, next_path: str = "/deals"):
    response = client.get("/auth/oidc/start", params={"next": next_path}, follow_redirects=False)
    assert response.status_code == 303
    return response


def callback(client, answer: dict[str, str]):
    return client.get("/auth/oidc/callback", params=answer, follow_redirects=False)


def test_start_redirects_to_the_provider_with_state_nonce_and_pkce(client, db, people, sso):
    response = start(client)
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{sso.issuer}/authorize"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == "crm-test" and query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/auth/oidc/callback"
    assert query["scope"] == "openid email profile"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Path=/auth/oidc/callback" in cookie


def test_callback_sets_the_session_cookie_and_goes_on(client, db, people, sso):
    link_bob(db, people, sso)
    answer = authorize(start(client, "/deals").headers["location"])
    response = callback(client, answer)
    assert response.status_code == 303
    assert response.headers["location"] == "/deals"
    token = response.cookies[SESSION_COOKIE]
    assert auth.authenticate(db, token).id == people.bob.id
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie


def test_a_replayed_state_is_refused(client, db, people, sso):
    link_bob(db, people, sso)
    started = start(client)
    browser_state = client.cookies.get("crm_oidc_state")
    answer = authorize(started.headers["location"])
    assert callback(client, answer).cookies.get(SESSION_COOKIE)
    # The same answer again, even with the state cookie put back:
    client.cookies.set("crm_oidc_state", browser_state, path="/auth/oidc/callback")
    again = callback(client, answer)
    assert again.status_code == 303
    assert again.headers["location"] == "/login?sso_error=expired"
    assert SESSION_COOKIE not in again.cookies


def test_a_callback_without_the_browsers_state_cookie_is_refused(client, db, people, sso):
    link_bob(db, people, sso)
    answer = authorize(start(client).headers["location"])
    client.cookies.clear()
    response = callback(client, answer)
    assert response.headers["location"] == "/login?sso_error=expired"


def test_a_refused_sign_in_goes_back_to_sign_in_with_the_reason(client, db, people, sso):
    sso.user = oidc_provider.ProviderUser(sub="stranger", email="stranger@example.com")
    response = callback(client, authorize(start(client).headers["location"]))
    assert response.headers["location"] == "/login?sso_error=no_account"
    assert SESSION_COOKIE not in response.cookies


def test_start_without_configuration_says_so_on_the_sign_in_page(client, db, people):
    response = start(client)
    assert response.headers["location"] == "/login?sso_error=not_configured"


def signed_in_as(client, db, user) -> None:
    client.cookies.set(SESSION_COOKIE, auth.start_session(db, user=user))


def test_connect_sends_a_signed_in_user_to_the_provider_and_back_to_their_profile(
    client, db, people, sso
):
    signed_in_as(client, db, people.bob)
    response = client.get("/auth/oidc/connect", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{sso.issuer}/authorize?")
    back = callback(client, authorize(response.headers["location"]))
    assert back.status_code == 303
    assert back.headers["location"] == "/settings/profile?sso=connected"
    assert SESSION_COOKIE not in back.cookies  # the same session goes on
    identity = db.exec(select(UserIdentity).where(UserIdentity.user_id == people.bob.id)).one()
    assert identity.issuer == sso.issuer


def test_connect_needs_a_session(client, db, people, sso):
    response = client.get("/auth/oidc/connect", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings/profile"


def test_connect_is_not_started_from_another_site(client, db, people, sso):
    signed_in_as(client, db, people.bob)
    response = client.get(
        "/auth/oidc/connect", headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False
    )
    assert response.headers["location"] == "/settings/profile?sso_error=expired"


def test_a_refused_connection_goes_back_to_the_profile_with_the_reason(client, db, people, sso):
    link_bob(db, people, sso)  # the provider's subject-1 is Bob's already
    signed_in_as(client, db, people.alice)
    response = client.get("/auth/oidc/connect", follow_redirects=False)
    back = callback(client, authorize(response.headers["location"]))
    assert back.headers["location"] == "/settings/profile?sso_error=taken"
