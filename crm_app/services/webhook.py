"""Outgoing webhooks: endpoints and their secrets, the listener that queues a delivery per
subscribed endpoint for each domain event, and the log of deliveries with redelivery.

Sending, signing and retrying are in `webhook_delivery`. Only those who manage settings
(admins) see or change webhooks; the one who creates a webhook is its owner and is told when
it is disabled for failing.
"""

from __future__ import annotations

import base64
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from crm_app.jobs import app as jobs
from crm_app.models import (
    DeliveryStatus,
    User,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from crm_app.models.base import utcnow
from crm_app.services import audit, crud, events, net_guard, webhook_delivery
from crm_app.services.errors import Conflict, NotFound, ValidationFailed
from crm_app.services.events import WEBHOOK_EVENT_TYPES, DomainEvent
from crm_app.services.permission import require
from crm_app.services.record_payload import record_payload

RESOURCE, ACTION = "setting", "manage"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the Standard Webhooks prefix, not a secret)
SECRET_BYTES = 24
OLD_SECRET_VALID = timedelta(hours=24)
MAX_WEBHOOKS = 200
DELIVERIES_PAGE = 20
EDITABLE = frozenset({"url", "events", "is_active"})
_SUBSCRIBERS = "webhook_subscribers"  # session.info key: (transaction, {type: [webhook ids]})
_DRAINS = "webhook_drains"  # session.info key: (transaction, {webhook ids with a drain queued})


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_event_id() -> str:
    """The `webhook-id` of one event, kept across retries and redeliveries."""
    return "msg_" + secrets.token_urlsafe(18)


def event_groups() -> dict[str, list[str]]:
    """The event types by record kind, in a stable order (the create form's checkboxes)."""
    groups: dict[str, list[str]] = {}
    for event_type in WEBHOOK_EVENT_TYPES:
        groups.setdefault(event_type.split(".", 1)[0], []).append(event_type)
    return groups


@dataclass
class WebhookWithSecret:
    """A webhook just created or rotated: `secret` is shown this once."""

    webhook: Webhook
    secret: str


# --- validation ---------------------------------------------------------------------------------


