"""Leads: validation and normalisation, the status flow, duplicates, the list, the trash.

The status flow (`NEXT_STATUSES`):

    new -> contacted -> qualified | unqualified -> converted

- `new` leads are contacted, or dropped as `unqualified` without a call (spam, students...).
- `contacted` leads are judged `qualified` or `unqualified`.
- The judgement can be revised: `qualified` <-> `unqualified`, and either can go back to
  `contacted` when the conversation starts again. Nothing goes back to `new`: a lead that was
  contacted stays contacted.
- `converted` is reached only through `lead_conversion.convert_lead` (which creates or links
  the contact, company and deal); it is final, and it cannot be set by an edit or on create.

Every change rescores the lead in the same transaction (`lead_scoring.rescore_lead`), and a
new lead without an owner is handed to the next rep of the assignment team
(`lead_assignment`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from crm_app.models import Lead, LeadStatus, User
from crm_app.services import (
    audit,
    crud,
    custom_value,
    filters,
    lead_assignment,
    lead_scoring,
    lead_source,
    normalize,
)
from crm_app.services import tag as tag_service
from crm_app.services.errors import DuplicateFound, FieldError, Match, ValidationFailed
from crm_app.services.listing import ListQuery, Page, SortColumn, count, fetch_page, parse_sort
from crm_app.services.permission import owner_clause, require

RESOURCE = "lead"
LABEL = "lead"
EDITABLE = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company_name",
    "title",
    "source",
    "status",
    "owner_id",
    "tags",
    "custom",
)
STATUSES = [s.value for s in LeadStatus]
SETTABLE_STATUSES = [s for s in STATUSES if s != LeadStatus.converted]
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    LeadStatus.new: (LeadStatus.contacted, LeadStatus.unqualified),
    LeadStatus.contacted: (LeadStatus.qualified, LeadStatus.unqualified),
    LeadStatus.qualified: (LeadStatus.contacted, LeadStatus.unqualified),
    LeadStatus.unqualified: (LeadStatus.contacted, LeadStatus.qualified),
    LeadStatus.converted: (),
}
TEXT_LIMITS = {"first_name": 100, "last_name": 100, "company_name": 200, "title": 200}

SORTS = {
    "first_name": SortColumn("first_name", Lead.first_name, nullable=False),
    "last_name": SortColumn("last_name", Lead.last_name, nullable=False),
    "email": SortColumn("email", Lead.email),
    "phone": SortColumn("phone", Lead.phone),
    "company": SortColumn("company", Lead.company_name),
    "title": SortColumn("title", Lead.title),
    "source": SortColumn("source", Lead.source),
    "status": SortColumn("status", Lead.status, nullable=False),
    "score": SortColumn("score", Lead.score, nullable=False),
    "owner": SortColumn("owner", Lead.owner_name),
    "created_at": SortColumn("created_at", Lead.created_at, nullable=False),
    "updated_at": SortColumn("updated_at", Lead.updated_at, nullable=False),
}
ID = SortColumn("id", Lead.id, nullable=False)
DEFAULT_SORT = "-updated_at"


def display_name(lead: Lead) -> str:
    """How a lead is named in lists, links and notifications."""
    name = f"{lead.first_name} {lead.last_name}".strip()
    return name or lead.email or lead.company_name or f"#{lead.id}"


# ---- validation ------------------------------------------------------------------------------


def _text(limit: int, *, blank_is_none: bool):
    def check(value: Any) -> str | None:
        text = " ".join(str(value or "").split())
        if len(text) > limit:
            raise ValueError(f"Use at most {limit} characters.")
        return text or (None if blank_is_none else "")

    return check


def _status(value: Any, current: Lead | None) -> str:
    if current is not None and value == current.status:
        return str(value)
    if value == LeadStatus.converted:
        raise ValueError("A lead becomes converted by converting it.")
    if value not in STATUSES:
        raise ValueError(f"Pick one of: {', '.join(SETTABLE_STATUSES)}.")
    return str(value)


def clean(
    session: Session,
    actor: User | None,
    data: dict[str, Any],
    *,
    partial: bool,
    current: Lead | None = None,
) -> dict[str, Any]:
    """Validated, normalised values for the editable fields in `data`; all errors at once.

    `actor` None is a web form (no owner check); `current` is the lead being edited.
    """
    errors = [FieldError(k, "This field cannot be set.") for k in sorted(set(data) - {*EDITABLE})]
    out: dict[str, Any] = {}

    def attempt(key: str, fn) -> None:
        if key in data:
            try:
                out[key] = fn(data[key])
            except ValueError as error:
                errors.append(FieldError(key, str(error)))

    for key, limit in TEXT_LIMITS.items():
        attempt(key, _text(limit, blank_is_none=key not in ("first_name", "last_name")))
    attempt("email", normalize.email)
    attempt("phone", normalize.phone)
    attempt(
        "source",
        lambda v: lead_source.source_name(session, v, keep=current.source if current else None),
    )
    attempt("status", lambda v: _status(v, current))
    attempt("tags", normalize.tags)
    attempt("owner_id", lambda v: int(v) if v not in (None, "") else None)
    if "custom" in data:
        try:
            out["custom"] = custom_value.clean_values(
                session, entity="lead", values=dict(data["custom"] or {}), partial=partial
            )
        except ValidationFailed as error:
            errors += error.errors
        except (TypeError, ValueError):
            errors.append(FieldError("custom", "Custom fields must be an object."))
    if not partial and not _identifiable(out):
        errors.append(FieldError("first_name", "Enter a name, an e-mail or a company."))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    if "owner_id" in out and actor is not None:
        crud.check_owner(session, actor, RESOURCE, out["owner_id"])
    return out


def _identifiable(values: dict[str, Any]) -> bool:
    return any(values.get(k) for k in ("first_name", "last_name", "email", "company_name"))


def check_transition(current: str, new: str) -> None:
    """ValidationFailed unless the status flow allows going from `current` to `new`."""
    if new == current:
        return
    allowed = NEXT_STATUSES[LeadStatus(current)]
    if new not in allowed:
        if not allowed:
            message = "A converted lead keeps its status."
        else:
            message = f"A {current} lead can only become {' or '.join(str(s) for s in allowed)}."
        raise ValidationFailed.for_field("status", message)


def find_duplicates(
    session: Session, *, email: str | None, phone: str | None, exclude_id: int | None = None
) -> list[Match]:
    """Live, not yet converted leads with the same normalised e-mail or phone."""
    return crud.same_email_or_phone(
        session,
        Lead,
        email=email,
        phone=phone,
        exclude_id=exclude_id,
        name=display_name,
        where=(Lead.status != LeadStatus.converted,),
    )


def _refuse_duplicates(session: Session, values: dict[str, Any], exclude_id: int | None) -> None:
    matches = find_duplicates(
        session, email=values.get("email"), phone=values.get("phone"), exclude_id=exclude_id
    )
    if matches:
        raise DuplicateFound.by_email_or_phone("An open lead", matches, values.get("email"))


# ---- create, read, change --------------------------------------------------------------------


def create_lead(
    session: Session,
    *,
    actor: User,
    data: dict[str, Any],
    allow_duplicate: bool = False,
    ip: str | None = None,
) -> Lead:
    """Create a lead owned by the actor unless another owner is given (and allowed); an
    explicit `owner_id: None` hands it to the next rep of the assignment team."""
    require(session, actor, RESOURCE, "create")
    values = clean(session, actor, {"owner_id": actor.id, **data}, partial=False)
    if not allow_duplicate:
        _refuse_duplicates(session, values, None)
    return insert_lead(session, values, actor=actor, ip=ip)


def insert_lead(
    session: Session,
    values: dict[str, Any],
    *,
    actor: User | None,
    ip: str | None = None,
    team_id: int | None = None,
    actor_label: str | None = None,
) -> Lead:
    """Insert a lead from already cleaned values: round-robin owner when it has none, audit,
    score. No permission check of its own: `create_lead` checked the actor's, and a public web
    form (`actor` None, `actor_label` naming it in the audit log) has none to check."""
    assignee = None
    if values.get("owner_id") is None:
        assignee = lead_assignment.next_assignee(session, team_id=team_id)
        if assignee is not None:
            values = {**values, "owner_id": assignee.id}
    lead = Lead(**values)
    if actor is not None:
        # a round-robin assignee is told by lead_assignment, below
        crud.created(
            session,
            actor,
            lead,
            entity="lead",
            fields=values,
            ip=ip,
            notify_owner=not assignee,
            derive=_score_new_lead,
        )
    else:
        session.add(lead)
        session.flush()
        _score_new_lead(session, lead)
        audit.record(
            session,
            actor=None,
            actor_label=actor_label,
            action="create",
            entity="lead",
            entity_id=lead.id,
            changes={k: [None, v] for k, v in values.items() if v not in (None, "", [], {})},
            ip=ip,
        )
        shown = {k: v for k, v in values.items() if v not in (None, "", [], {})}
        crud.emit(session, None, "lead", "created", lead.id, audit.diff({}, shown))
    if assignee is not None:
        lead_assignment.notify_assignee(session, user=assignee, lead=lead)
    return lead


def _score_new_lead(session: Session, lead: Lead) -> None:
    # Before "lead.created" is emitted, so its webhook payload carries the score.
    lead_scoring.rescore_lead(session, lead.id)


def get_lead(session: Session, *, actor: User, lead_id: int) -> Lead:
    """A live lead the actor may read."""
    return crud.for_read(session, actor, Lead, lead_id, resource=RESOURCE, label=LABEL)


def update_lead(
    session: Session,
    *,
    actor: User,
    lead_id: int,
    data: dict[str, Any],
    version: int | None = None,
    allow_duplicate: bool = False,
    ip: str | None = None,
) -> Lead:
    """Change some fields; `version` guards against overwriting someone else's edit, and a
    status change must follow the flow (see the module docstring)."""
    lead = crud.for_change(session, actor, Lead, lead_id, resource=RESOURCE, label=LABEL)
    crud.check_version(lead, version)
    values = clean(session, actor, data, partial=True, current=lead)
    if "status" in values:
        check_transition(lead.status, values["status"])
    if "custom" in values:
        merged = {**(lead.custom or {}), **values["custom"]}
        values["custom"] = {k: v for k, v in merged.items() if v is not None}
    after = {
        k: values.get(k, getattr(lead, k))
        for k in ("first_name", "last_name", "email", "company_name")
    }
    if not _identifiable(after):
        raise ValidationFailed.for_field("first_name", "Enter a name, an e-mail or a company.")
    changed_identity = {
        k: values[k] for k in ("email", "phone") if values.get(k) and values[k] != getattr(lead, k)
    }
    if changed_identity and not allow_duplicate:
        _refuse_duplicates(session, changed_identity, lead.id)
    if crud.apply_changes(session, actor, lead, values, entity="lead", ip=ip):
        lead_scoring.rescore_lead(session, lead.id)
    return lead


def change_tag(
    session: Session,
    *,
    actor: User,
    lead_id: int,
    tag: str,
    add: bool,
    ip: str | None = None,
) -> Lead:
    """Put one tag on a lead (kept once whatever its case; a new name joins the catalog) or
    take it off, as `tag.add_tag` / `tag.remove_tag` do for contacts and companies."""
    lead = crud.for_change(session, actor, Lead, lead_id, resource=RESOURCE, label=LABEL)
    try:
        name = normalize.tag(str(tag))
    except ValueError as error:
        raise ValidationFailed.for_field("tag", str(error)) from None
    known = tag_service.catalog_name(session, name)
    name = known or name
    before = list(lead.tags or [])
    if add:
        after = before if any(t.lower() == name.lower() for t in before) else [*before, name]
    else:
        after = [t for t in before if t.lower() != name.lower()]
    if after != before:
        update_lead(session, actor=actor, lead_id=lead.id, data={"tags": after}, ip=ip)
    if add and known is None:
        tag_service.remember(session, actor=actor, names=[name])
    return lead


def delete_lead(session: Session, *, actor: User, lead_id: int, ip: str | None = None) -> None:
    """Move a lead to the trash."""
    lead = crud.for_change(
        session, actor, Lead, lead_id, resource=RESOURCE, label=LABEL, action="delete"
    )
    crud.trash(session, actor, lead, entity="lead", ip=ip)


def restore_lead(session: Session, *, actor: User, lead_id: int, ip: str | None = None) -> Lead:
    """Bring a lead back from the trash, scored by today's rules."""
    lead = crud.restore(session, actor, Lead, lead_id, resource=RESOURCE, label=LABEL, ip=ip)
    session.flush()
    lead_scoring.rescore_lead(session, lead.id)
    return lead


