"""`/deals`: list, create, read, change (and move), trash and restore deals.

Every rule (permissions, validation, the won/lost rules, positions, versions) lives in
`services.deal`; these routes translate HTTP to service calls and back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from crm_app.api.deal_schemas import DealInput
from crm_app.api.deps import Actor, DbSession, client_ip
from crm_app.api.schemas import (
    COMMON_FILTERS,
    MAX_INT_ID,
    PROBLEMS,
    STALE,
    RecordList,
    etag,
    filter_parameters,
    if_match_version,
    list_query,
)
from crm_app.models import Deal, DealPublic
from crm_app.services import deal as deals
from crm_app.services import deal_list
from crm_app.services.listing import ListQuery

router = APIRouter(prefix="/deals", tags=["deals"], responses=PROBLEMS)

DealId = Annotated[int, Path(ge=1, le=MAX_INT_ID, description="The deal's id.")]
FILTERS = {
    **COMMON_FILTERS,
    "pipeline_id": "Deals of this pipeline.",
    "stage_id": "Deals in this stage.",
    "status": "One of: " + ", ".join(deals.STATUSES) + " (the kind of the deal's stage).",
    "account_id": "Deals with this company (its id).",
    "contact_id": "Deals this contact is the primary contact of or involved in.",
    "currency": "Deals in this currency (`USD`).",
    "expected_close_from": "Expected to close on or after this day (`YYYY-MM-DD`).",
    "expected_close_to": "Expected to close on or before this day.",
    "amount_min": "Amount at least this.",
    "amount_max": "Amount at most this.",
}


class DealList(RecordList[DealPublic]):
    """A page of deals."""


def _public(deal: Deal, response: Response) -> DealPublic:
    response.headers["ETag"] = etag(deal.version)
    return DealPublic.model_validate(deal)


@router.get(
    "", response_model=DealList, summary="List deals", openapi_extra=filter_parameters(FILTERS)
)
def list_deals(
    session: DbSession, actor: Actor, listq: Annotated[ListQuery, Depends(list_query)]
) -> DealList:
    """Live deals the key's user may read, newest change first unless `sort` says otherwise.

    Sortable fields: name, company, stage, amount, currency, probability, weighted,
    expected_close_date, owner, closed_at, created_at, updated_at. `q` searches deal names.
    Custom fields filter as `custom.<key>=value` or `custom.<key>__<op>=value`.
    """
    page = deal_list.list_deals(session, actor=actor, listq=listq)
    data = [DealPublic.model_validate(row.deal) for row in page.rows]
    return DealList(data=data, next_cursor=page.next_cursor)


@router.post("", status_code=201, response_model=DealPublic, summary="Create a deal")
def create_deal(
    body: DealInput, request: Request, response: Response, session: DbSession, actor: Actor
) -> DealPublic:
    """A new deal, owned by the key's user unless `owner_id` names someone else, in the stage
    named or else the first open stage of the pipeline named (or of the default pipeline)."""
    deal = deals.create_deal(
        session, actor=actor, data=body.model_dump(exclude_unset=True), ip=client_ip(request)
    )
    response.headers["Location"] = request.app.url_path_for("get_deal", deal_id=deal.id)
    return _public(deal, response)


@router.get("/{deal_id}", response_model=DealPublic, summary="Get a deal")
def get_deal(deal_id: DealId, response: Response, session: DbSession, actor: Actor) -> DealPublic:
    """One live deal; its `ETag` is the version to send back in `If-Match`."""
    return _public(deals.get_deal(session, actor=actor, deal_id=deal_id), response)


@router.patch(
    "/{deal_id}", response_model=DealPublic, summary="Change or move a deal", responses=STALE
)
def update_deal(
    deal_id: DealId,
    body: DealInput,
    version: Annotated[int | None, Depends(if_match_version)],
    request: Request,
    response: Response,
    session: DbSession,
    actor: Actor,
) -> DealPublic:
    """Set the fields in the body and leave the others alone. `stage_id` (with `lost_reason`
    for a lost stage) and `position` move the deal on the board."""
    deal = deals.update_deal(
        session,
        actor=actor,
        deal_id=deal_id,
        data=body.model_dump(exclude_unset=True),
        version=version,
        ip=client_ip(request),
    )
    return _public(deal, response)


@router.delete("/{deal_id}", status_code=204, summary="Move a deal to the trash")
def delete_deal(deal_id: DealId, request: Request, session: DbSession, actor: Actor) -> Response:
    """The deal leaves lists, boards and reads until `restore` brings it back."""
    deals.delete_deal(session, actor=actor, deal_id=deal_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/{deal_id}/restore", response_model=DealPublic, summary="Restore a deal")
def restore_deal(
    deal_id: DealId, request: Request, response: Response, session: DbSession, actor: Actor
) -> DealPublic:
    """Bring a deal back from the trash, in its stage and place."""
    deal = deals.restore_deal(session, actor=actor, deal_id=deal_id, ip=client_ip(request))
    return _public(deal, response)
