"""Outgoing webhooks: subscriptions, the deliveries domain events queue, signing (checked with
the standardwebhooks library), retries, giving up, switching a failing endpoint off, and
redelivery, against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, text
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from crm_app.models import (
    ContactPublic,
    DeliveryStatus,
    Notification,
    WebhookAttempt,
    WebhookDelivery,
)
from crm_app.models.base import utcnow
from crm_app.services import contact as contacts
from crm_app.services import deal as deals
from crm_app.services import lead as leads
from crm_app.services import lead_conversion, webhook, webhook_delivery
from crm_app.services.errors import Forbidden, ValidationFailed
from crm_app.settings import get_settings
from tests.factories import make_deal, make_scoring_rule, stages_of_default_pipeline
from tests.webhook_receiver import Receiver


@pytest.fixture
def allow_private(monkeypatch):
    """The receiver listens on 127.0.0.1, which only CRM_WEBHOOKS_ALLOW_PRIVATE=1 allows."""
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", True)


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def hook(db, people, receiver, allow_private):
    """Alice's webhook for contact events, pointing at the receiver."""
    return webhook.create_webhook(
        db,
        actor=people.alice,
        data={"url": receiver.url, "events": ["contact.created", "contact.updated"]},
    )


def deliveries(db, **where) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    for key, value in where.items():
        query = query.where(getattr(WebhookDelivery, key) == value)
    return list(db.execute(query).scalars())


def queued_jobs(db, delivery_id: int) -> list[dict]:
    rows = db.execute(
        text(
            "SELECT args, queue_name, scheduled_at FROM procrastinate_jobs "
            "WHERE task_name = 'send_webhook' AND (args->>'delivery_id')::bigint = :id "
            "ORDER BY id"
        ),
        {"id": delivery_id},
    ).all()
    return [{"args": r.args, "queue": r.queue_name, "scheduled_at": r.scheduled_at} for r in rows]


def drain_jobs(db, webhook_id: int) -> list[dict]:
    rows = db.execute(
        text(
            "SELECT queue_name, scheduled_at FROM procrastinate_jobs "
            "WHERE task_name = 'drain_webhook' AND (args->>'webhook_id')::int = :id ORDER BY id"
        ),
        {"id": webhook_id},
    ).all()
    return [{"queue": r.queue_name, "scheduled_at": r.scheduled_at} for r in rows]


def send(db, delivery: WebhookDelivery, **kwargs) -> DeliveryStatus | None:
    status = webhook_delivery.send_delivery(db, delivery_id=delivery.id, **kwargs)
    db.flush()
    db.refresh(delivery)
    return status


def test_an_admin_creates_a_webhook_with_a_standard_webhooks_secret(hook, people, db):
    assert hook.secret.startswith("whsec_")
    Verifier(hook.secret)  # decodes as base64
    assert hook.webhook.owner_id == people.alice.id
    assert [w.id for w in webhook.list_webhooks(db, actor=people.alice)] == [hook.webhook.id]


def test_a_rep_may_not_see_or_create_webhooks(db, people, allow_private, receiver):
    with pytest.raises(Forbidden):
        webhook.list_webhooks(db, actor=people.bob)
    with pytest.raises(Forbidden):
        webhook.create_webhook(
            db, actor=people.bob, data={"url": receiver.url, "events": ["contact.created"]}
        )


def test_unknown_events_and_an_empty_choice_are_refused(db, people, allow_private, receiver):
    for events in ([], ["contact.exploded"]):
        with pytest.raises(ValidationFailed) as refused:
            webhook.create_webhook(
                db, actor=people.alice, data={"url": receiver.url, "events": events}
            )
        assert refused.value.errors[0].field == "events"


def test_a_private_url_is_refused_when_saved_unless_allowed(db, people, receiver):
    with pytest.raises(ValidationFailed) as refused:
        webhook.create_webhook(
            db, actor=people.alice, data={"url": receiver.url, "events": ["contact.created"]}
        )
    assert refused.value.errors[0].field == "url"
    assert "loopback" in refused.value.errors[0].message