# ---- the list --------------------------------------------------------------------------------


@dataclass
class LeadRow:
    """A lead with its owner's name, as lists show it."""

    lead: Lead
    owner: str | None


def _score(name: str, value: str) -> int:
    try:
        score = int(value)
    except ValueError:
        score = -1
    if not 0 <= score <= 100:
        raise ValueError("Enter a score from 0 to 100.")
    return score


def _source_filter(value: str):
    """Leads with this source (any case); `none` for leads without one."""
    if value == "none":
        return Lead.source.is_(None)
    return func.lower(Lead.source) == value.lower()


def _status_filter(value: str):
    """Leads in any of the comma-separated statuses."""
    wanted = [s.strip() for s in value.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown or not wanted:
        raise ValueError(f"Pick from: {', '.join(STATUSES)}.")
    return Lead.status.in_(wanted)


def list_query(session: Session, actor: User, listq: ListQuery):
    """The SELECT of live leads the actor may read, narrowed by the search and filters (not
    sorted or paged): lists, counts and exports all start here."""
    require(session, actor, RESOURCE, "read")
    query = (
        select(Lead)
        .where(Lead.deleted_at.is_(None))
        .where(owner_clause(session, actor, RESOURCE, "read", Lead.owner_id))
    )
    extra = {
        "status": _status_filter,
        "source": _source_filter,
        "score_min": lambda v: Lead.score >= _score("score_min", v),
        "score_max": lambda v: Lead.score <= _score("score_max", v),
    }
    for clause in filters.build(
        session, actor, Lead, entity="lead", filters=listq.filters, extra=extra
    ):
        query = query.where(clause)
    if listq.q.strip():
        search = filters.search_clause(Lead, listq.q)
        if search is not None:
            query = query.where(search)
    return query


def list_leads(session: Session, *, actor: User, listq: ListQuery) -> Page:
    """A page of live leads matching the search and filters, in the requested order.

    `Page.rows` holds LeadRow objects.
    """
    query = list_query(session, actor, listq)
    keys = parse_sort(listq.sort, SORTS, DEFAULT_SORT)
    page = fetch_page(session, query, keys=keys, id_column=ID, listq=listq)
    page.rows = [LeadRow(lead, lead.owner_name) for (lead,) in page.rows]
    return page


def count_leads(session: Session, *, actor: User, listq: ListQuery) -> int:
    """How many live leads match the search and filters."""
    return count(session, list_query(session, actor, listq))
