"""Shapes of `/webhooks`: the input body, a webhook as shown (its secret only on create and
rotate), and its delivery log with each attempt (never the receiver's response body)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm_app.services.events import WEBHOOK_EVENT_TYPES


class WebhookInput(BaseModel):
    """Webhook fields to set; on create `url` and `events` are needed, on update any subset."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        None,
        description="An http(s) URL; refused (422) when it resolves to a loopback, private, "
        "link-local or metadata address, unless CRM_WEBHOOKS_ALLOW_PRIVATE=1.",
    )
    events: list[str] | None = Field(
        None,
        description="Event types to receive.",
        json_schema_extra={"items": {"enum": list(WEBHOOK_EVENT_TYPES)}},
    )
    is_active: bool | None = Field(
        None, description="Switch it off or on (on again clears its failure streak)."
    )


class WebhookPublic(BaseModel):
    """A webhook: where events go and whether it is on."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    is_active: bool
    disabled_reason: str | None = Field(description="Why it is off, when it is.")
    failing_since: datetime | None = Field(
        description="Since when every attempt has failed; null when the last one succeeded."
    )
    previous_secret_expires_at: datetime | None = Field(
        description="Until when the secret before the last rotation still signs."
    )
    owner_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class WebhookWithSecret(WebhookPublic):
    """A webhook just created or rotated, with its secret: shown this once."""

    secret: str = Field(description="`whsec_<base64>`: verify signatures with it.")


class AttemptPublic(BaseModel):
    """One try at sending a delivery."""

    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    succeeded: bool
    status_code: int | None
    duration_ms: int
    error: str | None
    manual: bool = Field(description="An admin's redelivery rather than the retry schedule.")


class DeliveryPublic(BaseModel):
    """One event sent (or to be sent) to one webhook, with its attempts (newest first)."""

    id: int
    webhook_id: int
    event_id: str = Field(description="The `webhook-id` header, the same on every attempt.")
    event_type: str
    status: str = Field(description="pending, succeeded, failed (will retry) or gave_up.")
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_duration_ms: int | None
    attempts: list[AttemptPublic]


class DeliveryList(BaseModel):
    """A page of deliveries, newest first."""

    data: list[DeliveryPublic]
    next_cursor: str | None
