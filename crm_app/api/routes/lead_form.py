"""`/forms/{key}`: the public web-to-lead endpoint (no API key).

Anyone may post a form's fields, as JSON or as an HTML form would (urlencoded or multipart).
Validation, the honeypot and the rate limit live in `services.lead_form.submit_form`; a bot
caught by the honeypot gets the same 201 as a person, so it learns nothing.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from crm_app.api.deps import DbSession, client_ip
from crm_app.api.lead_schemas import FormReceived
from crm_app.api.schemas import PROBLEMS
from crm_app.services import lead_form
from crm_app.services.errors import ValidationFailed

router = APIRouter(prefix="/forms", tags=["web forms"])

THANKS = "Thank you! We received your details and will be in touch."
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_TYPES = ("application/json", *FORM_TYPES)
FIELDS_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "string"},
    "example": {"first_name": "Ada", "email": "ada@example.com"},
}
RESPONSES = {
    404: PROBLEMS[404] | {"description": "No active form with this key."},
    422: PROBLEMS[422],
    429: PROBLEMS[422]
    | {
        "description": "Too many submissions from this address; see the Retry-After header.",
    },
}


async def submitted_fields(request: Request) -> dict[str, Any]:
    """The posted fields, from a JSON object or an HTML form; 422 for anything else."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in FORM_TYPES:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        data = json.loads(await request.body() or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ValidationFailed.for_field("body", "Send the form's fields as a JSON object.")
    return data


@router.post(
    "/{key}",
    status_code=201,
    response_model=FormReceived,
    summary="Submit a web form",
    responses=RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {content: {"schema": FIELDS_SCHEMA} for content in BODY_TYPES},
        }
    },
)
def submit_form(
    key: Annotated[str, Path(max_length=64, description="The form's key, from its URL.")],
    data: Annotated[dict[str, Any], Depends(submitted_fields)],
    request: Request,
    session: DbSession,
) -> FormReceived:
    """Create a lead from the form's fields (its source and team come from the form).

    At most 10 submissions a minute per address and form (429 with `Retry-After` beyond).
    Fields the form does not ask for are ignored; invalid ones are a 422 naming each.
    """
    lead_form.submit_form(session, key, data, client_ip(request))
    return FormReceived(message=THANKS)
