"""Sending one webhook delivery: sign it (Standard Webhooks), POST it to the address the SSRF
guard vetted, log the attempt, and schedule the next one or give up.

The delivery row decides what a job does, so a job that is killed and run again, or that
races a redelivery, sends the same event (same `webhook-id`) at least once and never moves the
row backwards: each run locks the row for its attempt. Retries follow the Standard Webhooks
schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h) until 3 days after the event;
an endpoint that has failed without a success for 3 days is switched off and its owner told.
New events go out through one drain job per endpoint and transaction (`drain`, oldest first);
a retry or an admin's redelivery is a job for that one delivery (`send_delivery`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import httpx
from sqlalchemy import func, select, text, update
from sqlmodel import Session
from standardwebhooks.webhooks import Webhook as Signer

from crm_app import routes
from crm_app.jobs import app as jobs
from crm_app.models import (
    DeliveryStatus,
    Notification,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from crm_app.models.base import utcnow
from crm_app.services import net_guard

TIMEOUT_SECONDS = 10.0
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)  # after the last, every 10 hours
RETRY_FOR = timedelta(days=3)
DISABLE_AFTER = timedelta(days=3)
# A job may run a little before its row's next attempt time (clocks, scheduling); a job much
# earlier than that is a stale duplicate and leaves the row to the scheduled one.
EARLY_SLACK = timedelta(seconds=2)
DRAIN_BUDGET_SECONDS = 5.0  # one drain job holds a worker at most about this long
ZERO = timedelta(0)
USER_AGENT = "CRM-Webhooks/1"
KEEP_ALIVE_BODY_BYTES = 65_536


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    succeeded: bool
    status_code: int | None
    duration_ms: int
    error: str | None


def retry_at(first: datetime, attempts_made: int, now: datetime) -> datetime | None:
    """When to try again after `attempts_made` failed attempts of an event first tried at
    `first`, or None when the next try would fall more than RETRY_FOR after it."""
    delay = RETRY_DELAYS[min(attempts_made, len(RETRY_DELAYS)) - 1]
    at = now + delay
    return at if at <= first + RETRY_FOR else None


def signature(webhook: Webhook, event_id: str, timestamp: datetime, body: str) -> str:
    """The `webhook-signature` header: `v1,<sig>` with the secret, and during a rotation a
    second one, space-separated, with the previous secret."""
    signs = [Signer(webhook.secret).sign(event_id, timestamp, body)]
    expires = webhook.previous_secret_expires_at
    if webhook.previous_secret and expires is not None and expires > timestamp:
        signs.append(Signer(webhook.previous_secret).sign(event_id, timestamp, body))
    return " ".join(signs)


def body_of(delivery: WebhookDelivery) -> str:
    """The exact bytes (as text) that are signed and sent."""
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=128)
def _client(host: str) -> httpx.Client:
    # No proxies from the environment (they would bypass the vetted address) and no redirects
    # (a 3xx could point anywhere). Connections are pooled by address: a client per host name
    # keeps a TLS connection made (and its certificate checked) for one name from carrying
    # requests for another name on the same address.
    return httpx.Client(
        timeout=TIMEOUT_SECONDS,
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )


def _content_length(response: httpx.Response) -> int:
    try:
        return int(response.headers.get("content-length", "-1"))
    except ValueError:
        return -1


def _short(error: BaseException) -> str:
    text = str(error) or error.__class__.__name__
    return f"{error.__class__.__name__}: {text}"[:500]


def attempt(
    webhook: Webhook, delivery: WebhookDelivery, client: httpx.Client | None = None
) -> Outcome:
    """POST the delivery once; never raises for what the network or the receiver does."""
    started = time.perf_counter()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = net_guard.vet_url(webhook.url)
    except net_guard.TargetRefused as refused:
        return Outcome(False, None, took(), f"Refused: {refused.message}"[:500])
    now = utcnow()
    body = body_of(delivery)
    headers = {
        "host": target.host_header,
        "content-type": "application/json",
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature(webhook, delivery.event_id, now, body),
    }
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
    try:
        # Only the status matters: the body is read (and dropped) only when it is short, so
        # the connection can be reused; a long or endless one just closes the connection.
        with (client or _client(target.host_header)).stream(
            "POST",
            target.pinned_url,
            content=body.encode(),
            headers=headers,
            extensions=extensions,
        ) as response:
            code = response.status_code
            if 0 <= _content_length(response) <= KEEP_ALIVE_BODY_BYTES:
                response.read()
    except httpx.TimeoutException:
        return Outcome(False, None, took(), f"Timeout: no answer within {TIMEOUT_SECONDS:g} s")
    except httpx.HTTPError as error:
        return Outcome(False, None, took(), _short(error))
    if 200 <= code < 300:
        return Outcome(True, code, took(), None)
    why = "redirect not followed" if 300 <= code < 400 else "not a 2xx status"
    return Outcome(False, code, took(), f"HTTP {code}: {why}")


def send_delivery(
    session: Session, *, delivery_id: int, manual: bool = False, client: httpx.Client | None = None
) -> DeliveryStatus | None:
    """Attempt delivery `delivery_id` if it is due (always when `manual`, an admin's
    redelivery), log the attempt and schedule what follows; returns its status after."""
    # The attempt's log need not wait for the disk: a crash that loses it sends the event
    # again (same webhook-id), which the at-least-once contract allows.
    session.execute(text("SET LOCAL synchronous_commit = off"))
    found = session.execute(
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.id == delivery_id)
        .with_for_update(of=WebhookDelivery)
    ).first()
    if found is None:
        return None  # its webhook was deleted
    delivery, webhook = found
    status = DeliveryStatus(delivery.status)
    now = utcnow()
    if not manual:
        if status in (DeliveryStatus.succeeded, DeliveryStatus.gave_up):
            return status
        if delivery.next_attempt_at is None or delivery.next_attempt_at > now + EARLY_SLACK:
            return status
    if not webhook.is_active:
        delivery.status = DeliveryStatus.gave_up
        delivery.next_attempt_at = None
        delivery.last_error = "The webhook is switched off."
        session.add(delivery)
        return DeliveryStatus.gave_up
    outcome = attempt(webhook, delivery, client)
    return _record(session, webhook, delivery, outcome, manual=manual)


def next_due(session: Session, webhook_id: int) -> int | None:
    """The id of the webhook's delivery most overdue for an attempt, locked for this
    transaction, skipping those another worker holds; None when nothing is due."""
    return session.execute(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.webhook_id == webhook_id,
            WebhookDelivery.status.in_([DeliveryStatus.pending, DeliveryStatus.failed]),
            WebhookDelivery.next_attempt_at <= utcnow() + EARLY_SLACK,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).scalar()


def drain(
    webhook_id: int,
    transaction: Callable[[], AbstractContextManager[Session]],
    *,
    budget_seconds: float = DRAIN_BUDGET_SECONDS,
    client: httpx.Client | None = None,
) -> int:
    """Send the webhook's due deliveries one by one, oldest first, each in a transaction of
    its own (from `transaction()`), for up to `budget_seconds`; returns how many were tried.

    One job drains an endpoint rather than one job a delivery: a burst of events costs one
    job. A failure stops the drain (the endpoint is likely down: the rest wait for a drain
    at the first retry's time rather than each waiting out a timeout now); running out of
    time queues another drain behind the jobs already waiting."""
    started = time.monotonic()
    tried = 0
    while True:
        with transaction() as session:
            if _give_up_if_off(session, webhook_id):
                return tried
            delivery_id = next_due(session, webhook_id)
            if delivery_id is None:
                return tried
            status = send_delivery(session, delivery_id=delivery_id, client=client)
            tried += 1
            if status is DeliveryStatus.succeeded and time.monotonic() - started < budget_seconds:
                continue
            later = utcnow() + (RETRY_DELAYS[0] if status is not DeliveryStatus.succeeded else ZERO)
            queue_drain(session, webhook_id, at=later)
            return tried


def _give_up_if_off(session: Session, webhook_id: int) -> bool:
    """True when the webhook is gone or switched off; what waited for it is given up."""
    webhook = session.get(Webhook, webhook_id)
    if webhook is not None and webhook.is_active:
        return False
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.webhook_id == webhook_id,
            WebhookDelivery.status.in_([DeliveryStatus.pending, DeliveryStatus.failed]),
        )
        .values(
            status=DeliveryStatus.gave_up,
            next_attempt_at=None,
            last_error="The webhook is switched off.",
        )
    )
    return True


def queue_drain(session: Session, webhook_id: int, *, at: datetime | None = None) -> None:
    """Queue a drain of the webhook's due deliveries (at `at`, or now), in the caller's
    transaction."""
    from crm_app.jobs import tasks

    jobs.defer(
        session,
        tasks.DRAIN_WEBHOOK,
        queue=tasks.WEBHOOKS_QUEUE,
        schedule_at=at,
        webhook_id=webhook_id,
    )


def _record(
    session: Session,
    webhook: Webhook,
    delivery: WebhookDelivery,
    outcome: Outcome,
    *,
    manual: bool,
) -> DeliveryStatus:
    now = utcnow()
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            manual=manual,
        )
    )
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = outcome.status_code
    delivery.last_duration_ms = outcome.duration_ms
    delivery.last_error = outcome.error
    if outcome.succeeded:
        delivery.status = DeliveryStatus.succeeded
        delivery.next_attempt_at = None
        session.add(delivery)
        if webhook.failing_since is not None:  # as read before sending: the streak ends
            session.execute(
                update(Webhook)
                .where(Webhook.id == webhook.id, Webhook.failing_since.is_not(None))
                .values(failing_since=None)
            )
        return DeliveryStatus.succeeded
    _schedule_retry(session, delivery, now, manual=manual)
    session.add(delivery)
    _note_failure(session, webhook, now)
    return DeliveryStatus(delivery.status)


def _schedule_retry(
    session: Session, delivery: WebhookDelivery, now: datetime, *, manual: bool
) -> None:
    """After a failed attempt: the next one from the schedule, or none left (gave up). A
    failed redelivery leaves a pending schedule as it was."""
    from crm_app.jobs import tasks

    still_scheduled = delivery.status in (DeliveryStatus.pending, DeliveryStatus.failed) and (
        delivery.next_attempt_at is not None and delivery.next_attempt_at > now
    )
    if manual and still_scheduled:
        delivery.status = DeliveryStatus.failed
        return
    at = None if manual else retry_at(delivery.created_at, delivery.attempts, now)
    if at is None:
        delivery.status = DeliveryStatus.gave_up
        delivery.next_attempt_at = None
        return
    delivery.status = DeliveryStatus.failed
    delivery.next_attempt_at = at
    session.flush()
    jobs.defer(
        session,
        tasks.SEND_WEBHOOK,
        queue=tasks.WEBHOOKS_QUEUE,
        schedule_at=at,
        delivery_id=delivery.id,
    )


def _note_failure(session: Session, webhook: Webhook, now: datetime) -> None:
    """Start the endpoint's failure streak, or end it by switching the endpoint off when it
    has lasted DISABLE_AFTER, telling its owner."""
    session.execute(
        update(Webhook)
        .where(Webhook.id == webhook.id)
        .values(failing_since=func.coalesce(Webhook.failing_since, now))
    )
    reason = "Switched off: every delivery failed for 3 days."
    owner_id = session.execute(
        update(Webhook)
        .where(
            Webhook.id == webhook.id,
            Webhook.is_active,
            Webhook.failing_since <= now - DISABLE_AFTER,
        )
        .values(is_active=False, disabled_reason=reason, version=Webhook.version + 1)
        .returning(Webhook.owner_id)
    ).first()
    session.expire(webhook)
    if owner_id is None:
        return
    if owner_id[0] is not None:
        session.add(
            Notification(
                user_id=owner_id[0],
                kind="webhook_disabled",
                title=f"A webhook was switched off: {webhook.url}"[:200],
                body="Every delivery to it failed for 3 days. Fix the endpoint, then switch "
                "it on again and redeliver what it missed.",
                link=routes.SETTINGS_WEBHOOKS,
            )
        )
    # What was waiting for it goes nowhere now.
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.webhook_id == webhook.id,
            WebhookDelivery.status.in_([DeliveryStatus.pending, DeliveryStatus.failed]),
        )
        .values(status=DeliveryStatus.gave_up, next_attempt_at=None)
    )
