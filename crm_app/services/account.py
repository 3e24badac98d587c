"""Companies (accounts): validation, duplicates by domain, the list, changes, the trash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from crm_app.models import Account, Contact, User
from crm_app.services import crud, custom_value, filters, normalize
from crm_app.services.errors import DuplicateFound, FieldError, Match, ValidationFailed
from crm_app.services.listing import ListQuery, Page, SortColumn, count, fetch_page, parse_sort
from crm_app.services.permission import owner_clause, require

RESOURCE = "account"
LABEL = "company"
TEXT_LIMITS = {
    "name": 200,
    "industry": 100,
    "size": 20,
    "street": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "country": 100,
    "description": 10_000,
}
EDITABLE = (*TEXT_LIMITS, "domain", "phone", "website", "owner_id", "tags", "custom")
SIZES = ["1-10", "11-50", "51-200", "201-500", "501-1000", "1000+"]

SORTS = {
    "name": SortColumn("name", Account.name, nullable=False),
    "domain": SortColumn("domain", Account.domain),
    "industry": SortColumn("industry", Account.industry),
    "size": SortColumn("size", Account.size),
    "city": SortColumn("city", Account.city),
    "country": SortColumn("country", Account.country),
    "owner": SortColumn("owner", Account.owner_name),
    "created_at": SortColumn("created_at", Account.created_at, nullable=False),
    "updated_at": SortColumn("updated_at", Account.updated_at, nullable=False),
}
ID = SortColumn("id", Account.id, nullable=False)
DEFAULT_SORT = "name"


def clean(session: Session, actor: User, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated, normalised values for the editable fields in `data`; all errors at once."""
    errors = [FieldError(k, "This field cannot be set.") for k in sorted(set(data) - set(EDITABLE))]
    out: dict[str, Any] = {}

    def attempt(key: str, fn) -> None:
        if key in data:
            try:
                out[key] = fn(data[key])
            except ValueError as error:
                errors.append(FieldError(key, str(error)))

    for key, limit in TEXT_LIMITS.items():
        attempt(key, lambda v, limit=limit: _text(v, limit))
    attempt("domain", normalize.domain)
    attempt("phone", normalize.phone)
    attempt("website", _website)
    attempt("tags", normalize.tags)
    attempt("owner_id", lambda v: int(v) if v not in (None, "") else None)
    if "size" in out and out["size"] and out["size"] not in SIZES:
        errors.append(FieldError("size", f"Pick one of: {', '.join(SIZES)}."))
    if "custom" in data:
        try:
            out["custom"] = custom_value.clean_values(
                session, entity="account", values=dict(data["custom"] or {}), partial=partial
            )
        except ValidationFailed as error:
            errors += error.errors
        except (TypeError, ValueError):
            errors.append(FieldError("custom", "Custom fields must be an object."))
    if ("name" in data or not partial) and not out.get("name"):
        errors.append(FieldError("name", "Enter the company's name."))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    if "owner_id" in out:
        crud.check_owner(session, actor, RESOURCE, out["owner_id"])
    return out


def _text(value: Any, limit: int) -> str | None:
    text = " ".join(str(value or "").split()) if limit <= 200 else str(value or "").strip()
    if len(text) > limit:
        raise ValueError(f"Use at most {limit} characters.")
    return text or None


def _website(value: Any) -> str | None:
    text = str(value or "").strip()
    if not text:
        return None
    if "://" not in text:
        text = f"https://{text}"
    if not text.startswith(("http://", "https://")) or normalize.domain(text) is None:
        raise ValueError("Enter a web address, like https://acme.com.")
    return text[:500]


def find_duplicates(
    session: Session, *, domain: str | None, name: str | None = None, exclude_id: int | None = None
) -> list[Match]:
    """Live companies with the same domain (or, without a domain, the same name)."""
    if domain:
        condition = func.lower(Account.domain) == domain
    elif name:
        condition = func.lower(Account.name) == name.lower()
    else:
        return []
    query = select(Account).where(condition, Account.deleted_at.is_(None))
    if exclude_id is not None:
        query = query.where(Account.id != exclude_id)
    found = session.execute(query.order_by(Account.id).limit(5)).scalars().all()
    return [Match(a.id, a.name, a.domain or "") for a in found]


