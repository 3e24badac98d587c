"""Webhook scenarios (issue 7): how soon an event's first delivery attempt reaches a receiver
with the backend's in-process worker, and how long 1,000 queued deliveries take to drain.

The receiver is a local HTTP server in this process; the bench server runs with
CRM_WEBHOOKS_ALLOW_PRIVATE=1 so it may post to 127.0.0.1. Each scenario subscribes a webhook
of its own through the API and deletes it when the benchmark ends.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from bench.harness import Measure

LATENCY_TIMEOUT_SECONDS = 15.0
DRAIN_COUNT = 1_000
DRAIN_TIMEOUT_SECONDS = 120.0


class _Receiver:
    """Counts deliveries and remembers when each record's first one arrived."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.count = 0
        self.first_seen: dict[int, float] = {}  # record id -> perf_counter at arrival
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                arrived = time.perf_counter()
                record_id = json.loads(body)["data"]["id"]
                with receiver.lock:
                    receiver.count += 1
                    receiver.first_seen.setdefault(record_id, arrived)
                    receiver.lock.notify_all()
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait(self, condition: Any, timeout: float, what: str) -> None:
        with self.lock:
            if not self.lock.wait_for(condition, timeout=timeout):
                raise TimeoutError(f"{what} did not arrive within {timeout:g} s")


def _subscribe(ctx: Any, client: httpx.Client, events: list[str]) -> _Receiver:
    """A receiver, and a webhook to it for `events`, both gone when the benchmark ends."""
    receiver = _Receiver()
    ctx.stack.callback(receiver.close)
    created = client.post("/api/v1/webhooks", json={"url": receiver.url, "events": events})
    if created.status_code != 201:
        raise AssertionError(f"creating the webhook answered {created.status_code}: {created.text}")
    ctx.stack.callback(client.delete, f"/api/v1/webhooks/{created.json()['id']}")
    return receiver


def _client(ctx: Any) -> httpx.Client:
    headers = {"Authorization": f"Bearer {ctx.api_key}"}
    return ctx.stack.enter_context(httpx.Client(base_url=ctx.base_url, headers=headers, timeout=30))


def event_to_first_attempt(ctx: Any) -> Measure:
    """From sending POST /api/v1/contacts until the contact.created delivery reaches the
    receiver (the API call, the commit, the worker noticing the job, signing and posting)."""
    client = _client(ctx)
    receiver = _subscribe(ctx, client, ["contact.created"])
    n = 0

    def measure() -> float:
        nonlocal n
        n += 1
        started = time.perf_counter()
        response = client.post("/api/v1/contacts", json={"first_name": "Hook", "last_name": f"{n}"})
        if response.status_code != 201:
            raise AssertionError(f"creating a contact answered {response.status_code}")
        record_id = response.json()["id"]
        receiver.wait(lambda: record_id in receiver.first_seen, LATENCY_TIMEOUT_SECONDS, "It")
        return receiver.first_seen[record_id] - started

    return measure


def _queue_deliveries(count: int) -> Any:
    """A transaction holding `count` contact.updated events (a delivery and a job each),
    not yet committed; the caller commits it."""
    from sqlalchemy import select
    from sqlmodel import Session

    from crm_app.db import get_engine
    from crm_app.models import Contact
    from crm_app.services import webhook
    from crm_app.services.events import DomainEvent

    session = Session(get_engine(), expire_on_commit=False)
    contact_ids = session.execute(select(Contact.id).limit(count)).scalars().all()
    for i in range(count):
        event = DomainEvent("contact.updated", "contact", contact_ids[i % len(contact_ids)], None)
        webhook.queue_deliveries(session, event)
    return session


def drain_1000_deliveries(ctx: Any) -> Measure:
    """From committing 1,000 queued deliveries until the receiver has had every one of them,
    sent by the backend's in-process worker."""
    client = _client(ctx)
    receiver = _subscribe(ctx, client, ["contact.updated"])

    def measure() -> float:
        session = _queue_deliveries(DRAIN_COUNT)
        target = receiver.count + DRAIN_COUNT
        started = time.perf_counter()
        session.commit()
        session.close()
        receiver.wait(lambda: receiver.count >= target, DRAIN_TIMEOUT_SECONDS, "1,000 deliveries")
        return time.perf_counter() - started

    return measure