def test_creating_a_contact_queues_one_delivery_with_the_record_as_the_api_shows_it(
    db, people, hook
):
    contact = contacts.create_contact(
        db, actor=people.alice, data={"first_name": "Ada", "email": "ada@example.com"}
    )
    [delivery] = deliveries(db)
    assert delivery.webhook_id == hook.webhook.id
    assert delivery.event_id.startswith("msg_")
    assert delivery.status == DeliveryStatus.pending
    assert delivery.payload["type"] == "contact.created"
    assert delivery.payload["timestamp"].endswith("Z")
    assert delivery.payload["data"] == ContactPublic.model_validate(contact).model_dump(mode="json")
    [job] = drain_jobs(db, hook.webhook.id)
    assert job["queue"] == "webhooks" and job["scheduled_at"] is None


def test_events_nobody_subscribed_to_queue_nothing(db, people, hook):
    contact = contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    contacts.delete_contact(db, actor=people.alice, contact_id=contact.id)  # not subscribed
    webhook.update_webhook(
        db, actor=people.alice, webhook_id=hook.webhook.id, data={"is_active": False}
    )
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Bea"})  # switched off
    assert [d.event_type for d in deliveries(db)] == ["contact.created"]


def test_a_change_is_delivered_with_its_new_values(db, people, hook):
    contact = contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    contacts.update_contact(
        db, actor=people.alice, contact_id=contact.id, data={"title": "Engineer"}
    )
    updated = deliveries(db, event_type="contact.updated")[0]
    assert updated.payload["data"]["title"] == "Engineer"
    assert updated.payload["data"]["version"] == 2


def test_a_delivery_is_signed_so_the_standardwebhooks_library_verifies_it(
    db, people, hook, receiver
):
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    [delivery] = deliveries(db)
    assert send(db, delivery) == DeliveryStatus.succeeded
    [request] = receiver.received
    assert request.headers["webhook-id"] == delivery.event_id
    payload = Verifier(hook.secret).verify(request.body, request.headers)
    assert payload == delivery.payload
    assert set(json.loads(request.body)) == {"type", "timestamp", "data"}
    with pytest.raises(WebhookVerificationError):
        Verifier(webhook.new_secret()).verify(request.body, request.headers)
    [attempt] = db.execute(select(WebhookAttempt)).scalars().all()
    assert (attempt.succeeded, attempt.status_code, attempt.error) == (True, 204, None)
    assert delivery.last_status_code == 204 and delivery.attempts == 1


def test_during_a_rotation_both_secrets_verify_for_24_hours(db, people, hook, receiver):
    old = hook.secret
    rotated = webhook.rotate_secret(db, actor=people.alice, webhook_id=hook.webhook.id)
    assert rotated.secret != old
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    [delivery] = deliveries(db)
    send(db, delivery)
    [request] = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Verifier(old).verify(request.body, request.headers)
    Verifier(rotated.secret).verify(request.body, request.headers)

    rotated.webhook.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
    send(db, delivery, manual=True)
    later = receiver.received[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Verifier(rotated.secret).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Verifier(old).verify(later.body, later.headers)


def test_the_retry_schedule_backs_off_then_stops_three_days_after_the_event():
    first = utcnow()
    now, delays = first, []
    for attempts in range(1, 20):
        at = webhook_delivery.retry_at(first, attempts, now)
        if at is None:
            break
        delays.append(at - now)
        now = at
    hours = timedelta(hours=1)
    assert delays[:7] == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        2 * hours,
        5 * hours,
        10 * hours,
        10 * hours,
    ]
    assert now <= first + timedelta(days=3) < now + 10 * hours


