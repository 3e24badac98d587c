"""Security headers on the production server: present on pages, assets and the API; the content
security policy blocks nothing the app does; the event websocket refuses foreign origins."""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from crm_app import routes
from crm_app.models import User
from crm_app.services import lead_form
from tests.e2e.conftest import sign_in
from tests.factories import make_contact, make_deal

FOREIGN = "https://evil.example"

# Collects violations in the page itself: the event fires for each blocked script, style,
# connection or frame, whatever the console prints.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


@pytest.fixture
def watched_page(new_page):
    """A page, and a function listing its CSP violations (events and console) and errors."""
    page = new_page()
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def violations() -> list[str]:
        return problems + page.evaluate("window.__cspViolations || []")

    return page, violations


def _records(app_server) -> tuple[int, str]:
    """Bob's contact, and a web-to-lead form's key."""
    with app_server.session() as session:
        bob = session.exec(select(User).where(User.email == app_server.rep_email)).one()
        alice = session.exec(select(User).where(User.email == app_server.admin_email)).one()
        contact = make_contact(session, owner=bob, first_name="Grace", last_name="Hopper")
        make_deal(session, owner=bob, name="Compiler licence")
        form = lead_form.create_form(
            session, actor=alice, data={"name": "Say hello", "fields": [{"name": "email"}]}
        )
        session.commit()
        return contact.id, form.key


def _policy(response: httpx.Response) -> dict[str, list[str]]:
    directives = response.headers["content-security-policy"].split("; ")
    return {d.split()[0]: d.split()[1:] for d in directives}


def _assert_hardened(response: httpx.Response) -> None:
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers  # plain http here


def test_pages_assets_and_the_api_carry_the_headers(app_server):
    page = httpx.get(f"{app_server.base_url}/contacts")
    script = re.search(r'href="(/assets/[^"]+\.js)"', page.text).group(1)
    for response in (
        page,
        httpx.get(f"{app_server.base_url}{script}"),
        httpx.get(f"{app_server.base_url}{routes.API_PREFIX}/contacts"),
        httpx.get(f"{app_server.base_url}/no-such-page"),
    ):
        _assert_hardened(response)
    script_src = _policy(page)["script-src"]
    assert "'unsafe-inline'" not in script_src
    assert any(source.startswith("'sha256-") for source in script_src)


def test_the_policy_blocks_nothing_the_app_does(watched_page, app_server):
    contact_id, form_key = _records(app_server)
    page, violations = watched_page
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.wait_for_load_state("networkidle")

    page.goto(routes.DEALS)
    expect(page.get_by_text("Compiler licence")).to_be_visible()
    page.goto(routes.contact_detail(contact_id))
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()
    page.get_by_role("button", name="User menu").click()
    page.get_by_role("menuitem", name="Sign out").click()  # a script the server sends
    expect(page).to_have_url(re.compile(r"/login/?$"))

    page.goto(routes.public_form(form_key))
    expect(page.get_by_role("heading", name="Say hello")).to_be_visible()
    page.goto(routes.API_DOCS)
    expect(page.get_by_text("/api/v1/contacts").first).to_be_visible()
    assert violations() == []


def _handshake(base_url: str, origin: str) -> str:
    """The status line answering a raw websocket upgrade of the event socket from `origin`."""
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request.encode())
        return sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]


def test_the_event_websocket_refuses_a_foreign_origin(app_server):
    assert " 101 " in _handshake(app_server.base_url, app_server.base_url)
    assert " 101 " not in _handshake(app_server.base_url, FOREIGN)


def test_the_api_grants_cors_only_to_the_apps_origin(app_server):
    url = f"{app_server.base_url}{routes.API_PREFIX}/openapi.json"
    own = httpx.get(url, headers={"Origin": app_server.base_url})
    assert own.headers["access-control-allow-origin"] == app_server.base_url
    foreign = httpx.get(url, headers={"Origin": FOREIGN})
    assert "access-control-allow-origin" not in foreign.headers
