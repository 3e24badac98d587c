"""How the production server hands out pages: one trip per page, scripts cached for good."""

from __future__ import annotations

import re

import httpx


def test_a_page_address_answers_without_a_redirect(app_server):
    response = httpx.get(f"{app_server.base_url}/contacts", follow_redirects=False)
    assert response.status_code == 200
    assert "<title>Contacts · CRM</title>" in response.text


def test_hashed_scripts_are_cached_and_pages_are_not(app_server):
    page = httpx.get(f"{app_server.base_url}/contacts/")
    script = re.search(r'href="(/assets/[^"]+\.js)"', page.text).group(1)
    asset = httpx.get(f"{app_server.base_url}{script}")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "immutable" not in page.headers.get("cache-control", "")
    missing = httpx.get(f"{app_server.base_url}/assets/no-such-file.js")
    assert "immutable" not in missing.headers.get("cache-control", "")


def test_the_api_answers_404_for_an_unknown_path_and_405_for_a_wrong_method(app_server):
    # on the one port, beside the pages: neither falls through to the web app
    missing = httpx.get(f"{app_server.base_url}/api/v1/no-such-route")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = httpx.put(f"{app_server.base_url}/api/v1/contacts/1")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "DELETE, GET, PATCH")