def test_a_failed_attempt_is_logged_and_retried_later_with_the_same_webhook_id(
    db, people, hook, receiver
):
    receiver.status = 500
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    [delivery] = deliveries(db)
    before = utcnow()
    assert send(db, delivery) == DeliveryStatus.failed
    assert delivery.last_status_code == 500
    assert delivery.last_error == "HTTP 500: not a 2xx status"
    assert (
        before + timedelta(seconds=4) < delivery.next_attempt_at < utcnow() + timedelta(seconds=6)
    )
    [retry_job] = queued_jobs(db, delivery.id)
    assert retry_job["scheduled_at"] == delivery.next_attempt_at
    assert hook.webhook.failing_since is not None

    # the job that runs too early (a duplicate) leaves the row alone
    assert send(db, delivery) == DeliveryStatus.failed
    assert len(receiver.received) == 1

    receiver.status = 200
    delivery.next_attempt_at = utcnow()
    assert send(db, delivery) == DeliveryStatus.succeeded
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.event_id
    db.refresh(hook.webhook)
    assert hook.webhook.failing_since is None
    codes = (
        db.execute(select(WebhookAttempt.status_code).order_by(WebhookAttempt.id)).scalars().all()
    )
    assert codes == [500, 200]


def test_a_finished_delivery_is_not_sent_again_when_its_job_runs_again(db, people, hook, receiver):
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    [delivery] = deliveries(db)
    send(db, delivery)
    assert send(db, delivery) == DeliveryStatus.succeeded
    assert len(receiver.received) == 1


def test_a_timeout_a_refused_connection_and_a_redirect_are_failures(db, people, hook, receiver):
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    [delivery] = deliveries(db)
    receiver.delay = 1.0
    quick = httpx.Client(timeout=0.2, follow_redirects=False, trust_env=False)
    send(db, delivery, manual=True, client=quick)
    assert delivery.last_error.startswith("Timeout")
    assert delivery.last_status_code is None

    receiver.delay, receiver.status, receiver.location = 0, 302, "http://127.0.0.1:9/elsewhere"
    send(db, delivery, manual=True)
    assert delivery.last_status_code == 302
    assert "redirect not followed" in delivery.last_error
    assert all(r.path == "/hook" for r in receiver.received)

    receiver.stop()
    send(db, delivery, manual=True)
    assert delivery.last_error.startswith("ConnectError")


def test_a_delivery_gives_up_three_days_after_its_event(db, people, hook, receiver):
    receiver.status = 503
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    [delivery] = deliveries(db)
    delivery.created_at = utcnow() - timedelta(days=3)
    assert send(db, delivery) == DeliveryStatus.gave_up
    assert delivery.next_attempt_at is None
    assert queued_jobs(db, delivery.id) == []  # no retry


def test_an_endpoint_failing_for_three_days_is_switched_off_and_its_owner_told(
    db, people, hook, receiver
):
    receiver.status = 500
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Bea"})
    first, waiting = deliveries(db)
    hook.webhook.failing_since = utcnow() - timedelta(days=3, minutes=1)
    db.flush()
    assert send(db, first) == DeliveryStatus.gave_up
    db.refresh(hook.webhook)
    db.refresh(waiting)
    assert hook.webhook.is_active is False
    assert "failed for 3 days" in hook.webhook.disabled_reason
    assert waiting.status == DeliveryStatus.gave_up
    [notice] = (
        db.execute(select(Notification).where(Notification.user_id == people.alice.id))
        .scalars()
        .all()
    )
    assert notice.kind == "webhook_disabled" and notice.link == "/settings/webhooks"

    webhook.update_webhook(
        db, actor=people.alice, webhook_id=hook.webhook.id, data={"is_active": True}
    )
    assert hook.webhook.disabled_reason is None and hook.webhook.failing_since is None


