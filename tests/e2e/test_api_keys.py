"""Creating and revoking an API key in Settings, then using it."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in


def test_create_a_key_use_it_and_revoke_it(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible()
    page.goto("/settings/api-keys")
    page.get_by_role("button", name="Create API key").click()
    page.get_by_label("Name").fill("Billing sync")
    page.get_by_role("button", name="Create", exact=True).click()
    key = page.get_by_label("Your new API key").input_value()
    assert key.startswith("crm_")

    me = httpx.get(f"{app_server.base_url}/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and me.json()["email"] == app_server.rep_email

    page.get_by_role("button", name="Done").click()
    table = page.get_by_role("table", name="API keys")
    expect(table.get_by_role("row", name="Billing sync")).to_contain_text("Active")
    page.get_by_role("button", name="Revoke Billing sync").click()
    page.get_by_role("button", name="Revoke key").click()
    expect(table.get_by_role("row", name="Billing sync")).to_contain_text("Revoked")

    after = httpx.get(
        f"{app_server.base_url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}
    )
    assert after.status_code == 401
    assert after.headers["content-type"] == "application/problem+json"
