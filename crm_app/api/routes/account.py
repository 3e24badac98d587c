"""`/accounts` (companies): list, create, read, change, trash and restore companies.

Every rule (permissions, normalising, duplicates, versions) lives in `services.account`; these
routes translate HTTP to service calls and back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from crm_app.api.deps import Actor, DbSession, client_ip
from crm_app.api.schemas import (
    COMMON_FILTERS,
    CONFLICT,
    MAX_INT_ID,
    PROBLEMS,
    STALE,
    AccountInput,
    RecordList,
    etag,
    filter_parameters,
    if_match_version,
    list_query,
)
from crm_app.models import Account, AccountPublic
from crm_app.services import account as accounts
from crm_app.services.listing import ListQuery

router = APIRouter(prefix="/accounts", tags=["companies"], responses=PROBLEMS)

AccountId = Annotated[int, Path(ge=1, le=MAX_INT_ID, description="The company's id.")]
FILTERS = {
    **COMMON_FILTERS,
    "industry": "Industry, ignoring case.",
    "size": "Employee band, one of: " + ", ".join(accounts.SIZES) + ".",
    "country": "Country, ignoring case.",
}


class AccountList(RecordList[AccountPublic]):
    """A page of companies."""


def _public(account: Account, response: Response) -> AccountPublic:
    response.headers["ETag"] = etag(account.version)
    return AccountPublic.model_validate(account)


@router.get(
    "",
    response_model=AccountList,
    summary="List companies",
    openapi_extra=filter_parameters(FILTERS),
)
def list_accounts(
    session: DbSession, actor: Actor, listq: Annotated[ListQuery, Depends(list_query)]
) -> AccountList:
    """Live companies the key's user may read, by name unless `sort` says otherwise.

    Sortable fields: name, domain, industry, size, city, country, owner, created_at,
    updated_at. Custom fields filter as `custom.<key>=value` or `custom.<key>__<op>=value`.
    """
    page = accounts.list_accounts(session, actor=actor, listq=listq)
    data = [AccountPublic.model_validate(row.account) for row in page.rows]
    return AccountList(data=data, next_cursor=page.next_cursor)


@router.post(
    "",
    status_code=201,
    response_model=AccountPublic,
    summary="Create a company",
    responses=CONFLICT,
)
def create_account(
    body: AccountInput, request: Request, response: Response, session: DbSession, actor: Actor
) -> AccountPublic:
    """A new company, owned by the key's user unless `owner_id` names someone else.

    A company whose domain is already used by a live company is refused with 409, listing
    those companies in `duplicates`.
    """
    account = accounts.create_account(
        session, actor=actor, data=body.model_dump(exclude_unset=True), ip=client_ip(request)
    )
    response.headers["Location"] = request.app.url_path_for("get_account", account_id=account.id)
    return _public(account, response)


@router.get("/{account_id}", response_model=AccountPublic, summary="Get a company")
def get_account(
    account_id: AccountId, response: Response, session: DbSession, actor: Actor
) -> AccountPublic:
    """One live company; its `ETag` is the version to send back in `If-Match`."""
    account = accounts.get_account(session, actor=actor, account_id=account_id)
    return _public(account, response)


@router.patch(
    "/{account_id}",
    response_model=AccountPublic,
    summary="Change a company",
    responses={**CONFLICT, **STALE},
)
def update_account(
    account_id: AccountId,
    body: AccountInput,
    version: Annotated[int | None, Depends(if_match_version)],
    request: Request,
    response: Response,
    session: DbSession,
    actor: Actor,
) -> AccountPublic:
    """Set the fields in the body and leave the others alone."""
    account = accounts.update_account(
        session,
        actor=actor,
        account_id=account_id,
        data=body.model_dump(exclude_unset=True),
        version=version,
        ip=client_ip(request),
    )
    return _public(account, response)


@router.delete("/{account_id}", status_code=204, summary="Move a company to the trash")
def delete_account(
    account_id: AccountId, request: Request, session: DbSession, actor: Actor
) -> Response:
    """The company leaves lists and reads until `restore` brings it back; its contacts keep
    their link to it."""
    accounts.delete_account(session, actor=actor, account_id=account_id, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/{account_id}/restore", response_model=AccountPublic, summary="Restore a company")
def restore_account(
    account_id: AccountId, request: Request, response: Response, session: DbSession, actor: Actor
) -> AccountPublic:
    """Bring a company back from the trash."""
    account = accounts.restore_account(
        session, actor=actor, account_id=account_id, ip=client_ip(request)
    )
    return _public(account, response)
