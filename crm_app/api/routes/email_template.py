"""`/email-templates`: e-mail templates with merge fields: list, create, read, change, delete
(admins and managers change them), and a template rendered about one record.

Every rule lives in `services.email_template`; these routes translate HTTP to service calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from crm_app.api.deps import Actor, DbSession, client_ip
from crm_app.api.schemas import PROBLEMS, RecordList, etag
from crm_app.models import EmailTemplate
from crm_app.services import email_template

router = APIRouter(prefix="/email-templates", tags=["e-mail templates"], responses=PROBLEMS)

TemplateId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The template's id.")]
Entity = Literal["contact", "lead", "deal"]


class EmailTemplateInput(BaseModel):
    """A template's fields; on PATCH, only those sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=100)
    entity: Entity | None = Field(None, description="The kind of record it is about.")
    subject: str | None = Field(None, max_length=300, description="Merge fields allowed.")
    body: str | None = Field(None, max_length=50_000, description="Markdown with merge fields.")


class EmailTemplatePublic(BaseModel):
    """A template as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    entity: str
    subject: str
    body: str
    created_at: datetime
    updated_at: datetime
    version: int


class EmailTemplateList(RecordList[EmailTemplatePublic]):
    """Every live template, by name (a workspace has a handful: no further pages)."""


class PreviewInput(BaseModel):
    """The record to render the template about."""

    model_config = ConfigDict(extra="forbid")

    record_id: int = Field(ge=1, le=2**63 - 1)


class RenderedPublic(BaseModel):
    """A template rendered about one record, as it would be sent by the key's user."""

    subject: str
    html: str
    text: str


def _public(template: EmailTemplate, response: Response) -> EmailTemplatePublic:
    response.headers["ETag"] = etag(template.version)
    return EmailTemplatePublic.model_validate(template)


@router.get("", response_model=EmailTemplateList, summary="List e-mail templates")
def list_templates(
    session: DbSession, actor: Actor, entity: Entity | None = None
) -> EmailTemplateList:
    """Every live template (of one record kind with `?entity=`), by name."""
    found = email_template.list_templates(session, actor=actor, entity=entity)
    data = [EmailTemplatePublic.model_validate(t) for t in found]
    return EmailTemplateList(data=data, next_cursor=None)


@router.post(
    "", status_code=201, response_model=EmailTemplatePublic, summary="Create an e-mail template"
)
def create_template(
    body: EmailTemplateInput, request: Request, response: Response, session: DbSession, actor: Actor
) -> EmailTemplatePublic:
    """A new template; a syntax error, an unknown merge field or a sandbox violation is a 422
    naming the field."""
    template = email_template.create_template(
        session, actor=actor, data=body.model_dump(exclude_none=True), ip=client_ip(request)
    )
    response.headers["Location"] = request.app.url_path_for("get_template", template_id=template.id)
    return _public(template, response)


@router.get("/{template_id}", response_model=EmailTemplatePublic, summary="Get an e-mail template")
def get_template(
    template_id: TemplateId, response: Response, session: DbSession, actor: Actor
) -> EmailTemplatePublic:
    """One template."""
    return _public(
        email_template.get_template(session, actor=actor, template_id=template_id), response
    )


@router.patch(
    "/{template_id}", response_model=EmailTemplatePublic, summary="Change an e-mail template"
)
def update_template(
    template_id: TemplateId,
    body: EmailTemplateInput,
    request: Request,
    response: Response,
    session: DbSession,
    actor: Actor,
) -> EmailTemplatePublic:
    """Change the fields sent, leaving the others alone."""
    template = email_template.update_template(
        session,
        actor=actor,
        template_id=template_id,
        data=body.model_dump(exclude_unset=True, exclude_none=True),
        ip=client_ip(request),
    )
    return _public(template, response)


@router.delete("/{template_id}", status_code=204, summary="Delete an e-mail template")
def delete_template(
    template_id: TemplateId, request: Request, session: DbSession, actor: Actor
) -> Response:
    """Put the template in the trash; what was sent with it stays in the outbox."""
    email_template.delete_template(
        session, actor=actor, template_id=template_id, ip=client_ip(request)
    )
    return Response(status_code=204)


@router.post("/{template_id}/preview", response_model=RenderedPublic, summary="Render a template")
def preview_template(
    template_id: TemplateId, body: PreviewInput, session: DbSession, actor: Actor
) -> RenderedPublic:
    """The template rendered about one record of its kind that the key's user may read."""
    template = email_template.get_template(session, actor=actor, template_id=template_id)
    rendered = email_template.preview(
        session,
        actor=actor,
        entity=template.entity,
        subject=template.subject,
        body=template.body,
        record_id=body.record_id,
    )
    return RenderedPublic(subject=rendered.subject, html=rendered.html, text=rendered.text)
