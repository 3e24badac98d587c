"""One-click unsubscribe (RFC 8058): mail clients POST `List-Unsubscribe=One-Click` to the
link of a mass mail's `List-Unsubscribe` header. No sign-in: the signed token is the proof.
A GET of the same address is the web page that asks for confirmation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from crm_app.api.deps import DbSession, client_ip
from crm_app.services import suppression

router = APIRouter(tags=["e-mail"])


@router.post("/unsubscribe/{token}", include_in_schema=False)
def one_click_unsubscribe(token: str, request: Request, session: DbSession) -> PlainTextResponse:
    """Add the token's address to the suppression list (a bad or expired token: 404)."""
    address = suppression.unsubscribe(session, token=token[:500], ip=client_ip(request))
    return PlainTextResponse(f"{address} is unsubscribed.")