def test_an_admin_redelivers_with_the_same_event_id(db, people, hook, receiver):
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    [delivery] = deliveries(db)
    send(db, delivery)
    webhook.redeliver(db, actor=people.alice, delivery_id=delivery.id)
    jobs = queued_jobs(db, delivery.id)
    assert jobs[-1]["args"] == {"delivery_id": delivery.id, "manual": True}
    send(db, delivery, manual=True)
    assert [r.headers["webhook-id"] for r in receiver.received] == [delivery.event_id] * 2
    page = webhook.list_deliveries(db, actor=people.alice, webhook_id=hook.webhook.id)
    [row] = page.rows
    assert [a.manual for a in row.attempts] == [True, False]  # newest first
    with pytest.raises(Forbidden):
        webhook.redeliver(db, actor=people.bob, delivery_id=delivery.id)


def test_the_delivery_log_pages_newest_first(db, people, hook):
    for name in ("Ada", "Bea", "Cy"):
        contacts.create_contact(db, actor=people.alice, data={"first_name": name})
    first = webhook.list_deliveries(db, actor=people.alice, webhook_id=hook.webhook.id, limit=2)
    names = [r.delivery.payload["data"]["first_name"] for r in first.rows]
    assert names == ["Cy", "Bea"]
    rest = webhook.list_deliveries(
        db, actor=people.alice, webhook_id=hook.webhook.id, limit=2, cursor=first.next_cursor
    )
    assert [r.delivery.payload["data"]["first_name"] for r in rest.rows] == ["Ada"]
    assert rest.next_cursor is None


def test_a_private_target_is_refused_when_sent_too(db, people, hook, receiver, monkeypatch):
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    [delivery] = deliveries(db)
    monkeypatch.setattr(get_settings(), "webhooks_allow_private", False)
    assert send(db, delivery) == DeliveryStatus.failed
    assert delivery.last_error.startswith("Refused: 127.0.0.1 is a loopback address")
    assert receiver.received == []


def test_the_request_goes_to_the_vetted_address_with_the_name_as_host(
    db, people, hook, receiver, monkeypatch
):
    from crm_app.services import net_guard

    monkeypatch.setattr(net_guard, "resolve", lambda host, port: ["127.0.0.1"])
    hook.webhook.url = f"http://hooks.example.test:{receiver.port}/in?x=1"
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    [delivery] = deliveries(db)
    send(db, delivery)
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert request.path == "/in?x=1"


def test_deal_moves_tell_stage_changed_won_and_lost(db, people, receiver, allow_private):
    events = ["deal.created", "deal.stage_changed", "deal.won", "deal.lost"]
    webhook.create_webhook(db, actor=people.alice, data={"url": receiver.url, "events": events})
    stages = stages_of_default_pipeline(db)
    open_stages = [s for s in stages.values() if s.kind == "open"]
    won = next(s for s in stages.values() if s.kind == "won")
    deal = make_deal(db, owner=people.alice)
    deals.move_deal(db, actor=people.alice, deal_id=deal.id, stage_id=open_stages[1].id)
    deals.move_deal(db, actor=people.alice, deal_id=deal.id, stage_id=won.id)
    sent = [(d.event_type, d.payload["data"]["stage_id"]) for d in deliveries(db)]
    assert sent == [
        ("deal.stage_changed", open_stages[1].id),
        ("deal.stage_changed", won.id),
        ("deal.won", won.id),
    ]


def test_converting_a_lead_tells_lead_converted_and_contact_created(
    db, people, receiver, allow_private
):
    webhook.create_webhook(
        db,
        actor=people.alice,
        data={"url": receiver.url, "events": ["lead.converted", "contact.created"]},
    )
    lead = leads.create_lead(
        db, actor=people.alice, data={"first_name": "Lee", "email": "lee@example.com"}
    )
    lead_conversion.convert_lead(db, actor=people.alice, lead_id=lead.id)
    sent = {d.event_type: d.payload["data"] for d in deliveries(db)}
    assert sent["lead.converted"]["status"] == "converted"
    assert sent["contact.created"]["email"] == "lee@example.com"


