"""E-mail templates: a subject and a Markdown body with merge fields (`{{ contact.first_name }}`),
kept per record kind, and their rendering about one record.

Rendering runs in jinja2's sandbox over a whitelist of plain dicts of text (`merge_context`),
never over model objects, so a template reaches nothing but those values. The body is rendered
with autoescape on and every value also escaped for Markdown, so a contact named `<script>` or
`[x](javascript:...)` shows as that text; the Markdown is then turned into sanitised HTML. An
unknown field of a known name renders empty; an unknown name, a syntax error or a sandbox
violation is a `ValidationFailed` with a clear message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func
from sqlmodel import Session, select

from crm_app.models import Account, Contact, Deal, EmailTemplate, Lead, Pipeline, Stage, User
from crm_app.models.base import utcnow
from crm_app.services import audit, crud, rich_text
from crm_app.services.deal_fields import MAX_BIG_ID, MAX_ID
from crm_app.services.errors import FieldError, Forbidden, NotFound, ValidationFailed
from crm_app.services.permission import can, require

RESOURCE = "email_template"
ENTITIES = ("contact", "lead", "deal")
ENTITY_LABELS = {"contact": "Contact", "lead": "Lead", "deal": "Deal"}
NAME_MAX = 100
SUBJECT_MAX = 300
BODY_MAX = 50_000
# Which merge names each kind of record offers.
NAMES: dict[str, tuple[str, ...]] = {
    "contact": ("contact", "account", "sender"),
    "lead": ("lead", "contact", "account", "sender"),
    "deal": ("deal", "contact", "account", "sender"),
}
# The fields of each name, for the editor's help text (custom fields come as `custom.<key>`).
FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("first_name", "last_name", "name", "email", "phone", "title", "company"),
    "account": ("name", "domain", "industry", "city", "country"),
    "lead": (
        "first_name",
        "last_name",
        "name",
        "email",
        "phone",
        "company",
        "title",
        "source",
        "status",
    ),
    "deal": ("name", "amount", "currency", "stage", "pipeline", "close_date", "probability"),
    "sender": ("name", "email"),
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


class _Sandbox(SandboxedEnvironment):
    """A sandbox that refuses internals at once (the stock one renders them as an undefined
    value that only fails when printed, or not at all with a chainable undefined)."""

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"{attribute!r} is not a merge field.")


def _markdown_literal(value: Any) -> Any:
    """A merge value as literal Markdown text: its punctuation backslash-escaped."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _MARKDOWN_SPECIAL.sub(r"\\\1", value)
    return value


_BODY_ENV = _Sandbox(autoescape=True, undefined=ChainableUndefined, finalize=_markdown_literal)
_TEXT_ENV = _Sandbox(autoescape=False, undefined=ChainableUndefined)


@dataclass
class Rendered:
    """A template rendered about one record: the subject line, the HTML body and its text."""

    subject: str
    html: str
    text: str


# ---- merge values ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "value", value))


def _person(record: Contact | Lead) -> dict[str, Any]:
    name = " ".join(p for p in (record.first_name, record.last_name) if p)
    return {
        "first_name": record.first_name or "",
        "last_name": record.last_name or "",
        "name": name,
        "email": record.email or "",
        "phone": record.phone or "",
        "title": record.title or "",
        "custom": {str(k): _text(v) for k, v in (record.custom or {}).items()},
    }


def _account(account: Account | None) -> dict[str, Any]:
    if account is None or account.deleted_at is not None:
        return {}
    return {
        "name": account.name,
        "domain": account.domain or "",
        "industry": account.industry or "",
        "city": getattr(account, "city", None) or "",
        "country": getattr(account, "country", None) or "",
        "custom": {str(k): _text(v) for k, v in (account.custom or {}).items()},
    }


def _contact(session: Session, contact: Contact | None) -> dict[str, Any]:
    if contact is None or contact.deleted_at is not None:
        return {}
    return {**_person(contact), "company": contact.company_name or ""}


def sender_context(sender: User | None) -> dict[str, str]:
    """The `sender` name: who sends the message."""
    if sender is None:
        return {"name": "", "email": ""}
    return {"name": sender.name, "email": sender.email}