def _clean_url(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed.for_field("url", "Give the URL to send events to.")
    try:
        net_guard.vet_url(raw)
    except net_guard.TargetRefused as refused:
        raise ValidationFailed.for_field("url", refused.message) from None
    return raw.strip()


def _clean_events(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple) or not raw:
        raise ValidationFailed.for_field("events", "Pick at least one event.")
    unknown = [str(e) for e in raw if e not in WEBHOOK_EVENT_TYPES]
    if unknown:
        raise ValidationFailed.for_field(
            "events",
            f"Unknown event {unknown[0][:60]!r}; pick from: {', '.join(WEBHOOK_EVENT_TYPES)}.",
        )
    return [e for e in WEBHOOK_EVENT_TYPES if e in raw]


def _clean(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = sorted(set(data) - EDITABLE)
    if unknown:
        raise ValidationFailed.for_field(unknown[0], "This field cannot be set.")
    values: dict[str, Any] = {}
    if "url" in data or not partial:
        values["url"] = _clean_url(data.get("url"))
    if "events" in data or not partial:
        values["events"] = _clean_events(data.get("events"))
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            raise ValidationFailed.for_field("is_active", "Say true or false.")
        values["is_active"] = data["is_active"]
    return values


def _forget_subscribers(session: Session) -> None:
    session.info.pop(_SUBSCRIBERS, None)


# --- webhooks -------------------------------------------------------------------------------------


def list_webhooks(session: Session, *, actor: User) -> list[Webhook]:
    """Every webhook, oldest first (a workspace has a handful)."""
    require(session, actor, RESOURCE, ACTION)
    query = select(Webhook).where(Webhook.deleted_at.is_(None)).order_by(Webhook.id)
    return list(session.execute(query.limit(MAX_WEBHOOKS)).scalars())


def get_webhook(session: Session, *, actor: User, webhook_id: int, lock: bool = False) -> Webhook:
    """One webhook, or NotFound."""
    require(session, actor, RESOURCE, ACTION)
    return crud.get_live(session, Webhook, webhook_id, label="webhook", lock=lock)


def create_webhook(
    session: Session, *, actor: User, data: dict[str, Any], ip: str | None = None
) -> WebhookWithSecret:
    """A webhook owned by the actor, with a new secret (returned this once)."""
    require(session, actor, RESOURCE, ACTION)
    count = session.execute(
        select(Webhook.id).where(Webhook.deleted_at.is_(None)).limit(MAX_WEBHOOKS)
    ).all()
    if len(count) >= MAX_WEBHOOKS:
        raise Conflict(f"A workspace may have at most {MAX_WEBHOOKS} webhooks.")
    values = _clean(data, partial=False)
    webhook = Webhook(**values, secret=new_secret(), owner_id=actor.id)
    crud.created(session, actor, webhook, entity="webhook", fields=values, ip=ip)
    _forget_subscribers(session)
    return WebhookWithSecret(webhook, webhook.secret)


def update_webhook(
    session: Session,
    *,
    actor: User,
    webhook_id: int,
    data: dict[str, Any],
    version: int | None = None,
    ip: str | None = None,
) -> Webhook:
    """Change the URL, the events, or switch it on or off. Switching on clears the reason it
    was off and its failure streak."""
    webhook = get_webhook(session, actor=actor, webhook_id=webhook_id, lock=True)
    crud.check_version(webhook, version)
    values = _clean(data, partial=True)
    if values.get("is_active") is True and not webhook.is_active:
        values |= {"disabled_reason": None, "failing_since": None}
    elif values.get("is_active") is False and webhook.is_active:
        values["disabled_reason"] = f"Switched off by {actor.name}."[:500]
    crud.apply_changes(session, actor, webhook, values, entity="webhook", ip=ip)
    _forget_subscribers(session)
    return webhook


def delete_webhook(
    session: Session, *, actor: User, webhook_id: int, ip: str | None = None
) -> None:
    """Delete a webhook and its delivery log; queued deliveries are dropped."""
    webhook = get_webhook(session, actor=actor, webhook_id=webhook_id, lock=True)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="webhook",
        entity_id=webhook.id,
        changes={"url": [webhook.url, None]},
        ip=ip,
    )
    session.execute(delete(Webhook).where(Webhook.id == webhook.id))
    session.expunge(webhook)
    _forget_subscribers(session)


def rotate_secret(
    session: Session, *, actor: User, webhook_id: int, ip: str | None = None
) -> WebhookWithSecret:
    """A new secret (returned this once); the old one keeps signing for 24 hours, so the
    receiver can switch without missing an event."""
    webhook = get_webhook(session, actor=actor, webhook_id=webhook_id, lock=True)
    now = utcnow()
    webhook.previous_secret = webhook.secret
    webhook.previous_secret_expires_at = now + OLD_SECRET_VALID
    webhook.secret = new_secret()
    webhook.version += 1
    webhook.updated_at = now
    session.add(webhook)
    audit.record(
        session, actor=actor, action="rotate_secret", entity="webhook", entity_id=webhook.id, ip=ip
    )
    session.flush()
    return WebhookWithSecret(webhook, webhook.secret)


# --- queueing deliveries for domain events ----------------------------------------------------


def _subscribers(session: Session, event_type: str) -> list[int]:
    """Ids of the active webhooks subscribed to `event_type`: one query per transaction,
    however many events it emits (a bulk change); webhook changes in it forget the answer."""
    transaction = session.get_transaction()
    cached = session.info.get(_SUBSCRIBERS)
    if cached is None or cached[0] is not transaction:
        by_type: dict[str, list[int]] = defaultdict(list)
        rows = session.execute(
            select(Webhook.id, Webhook.events).where(
                Webhook.is_active, Webhook.deleted_at.is_(None)
            )
        ).all()
        for webhook_id, subscribed in rows:
            for subscribed_type in subscribed:
                by_type[subscribed_type].append(webhook_id)
        cached = (transaction, dict(by_type))
        session.info[_SUBSCRIBERS] = cached
    return cached[1].get(event_type, [])


def iso_time(moment: datetime) -> str:
    """An RFC 3339 UTC time with a Z, as Standard Webhooks payloads carry."""
    return moment.isoformat().replace("+00:00", "Z")


@events.register
def queue_deliveries(session: Session, event: DomainEvent) -> None:
    """For each active webhook subscribed to the event's type, a delivery and its job, in the
    caller's transaction (none when it rolls back)."""
    if event.type not in WEBHOOK_EVENT_TYPES:
        return
    webhook_ids = _subscribers(session, event.type)
    if not webhook_ids:
        return
    data = record_payload(session, event.entity, event.record_id)
    if data is not None:
        queue_event(session, webhook_ids=webhook_ids, event_type=event.type, data=data)


def queue_event(
    session: Session, *, webhook_ids: list[int], event_type: str, data: dict[str, Any]
) -> list[WebhookDelivery]:
    """Queue one event, under one event id, for these webhooks: a delivery row each and, once
    per webhook and transaction, a job draining its due deliveries, in the caller's
    transaction (also for events no subscription names, such as a workflow rule's "call a
    webhook")."""
    now = utcnow()
    payload = {"type": event_type, "timestamp": iso_time(now), "data": data}
    event_id = new_event_id()
    deliveries = [
        WebhookDelivery(
            webhook_id=webhook_id,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            next_attempt_at=now,
            created_at=now,
        )
        for webhook_id in webhook_ids
    ]
    session.add_all(deliveries)
    session.flush()
    transaction = session.get_transaction()
    held = session.info.get(_DRAINS)
    if held is None or held[0] is not transaction:
        held = (transaction, set())
        session.info[_DRAINS] = held
    for webhook_id in webhook_ids:
        if webhook_id not in held[1]:  # a burst of events in one transaction: one job
            held[1].add(webhook_id)
            webhook_delivery.queue_drain(session, webhook_id)
    return deliveries


# --- the delivery log -----------------------------------------------------------------------------


@dataclass
class DeliveryRow:
    """A delivery as its log shows it, with its attempts (newest first)."""

    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


@dataclass
class DeliveryPage:
    """One page of a webhook's deliveries, newest first."""

    rows: list[DeliveryRow]
    next_cursor: str | None


def list_deliveries(
    session: Session,
    *,
    actor: User,
    webhook_id: int,
    limit: int = DELIVERIES_PAGE,
    cursor: str | None = None,
    status: str | None = None,
) -> DeliveryPage:
    """A page of the webhook's deliveries, newest first; `cursor` is the previous page's."""
    get_webhook(session, actor=actor, webhook_id=webhook_id)
    limit = max(1, min(int(limit), 100))
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if cursor:
        if not cursor.isdigit() or len(cursor) > 18:
            raise ValidationFailed.for_field("cursor", "Pass the next_cursor of the last page.")
        query = query.where(WebhookDelivery.id < int(cursor))
    if status:
        if status not in DeliveryStatus.__members__:
            raise ValidationFailed.for_field(
                "status", "One of: " + ", ".join(DeliveryStatus.__members__) + "."
            )
        query = query.where(WebhookDelivery.status == status)
    found = list(
        session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)).scalars()
    )
    more = len(found) > limit
    found = found[:limit]
    attempts: dict[int, list[WebhookAttempt]] = defaultdict(list)
    if found:
        for attempt in session.execute(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([d.id for d in found]))
            .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc())
        ).scalars():
            attempts[attempt.delivery_id].append(attempt)
    rows = [DeliveryRow(d, attempts.get(d.id, [])) for d in found]
    return DeliveryPage(rows, str(found[-1].id) if more else None)


def redeliver(
    session: Session, *, actor: User, delivery_id: int, ip: str | None = None
) -> WebhookDelivery:
    """Send a delivery again now, with the same event id, whatever became of it."""
    require(session, actor, RESOURCE, ACTION)
    delivery = session.get(WebhookDelivery, delivery_id) if 0 < delivery_id < 2**63 else None
    if delivery is None:
        raise NotFound("No such delivery.")
    webhook = get_webhook(session, actor=actor, webhook_id=delivery.webhook_id)
    if not webhook.is_active:
        raise Conflict("This webhook is switched off: switch it on to redeliver.")
    audit.record(
        session,
        actor=actor,
        action="redeliver",
        entity="webhook",
        entity_id=webhook.id,
        changes={"event_id": [None, delivery.event_id]},
        ip=ip,
    )
    from crm_app.jobs import tasks

    jobs.defer(
        session,
        tasks.SEND_WEBHOOK,
        queue=tasks.WEBHOOKS_QUEUE,
        delivery_id=delivery.id,
        manual=True,
    )
    return delivery
