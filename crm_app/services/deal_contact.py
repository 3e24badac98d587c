"""The contacts involved in a deal besides its primary contact, each with a role in it
("Decision maker", "Champion"...). Changes show on the deal's timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_app.models import Contact, Deal, DealContact, User
from crm_app.services import audit, crud
from crm_app.services.contact import display_name
from crm_app.services.deal import get_deal
from crm_app.services.deal_fields import LABEL, MAX_BIG_ID, RESOURCE, live_id, text_check
from crm_app.services.errors import FieldError, NotFound, ValidationFailed
from crm_app.services.permission import owner_clause, require


@dataclass
class InvolvedContact:
    """A contact taking part in a deal, with their role in it."""

    contact_id: int
    name: str
    email: str | None
    title: str | None
    role: str | None


def list_deal_contacts(session: Session, *, actor: User, deal_id: int) -> list[InvolvedContact]:
    """The live contacts involved in a deal, by name."""
    deal = get_deal(session, actor=actor, deal_id=deal_id)
    require(session, actor, "contact", "read")
    rows = session.execute(
        select(Contact, DealContact.role)
        .join(DealContact, DealContact.contact_id == Contact.id)
        .where(DealContact.deal_id == deal.id, Contact.deleted_at.is_(None))
        .where(owner_clause(session, actor, "contact", "read", Contact.owner_id))
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
    )
    return [
        InvolvedContact(c.id, display_name(c), c.email, c.title, role) for c, role in rows.all()
    ]


def add_deal_contact(
    session: Session,
    *,
    actor: User,
    deal_id: int,
    contact_id: Any,
    role: str | None = None,
    ip: str | None = None,
) -> DealContact:
    """Involve a contact in a deal with a role (e.g. "Decision maker"), or change their role."""
    deal = crud.for_change(session, actor, Deal, deal_id, resource=RESOURCE, label=LABEL)
    require(session, actor, "contact", "read")
    errors = []
    try:
        found = live_id(session, Contact, contact_id, "a contact", MAX_BIG_ID)
        if found is None:
            raise ValueError("Pick an existing contact.")
    except ValueError as error:
        errors.append(FieldError("contact_id", str(error)))
    try:
        role = text_check(100)(role)
    except ValueError as error:
        errors.append(FieldError("role", str(error)))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    link = session.get(DealContact, (deal.id, found))
    before = link.role if link else None
    if link is None:
        link = DealContact(deal_id=deal.id, contact_id=found)
    elif link.role == role:
        return link
    link.role = role
    session.add(link)
    audit_contact_change(session, actor, deal, found, [before, role if role else "involved"], ip)
    return link


def remove_deal_contact(
    session: Session, *, actor: User, deal_id: int, contact_id: int, ip: str | None = None
) -> None:
    """Stop involving a contact in a deal (the contact itself stays)."""
    deal = crud.for_change(session, actor, Deal, deal_id, resource=RESOURCE, label=LABEL)
    link = session.get(DealContact, (deal.id, contact_id)) if 0 < contact_id <= MAX_BIG_ID else None
    if link is None:
        raise NotFound("This contact is not involved in the deal.")
    session.delete(link)
    audit_contact_change(session, actor, deal, contact_id, [link.role or "involved", None], ip)


def audit_contact_change(
    session: Session, actor: User, deal: Deal, contact_id: int, change: list[Any], ip: str | None
) -> None:
    """Log a change of the deal's contacts on the deal's timeline."""
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="deal",
        entity_id=deal.id,
        changes={f"contact {contact_id}": change},
        ip=ip,
    )
    session.flush()