def merge_context(
    session: Session, *, entity: str, record: Contact | Lead | Deal, sender: User | None
) -> dict[str, Any]:
    """The whitelist of values a template about `record` may use, as plain dicts of text."""
    context: dict[str, Any] = {"sender": sender_context(sender)}
    if isinstance(record, Contact):
        account = session.get(Account, record.account_id) if record.account_id else None
        context |= {"contact": _contact(session, record), "account": _account(account)}
    elif isinstance(record, Lead):
        person = {**_person(record), "company": record.company_name or ""}
        lead = {**person, "source": record.source or "", "status": _text(record.status)}
        context |= {"lead": lead, "contact": person, "account": {"name": person["company"]}}
    elif isinstance(record, Deal):
        stage = session.get(Stage, record.stage_id)
        pipeline = session.get(Pipeline, record.pipeline_id)
        contact = (
            session.get(Contact, record.primary_contact_id) if record.primary_contact_id else None
        )
        account = session.get(Account, record.account_id) if record.account_id else None
        amount = f"{_text(record.amount)} {record.currency}" if record.amount is not None else ""
        context |= {
            "deal": {
                "name": record.name,
                "amount": amount,
                "currency": record.currency,
                "stage": stage.name if stage else "",
                "pipeline": pipeline.name if pipeline else "",
                "close_date": _text(record.expected_close_date),
                "probability": _text(record.probability),
                "custom": {str(k): _text(v) for k, v in (record.custom or {}).items()},
            },
            "contact": _contact(session, contact),
            "account": _account(account),
        }
    del entity  # the record's type says which names it has
    return context


# ---- rendering ---------------------------------------------------------------------------------


def _compile(env: SandboxedEnvironment, source: str, *, entity: str, field: str) -> Any:
    """The compiled template, or ValidationFailed naming the field and the problem."""
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as error:
        raise ValidationFailed.for_field(
            field, f"Template error on line {error.lineno}: {error.message}."
        ) from None
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", "")
        if isinstance(name, str) and name.startswith("_"):
            raise ValidationFailed.for_field(
                field, f"Not allowed in a template: '{name}' is not a merge field."
            )
    allowed = NAMES.get(entity, ())
    unknown = sorted(meta.find_undeclared_variables(ast) - set(allowed))
    if unknown:
        names = ", ".join(allowed)
        raise ValidationFailed.for_field(
            field, f"Unknown merge field '{unknown[0]}'. Use: {names}."
        )
    return env.from_string(source)


def _run(template: Any, context: dict[str, Any], *, field: str) -> str:
    try:
        return template.render(context)
    except SecurityError as error:
        raise ValidationFailed.for_field(field, f"Not allowed in a template: {error}") from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, OverflowError) as error:
        raise ValidationFailed.for_field(field, f"Template error: {error}.") from None


def render(subject: str, body: str, *, entity: str, context: dict[str, Any]) -> Rendered:
    """Render a subject and a Markdown body with the given merge values (see module docstring)."""
    line = _run(
        _compile(_TEXT_ENV, subject, entity=entity, field="subject"), context, field="subject"
    )
    markdown = _run(_compile(_BODY_ENV, body, entity=entity, field="body"), context, field="body")
    text = _run(_compile(_TEXT_ENV, body, entity=entity, field="body"), context, field="body")
    html = rich_text.sanitize(rich_text.from_markdown(markdown))
    return Rendered(subject=" ".join(line.split())[:SUBJECT_MAX], html=html, text=text)


def check_syntax(subject: str, body: str, *, entity: str) -> None:
    """ValidationFailed (all problems at once) when the subject or body would not render."""
    sample = {name: {} for name in NAMES.get(entity, ())} | {"sender": sender_context(None)}
    errors: list[FieldError] = []
    for field, source in (("subject", subject), ("body", body)):
        try:
            env = _BODY_ENV if field == "body" else _TEXT_ENV
            _run(_compile(env, source, entity=entity, field=field), sample, field=field)
        except ValidationFailed as error:
            errors += error.errors
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)


# ---- records a template may be about ---------------------------------------------------------

_MODELS: dict[str, Any] = {"contact": Contact, "lead": Lead, "deal": Deal}


def record_for(session: Session, *, actor: User, entity: str, record_id: int) -> Any:
    """A live contact, lead or deal the actor may read, or NotFound / Forbidden."""
    if entity not in _MODELS:
        raise ValidationFailed.for_field("entity", "Pick contacts, leads or deals.")
    largest = MAX_BIG_ID if entity == "contact" else MAX_ID  # contacts have BIGINT ids
    if not 0 < int(record_id) <= largest:
        raise NotFound(f"No such {entity}.")
    record = crud.for_read(
        session, actor, _MODELS[entity], int(record_id), resource=entity, label=entity
    )
    require(session, actor, entity, "read", record)
    return record


def record_label(record: Any) -> str:
    """How a record is named in pickers and the outbox."""
    if isinstance(record, Deal):
        return record.name
    name = " ".join(p for p in (record.first_name, record.last_name) if p)
    return name or record.email or f"#{record.id}"


def search_records(
    session: Session, *, actor: User, entity: str, q: str, limit: int = 8
) -> list[tuple[int, str]]:
    """Records of `entity` the actor may read matching `q`, for the preview's record picker."""
    from crm_app.services import contact as contact_service
    from crm_app.services import deal_list
    from crm_app.services import lead as lead_service
    from crm_app.services.listing import ListQuery

    service = {"contact": contact_service, "lead": lead_service, "deal": deal_list}.get(entity)
    if service is None:
        raise ValidationFailed.for_field("entity", "Pick contacts, leads or deals.")
    if not can(session, actor, entity, "read"):
        return []
    query = service.list_query(session, actor, ListQuery(q=q.strip()[:200]))
    model = _MODELS[entity]
    rows = session.execute(query.order_by(model.updated_at.desc(), model.id.desc()).limit(limit))
    return [(r.id, record_label(r)) for (r, *_rest) in rows.all()]


