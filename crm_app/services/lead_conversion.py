"""Converting a lead: the contact, company and (optionally) deal it becomes, in one step.

What the lead becomes, in order:
- **Contact**: the one named by `contact_id`; else the oldest live contact with the lead's
  e-mail (normalised, so case does not matter); else a new contact from the lead's name,
  e-mail, phone and title.
- **Company**: the one named by `account_id`; else the live company whose domain is the
  e-mail's domain, unless that is a free-mail domain (gmail.com and the like say nothing about
  where someone works); else the live company whose name equals the lead's company name,
  ignoring case and spacing; else a new company with the lead's company name (and the
  e-mail's domain when it is not free-mail); with no company name, the contact's own company
  if it has one, else none.
- **Deal** (only when asked): created by the deal service with the company and contact, the
  lead's owner, a name from the company (or the person), and whatever `deal` says (pipeline,
  stage, amount, ... which win over these defaults).

A contact without a company is linked to the company found, when the actor may edit it. New
records belong to the lead's owner (the actor when the lead has none or its owner left). The
lead ends `converted`, with `converted_at` and links to what it became, and the conversion is
audited. Everything runs in one savepoint: if any part fails (a deal in an unknown stage, a
contact the actor may not read...), nothing of the conversion remains and the error says why.
A converted or trashed lead cannot be converted (again).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from crm_app.models import Account, Contact, Deal, Lead, LeadStatus, User
from crm_app.models.base import utcnow
from crm_app.services import account as accounts
from crm_app.services import audit, crud, lead_scoring, normalize
from crm_app.services import contact as contacts
from crm_app.services import deal as deals
from crm_app.services import lead as leads
from crm_app.services.errors import Conflict, FieldError, NotFound, ValidationFailed
from crm_app.services.permission import can

# Addresses at these domains belong to people, not to companies.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "ymail.com",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "outlook.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "qq.com",
        "163.com",
        "126.com",
        "naver.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "t-online.de",
        "comcast.net",
        "verizon.net",
        "att.net",
    }
)


@dataclass
class Conversion:
    """What a lead became; `created_*` say which of them are new."""

    lead: Lead
    contact: Contact
    account: Account | None
    deal: Deal | None
    created_contact: bool
    created_account: bool


def company_domain(email: str | None) -> str | None:
    """The e-mail's domain when it can name a company (None for free-mail and blanks)."""
    domain = normalize.email_domain(email)
    if not domain or domain in FREE_MAIL_DOMAINS:
        return None
    return domain


@contextmanager
def _named(field: str, message: str) -> Iterator[None]:
    """An explicit id that names no live record is a field error, not a missing lead."""
    try:
        yield
    except NotFound:
        raise ValidationFailed.for_field(field, message) from None


def _owner_id(session: Session, actor: User, lead: Lead) -> int:
    """Who owns what the lead becomes: its owner, unless it has none or they left."""
    owner = session.get(User, lead.owner_id) if lead.owner_id else None
    return owner.id if owner is not None and owner.is_active else actor.id


def find_contact(session: Session, lead: Lead) -> Contact | None:
    """The oldest live contact with the lead's e-mail (any case), if there is one."""
    if not lead.email:
        return None
    return session.execute(
        select(Contact)
        .where(func.lower(Contact.email) == lead.email.lower(), Contact.deleted_at.is_(None))
        .order_by(Contact.id)
        .limit(1)
    ).scalar_one_or_none()


def _contact(
    session: Session,
    actor: User,
    lead: Lead,
    contact_id: int | None,
    owner_id: int,
    ip: str | None,
    *,
    new: bool = False,
) -> tuple[Contact, bool]:
    """The explicit contact, else (unless `new`) the e-mail's oldest live contact, else a new
    one."""
    if contact_id is not None:
        with _named("contact_id", "Pick an existing contact."):
            return contacts.get_contact(session, actor=actor, contact_id=contact_id), False
    match = None if new else find_contact(session, lead)
    if match is not None:
        return contacts.get_contact(session, actor=actor, contact_id=match.id), False
    data = {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "title": lead.title,
        "owner_id": owner_id,
    }
    contact = contacts.create_contact(session, actor=actor, data=data, allow_duplicate=True, ip=ip)
    return contact, True


def find_company(session: Session, lead: Lead) -> Account | None:
    """The live company the lead works at: by its e-mail's domain, else by its company name."""
    live = Account.deleted_at.is_(None)
    domain = company_domain(lead.email)
    if domain:
        found = (
            session.execute(
                select(Account)
                .where(func.lower(Account.domain) == domain, live)
                .order_by(Account.id)
            )
            .scalars()
            .first()
        )
        if found is not None:
            return found
    name = " ".join((lead.company_name or "").split()).lower()
    if name:
        spaced = func.regexp_replace(func.trim(Account.name), r"\s+", " ", "g")
        return (
            session.execute(
                select(Account).where(func.lower(spaced) == name, live).order_by(Account.id)
            )
            .scalars()
            .first()
        )
    return None


