"""A read-only summary of one contact, company, lead or deal (what global search opens)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, SQLModel

from crm_app.models import Account, Contact, Deal, Lead, Stage, User
from crm_app.services.errors import NotFound
from crm_app.services.permission import require

KINDS: dict[str, tuple[type[SQLModel], str, str]] = {
    # kind: (table, permission resource, label)
    "contact": (Contact, "contact", "Contact"),
    "account": (Account, "account", "Company"),
    "lead": (Lead, "lead", "Lead"),
    "deal": (Deal, "deal", "Deal"),
}


@dataclass
class RecordSummary:
    """A record's title and its labelled fields, formatted for display."""

    kind: str
    title: str
    fields: list[tuple[str, str]]


def get_live(session: Session, *, actor: User, kind: str, record_id: int) -> Any:
    """The record, if it exists, is not in the trash and the actor may read it."""
    if kind not in KINDS:
        raise NotFound()
    table, resource, label = KINDS[kind]
    require(session, actor, resource, "read")
    record = session.get(table, record_id)
    if record is None or record.deleted_at is not None:
        raise NotFound(f"This {label.lower()} does not exist or is in the trash.")
    return record


def _name(first: str | None, last: str | None) -> str:
    return f"{first or ''} {last or ''}".strip()


def _user(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.name if user else "—"


def _account(session: Session, account_id: int | None) -> str:
    account = session.get(Account, account_id) if account_id else None
    return account.name if account else "—"


def summarize(session: Session, *, actor: User, kind: str, record_id: int) -> RecordSummary:
    """The summary of one record, for its page."""
    r = get_live(session, actor=actor, kind=kind, record_id=record_id)
    label = KINDS[kind][2]
    rows: list[tuple[str, Any]]
    if isinstance(r, Contact):
        title = _name(r.first_name, r.last_name) or (r.email or "")
        rows = [
            ("E-mail", r.email),
            ("Phone", r.phone),
            ("Title", r.title),
            ("Company", _account(session, r.account_id)),
            ("Lifecycle stage", r.lifecycle_stage),
        ]
    elif isinstance(r, Account):
        title = r.name
        rows = [
            ("Domain", r.domain),
            ("Industry", r.industry),
            ("Size", r.size),
            ("Phone", r.phone),
            ("City", r.city),
            ("Country", r.country),
        ]
    elif isinstance(r, Lead):
        title = _name(r.first_name, r.last_name) or (r.company_name or r.email or "")
        rows = [
            ("E-mail", r.email),
            ("Phone", r.phone),
            ("Company", r.company_name),
            ("Title", r.title),
            ("Source", r.source),
            ("Status", r.status),
            ("Score", r.score),
        ]
    else:
        stage = session.get(Stage, r.stage_id)
        title = r.name
        amount = f"{r.amount:,.2f} {r.currency}" if r.amount is not None else None
        rows = [
            ("Company", _account(session, r.account_id)),
            ("Stage", stage.name if stage else None),
            ("Amount", amount),
            ("Expected close", r.expected_close_date),
        ]
    rows += [
        ("Owner", _user(session, r.owner_id)),
        ("Tags", ", ".join(r.tags or [])),
        ("Created", r.created_at.strftime("%Y-%m-%d")),
        ("Updated", r.updated_at.strftime("%Y-%m-%d")),
    ]
    fields = [(name, str(value) if value not in (None, "") else "—") for name, value in rows]
    return RecordSummary(kind=label, title=title, fields=fields)
