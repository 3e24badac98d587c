"""Contacts: validation and normalisation, duplicates, the list, changes, the trash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_app.models import Account, Contact, LifecycleStage, User
from crm_app.services import crud, custom_value, filters, normalize
from crm_app.services.errors import DuplicateFound, FieldError, Match, ValidationFailed
from crm_app.services.listing import ListQuery, Page, SortColumn, count, fetch_page, parse_sort
from crm_app.services.permission import owner_clause, require

RESOURCE = "contact"
LABEL = "contact"
EDITABLE = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "additional_emails",
    "additional_phones",
    "title",
    "account_id",
    "owner_id",
    "lifecycle_stage",
    "tags",
    "custom",
)
STAGES = [s.value for s in LifecycleStage]

SORTS = {
    "first_name": SortColumn("first_name", Contact.first_name, nullable=False),
    "last_name": SortColumn("last_name", Contact.last_name, nullable=False),
    "email": SortColumn("email", Contact.email),
    "phone": SortColumn("phone", Contact.phone),
    "title": SortColumn("title", Contact.title),
    "company": SortColumn("company", Contact.company_name),
    "owner": SortColumn("owner", Contact.owner_name),
    "lifecycle_stage": SortColumn("lifecycle_stage", Contact.lifecycle_stage, nullable=False),
    "created_at": SortColumn("created_at", Contact.created_at, nullable=False),
    "updated_at": SortColumn("updated_at", Contact.updated_at, nullable=False),
}
ID = SortColumn("id", Contact.id, nullable=False)
DEFAULT_SORT = "-updated_at"


def display_name(contact: Contact) -> str:
    """How a contact is named in lists and links."""
    return f"{contact.first_name} {contact.last_name}".strip() or contact.email or f"#{contact.id}"


def clean(session: Session, actor: User, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated, normalised values for the editable fields in `data`; all errors at once."""
    unknown = sorted(set(data) - set(EDITABLE))
    errors = [FieldError(k, "This field cannot be set.") for k in unknown]
    out: dict[str, Any] = {}

    def attempt(key: str, fn) -> None:
        if key in data:
            try:
                out[key] = fn(data[key])
            except ValueError as error:
                errors.append(FieldError(key, str(error)))

    def text(limit: int):
        def check(value: Any) -> str:
            value = " ".join(str(value or "").split())
            if len(value) > limit:
                raise ValueError(f"Use at most {limit} characters.")
            return value

        return check

    attempt("first_name", text(100))
    attempt("last_name", text(100))
    attempt("title", lambda v: text(200)(v) or None)
    attempt("email", normalize.email)
    attempt("phone", normalize.phone)
    attempt("additional_emails", lambda v: [e for e in (normalize.email(x) for x in v or []) if e])
    attempt("additional_phones", lambda v: [p for p in (normalize.phone(x) for x in v or []) if p])
    attempt("lifecycle_stage", lambda v: _choice(v, STAGES))
    attempt("tags", normalize.tags)
    attempt("account_id", lambda v: _account_id(session, v))
    attempt("owner_id", lambda v: int(v) if v not in (None, "") else None)
    if "custom" in data:
        try:
            out["custom"] = custom_value.clean_values(
                session, entity="contact", values=dict(data["custom"] or {}), partial=partial
            )
        except ValidationFailed as error:
            errors += error.errors
        except (TypeError, ValueError):
            errors.append(FieldError("custom", "Custom fields must be an object."))
    if not partial and not (out.get("first_name") or out.get("last_name") or out.get("email")):
        errors.append(FieldError("first_name", "Enter a name or an e-mail."))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    if "owner_id" in out:
        crud.check_owner(session, actor, RESOURCE, out["owner_id"])
    return out


def _choice(value: Any, choices: list[str]) -> str:
    if value not in choices:
        raise ValueError(f"Pick one of: {', '.join(choices)}.")
    return str(value)


def _company_id(value: Any) -> int:
    """A company id, or ValueError; accounts.id is an INTEGER, so larger numbers are no id."""
    try:
        company_id = int(value)
    except (TypeError, ValueError):
        company_id = 0
    if not 0 < company_id < 2**31:
        raise ValueError(f"'{value}' is not a company id.")
    return company_id


