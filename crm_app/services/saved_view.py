"""Saved views: a named filter, sort and column set of a record list, private or shared.

Also the column catalogue of each list (built-in columns plus one per custom field), which
both the list pages and the validation of a view's columns read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, select

from crm_app.models import SavedView, User
from crm_app.models.base import utcnow
from crm_app.services import account as account_service
from crm_app.services import audit, custom_field, deal_list
from crm_app.services import contact as contact_service
from crm_app.services import lead as lead_service
from crm_app.services.errors import FieldError, Forbidden, NotFound, ValidationFailed
from crm_app.services.listing import ListQuery, parse_sort
from crm_app.services.permission import can, require

NAME_MAX = 80
FILTERS_MAX = 50
FILTER_VALUE_MAX = 200
CUSTOM_PREFIX = "custom."


@dataclass(frozen=True)
class ListColumn:
    """A column a list can show; `sort` is its ascending sort spec, None when not sortable."""

    key: str
    label: str
    sort: str | None = None


CONTACT_COLUMNS = (
    ListColumn("name", "Name", "last_name,first_name"),
    ListColumn("email", "E-mail", "email"),
    ListColumn("phone", "Phone", "phone"),
    ListColumn("title", "Title", "title"),
    ListColumn("company", "Company", "company"),
    ListColumn("owner", "Owner", "owner"),
    ListColumn("lifecycle_stage", "Stage", "lifecycle_stage"),
    ListColumn("tags", "Tags"),
    ListColumn("created_at", "Created", "created_at"),
    ListColumn("updated_at", "Updated", "updated_at"),
)
ACCOUNT_COLUMNS = (
    ListColumn("name", "Name", "name"),
    ListColumn("domain", "Domain", "domain"),
    ListColumn("industry", "Industry", "industry"),
    ListColumn("size", "Size", "size"),
    ListColumn("city", "City", "city"),
    ListColumn("country", "Country", "country"),
    ListColumn("owner", "Owner", "owner"),
    ListColumn("contacts", "Contacts"),
    ListColumn("tags", "Tags"),
    ListColumn("created_at", "Created", "created_at"),
    ListColumn("updated_at", "Updated", "updated_at"),
)

LEAD_COLUMNS = (
    ListColumn("name", "Name", "last_name,first_name"),
    ListColumn("email", "E-mail", "email"),
    ListColumn("phone", "Phone", "phone"),
    ListColumn("company", "Company", "company"),
    ListColumn("title", "Title", "title"),
    ListColumn("source", "Source", "source"),
    ListColumn("status", "Status", "status"),
    ListColumn("score", "Score", "score"),
    ListColumn("owner", "Owner", "owner"),
    ListColumn("tags", "Tags"),
    ListColumn("created_at", "Created", "created_at"),
    ListColumn("updated_at", "Updated", "updated_at"),
)

DEAL_COLUMNS = (
    ListColumn("name", "Name", "name"),
    ListColumn("company", "Company", "company"),
    ListColumn("contact", "Primary contact"),
    ListColumn("pipeline", "Pipeline"),
    ListColumn("stage", "Stage", "stage"),
    ListColumn("status", "Status"),
    ListColumn("amount", "Amount", "amount"),
    ListColumn("probability", "Probability", "probability"),
    ListColumn("weighted", "Weighted", "weighted"),
    ListColumn("expected_close_date", "Expected close", "expected_close_date"),
    ListColumn("owner", "Owner", "owner"),
    ListColumn("lost_reason", "Lost reason"),
    ListColumn("tags", "Tags"),
    ListColumn("closed_at", "Closed", "closed_at"),
    ListColumn("created_at", "Created", "created_at"),
    ListColumn("updated_at", "Updated", "updated_at"),
)


@dataclass(frozen=True)
class EntityList:
    """What differs between the record lists a view can be saved for."""

    resource: str
    columns: tuple[ListColumn, ...]
    default_columns: tuple[str, ...]
    service: Any  # the concept's service module: SORTS, DEFAULT_SORT, the list query


ENTITIES: dict[str, EntityList] = {
    "contact": EntityList(
        "contact",
        CONTACT_COLUMNS,
        ("name", "email", "phone", "company", "owner", "lifecycle_stage", "updated_at"),
        contact_service,
    ),
    "account": EntityList(
        "account",
        ACCOUNT_COLUMNS,
        ("name", "domain", "industry", "city", "owner", "contacts", "updated_at"),
        account_service,
    ),
    "lead": EntityList(
        "lead",
        LEAD_COLUMNS,
        ("name", "company", "email", "source", "status", "score", "owner", "updated_at"),
        lead_service,
    ),
    "deal": EntityList(
        "deal",
        DEAL_COLUMNS,
        ("name", "company", "stage", "amount", "weighted", "expected_close_date", "owner"),
        deal_list,
    ),
}


def entity_list(entity: str) -> EntityList:
    """The description of one list, or a 422 naming the entities that have lists."""
    if entity not in ENTITIES:
        raise ValidationFailed.for_field("entity", "Pick contacts, companies or leads.")
    return ENTITIES[entity]


def list_columns(session: Session, *, entity: str) -> list[ListColumn]:
    """Every column the list can show: the built-in ones, then one per live custom field."""
    spec = entity_list(entity)
    custom = [
        ListColumn(f"{CUSTOM_PREFIX}{d.key}", d.label)
        for d in custom_field.list_fields(session, entity=entity)
    ]
    return [*spec.columns, *custom]


def default_columns(entity: str) -> list[str]:
    """The columns a list shows before anyone picks."""
    return list(entity_list(entity).default_columns)


# ---- validation ----------------------------------------------------------------------------


def _clean_name(raw: Any, errors: list[FieldError]) -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        errors.append(FieldError("name", "Enter a name."))
    elif len(name) > NAME_MAX:
        errors.append(FieldError("name", f"Use at most {NAME_MAX} characters."))
    return name


def _clean_filters(
    session: Session, actor: User, spec: EntityList, raw: Any, errors: list[FieldError]
) -> dict[str, str]:
    if not isinstance(raw, dict):
        errors.append(FieldError("filters", "Filters must be an object."))
        return {}
    filters = {str(k): str(v).strip() for k, v in raw.items() if str(v or "").strip()}
    if len(filters) > FILTERS_MAX:
        errors.append(FieldError("filters", f"Use at most {FILTERS_MAX} filters."))
        return {}
    too_long = [k for k, v in filters.items() if len(v) > FILTER_VALUE_MAX]
    errors += [FieldError(f"filters.{k}", "This value is too long.") for k in too_long]
    if too_long:
        return {}
    try:
        # Building the list's query validates every filter name and value, as the list will.
        spec.service.list_query(session, actor, ListQuery(filters=filters))
    except ValidationFailed as error:
        errors += [FieldError(f"filters.{e.field}", e.message) for e in error.errors]
    return filters


def _clean_sort(spec: EntityList, raw: Any, errors: list[FieldError]) -> str:
    sort = ",".join(p.strip() for p in str(raw or "").split(",") if p.strip())
    if sort:
        try:
            parse_sort(sort, spec.service.SORTS, spec.service.DEFAULT_SORT)
        except ValidationFailed as error:
            errors.append(FieldError("sort", error.message))
    return sort


def _clean_columns(session: Session, entity: str, raw: Any, errors: list[FieldError]) -> list[str]:
    if not isinstance(raw, list | tuple) or not raw:
        errors.append(FieldError("columns", "Pick at least one column."))
        return []
    known = {c.key for c in list_columns(session, entity=entity)}
    columns = list(dict.fromkeys(str(c) for c in raw))
    unknown = [c for c in columns if c not in known]
    if unknown:
        errors.append(FieldError("columns", f"Unknown columns: {', '.join(unknown[:5])}."))
    return columns


def _clean(session: Session, actor: User, entity: str, data: dict[str, Any]) -> dict[str, Any]:
    """Validated values for the keys present in `data`; every problem reported at once."""
    spec = entity_list(entity)
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    if "name" in data:
        out["name"] = _clean_name(data["name"], errors)
    if "is_shared" in data:
        out["is_shared"] = bool(data["is_shared"])
    if "filters" in data:
        out["filters"] = _clean_filters(session, actor, spec, data["filters"] or {}, errors)
    if "sort" in data:
        out["sort"] = _clean_sort(spec, data["sort"], errors)
    if "columns" in data:
        out["columns"] = _clean_columns(session, entity, data["columns"], errors)
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    return out


# ---- operations ----------------------------------------------------------------------------


def list_views(session: Session, *, actor: User, entity: str | None = None) -> list[SavedView]:
    """The views the actor can open: their own and every shared one, by entity and name.

    Entities the actor may not read are left out.
    """
    entities = [entity] if entity is not None else list(ENTITIES)
    readable = [e for e in entities if can(session, actor, entity_list(e).resource, "read")]
    if not readable:
        return []
    query = select(SavedView).where(
        SavedView.entity.in_(readable),
        SavedView.deleted_at.is_(None),
        or_(SavedView.owner_id == actor.id, SavedView.is_shared),
    )
    order = (SavedView.entity, func.lower(SavedView.name), SavedView.id)
    return list(session.exec(query.order_by(*order)).all())


def get_view(session: Session, *, actor: User, view_id: int) -> SavedView:
    """A view the actor can open (their own or a shared one), or NotFound."""
    view = session.get(SavedView, view_id) if 0 < view_id < 2**31 else None  # INTEGER key
    if (
        view is None
        or view.deleted_at is not None
        or view.entity not in ENTITIES
        or not (view.owner_id == actor.id or view.is_shared)
    ):
        raise NotFound("No such saved view.")
    require(session, actor, ENTITIES[view.entity].resource, "read")
    return view


def can_change(session: Session, actor: User, view: SavedView) -> bool:
    """Its owner may change a view; so may a settings manager when it is shared."""
    return view.owner_id == actor.id or (
        view.is_shared and can(session, actor, "setting", "manage")
    )


def _for_change(session: Session, actor: User, view_id: int) -> SavedView:
    view = get_view(session, actor=actor, view_id=view_id)
    if not can_change(session, actor, view):
        raise Forbidden("Only its owner or an admin may change this view.")
    session.refresh(view, with_for_update=True)
    return view


def create_view(
    session: Session,
    *,
    actor: User,
    entity: str,
    name: str,
    is_shared: bool = False,
    filters: dict[str, str] | None = None,
    sort: str = "",
    columns: list[str] | None = None,
    ip: str | None = None,
) -> SavedView:
    """Save the actor's current list as a named view (anyone who can read the list may)."""
    require(session, actor, entity_list(entity).resource, "read")
    values = _clean(
        session,
        actor,
        entity,
        {
            "name": name,
            "is_shared": is_shared,
            "filters": filters or {},
            "sort": sort,
            "columns": columns if columns is not None else default_columns(entity),
        },
    )
    view = SavedView(entity=entity, owner_id=actor.id, created_by=actor.id, **values)
    session.add(view)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="saved_view",
        entity_id=view.id,
        changes={"entity": [None, entity], **{k: [None, v] for k, v in values.items()}},
        ip=ip,
    )
    return view


