"""The body of the activity routes. As in `schemas`, it carries types only and refuses unknown
fields; `services.activity` validates every value and applies the rules of each kind."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crm_app.api.schemas import MAX_INT_ID
from crm_app.services.activity import KINDS

MAX_BIG_ID = 2**63 - 1  # contacts.id is a BIGINT
PRIORITIES = ["low", "normal", "high"]


class ActivityInput(BaseModel):
    """Activity fields to set; on create `kind` is needed, on update any subset. Times carry
    their offset (`2026-03-02T09:30:00+01:00`) and come back in UTC."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(
        None,
        json_schema_extra={"enum": KINDS},
        description="Calls, e-mails and notes are done when logged; tasks and meetings are open.",
    )
    subject: str | None = Field(
        None, description="Needed for tasks and meetings; others need a subject or a body."
    )
    body: str | None = Field(
        None,
        description=(
            "HTML, sanitised on every save: p, br, b, strong, i, em, u, s, ul, ol, li,"
            " blockquote, code, pre, h3, h4 and http(s)/mailto links are kept."
        ),
    )
    due_at: datetime | None = Field(None, description="Tasks only.")
    done_at: datetime | None = Field(
        None, description="Defaults to now for calls, e-mails and notes."
    )
    reminder_at: datetime | None = Field(
        None,
        description=(
            "Tasks and meetings: at or before the due time or start. Setting it arms it again;"
            " moving the due time or start moves it along."
        ),
    )
    starts_at: datetime | None = Field(None, description="Meetings only, and needed by them.")
    ends_at: datetime | None = Field(None, description="Meetings only; not before the start.")
    location: str | None = Field(None, description="Meetings only.")
    outcome: str | None = Field(None, description="Calls only.")
    duration_minutes: int | None = Field(None, description="Calls only.")
    priority: str | None = Field(
        None, json_schema_extra={"enum": PRIORITIES}, description="Tasks only; normal otherwise."
    )
    owner_id: int | None = Field(
        None,
        le=MAX_INT_ID,
        description=(
            "Defaults to the key's user; reps may only pick themselves (403). Someone else is"
            " told in the app."
        ),
    )
    contact_id: int | None = Field(None, le=MAX_BIG_ID)
    account_id: int | None = Field(None, le=MAX_INT_ID, description="A company.")
    lead_id: int | None = Field(None, le=MAX_INT_ID, description="The lead is rescored.")
    deal_id: int | None = Field(None, le=MAX_INT_ID)
    attendee_contact_ids: list[int] | None = Field(None, description="Meetings only.")
    attendee_user_ids: list[int] | None = Field(None, description="Meetings only: active users.")
