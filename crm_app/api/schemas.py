"""Shapes shared by the record routes: input bodies, the list envelope, problem documents, and
the HTTP pieces around them (list parameters, `If-Match`, `ETag`).

Input bodies carry types only: the services validate and normalise every value (one source of
truth), so here a body just refuses fields that do not exist or may not be set (`extra="forbid"`).
"""

from __future__ import annotations

import re
from typing import Any, Generic, TypeVar

from fastapi import Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from crm_app.api.problems import PROBLEM_JSON
from crm_app.models import LifecycleStage
from crm_app.services.account import SIZES
from crm_app.services.errors import ValidationFailed
from crm_app.services.listing import DEFAULT_LIMIT, MAX_LIMIT, ListQuery

T = TypeVar("T")

# users.id and accounts.id are INTEGER columns: a larger number can name no record, and
# PostgreSQL would refuse to compare it with them.
MAX_INT_ID = 2**31 - 1


class RecordList(BaseModel, Generic[T]):
    """One page of a list and the cursor of the next page."""

    data: list[T]
    next_cursor: str | None = Field(
        description="Pass as `?cursor=` for the next page; null on the last page."
    )


# --- problem documents (RFC 9457), for the OpenAPI description and the 409 body -------------


class FieldProblem(BaseModel):
    """One invalid field and why."""

    field: str
    message: str


class Problem(BaseModel):
    """An error, as application/problem+json."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = Field(
        None, description="For 422 and 409: each invalid field and why."
    )


class DuplicateRef(BaseModel):
    """An existing record the new values collide with."""

    id: int
    label: str


class DuplicateProblem(Problem):
    """A 409: the e-mail (or phone, or domain) is already used by these records."""

    duplicates: list[DuplicateRef]


def _problem(model: type[Problem], description: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"model": model, "description": description, "content": {PROBLEM_JSON: {"schema": ref}}}


PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem(Problem, "Missing, unknown or revoked API key."),
    403: _problem(Problem, "The key's user may not do this."),
    404: _problem(Problem, "No such record (or it is in the trash)."),
    422: _problem(Problem, "Invalid parameters or fields; `errors` lists each."),
    429: _problem(Problem, "Too many requests with this API key; see the Retry-After header."),
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem documents of `statuses` only, for a route that cannot answer the others."""
    return {status: PROBLEMS[status] for status in statuses}


CONFLICT: dict[int | str, dict[str, Any]] = {
    409: _problem(DuplicateProblem, "Duplicate e-mail (or phone, or domain)."),
}
STALE: dict[int | str, dict[str, Any]] = {
    412: _problem(Problem, "`If-Match` names an older version than the record's."),
}


# --- versions: ETag out, If-Match in ----------------------------------------------------------

_VERSION_TAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


def etag(version: int) -> str:
    """The ETag of a record version."""
    return f'"{version}"'


def if_match_version(
    if_match: str | None = Header(
        None,
        alias="If-Match",
        description='The `ETag` you read (`"3"`, `W/"3"` or `3`): refused with 412 when stale.',
    ),
) -> int | None:
    """The version named by `If-Match`; None when absent or `*`."""
    if if_match is None or if_match.strip() in ("", "*"):
        return None
    found = _VERSION_TAG.match(if_match.strip())
    if found is None:
        raise ValidationFailed.for_field("If-Match", 'Send the record\'s ETag, like "3".')
    return int(found.group(1))


# --- lists ------------------------------------------------------------------------------------

_PAGING = {"limit", "cursor", "sort", "q"}


def list_query(
    request: Request,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page."),
    cursor: str | None = Query(None, description="The `next_cursor` of the previous page."),
    sort: str = Query(
        "", description="Comma-separated fields, `-` for descending: `name,-updated_at`."
    ),
    q: str = Query("", description="Search: every word matches as a prefix (`smi` finds Smith)."),
) -> ListQuery:
    """Paging, sort and search from their parameters; every other parameter is a filter.

    Filters go to the service as they are, so an unknown filter is a 422 naming it.
    """
    filters = {k: v for k, v in request.query_params.items() if k not in _PAGING}
    return ListQuery(q=q, filters=filters, sort=sort, limit=limit, cursor=cursor)


COMMON_FILTERS = {
    "owner_id": "Owner's user id, `me`, or `none` for unowned records.",
    "tag": "Records carrying this tag.",
    "created_from": "Created on or after this day (`YYYY-MM-DD`, in the key user's time zone).",
    "created_to": "Created on or before this day.",
    "updated_from": "Updated on or after this day.",
    "updated_to": "Updated on or before this day.",
}


def filter_parameters(descriptions: dict[str, str]) -> dict[str, Any]:
    """`openapi_extra` documenting filters read generically by `list_query`."""
    return {
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": description,
            }
            for name, description in descriptions.items()
        ]
    }


# --- input bodies -----------------------------------------------------------------------------


class ContactInput(BaseModel):
    """Contact fields to set; on create a name or an e-mail is needed, on update any subset."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = Field(None, description="Stored lowercased; must be unique (409).")
    phone: str | None = Field(None, description="Any common format; stored as E.164.")
    additional_emails: list[str] | None = None
    additional_phones: list[str] | None = None
    title: str | None = None
    account_id: int | None = Field(None, description="The company the contact works at.")
    owner_id: int | None = Field(
        None,
        le=MAX_INT_ID,
        description="Defaults to the key's user; reps may only pick themselves (403).",
    )
    lifecycle_stage: str | None = Field(
        None, json_schema_extra={"enum": [s.value for s in LifecycleStage]}
    )
    tags: list[str] | None = None
    custom: dict[str, Any] | None = Field(
        None, description="Custom field values by key; on update, null removes a value."
    )


class AccountInput(BaseModel):
    """Company fields to set; on create the name is needed, on update any subset."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    domain: str | None = Field(None, description="Stored bare and lowercased; unique (409).")
    industry: str | None = None
    size: str | None = Field(None, json_schema_extra={"enum": [*SIZES, None]})
    phone: str | None = Field(None, description="Any common format; stored as E.164.")
    website: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    description: str | None = None
    owner_id: int | None = Field(
        None,
        le=MAX_INT_ID,
        description="Defaults to the key's user; reps may only pick themselves (403).",
    )
    tags: list[str] | None = None
    custom: dict[str, Any] | None = Field(
        None, description="Custom field values by key; on update, null removes a value."
    )
