"""`/webhooks`: outgoing webhooks (admins): list, create, read, change, delete, rotate the
secret, and the delivery log with redelivery.

Every rule lives in `services.webhook`; these routes translate HTTP to service calls and back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from crm_app.api.deps import Actor, DbSession, client_ip
from crm_app.api.schemas import PROBLEMS, STALE, RecordList, etag, if_match_version
from crm_app.api.webhook_schemas import (
    AttemptPublic,
    DeliveryList,
    DeliveryPublic,
    WebhookInput,
    WebhookPublic,
    WebhookWithSecret,
)
from crm_app.models import Webhook
from crm_app.services import webhook as webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=PROBLEMS)

WebhookId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The webhook's id.")]
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The delivery's id.")]


class WebhookList(RecordList[WebhookPublic]):
    """Every webhook (a workspace has a handful: no further pages)."""


def _public(webhook: Webhook, response: Response) -> WebhookPublic:
    response.headers["ETag"] = etag(webhook.version)
    return WebhookPublic.model_validate(webhook)


def _with_secret(created: webhooks.WebhookWithSecret, response: Response) -> WebhookWithSecret:
    response.headers["ETag"] = etag(created.webhook.version)
    response.headers["Cache-Control"] = "no-store"
    shown = WebhookPublic.model_validate(created.webhook).model_dump()
    return WebhookWithSecret(**shown, secret=created.secret)


@router.get("", response_model=WebhookList, summary="List webhooks")
def list_webhooks(session: DbSession, actor: Actor) -> WebhookList:
    """Every webhook, oldest first. Needs the settings permission (admins)."""
    found = webhooks.list_webhooks(session, actor=actor)
    return WebhookList(data=[WebhookPublic.model_validate(w) for w in found], next_cursor=None)


@router.post("", status_code=201, response_model=WebhookWithSecret, summary="Create a webhook")
def create_webhook(
    body: WebhookInput, request: Request, response: Response, session: DbSession, actor: Actor
) -> WebhookWithSecret:
    """A webhook owned by the key's user. The response carries its `secret`, shown only here
    (and on rotation): keep it to verify the `webhook-signature` of each delivery."""
    created = webhooks.create_webhook(
        session, actor=actor, data=body.model_dump(exclude_unset=True), ip=client_ip(request)
    )
    response.headers["Location"] = request.app.url_path_for(
        "get_webhook", webhook_id=created.webhook.id
    )
    return _with_secret(created, response)


@router.get("/{webhook_id}", response_model=WebhookPublic, summary="Get a webhook")
def get_webhook(
    webhook_id: WebhookId, response: Response, session: DbSession, actor: Actor
) -> WebhookPublic:
    """One webhook (never its secret); its `ETag` is the version for `If-Match`."""
    return _public(webhooks.get_webhook(session, actor=actor, webhook_id=webhook_id), response)


@router.patch(
    "/{webhook_id}", response_model=WebhookPublic, summary="Change a webhook", responses=STALE
)
def update_webhook(
    webhook_id: WebhookId,
    body: WebhookInput,
    version: Annotated[int | None, Depends(if_match_version)],
    request: Request,
    response: Response,
    session: DbSession,
    actor: Actor,
) -> WebhookPublic:
    """Set the URL, the events or `is_active`, leaving the others alone."""
    webhook = webhooks.update_webhook(
        session,
        actor=actor,
        webhook_id=webhook_id,
        data=body.model_dump(exclude_unset=True),
        version=version,
        ip=client_ip(request),
    )
    return _public(webhook, response)


@router.delete("/{webhook_id}", status_code=204, summary="Delete a webhook")
def delete_webhook(
    webhook_id: WebhookId, request: Request, session: DbSession, actor: Actor
) -> Response:
    """Delete the webhook and its delivery log; nothing more is sent to it."""
    webhooks.delete_webhook(session, actor=actor, webhook_id=webhook_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=WebhookWithSecret,
    summary="Rotate a webhook's secret",
)
def rotate_secret(
    webhook_id: WebhookId, request: Request, response: Response, session: DbSession, actor: Actor
) -> WebhookWithSecret:
    """A new secret, shown only here. For 24 hours each delivery is signed with both the new
    and the old secret (two space-separated signatures), so receivers can switch over."""
    rotated = webhooks.rotate_secret(
        session, actor=actor, webhook_id=webhook_id, ip=client_ip(request)
    )
    return _with_secret(rotated, response)


def _delivery(row: webhooks.DeliveryRow) -> DeliveryPublic:
    d = row.delivery
    return DeliveryPublic(
        id=d.id,
        webhook_id=d.webhook_id,
        event_id=d.event_id,
        event_type=d.event_type,
        status=str(d.status),
        payload=d.payload,
        created_at=d.created_at,
        next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code,
        last_duration_ms=d.last_duration_ms,
        attempts=[AttemptPublic.model_validate(a) for a in row.attempts],
    )


@router.get(
    "/{webhook_id}/deliveries", response_model=DeliveryList, summary="A webhook's deliveries"
)
def list_deliveries(
    webhook_id: WebhookId,
    session: DbSession,
    actor: Actor,
    limit: int = Query(webhooks.DELIVERIES_PAGE, ge=1, le=100, description="Rows per page."),
    cursor: str | None = Query(None, description="The `next_cursor` of the previous page."),
    status: str | None = Query(None, description="pending, succeeded, failed or gave_up."),
) -> DeliveryList:
    """The webhook's deliveries, newest first, each with its attempts."""
    page = webhooks.list_deliveries(
        session, actor=actor, webhook_id=webhook_id, limit=limit, cursor=cursor, status=status
    )
    return DeliveryList(data=[_delivery(r) for r in page.rows], next_cursor=page.next_cursor)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a delivery again",
)
def redeliver(
    delivery_id: DeliveryId, request: Request, session: DbSession, actor: Actor
) -> Response:
    """Queue one more attempt now, with the same `webhook-id`; 202 when queued."""
    webhooks.redeliver(session, actor=actor, delivery_id=delivery_id, ip=client_ip(request))
    return Response(status_code=202)
