"""Merging two duplicate contacts (or companies): the user picks the surviving value per field;
links, tags and audit history move to the survivor; the other record goes to the trash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session

from crm_app.models import Account, Activity, AuditEvent, Contact, Deal, DealContact, Lead, User
from crm_app.services import account as accounts
from crm_app.services import audit, crud
from crm_app.services import contact as contacts
from crm_app.services.errors import ValidationFailed

# Fields a user chooses between; lists and tags are combined instead.
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "account_id",
    "owner_id",
    "lifecycle_stage",
)
ACCOUNT_FIELDS = (
    "name",
    "domain",
    "website",
    "industry",
    "size",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "description",
    "owner_id",
)


@dataclass
class MergeField:
    """One row of the merge screen: a field and both records' values."""

    name: str
    survivor: Any
    other: Any


def _spec(entity: str):
    if entity == "contact":
        return Contact, contacts.RESOURCE, contacts.LABEL, CONTACT_FIELDS
    if entity == "account":
        return Account, accounts.RESOURCE, accounts.LABEL, ACCOUNT_FIELDS
    raise ValidationFailed.for_field("entity", "Only contacts and companies can be merged.")


def compare(
    session: Session, *, actor: User, entity: str, survivor_id: int, other_id: int
) -> list[MergeField]:
    """The fields of both records side by side (custom fields as `custom.<key>`)."""
    model, resource, label, fields = _spec(entity)
    a = crud.for_read(session, actor, model, survivor_id, resource=resource, label=label)
    b = crud.for_read(session, actor, model, other_id, resource=resource, label=label)
    rows = [MergeField(f, getattr(a, f), getattr(b, f)) for f in fields]
    for key in sorted((a.custom or {}).keys() | (b.custom or {}).keys()):
        rows.append(
            MergeField(f"custom.{key}", (a.custom or {}).get(key), (b.custom or {}).get(key))
        )
    return rows


def merge(
    session: Session,
    *,
    actor: User,
    entity: str,
    survivor_id: int,
    other_id: int,
    take_other: set[str] | None = None,
    ip: str | None = None,
) -> Any:
    """Merge `other` into `survivor` in one transaction; `take_other` names the fields whose
    value comes from `other` (all others keep the survivor's). Returns the survivor."""
    model, resource, label, fields = _spec(entity)
    if survivor_id == other_id:
        raise ValidationFailed("Pick two different records to merge.")
    survivor = crud.for_change(session, actor, model, survivor_id, resource=resource, label=label)
    other = crud.for_change(
        session, actor, model, other_id, resource=resource, label=label, action="delete"
    )
    take_other = set(take_other or ())
    unknown = take_other - set(fields) - {f"custom.{k}" for k in (other.custom or {})}
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.")
    changes: dict[str, Any] = {f: getattr(other, f) for f in fields if f in take_other}
    custom = dict(survivor.custom or {})
    for key, value in (other.custom or {}).items():
        if f"custom.{key}" in take_other or key not in custom:
            custom[key] = value
    changes["custom"] = custom
    changes["tags"] = list(dict.fromkeys([*(survivor.tags or []), *(other.tags or [])]))
    if entity == "contact":
        _combine_contact_channels(survivor, other, changes)
        _move_contact_links(session, other_id, survivor_id)
    else:
        _move_account_links(session, other_id, survivor_id)
    # The other record's history now belongs to the survivor.
    session.exec(
        update(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == other_id)
        .values(entity_id=survivor_id)
    )
    crud.apply_changes(session, actor, survivor, changes, entity=entity, ip=ip)
    crud.trash(session, actor, other, entity=entity, ip=ip)
    audit.record(
        session,
        actor=actor,
        action="merge",
        entity=entity,
        entity_id=survivor_id,
        changes={"merged": [other_id, survivor_id]},
        ip=ip,
    )
    return survivor


def _combine_contact_channels(survivor: Contact, other: Contact, changes: dict[str, Any]) -> None:
    """Keep every e-mail and phone: the ones not chosen become additional ones."""
    primary_email = changes.get("email", survivor.email)
    primary_phone = changes.get("phone", survivor.phone)
    emails = [
        survivor.email,
        other.email,
        *(survivor.additional_emails or []),
        *(other.additional_emails or []),
    ]
    phones = [
        survivor.phone,
        other.phone,
        *(survivor.additional_phones or []),
        *(other.additional_phones or []),
    ]
    changes["additional_emails"] = [e for e in dict.fromkeys(emails) if e and e != primary_email]
    changes["additional_phones"] = [p for p in dict.fromkeys(phones) if p and p != primary_phone]


def _move_contact_links(session: Session, old: int, new: int) -> None:
    session.exec(update(Deal).where(Deal.primary_contact_id == old).values(primary_contact_id=new))
    session.exec(update(Activity).where(Activity.contact_id == old).values(contact_id=new))
    session.exec(
        update(Activity)
        .where(Activity.attendee_contact_ids.contains([old]))
        .values(attendee_contact_ids=func.array_replace(Activity.attendee_contact_ids, old, new))
    )
    session.exec(
        update(Lead).where(Lead.converted_contact_id == old).values(converted_contact_id=new)
    )
    # Deal links: move those the survivor lacks, drop the rest (the primary key is the pair).
    already = (
        DealContact.__table__.select()
        .with_only_columns(DealContact.deal_id)
        .where(DealContact.contact_id == new)
    )
    session.exec(
        update(DealContact)
        .where(DealContact.contact_id == old, DealContact.deal_id.not_in(already))
        .values(contact_id=new)
    )
    session.exec(DealContact.__table__.delete().where(DealContact.contact_id == old))


def _move_account_links(session: Session, old: int, new: int) -> None:
    session.exec(update(Contact).where(Contact.account_id == old).values(account_id=new))
    session.exec(update(Deal).where(Deal.account_id == old).values(account_id=new))
    session.exec(update(Activity).where(Activity.account_id == old).values(account_id=new))
    session.exec(
        update(Lead).where(Lead.converted_account_id == old).values(converted_account_id=new)
    )