def _refuse_duplicates(session: Session, domain: str | None, exclude_id: int | None) -> None:
    matches = find_duplicates(session, domain=domain, exclude_id=exclude_id)
    if matches:
        raise DuplicateFound(
            "A company with this domain already exists.",
            matches,
            [FieldError("domain", f"Already used by {matches[0].label}.")],
        )


def create_account(
    session: Session,
    *,
    actor: User,
    data: dict[str, Any],
    allow_duplicate: bool = False,
    ip: str | None = None,
) -> Account:
    """Create a company owned by the actor unless another owner is given (and allowed)."""
    require(session, actor, RESOURCE, "create")
    values = clean(session, actor, {"owner_id": actor.id, **data}, partial=False)
    if not allow_duplicate:
        _refuse_duplicates(session, values.get("domain"), None)
    account = Account(**values)
    crud.created(session, actor, account, entity="account", fields=values, ip=ip)
    return account


def get_account(session: Session, *, actor: User, account_id: int) -> Account:
    """A live company the actor may read."""
    return crud.for_read(session, actor, Account, account_id, resource=RESOURCE, label=LABEL)


def update_account(
    session: Session,
    *,
    actor: User,
    account_id: int,
    data: dict[str, Any],
    version: int | None = None,
    allow_duplicate: bool = False,
    ip: str | None = None,
) -> Account:
    """Change some fields; `version` guards against overwriting someone else's edit."""
    account = crud.for_change(session, actor, Account, account_id, resource=RESOURCE, label=LABEL)
    crud.check_version(account, version)
    values = clean(session, actor, data, partial=True)
    if "custom" in values:
        merged = {**(account.custom or {}), **values["custom"]}
        values["custom"] = {k: v for k, v in merged.items() if v is not None}
    if values.get("domain") and values["domain"] != account.domain and not allow_duplicate:
        _refuse_duplicates(session, values["domain"], account.id)
    crud.apply_changes(session, actor, account, values, entity="account", ip=ip)
    return account


def delete_account(
    session: Session, *, actor: User, account_id: int, ip: str | None = None
) -> None:
    """Move a company to the trash; its contacts keep their link for a restore."""
    account = crud.for_change(
        session, actor, Account, account_id, resource=RESOURCE, label=LABEL, action="delete"
    )
    crud.trash(session, actor, account, entity="account", ip=ip)


def restore_account(
    session: Session, *, actor: User, account_id: int, ip: str | None = None
) -> Account:
    """Bring a company back from the trash."""
    return crud.restore(session, actor, Account, account_id, resource=RESOURCE, label=LABEL, ip=ip)


@dataclass
class AccountRow:
    """A company with its owner's name and how many live contacts it has."""

    account: Account
    owner: str | None
    contacts: int


def live_contacts_count():
    """A correlated subquery: how many live contacts the company in the row has."""
    return (
        select(func.count())
        .where(Contact.account_id == Account.id, Contact.deleted_at.is_(None))
        .correlate(Account)
        .scalar_subquery()
    )


def list_query(session: Session, actor: User, listq: ListQuery):
    """The SELECT of live companies the actor may read, narrowed by the search and filters (not
    sorted or paged): lists, counts, bulk actions, saved views and exports all start here."""
    require(session, actor, RESOURCE, "read")
    contacts = live_contacts_count()
    query = (
        select(Account, contacts)
        .where(Account.deleted_at.is_(None))
        .where(owner_clause(session, actor, RESOURCE, "read", Account.owner_id))
    )
    extra = {
        "industry": lambda v: func.lower(Account.industry) == v.lower(),
        "size": lambda v: Account.size == v,
        "country": lambda v: func.lower(Account.country) == v.lower(),
    }
    for clause in filters.build(
        session, actor, Account, entity="account", filters=listq.filters, extra=extra
    ):
        query = query.where(clause)
    if listq.q.strip():
        search = filters.search_clause(Account, listq.q)
        if search is not None:
            query = query.where(search)
    return query


def list_accounts(session: Session, *, actor: User, listq: ListQuery) -> Page:
    """A page of live companies matching the search and filters; rows are AccountRow."""
    query = list_query(session, actor, listq)
    keys = parse_sort(listq.sort, SORTS, DEFAULT_SORT)
    page = fetch_page(session, query, keys=keys, id_column=ID, listq=listq)
    page.rows = [AccountRow(a, a.owner_name, n) for a, n in page.rows]
    return page


def count_accounts(session: Session, *, actor: User, listq: ListQuery) -> int:
    """How many live companies match the search and filters."""
    return count(session, list_query(session, actor, listq))