def preview(
    session: Session,
    *,
    actor: User,
    entity: str,
    subject: str,
    body: str,
    record_id: int | None,
) -> Rendered:
    """The subject and body rendered about one record the actor may read (or about an empty
    record when none is picked), as the person previewing would send it."""
    if record_id:
        record = record_for(session, actor=actor, entity=entity, record_id=record_id)
        context = merge_context(session, entity=entity, record=record, sender=actor)
    else:
        context = {n: {} for n in NAMES.get(entity, ())} | {"sender": sender_context(actor)}
    return render(subject[: SUBJECT_MAX * 4], body[:BODY_MAX], entity=entity, context=context)


# ---- the templates themselves ------------------------------------------------------------------


def can_manage(session: Session, actor: User) -> bool:
    """Whether the actor may create, change and delete templates (admins and managers)."""
    return can(session, actor, RESOURCE, "manage")


def list_templates(
    session: Session, *, actor: User, entity: str | None = None
) -> list[EmailTemplate]:
    """Live templates (of one kind, when given), by name; everyone signed in may use them."""
    if not actor.is_active:
        raise Forbidden()
    query = select(EmailTemplate).where(EmailTemplate.deleted_at.is_(None))
    if entity is not None:
        query = query.where(EmailTemplate.entity == entity)
    return list(session.exec(query.order_by(func.lower(EmailTemplate.name), EmailTemplate.id)))


def get_template(session: Session, *, actor: User, template_id: int) -> EmailTemplate:
    """A live template, or NotFound."""
    if not actor.is_active:
        raise Forbidden()
    template = session.get(EmailTemplate, template_id) if 0 < template_id < 2**31 else None
    if template is None or template.deleted_at is not None:
        raise NotFound("No such e-mail template.")
    return template


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    name = " ".join(str(data.get("name") or "").split())
    entity = str(data.get("entity") or "")
    subject = str(data.get("subject") or "")
    body = str(data.get("body") or "")
    if not name:
        errors.append(FieldError("name", "Enter a name."))
    elif len(name) > NAME_MAX:
        errors.append(FieldError("name", f"Use at most {NAME_MAX} characters."))
    if entity not in ENTITIES:
        errors.append(FieldError("entity", "Pick contact, lead or deal."))
    if not subject.strip():
        errors.append(FieldError("subject", "Enter a subject."))
    elif len(subject) > SUBJECT_MAX:
        errors.append(FieldError("subject", f"Use at most {SUBJECT_MAX} characters."))
    if len(body) > BODY_MAX:
        errors.append(FieldError("body", f"Use at most {BODY_MAX} characters."))
    if not errors:
        try:
            check_syntax(subject, body, entity=entity)
        except ValidationFailed as error:
            errors += error.errors
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    return {"name": name, "entity": entity, "subject": subject, "body": body}


def create_template(
    session: Session, *, actor: User, data: dict[str, Any], ip: str | None = None
) -> EmailTemplate:
    """Save a new template (admins and managers)."""
    require(session, actor, RESOURCE, "manage")
    values = _clean(data)
    template = EmailTemplate(**values)
    crud.created(
        session, actor, template, entity=RESOURCE, fields=values, ip=ip, notify_owner=False
    )
    return template


def update_template(
    session: Session, *, actor: User, template_id: int, data: dict[str, Any], ip: str | None = None
) -> EmailTemplate:
    """Change a template's name, kind, subject or body."""
    require(session, actor, RESOURCE, "manage")
    template = get_template(session, actor=actor, template_id=template_id)
    session.refresh(template, with_for_update=True)
    current = {k: getattr(template, k) for k in ("name", "entity", "subject", "body")}
    values = _clean({**current, **{k: v for k, v in data.items() if k in current}})
    changes = audit.diff(current, values)
    if not changes:
        return template
    for key, value in values.items():
        setattr(template, key, value)
    template.version += 1
    template.updated_at = utcnow()
    session.add(template)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity=RESOURCE,
        entity_id=template.id,
        changes=changes,
        ip=ip,
    )
    return template


def delete_template(
    session: Session, *, actor: User, template_id: int, ip: str | None = None
) -> None:
    """Put a template in the trash (messages and campaigns keep what they sent)."""
    require(session, actor, RESOURCE, "manage")
    template = get_template(session, actor=actor, template_id=template_id)
    template.deleted_at = utcnow()
    template.version += 1
    session.add(template)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity=RESOURCE,
        entity_id=template.id,
        changes={"name": [template.name, None]},
        ip=ip,
    )
