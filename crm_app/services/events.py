"""Domain events: what happened to a record, told to whoever listens, in the same transaction.

A service that changes a record calls `emit` after flushing it. Listeners (outgoing webhooks,
workflow rules) only queue work on the caller's session (rows and procrastinate jobs), so the
work exists exactly when the change commits and never for a rolled-back one.

Listeners are registered at import time by the module that owns them (`register`); keep them
fast: no network, no e-mail, just rows and deferred jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session

# Every event type a webhook may subscribe to (issue 7); workflow rules see these and a few
# internal ones (e.g. "lead.score_changed").
WEBHOOK_EVENT_TYPES: tuple[str, ...] = (
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "account.created",
    "account.updated",
    "account.deleted",
    "lead.created",
    "lead.converted",
    "deal.created",
    "deal.updated",
    "deal.stage_changed",
    "deal.won",
    "deal.lost",
    "activity.created",
)


@dataclass(frozen=True)
class DomainEvent:
    """One thing that happened to one record.

    `entity` is the record's kind ("contact", "account", "lead", "deal", "activity"), `changes`
    the audited difference {field: [before, after]} for updates and stage moves, and `depth`
    how many workflow actions led here (loop protection: rules stop at a fixed depth).
    """

    type: str
    entity: str
    record_id: int
    actor_id: int | None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    depth: int = 0


Listener = Callable[[Session, DomainEvent], None]
_listeners: list[Listener] = []


def register(listener: Listener) -> Listener:
    """Add a listener (usable as a decorator); registering the same one twice is a no-op."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def emit(session: Session, event: DomainEvent) -> None:
    """Tell every listener, on the caller's session and transaction. While a workflow rule's
    actions run, the session says how deep the chain of rules is (`workflow_depth`), and the
    event carries that depth, whatever service emits it."""
    _load_listeners()
    depth = session.info.get("workflow_depth", 0)
    if depth > event.depth:
        event = replace(event, depth=depth)
    for listener in list(_listeners):
        listener(session, event)


def _load_listeners() -> None:
    """Import the modules that register listeners, once (they import services themselves)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import importlib

    for module in LISTENER_MODULES:
        importlib.import_module(module)


_loaded = False
LISTENER_MODULES: tuple[str, ...] = (
    "crm_app.services.webhook",
    "crm_app.services.workflow",
)