def test_a_new_leads_payload_carries_its_score(db, people, receiver, allow_private):
    make_scoring_rule(db, condition={"kind": "present", "field": "email"}, points=30)
    webhook.create_webhook(
        db, actor=people.alice, data={"url": receiver.url, "events": ["lead.created"]}
    )
    lead = leads.create_lead(
        db, actor=people.alice, data={"first_name": "Lee", "email": "lee@example.com"}
    )
    [delivery] = deliveries(db)
    assert lead.score == 30 and delivery.payload["data"]["score"] == 30


def test_one_event_reaches_every_subscribed_webhook_under_one_event_id(db, people, hook, receiver):
    webhook.create_webhook(
        db, actor=people.alice, data={"url": receiver.url, "events": ["contact.created"]}
    )
    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    found = deliveries(db)
    assert len(found) == 2 and len({d.event_id for d in found}) == 1
    assert db.execute(select(func.count()).select_from(WebhookAttempt)).scalar_one() == 0


def test_a_bulk_change_queues_a_delivery_per_changed_record_with_one_lookup(db, people, hook):
    from sqlalchemy import event

    from crm_app.services import bulk
    from tests.factories import make_contact

    contact_ids = [make_contact(db, owner=people.alice).id for _ in range(3)]
    lookups = []

    def count_lookups(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM webhooks" in statement:
            lookups.append(statement)

    event.listen(db.bind, "before_cursor_execute", count_lookups)
    try:
        changed = bulk.bulk_apply(
            db,
            actor=people.alice,
            entity="contact",
            action="assign_owner",
            value=people.bob.id,
            ids=contact_ids,
            listq=None,
        )
    finally:
        event.remove(db.bind, "before_cursor_execute", count_lookups)
    assert changed == 3
    found = deliveries(db, event_type="contact.updated")
    assert sorted(d.payload["data"]["id"] for d in found) == sorted(contact_ids)
    assert {d.payload["data"]["owner_id"] for d in found} == {people.bob.id}
    assert len(lookups) == 1  # the subscribed webhooks, once for the whole change


def test_a_burst_of_events_is_one_drain_job_that_sends_them_oldest_first(
    db, people, hook, receiver
):
    from contextlib import nullcontext

    for name in ("Ada", "Bea", "Cy"):
        contacts.create_contact(db, actor=people.alice, data={"first_name": name})
    assert len(drain_jobs(db, hook.webhook.id)) == 1
    assert webhook_delivery.drain(hook.webhook.id, lambda: nullcontext(db)) == 3
    names = [json.loads(r.body)["data"]["first_name"] for r in receiver.received]
    assert names == ["Ada", "Bea", "Cy"]
    assert {d.status for d in deliveries(db)} == {DeliveryStatus.succeeded}


def test_a_drain_stops_at_a_failure_and_comes_back_at_the_first_retry(db, people, hook, receiver):
    from contextlib import nullcontext

    receiver.status = 500
    for name in ("Ada", "Bea"):
        contacts.create_contact(db, actor=people.alice, data={"first_name": name})
    before = utcnow()
    assert webhook_delivery.drain(hook.webhook.id, lambda: nullcontext(db)) == 1
    assert len(receiver.received) == 1
    first, untried = deliveries(db)
    assert (first.status, untried.status) == (DeliveryStatus.failed, DeliveryStatus.pending)
    later = drain_jobs(db, hook.webhook.id)[-1]["scheduled_at"]
    assert before + timedelta(seconds=4) < later < utcnow() + timedelta(seconds=6)


def test_a_drain_for_a_switched_off_webhook_gives_its_deliveries_up(db, people, hook, receiver):
    from contextlib import nullcontext

    contacts.create_contact(db, actor=people.alice, data={"first_name": "Ada"})
    webhook.update_webhook(
        db, actor=people.alice, webhook_id=hook.webhook.id, data={"is_active": False}
    )
    assert webhook_delivery.drain(hook.webhook.id, lambda: nullcontext(db)) == 0
    [delivery] = deliveries(db)
    db.refresh(delivery)
    assert delivery.status == DeliveryStatus.gave_up and receiver.received == []
