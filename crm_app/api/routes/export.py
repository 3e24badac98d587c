"""CSV downloads: a contacts, companies or deals list view, and the rows an import rejected.

The list pages link here, so a browser authenticates with its session cookie; scripts send an
API key (`Authorization: Bearer`). The export streams from the database while it is sent:
the request's session stays open until the last row is out.

    GET /exports/contacts.csv?q=ada&lifecycle_stage=lead&sort=-updated_at&columns=email,owner
    GET /exports/deals.csv?status=open&pipeline_id=1&sort=-weighted&columns=name,amount,currency
    GET /imports/42/rejected.csv
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from crm_app import routes
from crm_app.api.deps import get_session
from crm_app.models import User
from crm_app.services import api_key, auth, exporter, importer
from crm_app.services.errors import NotFound, Unauthenticated
from crm_app.services.listing import ListQuery

router = APIRouter(include_in_schema=False)

# The session lives until the streamed response has been sent (the export reads from it).
StreamSession = Annotated[Session, Depends(get_session, scope="request")]
_bearer = HTTPBearer(auto_error=False)
ENTITIES = {"contacts": "contact", "accounts": "account", "companies": "account", "deals": "deal"}
NOT_FILTERS = {"q", "sort", "columns"}
NO_STORE = {"Cache-Control": "no-store"}


def get_caller(
    request: Request,
    session: StreamSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user of the API key, else of the browser's session cookie; 401 otherwise."""
    if credentials is not None:
        user = api_key.authenticate_key(session, credentials.credentials)
        if user is None:
            raise Unauthenticated("The API key is unknown, revoked or expired.")
        return user
    user = auth.authenticate(session, request.cookies.get(routes.SESSION_COOKIE))
    if user is None:
        raise Unauthenticated("Sign in, or send an API key as 'Authorization: Bearer <key>'.")
    return user


Caller = Annotated[User, Depends(get_caller)]


@router.get(routes.EXPORT)
def export_csv(
    entity: str,
    request: Request,
    session: StreamSession,
    caller: Caller,
    q: str = "",
    sort: str = "",
    columns: Annotated[str, Query(description="Comma-separated column names.")] = "",
) -> StreamingResponse:
    """The whole list view as CSV; every other query parameter is a list filter."""
    if entity not in ENTITIES:
        raise NotFound("Export contacts, accounts or deals.")
    filters = {k: v for k, v in request.query_params.items() if k not in NOT_FILTERS}
    export = exporter.prepare_export(
        session,
        actor=caller,
        entity=ENTITIES[entity],
        listq=ListQuery(q=q, filters=filters, sort=sort),
        columns=[c.strip() for c in columns.split(",") if c.strip()] or None,
    )
    return StreamingResponse(
        export.chunks(session),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"', **NO_STORE},
    )


@router.get(routes.IMPORT_REJECTED)
def rejected_rows(
    job_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: StreamSession, caller: Caller
) -> FileResponse:
    """The rows an import rejected, with why (its starter's or an admin's only)."""
    job, path = importer.rejected_report(session, actor=caller, job_id=job_id)
    stem = job.filename.rsplit(".", 1)[0] or "import"
    return FileResponse(
        path,
        media_type="text/csv; charset=utf-8",
        filename=f"{stem}-rejected.csv",
        headers=NO_STORE,
    )
