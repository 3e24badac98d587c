"""Outgoing e-mail: a message row written in the sender's transaction, and a job that sends it.

`queue_message` adds an `EmailMessage` (status `queued`) and defers the `send_email` job on the
caller's session, so a message exists exactly when the change that sent it commits. The job
(`deliver`) locks the row and acts only on a `queued` one, so a job that runs again never sends
twice: it sends over SMTP (a multipart text + HTML message whose Message-ID is the row's),
or, with no `CRM_SMTP_HOST` (development mode), keeps it for the outbox page (`kept`).
A temporary failure (connection lost, a 4xx answer) counts an attempt and is retried with
exponential backoff; a permanent one (5xx) or the last attempt marks it `failed`.

People send from a record (`send_from_record`), workflow rules send a template
(`send_templated`); both log an "email" activity on the record. Automated and mass mail skip
addresses on the suppression list (the message is kept as `suppressed`).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, formataddr
from enum import StrEnum
from typing import Any

from pydantic import EmailStr, TypeAdapter
from pydantic import ValidationError as PydanticError
from sqlalchemy import func
from sqlmodel import Session, select

from crm_app.models import Contact, Deal, DealContact, EmailMessage, Lead, MessageStatus, User
from crm_app.models.base import utcnow
from crm_app.services import activity, email_template, rich_text, suppression
from crm_app.services.errors import FieldError, ValidationFailed
from crm_app.services.permission import require
from crm_app.settings import get_settings

log = logging.getLogger("crm_app.mail")

MAX_ATTEMPTS = 6
PAGE_SIZE = 50
_ADDRESS = TypeAdapter(EmailStr)


class Outcome(StrEnum):
    """What one delivery attempt did."""

    done = "done"  # sent, kept, suppressed, failed for good, or nothing to do
    retry = "retry"  # a temporary failure: try again later


class TemporaryFailure(Exception):
    """The SMTP server could not take the message now; the job retries with backoff."""


# ---- addresses ---------------------------------------------------------------------------------


def clean_address(raw: str, *, field: str = "to") -> str:
    """A valid e-mail address, lowercased, or ValidationFailed on `field`."""
    text = (raw or "").strip()
    try:
        return str(_ADDRESS.validate_python(text)).lower()
    except PydanticError:
        raise ValidationFailed.for_field(field, "Enter a valid e-mail address.") from None


def addresses_of(session: Session, *, entity: str, record: Any) -> list[tuple[str, str]]:
    """The addresses one may write to about a record, as (address, label): a contact's
    e-mails, a lead's, the contacts of a deal."""
    if entity == "deal":
        ids = select(DealContact.contact_id).where(DealContact.deal_id == record.id)
        contacts = session.exec(
            select(Contact).where(
                (Contact.id == record.primary_contact_id) | Contact.id.in_(ids),
                Contact.deleted_at.is_(None),
                Contact.email.is_not(None),
            )
        ).all()
        found = [(c.email, email_template.record_label(c)) for c in contacts]
    else:
        extra = list(getattr(record, "additional_emails", None) or [])
        label = email_template.record_label(record)
        found = [(e, label) for e in [record.email, *extra] if e]
    return list({email.lower(): (email.lower(), label) for email, label in found}.values())


def addresses_for(
    session: Session, *, actor: User, entity: str, record_id: int
) -> list[tuple[str, str]]:
    """The addresses the actor may write to about a record they may read (the send dialog)."""
    record = email_template.record_for(session, actor=actor, entity=entity, record_id=record_id)
    return addresses_of(session, entity=entity, record=record)


def primary_address(session: Session, *, entity: str, record: Any) -> str | None:
    """Where e-mail about a record goes by default: its e-mail, or a deal's primary contact's."""
    if entity == "deal":
        contact = (
            session.get(Contact, record.primary_contact_id) if record.primary_contact_id else None
        )
        if contact is not None and contact.deleted_at is None and contact.email:
            return contact.email.lower()
        found = addresses_of(session, entity=entity, record=record)
        return found[0][0] if found else None
    return record.email.lower() if record.email else None


# ---- queueing ----------------------------------------------------------------------------------