def update_view(
    session: Session,
    *,
    actor: User,
    view_id: int,
    data: dict[str, Any],
    ip: str | None = None,
) -> SavedView:
    """Change a view's name, sharing, filters, sort or columns (the keys present in `data`)."""
    view = _for_change(session, actor, view_id)
    unknown = sorted(set(data) - {"name", "is_shared", "filters", "sort", "columns"})
    if unknown:
        raise ValidationFailed(
            "Some fields cannot be set.",
            [FieldError(k, "This field cannot be set.") for k in unknown],
        )
    values = _clean(session, actor, view.entity, data)
    changes = audit.diff({k: getattr(view, k) for k in values}, values)
    if not changes:
        return view
    for key, value in values.items():
        setattr(view, key, value)
    view.version += 1
    view.updated_at = utcnow()
    session.add(view)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="saved_view",
        entity_id=view.id,
        changes=changes,
        ip=ip,
    )
    return view


def delete_view(session: Session, *, actor: User, view_id: int, ip: str | None = None) -> None:
    """Remove a view (its owner, or an admin for a shared one)."""
    view = _for_change(session, actor, view_id)
    view.deleted_at = utcnow()
    view.version += 1
    session.add(view)
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="saved_view",
        entity_id=view.id,
        changes={"name": [view.name, None]},
        ip=ip,
    )
