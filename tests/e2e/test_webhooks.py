"""Settings -> Webhooks in the production build: an admin creates a webhook to a local
receiver, creates a contact, and sees the succeeded delivery in the webhook's log; the
receiver got it signed with the secret shown once."""

from __future__ import annotations

import json
import time

from playwright.sync_api import expect
from sqlalchemy import select
from standardwebhooks import Webhook as Verifier

from crm_app.models import WebhookDelivery
from tests.e2e.conftest import sign_in
from tests.webhook_receiver import Receiver


def test_an_admin_creates_a_webhook_and_sees_a_delivery_in_its_log(new_page, app_server):
    receiver = Receiver().start()
    try:
        page = new_page()
        sign_in(page, app_server.admin_email)
        expect(page.get_by_role("heading", name="Welcome, Alice Admin")).to_be_visible(
            timeout=30_000
        )
        page.goto("/settings/webhooks")
        page.get_by_role("button", name="New webhook").click()
        page.get_by_label("Endpoint URL").fill(receiver.url)
        page.get_by_role("checkbox", name="contact.created").click()
        page.get_by_role("button", name="Create webhook").click()
        secret = page.get_by_label("Webhook secret").input_value()
        assert secret.startswith("whsec_")
        page.get_by_role("button", name="Done").click()
        row = page.get_by_role("table", name="Webhooks").get_by_role("row", name=receiver.url)
        expect(row).to_contain_text("Active")
        expect(row).to_contain_text("contact.created")

        page.goto("/contacts/new")
        page.get_by_label("First name").fill("Hook")
        page.get_by_label("Last name").fill("Tester")
        page.get_by_role("button", name="Create contact").click()
        expect(page.get_by_role("heading", name="Hook Tester")).to_be_visible()

        [request] = receiver.wait_for(1)
        payload = Verifier(secret).verify(request.body, request.headers)
        assert payload["type"] == "contact.created"
        assert payload["data"]["first_name"] == "Hook"

        _wait_until_logged(app_server, request.headers["webhook-id"])
        page.goto("/settings/webhooks")
        page.get_by_role("button", name=f"Deliveries of {receiver.url}").click()
        log = page.get_by_role("table", name="Deliveries")
        delivered = log.get_by_role("row").filter(has_text="contact.created")
        expect(delivered).to_contain_text("Succeeded")
        expect(delivered).to_contain_text(request.headers["webhook-id"])
        expect(delivered).to_contain_text("204")
        assert json.loads(request.body)["data"]["last_name"] == "Tester"
    finally:
        receiver.stop()


def _wait_until_logged(app_server, event_id: str, timeout: float = 10.0) -> None:
    """The worker commits the attempt just after the receiver answered: wait for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app_server.session() as session:
            status = session.execute(
                select(WebhookDelivery.status).where(WebhookDelivery.event_id == event_id)
            ).scalar()
        if status == "succeeded":
            return
        time.sleep(0.1)
    raise AssertionError(f"the delivery of {event_id} was not logged as succeeded")


def test_a_rep_has_no_webhooks_tab_and_is_told_so(new_page, app_server):
    page = new_page()
    sign_in(page, app_server.rep_email)
    expect(page.get_by_role("heading", name="Welcome, Bob Rep")).to_be_visible(timeout=30_000)
    page.goto("/settings/webhooks")
    expect(page.get_by_text("You don't have access to the webhooks.")).to_be_visible()
    nav = page.get_by_role("navigation", name="Settings")
    expect(nav.get_by_role("link", name="Webhooks")).to_have_count(0)
