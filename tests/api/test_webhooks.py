"""`/api/v1/webhooks`: admins manage webhooks (secret shown on create and rotate only), read
the delivery log and redeliver; private targets are a 422; others get 403."""

from __future__ import annotations

import pytest
from sqlmodel import select
from standardwebhooks import Webhook as Verifier

from crm_app.models import WebhookDelivery
from crm_app.services import webhook_delivery
from crm_app.settings import get_settings
from tests.api.helpers import PROBLEM, create_at, fields_of
from tests.webhook_receiver import Receiver

URL = "/api/v1/webhooks"


@pytest.fixture
def alice(people, key_for):
    """Alice the admin's Authorization header."""
    return key_for(people.alice)


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", True)
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def made(client, alice, receiver):
    """A webhook for contact.created, as its create response showed it."""
    return create_at(client, URL, alice, {"url": receiver.url, "events": ["contact.created"]})


def test_create_answers_201_with_location_and_the_secret_once(client, alice, made, receiver):
    assert made["secret"].startswith("whsec_")
    assert made["url"] == receiver.url and made["events"] == ["contact.created"]
    assert made["is_active"] is True
    read = client.get(f"{URL}/{made['id']}", headers=alice)
    assert read.status_code == 200
    assert "secret" not in read.json()
    assert read.headers["ETag"] == '"1"'
    listed = client.get(URL, headers=alice).json()
    assert [w["id"] for w in listed["data"]] == [made["id"]]
    assert "secret" not in listed["data"][0]


def test_the_location_header_names_the_new_webhook(client, alice, receiver):
    response = client.post(URL, json={"url": receiver.url, "events": ["deal.won"]}, headers=alice)
    assert response.headers["Location"] == f"{URL}/{response.json()['id']}"


def test_a_private_target_is_a_422_on_the_url(client, alice, monkeypatch):
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", False)
    response = client.post(
        URL,
        json={"url": "http://169.254.169.254/latest", "events": ["contact.created"]},
        headers=alice,
    )
    assert response.status_code == 422
    assert fields_of(response) == {"url"}
    assert "link-local" in response.json()["errors"][0]["message"]


def test_unknown_fields_and_events_are_422(client, alice, receiver):
    response = client.post(
        URL, json={"url": receiver.url, "events": ["deal.exploded"]}, headers=alice
    )
    assert response.status_code == 422 and fields_of(response) == {"events"}
    response = client.post(
        URL, json={"url": receiver.url, "events": ["deal.won"], "secret": "x"}, headers=alice
    )
    assert response.status_code == 422


def test_a_rep_gets_403(client, bob, made):
    assert client.get(URL, headers=bob).status_code == 403
    response = client.post(URL, json={"url": "http://x", "events": ["deal.won"]}, headers=bob)
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert client.get(f"{URL}/{made['id']}/deliveries", headers=bob).status_code == 403


def test_patch_switches_off_with_if_match_and_stale_versions_are_412(client, alice, made):
    response = client.patch(
        f"{URL}/{made['id']}", json={"is_active": False}, headers={**alice, "If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert response.json()["disabled_reason"].startswith("Switched off by Alice")
    stale = client.patch(
        f"{URL}/{made['id']}", json={"is_active": True}, headers={**alice, "If-Match": '"1"'}
    )
    assert stale.status_code == 412


def test_rotating_shows_a_new_secret_and_keeps_the_old_for_a_day(client, alice, made):
    response = client.post(f"{URL}/{made['id']}/rotate-secret", headers=alice)
    assert response.status_code == 200
    assert response.json()["secret"] not in (made["secret"], None)
    assert response.json()["previous_secret_expires_at"] is not None
    assert response.headers["Cache-Control"] == "no-store"


def test_delete_is_204_then_404(client, alice, made):
    assert client.delete(f"{URL}/{made['id']}", headers=alice).status_code == 204
    assert client.get(f"{URL}/{made['id']}", headers=alice).status_code == 404


def test_a_contact_created_through_the_api_is_delivered_and_logged(
    client, alice, made, receiver, db
):
    contact = create_at(client, "/api/v1/contacts", alice, {"first_name": "Ada"})
    [delivery] = db.exec(select(WebhookDelivery)).all()
    webhook_delivery.send_delivery(db, delivery_id=delivery.id)
    [request] = receiver.received
    payload = Verifier(made["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "contact.created"
    assert payload["data"] == contact  # the record as the API returned it

    log = client.get(f"{URL}/{made['id']}/deliveries", headers=alice)
    assert log.status_code == 200
    [row] = log.json()["data"]
    assert row["status"] == "succeeded" and row["event_id"] == request.headers["webhook-id"]
    [attempt] = row["attempts"]
    assert attempt["status_code"] == 204 and attempt["succeeded"] is True
    assert "body" not in attempt

    again = client.post(f"{URL}/deliveries/{row['id']}/redeliver", headers=alice)
    assert again.status_code == 202
    webhook_delivery.send_delivery(db, delivery_id=delivery.id, manual=True)
    assert [r.headers["webhook-id"] for r in receiver.received] == [row["event_id"]] * 2


def test_redelivering_an_unknown_delivery_is_404(client, alice):
    assert client.post(f"{URL}/deliveries/999999/redeliver", headers=alice).status_code == 404