def _account_id(session: Session, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        account = session.get(Account, _company_id(value))
    except ValueError:
        account = None
    if account is None or account.deleted_at is not None:
        raise ValueError("Pick an existing company.")
    return account.id


def find_duplicates(
    session: Session, *, email: str | None, phone: str | None, exclude_id: int | None = None
) -> list[Match]:
    """Live contacts with the same normalised e-mail or phone."""
    return crud.same_email_or_phone(
        session, Contact, email=email, phone=phone, exclude_id=exclude_id, name=display_name
    )


def _refuse_duplicates(session: Session, values: dict[str, Any], exclude_id: int | None) -> None:
    matches = find_duplicates(
        session, email=values.get("email"), phone=values.get("phone"), exclude_id=exclude_id
    )
    if matches:
        raise DuplicateFound.by_email_or_phone("A contact", matches, values.get("email"))


def create_contact(
    session: Session,
    *,
    actor: User,
    data: dict[str, Any],
    allow_duplicate: bool = False,
    ip: str | None = None,
) -> Contact:
    """Create a contact owned by the actor unless another owner is given (and allowed)."""
    require(session, actor, RESOURCE, "create")
    values = clean(session, actor, {"owner_id": actor.id, **data}, partial=False)
    if not allow_duplicate:
        _refuse_duplicates(session, values, None)
    contact = Contact(**values)
    crud.created(session, actor, contact, entity="contact", fields=values, ip=ip)
    return contact


def get_contact(session: Session, *, actor: User, contact_id: int) -> Contact:
    """A live contact the actor may read."""
    return crud.for_read(session, actor, Contact, contact_id, resource=RESOURCE, label=LABEL)


def update_contact(
    session: Session,
    *,
    actor: User,
    contact_id: int,
    data: dict[str, Any],
    version: int | None = None,
    allow_duplicate: bool = False,
    ip: str | None = None,
) -> Contact:
    """Change some fields; `version` guards against overwriting someone else's edit."""
    contact = crud.for_change(session, actor, Contact, contact_id, resource=RESOURCE, label=LABEL)
    crud.check_version(contact, version)
    values = clean(session, actor, data, partial=True)
    if "custom" in values:
        values["custom"] = {**(contact.custom or {}), **values["custom"]}
        values["custom"] = {k: v for k, v in values["custom"].items() if v is not None}
    merged = {"email": contact.email, "phone": contact.phone, **values}
    if not (
        merged.get("first_name", contact.first_name)
        or merged.get("last_name", contact.last_name)
        or merged.get("email")
    ):
        raise ValidationFailed.for_field("first_name", "Enter a name or an e-mail.")
    changed_identity = {k: values[k] for k in ("email", "phone") if values.get(k)}
    if changed_identity and not allow_duplicate:
        _refuse_duplicates(session, changed_identity, contact.id)
    crud.apply_changes(session, actor, contact, values, entity="contact", ip=ip)
    return contact


def delete_contact(
    session: Session, *, actor: User, contact_id: int, ip: str | None = None
) -> None:
    """Move a contact to the trash."""
    contact = crud.for_change(
        session, actor, Contact, contact_id, resource=RESOURCE, label=LABEL, action="delete"
    )
    crud.trash(session, actor, contact, entity="contact", ip=ip)


def restore_contact(
    session: Session, *, actor: User, contact_id: int, ip: str | None = None
) -> Contact:
    """Bring a contact back from the trash."""
    return crud.restore(session, actor, Contact, contact_id, resource=RESOURCE, label=LABEL, ip=ip)


@dataclass
class ContactRow:
    """A contact with its company's and owner's names, as lists show it."""

    contact: Contact
    company: str | None
    owner: str | None


def list_query(session: Session, actor: User, listq: ListQuery):
    """The SELECT of live contacts the actor may read, narrowed by the search and filters (not
    sorted or paged): lists, counts, bulk actions, saved views and exports all start here."""
    require(session, actor, RESOURCE, "read")
    query = (
        select(Contact)
        .where(Contact.deleted_at.is_(None))
        .where(owner_clause(session, actor, RESOURCE, "read", Contact.owner_id))
    )
    extra = {
        "lifecycle_stage": lambda v: Contact.lifecycle_stage == _choice(v, STAGES),
        "account_id": lambda v: Contact.account_id == _company_id(v),
    }
    for clause in filters.build(
        session, actor, Contact, entity="contact", filters=listq.filters, extra=extra
    ):
        query = query.where(clause)
    if listq.q.strip():
        search = filters.search_clause(Contact, listq.q)
        if search is not None:
            query = query.where(search)
    return query


def list_contacts(session: Session, *, actor: User, listq: ListQuery) -> Page:
    """A page of live contacts matching the search and filters, in the requested order.

    `Page.rows` holds ContactRow objects.
    """
    query = list_query(session, actor, listq)
    keys = parse_sort(listq.sort, SORTS, DEFAULT_SORT)
    page = fetch_page(session, query, keys=keys, id_column=ID, listq=listq)
    page.rows = [ContactRow(c, c.company_name, c.owner_name) for (c,) in page.rows]
    return page


def count_contacts(session: Session, *, actor: User, listq: ListQuery) -> int:
    """How many live contacts match the search and filters."""
    return count(session, list_query(session, actor, listq))
