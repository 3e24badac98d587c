"""What a contact's or company's page shows around it: its deals, contacts and activities,
a few at a time with the total, and the people a record may be given to.

Each list is one query: the rows of the page plus the total as a window count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import case, func, select, union
from sqlmodel import Session

from crm_app.models import Activity, Contact, Deal, DealContact, Stage, User
from crm_app.services.permission import owner_clause, require

T = TypeVar("T")
PAGE = 10
MAX_PAGE = 50


@dataclass
class Related(Generic[T]):
    """Some related rows and how many there are in all."""

    rows: list[T]
    total: int


@dataclass
class DealRow:
    """A deal as a record's page lists it."""

    id: int
    name: str
    stage: str
    stage_kind: str  # open, won or lost
    amount: Decimal | None
    currency: str
    expected_close_date: date | None
    owner: str


@dataclass
class ContactRow:
    """A company's contact as its page lists it."""

    id: int
    name: str
    title: str
    email: str
    phone: str


@dataclass
class ActivityRow:
    """An activity as a record's page lists it: open ones first, soonest due first."""

    id: int
    kind: str
    subject: str
    due_at: datetime | None
    done_at: datetime | None
    owner: str


def _page(offset: int, limit: int) -> tuple[int, int]:
    return max(0, int(offset)), max(1, min(int(limit), MAX_PAGE))


def _run(session: Session, query: Any, offset: int, limit: int) -> tuple[list[Any], int]:
    offset, limit = _page(offset, limit)
    rows = session.execute(query.add_columns(func.count().over()).offset(offset).limit(limit))
    found = rows.all()
    # Past the last row the window count is not seen; an offset page is then empty anyway.
    return [row[:-1] for row in found], (found[0][-1] if found else 0)


def _deals(session: Session, actor: User, condition: Any, offset: int, limit: int):
    require(session, actor, "deal", "read")
    query = (
        select(
            Deal.id,
            Deal.name,
            Stage.name,
            Stage.kind,
            Deal.amount,
            Deal.currency,
            Deal.expected_close_date,
            User.name,
        )
        .join(Stage, Stage.id == Deal.stage_id)
        .join(User, User.id == Deal.owner_id, isouter=True)
        .where(condition, Deal.deleted_at.is_(None))
        .where(owner_clause(session, actor, "deal", "read", Deal.owner_id))
        .order_by(
            Stage.kind != "open",
            Deal.expected_close_date.asc().nulls_last(),
            Deal.id.desc(),
        )
    )
    rows, total = _run(session, query, offset, limit)
    return Related(
        [
            DealRow(i, n, stage, str(kind), amount, currency, close, owner or "")
            for i, n, stage, kind, amount, currency, close, owner in rows
        ],
        total,
    )


def contact_deals(
    session: Session, *, actor: User, contact_id: int, offset: int = 0, limit: int = PAGE
) -> Related[DealRow]:
    """Live deals the contact is the primary contact of or takes part in."""
    require(session, actor, "contact", "read")
    ids = union(
        select(Deal.id).where(Deal.primary_contact_id == contact_id),
        select(DealContact.deal_id).where(DealContact.contact_id == contact_id),
    )
    return _deals(session, actor, Deal.id.in_(ids), offset, limit)


def account_deals(
    session: Session, *, actor: User, account_id: int, offset: int = 0, limit: int = PAGE
) -> Related[DealRow]:
    """The company's live deals."""
    require(session, actor, "account", "read")
    return _deals(session, actor, Deal.account_id == account_id, offset, limit)


def account_contacts(
    session: Session, *, actor: User, account_id: int, offset: int = 0, limit: int = PAGE
) -> Related[ContactRow]:
    """The company's live contacts by name."""
    require(session, actor, "account", "read")
    require(session, actor, "contact", "read")
    query = (
        select(
            Contact.id,
            Contact.first_name,
            Contact.last_name,
            Contact.title,
            Contact.email,
            Contact.phone,
        )
        .where(Contact.account_id == account_id, Contact.deleted_at.is_(None))
        .where(owner_clause(session, actor, "contact", "read", Contact.owner_id))
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
    )
    rows, total = _run(session, query, offset, limit)
    found = [
        ContactRow(i, f"{first} {last}".strip() or email or f"#{i}", t or "", email or "", p or "")
        for i, first, last, t, email, p in rows
    ]
    return Related(found, total)


ACTIVITY_LINKS = {
    "contact": Activity.contact_id,
    "account": Activity.account_id,
    "lead": Activity.lead_id,
    "deal": Activity.deal_id,
}


def activities(
    session: Session,
    *,
    actor: User,
    entity: str,
    record_id: int,
    offset: int = 0,
    limit: int = PAGE,
) -> Related[ActivityRow]:
    """The record's live activities: open ones first by due date, then the done, latest first."""
    require(session, actor, entity, "read")
    require(session, actor, "activity", "read")
    is_open = Activity.done_at.is_(None)
    query = (
        select(
            Activity.id,
            Activity.kind,
            Activity.subject,
            func.coalesce(Activity.due_at, Activity.starts_at),
            Activity.done_at,
            User.name,
        )
        .join(User, User.id == Activity.owner_id, isouter=True)
        .where(ACTIVITY_LINKS[entity] == record_id, Activity.deleted_at.is_(None))
        .where(owner_clause(session, actor, "activity", "read", Activity.owner_id))
        .order_by(
            ~is_open,
            case((is_open, func.coalesce(Activity.due_at, Activity.starts_at))).asc().nulls_last(),
            Activity.done_at.desc(),
            Activity.id.desc(),
        )
    )
    rows, total = _run(session, query, offset, limit)
    found = [
        ActivityRow(i, str(kind), subject or "", due, done, owner or "")
        for i, kind, subject, due, done, owner in rows
    ]
    return Related(found, total)


def owner_choices(session: Session, *, actor: User, resource: str) -> list[tuple[int, str]]:
    """(id, name) of the active users the actor may give a record of `resource` to: everyone
    for an admin, the team for a manager, themselves for a rep, no one for a viewer."""
    query = (
        select(User.id, User.name)
        .where(User.is_active.is_(True))
        .where(owner_clause(session, actor, resource, "update", User.id))
        .order_by(func.lower(User.name), User.id)
    )
    return [(user_id, name) for user_id, name in session.execute(query)]