def new_message_id() -> str:
    """A globally unique Message-ID under the From address's domain."""
    domain = get_settings().mail_from_address.rpartition("@")[2] or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def queue_message(
    session: Session,
    *,
    to: str,
    subject: str,
    html: str,
    text: str,
    headers: dict[str, str] | None = None,
    created_by: int | None = None,
    entity: str | None = None,
    record_id: int | None = None,
    template_id: int | None = None,
    campaign_id: int | None = None,
    recipient_id: int | None = None,
    respect_suppression: bool = False,
    defer_job: bool = True,
) -> EmailMessage:
    """Write a message and queue the job that sends it, in the caller's transaction. A message
    that must respect the suppression list and is addressed to a suppressed address is kept
    as `suppressed` and never sent."""
    message = EmailMessage(
        message_id=new_message_id(),
        to_address=to.lower(),
        from_address=get_settings().mail_from_address,
        subject=subject[:300],
        html=rich_text.sanitize(html),
        text=text,
        headers=headers or {},
        created_by=created_by,
        entity=entity,
        record_id=record_id,
        template_id=template_id,
        campaign_id=campaign_id,
        recipient_id=recipient_id,
        respect_suppression=respect_suppression,
    )
    if respect_suppression and suppression.is_suppressed(session, to):
        message.status = MessageStatus.suppressed.value
    session.add(message)
    session.flush()
    if defer_job and message.status == MessageStatus.queued:
        from crm_app.jobs.app import defer
        from crm_app.jobs.tasks import MAIL_QUEUE, SEND_EMAIL

        defer(session, SEND_EMAIL, queue=MAIL_QUEUE, message_id=message.id)
    return message


def send_system(session: Session, *, to: str, subject: str, text: str) -> EmailMessage:
    """A message from the app itself (an invitation, a password reset link): plain text."""
    html = rich_text.from_markdown(text)
    return queue_message(session, to=to, subject=subject, html=html, text=text)


# ---- sending -----------------------------------------------------------------------------------


def build_mime(message: EmailMessage) -> MimeMessage:
    """The RFC 5322 message of a row: text and HTML alternatives, its own Message-ID."""
    mime = MimeMessage()
    mime["From"] = formataddr(("CRM", message.from_address))
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(message.created_at or utcnow())
    mime["Message-ID"] = message.message_id
    for name, value in (message.headers or {}).items():
        mime[name] = value
    mime.set_content(message.text or "")
    mime.add_alternative(message.html or "<p></p>", subtype="html")
    return mime


def smtp_send(mime: MimeMessage) -> None:
    """Hand one message to the configured SMTP server; TemporaryFailure when worth retrying."""
    settings = get_settings()
    try:
        if settings.smtp_tls == "ssl":
            context = ssl.create_default_context()
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=30, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
        with smtp:
            if settings.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(mime)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if any(400 <= code < 500 for code in codes):
            raise TemporaryFailure(str(error)) from error
        raise
    except smtplib.SMTPAuthenticationError as error:
        message = f"the SMTP server refused the credentials ({error.smtp_code})"
        raise TemporaryFailure(message) from error
    except smtplib.SMTPResponseException as error:
        if 400 <= error.smtp_code < 500:
            raise TemporaryFailure(f"{error.smtp_code} {error.smtp_error!r}") from error
        raise
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
        raise TemporaryFailure(str(error) or type(error).__name__) from error


Sender = Callable[[MimeMessage], None]


def attempt(session: Session, message: EmailMessage, *, send: Sender | None = None) -> Outcome:
    """One delivery attempt of a locked, queued message; updates its row (not committed)."""
    if message.status != MessageStatus.queued:
        return Outcome.done
    now = utcnow()
    if message.respect_suppression and suppression.is_suppressed(session, message.to_address):
        message.status = MessageStatus.suppressed.value
    elif send is None and not get_settings().sends_mail:
        message.status, message.sent_at = MessageStatus.kept.value, now
    else:
        message.attempts += 1
        try:
            (send or smtp_send)(build_mime(message))
        except TemporaryFailure as error:
            message.error = str(error)[:1000]
            if message.attempts < MAX_ATTEMPTS:
                session.add(message)
                return Outcome.retry
            message.status = MessageStatus.failed.value
        except (smtplib.SMTPException, ValueError) as error:
            message.status, message.error = MessageStatus.failed.value, str(error)[:1000]
        else:
            message.status, message.sent_at, message.error = MessageStatus.sent.value, now, None
    session.add(message)
    return Outcome.done


def deliver(session: Session, message_id: int, *, send: Sender | None = None) -> Outcome:
    """The `send_email` job's work: send message `message_id` if it is still queued. The row
    stays locked while it is sent, so two workers never send it both."""
    message = session.get(EmailMessage, message_id, with_for_update=True)
    if message is None:
        return Outcome.done
    return attempt(session, message, send=send)


# ---- from a record -----------------------------------------------------------------------------

_ACTIVITY_LINK = {"contact": "contact_id", "lead": "lead_id", "deal": "deal_id"}


