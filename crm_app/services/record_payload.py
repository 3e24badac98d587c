"""A business record as the REST API returns it, for whatever leaves the app outside a
request (webhook payloads). The API routes answer with the same public schemas."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel

from crm_app.models import (
    Account,
    AccountPublic,
    Activity,
    ActivityPublic,
    Contact,
    ContactPublic,
    Deal,
    DealPublic,
    Lead,
    LeadPublic,
)

# entity name -> (table, public schema)
RECORDS: dict[str, tuple[type[SQLModel], type[SQLModel]]] = {
    "contact": (Contact, ContactPublic),
    "account": (Account, AccountPublic),
    "lead": (Lead, LeadPublic),
    "deal": (Deal, DealPublic),
    "activity": (Activity, ActivityPublic),
}


def record_payload(session: Session, entity: str, record_id: int) -> dict[str, Any] | None:
    """The record as JSON-ready data, as `GET /api/v1/<entity>s/{id}` would show it (trashed
    ones too); None for an unknown entity or id."""
    if entity not in RECORDS:
        return None
    model, public = RECORDS[entity]
    record = session.get(model, record_id)
    if record is None:
        return None
    return public.model_validate(record).model_dump(mode="json")
