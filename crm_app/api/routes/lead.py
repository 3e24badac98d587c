"""`/leads`: list, create, read, change, trash, restore and convert leads.

Every rule (permissions, normalising, the status flow, scoring, assignment, conversion) lives
in `services.lead` and `services.lead_conversion`; these routes translate HTTP to service
calls and back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from crm_app.api.deps import Actor, DbSession, client_ip
from crm_app.api.lead_schemas import ConversionResult, ConvertInput, LeadInput
from crm_app.api.schemas import (
    COMMON_FILTERS,
    CONFLICT,
    PROBLEMS,
    STALE,
    RecordList,
    etag,
    filter_parameters,
    if_match_version,
    list_query,
)
from crm_app.models import Lead, LeadPublic
from crm_app.services import lead as leads
from crm_app.services import lead_conversion
from crm_app.services.listing import ListQuery

router = APIRouter(prefix="/leads", tags=["leads"], responses=PROBLEMS)

LeadId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The lead's id.")]
FILTERS = {
    **COMMON_FILTERS,
    "status": "One or more (comma-separated) of: " + ", ".join(leads.STATUSES) + ".",
    "source": "The lead source's name (any case), or `none`.",
    "score_min": "Score at least this (0-100).",
    "score_max": "Score at most this (0-100).",
}


class LeadList(RecordList[LeadPublic]):
    """A page of leads."""


def _public(lead: Lead, response: Response) -> LeadPublic:
    response.headers["ETag"] = etag(lead.version)
    return LeadPublic.model_validate(lead)


@router.get(
    "", response_model=LeadList, summary="List leads", openapi_extra=filter_parameters(FILTERS)
)
def list_leads(
    session: DbSession, actor: Actor, listq: Annotated[ListQuery, Depends(list_query)]
) -> LeadList:
    """Live leads the key's user may read, newest change first unless `sort` says otherwise.

    Sortable fields: first_name, last_name, email, phone, company, title, source, status,
    score, owner, created_at, updated_at. Custom fields filter as `custom.<key>=value` or
    `custom.<key>__<op>=value`.
    """
    page = leads.list_leads(session, actor=actor, listq=listq)
    data = [LeadPublic.model_validate(row.lead) for row in page.rows]
    return LeadList(data=data, next_cursor=page.next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=LeadPublic,
    summary="Create a lead",
    responses=CONFLICT,
)
def create_lead(
    body: LeadInput, request: Request, response: Response, session: DbSession, actor: Actor
) -> LeadPublic:
    """A new lead, scored at once. Owned by the key's user unless `owner_id` names someone
    else; `owner_id: null` hands it to the next rep of the assignment team (who is notified).

    A lead whose e-mail or phone is already used by an open lead is refused with 409, listing
    those leads in `duplicates`.
    """
    lead = leads.create_lead(
        session, actor=actor, data=body.model_dump(exclude_unset=True), ip=client_ip(request)
    )
    response.headers["Location"] = request.app.url_path_for("get_lead", lead_id=lead.id)
    return _public(lead, response)


@router.get("/{lead_id}", response_model=LeadPublic, summary="Get a lead")
def get_lead(lead_id: LeadId, response: Response, session: DbSession, actor: Actor) -> LeadPublic:
    """One live lead; its `ETag` is the version to send back in `If-Match`."""
    return _public(leads.get_lead(session, actor=actor, lead_id=lead_id), response)


@router.patch(
    "/{lead_id}",
    response_model=LeadPublic,
    summary="Change a lead",
    responses={**CONFLICT, **STALE},
)
def update_lead(
    lead_id: LeadId,
    body: LeadInput,
    version: Annotated[int | None, Depends(if_match_version)],
    request: Request,
    response: Response,
    session: DbSession,
    actor: Actor,
) -> LeadPublic:
    """Set the fields in the body and leave the others alone; the lead is rescored."""
    lead = leads.update_lead(
        session,
        actor=actor,
        lead_id=lead_id,
        data=body.model_dump(exclude_unset=True),
        version=version,
        ip=client_ip(request),
    )
    return _public(lead, response)


@router.delete("/{lead_id}", status_code=204, summary="Move a lead to the trash")
def delete_lead(lead_id: LeadId, request: Request, session: DbSession, actor: Actor) -> Response:
    """The lead leaves lists and reads until `restore` brings it back."""
    leads.delete_lead(session, actor=actor, lead_id=lead_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/{lead_id}/restore", response_model=LeadPublic, summary="Restore a lead")
def restore_lead(
    lead_id: LeadId, request: Request, response: Response, session: DbSession, actor: Actor
) -> LeadPublic:
    """Bring a lead back from the trash."""
    lead = leads.restore_lead(session, actor=actor, lead_id=lead_id, ip=client_ip(request))
    return _public(lead, response)


@router.post(
    "/{lead_id}/convert",
    response_model=ConversionResult,
    summary="Convert a lead",
    responses={409: PROBLEMS[422] | {"description": "The lead was already converted."}},
)
def convert_lead(
    lead_id: LeadId, body: ConvertInput, request: Request, session: DbSession, actor: Actor
) -> ConversionResult:
    """Turn the lead into a contact (matched by e-mail, else new), a company (matched by the
    e-mail's domain, never a free-mail one, or by name; else new) and, when asked, a deal, all
    in one transaction. The lead becomes `converted` and keeps links to what it became."""
    create_deal = body.create_deal if body.create_deal is not None else body.deal is not None
    done = lead_conversion.convert_lead(
        session,
        actor=actor,
        lead_id=lead_id,
        contact_id=body.contact_id,
        account_id=body.account_id,
        create_deal=create_deal,
        deal=body.deal,
        ip=client_ip(request),
    )
    return ConversionResult(
        lead_id=done.lead.id,
        contact_id=done.contact.id,
        account_id=done.account.id if done.account else None,
        deal_id=done.deal.id if done.deal else None,
        created_contact=done.created_contact,
        created_account=done.created_account,
    )
