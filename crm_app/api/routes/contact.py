"""`/contacts`: list, create, read, change, trash and restore contacts.

Every rule (permissions, normalising, duplicates, versions) lives in `services.contact`; these
routes translate HTTP to service calls and back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from crm_app.api.deps import Actor, DbSession, client_ip
from crm_app.api.schemas import (
    COMMON_FILTERS,
    CONFLICT,
    PROBLEMS,
    STALE,
    ContactInput,
    RecordList,
    etag,
    filter_parameters,
    if_match_version,
    list_query,
)
from crm_app.models import Contact, ContactPublic
from crm_app.services import contact as contacts
from crm_app.services.listing import ListQuery

router = APIRouter(prefix="/contacts", tags=["contacts"], responses=PROBLEMS)

ContactId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The contact's id.")]
FILTERS = {
    **COMMON_FILTERS,
    "lifecycle_stage": "One of: " + ", ".join(contacts.STAGES) + ".",
    "account_id": "Contacts of this company (its id).",
}


class ContactList(RecordList[ContactPublic]):
    """A page of contacts."""


def _public(contact: Contact, response: Response) -> ContactPublic:
    response.headers["ETag"] = etag(contact.version)
    return ContactPublic.model_validate(contact)


@router.get(
    "",
    response_model=ContactList,
    summary="List contacts",
    openapi_extra=filter_parameters(FILTERS),
)
def list_contacts(
    session: DbSession, actor: Actor, listq: Annotated[ListQuery, Depends(list_query)]
) -> ContactList:
    """Live contacts the key's user may read, newest change first unless `sort` says otherwise.

    Sortable fields: first_name, last_name, email, phone, title, company, owner,
    lifecycle_stage, created_at, updated_at. Custom fields filter as `custom.<key>=value` or
    `custom.<key>__<op>=value`.
    """
    page = contacts.list_contacts(session, actor=actor, listq=listq)
    data = [ContactPublic.model_validate(row.contact) for row in page.rows]
    return ContactList(data=data, next_cursor=page.next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=ContactPublic,
    summary="Create a contact",
    responses=CONFLICT,
)
def create_contact(
    body: ContactInput, request: Request, response: Response, session: DbSession, actor: Actor
) -> ContactPublic:
    """A new contact, owned by the key's user unless `owner_id` names someone else.

    A contact whose e-mail or phone is already used by a live contact is refused with 409,
    listing those contacts in `duplicates`.
    """
    contact = contacts.create_contact(
        session, actor=actor, data=body.model_dump(exclude_unset=True), ip=client_ip(request)
    )
    response.headers["Location"] = request.app.url_path_for("get_contact", contact_id=contact.id)
    return _public(contact, response)


@router.get("/{contact_id}", response_model=ContactPublic, summary="Get a contact")
def get_contact(
    contact_id: ContactId, response: Response, session: DbSession, actor: Actor
) -> ContactPublic:
    """One live contact; its `ETag` is the version to send back in `If-Match`."""
    contact = contacts.get_contact(session, actor=actor, contact_id=contact_id)
    return _public(contact, response)


@router.patch(
    "/{contact_id}",
    response_model=ContactPublic,
    summary="Change a contact",
    responses={**CONFLICT, **STALE},
)
def update_contact(
    contact_id: ContactId,
    body: ContactInput,
    version: Annotated[int | None, Depends(if_match_version)],
    request: Request,
    response: Response,
    session: DbSession,
    actor: Actor,
) -> ContactPublic:
    """Set the fields in the body and leave the others alone."""
    contact = contacts.update_contact(
        session,
        actor=actor,
        contact_id=contact_id,
        data=body.model_dump(exclude_unset=True),
        version=version,
        ip=client_ip(request),
    )
    return _public(contact, response)


@router.delete("/{contact_id}", status_code=204, summary="Move a contact to the trash")
def delete_contact(
    contact_id: ContactId, request: Request, session: DbSession, actor: Actor
) -> Response:
    """The contact leaves lists and reads until `restore` brings it back."""
    contacts.delete_contact(session, actor=actor, contact_id=contact_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/{contact_id}/restore", response_model=ContactPublic, summary="Restore a contact")
def restore_contact(
    contact_id: ContactId, request: Request, response: Response, session: DbSession, actor: Actor
) -> ContactPublic:
    """Bring a contact back from the trash."""
    contact = contacts.restore_contact(
        session, actor=actor, contact_id=contact_id, ip=client_ip(request)
    )
    return _public(contact, response)