def _account(
    session: Session,
    actor: User,
    lead: Lead,
    contact: Contact,
    account_id: int | None,
    owner_id: int,
    ip: str | None,
    *,
    new: bool = False,
) -> tuple[Account | None, bool]:
    """The explicit company, else (unless `new`) a match, else a new one named by the lead,
    else the contact's."""
    if account_id is not None:
        with _named("account_id", "Pick an existing company."):
            return accounts.get_account(session, actor=actor, account_id=account_id), False
    if new and not lead.company_name:
        raise ValidationFailed.for_field(
            "account_id", "The lead has no company name to create a company from."
        )
    found = None if new else find_company(session, lead)
    if found is not None:
        return accounts.get_account(session, actor=actor, account_id=found.id), False
    if lead.company_name:
        data = {
            "name": lead.company_name,
            "domain": company_domain(lead.email),
            "owner_id": owner_id,
        }
        # asked for a new company although one matches: its domain may be taken, knowingly
        made = accounts.create_account(session, actor=actor, data=data, allow_duplicate=new, ip=ip)
        return made, True
    if contact.account_id is not None:
        return accounts.get_account(session, actor=actor, account_id=contact.account_id), False
    return None, False


def _deal(
    session: Session,
    actor: User,
    lead: Lead,
    contact: Contact,
    account: Account | None,
    deal: dict[str, Any] | None,
    owner_id: int,
    ip: str | None,
) -> Deal:
    """A deal through the deal service (its rules: stages, won/lost), `deal` winning over
    the defaults taken from the lead."""
    if deal is not None and not isinstance(deal, dict):
        raise ValidationFailed.for_field("deal", "Describe the deal as an object of fields.")
    data = {
        "name": (lead.company_name or leads.display_name(lead))[:200],
        "account_id": account.id if account else None,
        "primary_contact_id": contact.id,
        "owner_id": owner_id,
        **(deal or {}),
    }
    try:
        return deals.create_deal(session, actor=actor, data=data, ip=ip)
    except ValidationFailed as error:
        # the deal's fields arrive nested under `deal`: name them so
        named = [FieldError(f"deal.{e.field}", e.message) for e in error.errors]
        raise ValidationFailed(error.message, named) from None


@dataclass
class ConversionPreview:
    """What converting would link before anything is created: the contact with the lead's
    e-mail and the company matching it, each None when there is none (or the actor may not
    read it, in which case `*_hidden` says one exists)."""

    contact: Contact | None
    account: Account | None
    contact_hidden: bool = False
    account_hidden: bool = False


def preview_conversion(session: Session, *, actor: User, lead_id: int) -> ConversionPreview:
    """The matches `convert_lead` would link, for the convert dialog to show and offer."""
    lead = crud.for_change(session, actor, Lead, lead_id, resource=leads.RESOURCE, label="lead")
    contact = find_contact(session, lead)
    account = find_company(session, lead)
    contact_hidden = contact is not None and not can(session, actor, "contact", "read", contact)
    account_hidden = account is not None and not can(session, actor, "account", "read", account)
    return ConversionPreview(
        None if contact_hidden else contact,
        None if account_hidden else account,
        contact_hidden,
        account_hidden,
    )


def convert_lead(
    session: Session,
    *,
    actor: User,
    lead_id: int,
    contact_id: int | None = None,
    account_id: int | None = None,
    create_deal: bool = False,
    deal: dict[str, Any] | None = None,
    new_contact: bool = False,
    new_account: bool = False,
    ip: str | None = None,
) -> Conversion:
    """Turn a lead into a contact, a company and optionally a deal (see the module docstring),
    all or nothing. `new_contact` / `new_account` skip the matching and create the record
    even when one matches (explicit ids still win)."""
    lead = crud.for_change(session, actor, Lead, lead_id, resource=leads.RESOURCE, label="lead")
    if lead.status == LeadStatus.converted:
        raise Conflict("This lead was already converted.")
    with session.begin_nested():
        owner_id = _owner_id(session, actor, lead)
        contact, made_contact = _contact(
            session, actor, lead, contact_id, owner_id, ip, new=new_contact
        )
        account, made_account = _account(
            session, actor, lead, contact, account_id, owner_id, ip, new=new_account
        )
        if (
            account is not None
            and contact.account_id is None
            and (made_contact or can(session, actor, "contact", "update", contact))
        ):
            contacts.update_contact(
                session,
                actor=actor,
                contact_id=contact.id,
                data={"account_id": account.id},
                ip=ip,
            )
        made = (
            _deal(session, actor, lead, contact, account, deal, owner_id, ip)
            if create_deal
            else None
        )
        _mark_converted(session, actor, lead, contact, account, made, ip)
    return Conversion(lead, contact, account, made, made_contact, made_account)


def _mark_converted(
    session: Session,
    actor: User,
    lead: Lead,
    contact: Contact,
    account: Account | None,
    deal: Deal | None,
    ip: str | None,
) -> None:
    changes = {
        "status": LeadStatus.converted.value,
        "converted_at": utcnow(),
        "converted_contact_id": contact.id,
        "converted_account_id": account.id if account else None,
        "converted_deal_id": deal.id if deal else None,
    }
    diff = audit.diff({k: getattr(lead, k) for k in changes}, changes)
    for key, value in changes.items():
        setattr(lead, key, value)
    lead.version += 1
    lead.updated_at = utcnow()
    session.add(lead)
    audit.record(
        session,
        actor=actor,
        action="convert",
        entity="lead",
        entity_id=lead.id,
        changes=diff,
        ip=ip,
    )
    session.flush()
    lead_scoring.rescore_lead(session, lead.id)
    crud.emit(session, actor, "lead", "converted", lead.id, diff)