@dataclass
class Draft:
    """What a person typed in the send dialog."""

    to: str
    subject: str
    body: str  # Markdown, merge fields allowed
    template_id: int | None = None


def _log_activity(
    session: Session, *, actor: User, entity: str, record_id: int, subject: str, html: str
) -> None:
    activity.create_activity(
        session,
        actor=actor,
        data={
            "kind": "email",
            "subject": subject[:300] or "(no subject)",
            "body": html,
            _ACTIVITY_LINK[entity]: record_id,
        },
    )


def send_from_record(
    session: Session, *, actor: User, entity: str, record_id: int, draft: Draft
) -> EmailMessage:
    """A person writes to one of a record's addresses: the message is queued and logged as an
    "email" activity on the record. The suppression list does not stop a personal message."""
    record = email_template.record_for(session, actor=actor, entity=entity, record_id=record_id)
    require(session, actor, "activity", "create")
    to = clean_address(draft.to)
    if to not in {a for a, _ in addresses_of(session, entity=entity, record=record)}:
        raise ValidationFailed.for_field("to", f"Pick one of this {entity}'s e-mail addresses.")
    errors: list[FieldError] = []
    if not draft.subject.strip():
        errors.append(FieldError("subject", "Enter a subject."))
    if not draft.body.strip():
        errors.append(FieldError("body", "Write a message."))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    context = email_template.merge_context(session, entity=entity, record=record, sender=actor)
    rendered = email_template.render(draft.subject, draft.body, entity=entity, context=context)
    template_id = _template_id(session, actor, draft.template_id)
    message = queue_message(
        session,
        to=to,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        headers={"Reply-To": actor.email},
        created_by=actor.id,
        entity=entity,
        record_id=record.id,
        template_id=template_id,
    )
    _log_activity(
        session,
        actor=actor,
        entity=entity,
        record_id=record.id,
        subject=rendered.subject,
        html=rendered.html,
    )
    return message


def _template_id(session: Session, actor: User, template_id: int | None) -> int | None:
    if not template_id:
        return None
    return email_template.get_template(session, actor=actor, template_id=template_id).id


def send_templated(
    session: Session,
    *,
    actor: User,
    template_id: int,
    entity: str,
    record_id: int,
    to: str | None = None,
) -> EmailMessage:
    """Queue one templated message about a record (the workflow rules' "send an e-mail"),
    to `to` or the record's own address; a suppressed address gets a `suppressed` message
    and no activity."""
    template = email_template.get_template(session, actor=actor, template_id=template_id)
    if template.entity != entity:
        raise ValidationFailed.for_field(
            "template_id", f"This template is for a {template.entity}, not a {entity}."
        )
    record = email_template.record_for(session, actor=actor, entity=entity, record_id=record_id)
    address = to or primary_address(session, entity=entity, record=record)
    if not address:
        raise ValidationFailed.for_field("to", f"This {entity} has no e-mail address.")
    address = clean_address(address)
    context = email_template.merge_context(session, entity=entity, record=record, sender=actor)
    rendered = email_template.render(
        template.subject, template.body, entity=entity, context=context
    )
    message = queue_message(
        session,
        to=address,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        created_by=actor.id,
        entity=entity,
        record_id=record.id,
        template_id=template.id,
        respect_suppression=True,
    )
    if message.status != MessageStatus.suppressed:
        _log_activity(
            session,
            actor=actor,
            entity=entity,
            record_id=record.id,
            subject=rendered.subject,
            html=rendered.html,
        )
    return message


# ---- the outbox --------------------------------------------------------------------------------


def list_messages(
    session: Session, *, actor: User, status: str = "", offset: int = 0
) -> tuple[list[EmailMessage], int]:
    """A page of outgoing messages, newest first, and how many match (admins)."""
    require(session, actor, "setting", "manage")
    query = select(EmailMessage)
    if status:
        query = query.where(EmailMessage.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(EmailMessage.id.desc()).offset(max(0, offset)).limit(PAGE_SIZE)
    )
    return list(rows), total


def get_message(session: Session, *, actor: User, message_id: int) -> EmailMessage:
    """One outgoing message (admins)."""
    from crm_app.services.errors import NotFound

    require(session, actor, "setting", "manage")
    message = session.get(EmailMessage, message_id) if 0 < message_id < 2**63 else None
    if message is None:
        raise NotFound("No such message.")
    return message


def record_model(entity: str) -> Any:
    """The table of a record kind e-mail can be about."""
    return {"contact": Contact, "lead": Lead, "deal": Deal}[entity]
