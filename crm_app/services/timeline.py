"""A record's timeline: what happened to it (the audit log) and what was done about it
(activities), merged newest first and paged with an opaque cursor.

A page costs a fixed number of queries whatever its length: the events, the activities, and
at most three look-ups to name what the changes refer to (owners, companies, custom fields).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, true, tuple_
from sqlmodel import Session

from crm_app.models import (
    Account,
    Activity,
    AuditEvent,
    Contact,
    Deal,
    Lead,
    Pipeline,
    Stage,
    User,
)
from crm_app.services import crud, custom_field, custom_value, rich_text
from crm_app.services.errors import ValidationFailed
from crm_app.services.listing import decode_cursor, encode_cursor

# entity: (table, permission resource, label, the activities' link to it)
ENTITIES: dict[str, tuple[Any, str, str, Any]] = {
    "contact": (Contact, "contact", "contact", Activity.contact_id),
    "account": (Account, "account", "company", Activity.account_id),
    "lead": (Lead, "lead", "lead", Activity.lead_id),
    "deal": (Deal, "deal", "deal", Activity.deal_id),
}
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "phone": "Phone",
    "additional_emails": "Other e-mails",
    "additional_phones": "Other phones",
    "title": "Title",
    "account_id": "Company",
    "owner_id": "Owner",
    "lifecycle_stage": "Lifecycle stage",
    "tags": "Tags",
    "name": "Name",
    "domain": "Domain",
    "website": "Website",
    "industry": "Industry",
    "size": "Size",
    "street": "Street",
    "city": "City",
    "region": "Region",
    "postal_code": "Postal code",
    "country": "Country",
    "description": "Description",
    "company_name": "Company",
    "source": "Source",
    "status": "Status",
    "pipeline_id": "Pipeline",
    "stage_id": "Stage",
    "primary_contact_id": "Primary contact",
    "amount": "Amount",
    "currency": "Currency",
    "recurring_monthly_value": "Monthly recurring value",
    "expected_close_date": "Expected close",
    "probability": "Probability",
    "lost_reason": "Lost reason",
    "converted_contact_id": "Converted to contact",
    "converted_account_id": "Converted to company",
    "converted_deal_id": "Converted to deal",
}
# Bookkeeping a person does not read in a timeline (a card's place in its column).
UNSHOWN = frozenset({"position", "stage_entered_at", "closed_at", "won_at", "score"})
# Plain words stored lowercase, shown capitalised ("Status: Qualified").
WORDS = frozenset({"lifecycle_stage", "status"})
# The order changes are listed in: the order of the record's form.
FIELD_ORDER = {
    "contact": (
        "first_name",
        "last_name",
        "email",
        "phone",
        "additional_emails",
        "additional_phones",
        "title",
        "account_id",
        "lifecycle_stage",
        "owner_id",
        "tags",
        "custom",
    ),
    "account": (
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
        "tags",
        "custom",
    ),
}
ACTION_TITLES = {
    "create": "Created",
    "update": "Updated",
    "delete": "Moved to the trash",
    "restore": "Restored from the trash",
    "merge": "Merged",
}
KIND_LABELS = {
    "call": "Call",
    "email": "E-mail",
    "meeting": "Meeting",
    "task": "Task",
    "note": "Note",
}
# Ties on the same instant put events after activities, then order by id.
ACTIVITY_RANK, EVENT_RANK = 0, 1
MAX_LINES = 12
SHORT = 80
SHOWN_BODY = 4000  # an activity's text shows whole, formatted, up to this long


@dataclass
class TimelineItem:
    """One entry: an audited change (`source` "event") or an activity."""

    source: str
    id: int
    at: datetime
    action: str  # create, update, delete, restore, merge... or the activity's kind
    title: str
    actor: str
    lines: list[str] = field(default_factory=list)
    when_label: str = ""  # activities: "Done", "Due" or "Starts"
    when: datetime | None = None
    html: str = ""  # an activity's formatted text (sanitised HTML)


@dataclass
class TimelinePage:
    """Entries newest first, and the cursor of the older ones (None when there are none)."""

    items: list[TimelineItem]
    next_before: str | None


def _cursor(before: str | None) -> tuple[datetime, int, int] | None:
    if not before:
        return None
    at, rank, item_id = decode_cursor(str(before)[:200], 3)
    try:
        return datetime.fromisoformat(at), int(rank), int(item_id)
    except (TypeError, ValueError):
        raise ValidationFailed.for_field("before", "This cursor is invalid or expired.") from None


def _older(at: Any, item_id: Any, rank: int, cursor) -> ColumnElement[bool]:
    """Rows of one source that sort after the cursor in (at, rank, id) descending order."""
    if cursor is None:
        return true()
    c_at, c_rank, c_id = cursor
    if rank == c_rank:
        return tuple_(at, item_id) < tuple_(c_at, c_id)
    return at <= c_at if rank < c_rank else at < c_at


def _events(session: Session, entity: str, record_id: int, cursor, limit: int) -> list[Any]:
    query = (
        select(AuditEvent, User.name)
        .join(User, User.id == AuditEvent.actor_id, isouter=True)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == record_id)
        .where(_older(AuditEvent.at, AuditEvent.id, EVENT_RANK, cursor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).all())


def _activities(session: Session, link: Any, record_id: int, cursor, limit: int) -> list[Any]:
    query = (
        select(
            Activity.id,
            Activity.kind,
            Activity.subject,
            func.left(Activity.body, SHOWN_BODY + 1).label("body"),
            Activity.created_at,
            Activity.due_at,
            Activity.done_at,
            Activity.starts_at,
            Activity.outcome,
            User.name.label("owner"),
        )
        .join(User, User.id == Activity.owner_id, isouter=True)
        .where(link == record_id, Activity.deleted_at.is_(None))
        .where(_older(Activity.created_at, Activity.id, ACTIVITY_RANK, cursor))
        .order_by(Activity.created_at.desc(), Activity.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).all())


def timeline(
    session: Session,
    *,
    actor: User,
    entity: str,
    record_id: int,
    before: str | None = None,
    limit: int = 20,
) -> TimelinePage:
    """A page of the record's history, newest first; `before` is a previous page's cursor."""
    if entity not in ENTITIES:
        raise ValidationFailed.for_field("entity", "This kind of record has no timeline.")
    model, resource, label, link = ENTITIES[entity]
    crud.for_read(session, actor, model, record_id, resource=resource, label=label)
    limit = max(1, min(int(limit), 100))
    cursor = _cursor(before)
    events = _events(session, entity, record_id, cursor, limit + 1)
    activities = _activities(session, link, record_id, cursor, limit + 1)
    names = _Names(session, entity, [event for event, _ in events])
    items = [_event_item(event, who, names) for event, who in events]
    items += [_activity_item(row) for row in activities]
    items.sort(key=_sort_key, reverse=True)
    page = items[:limit]
    next_before = None
    if len(items) > limit:
        at, rank, item_id = _sort_key(page[-1])
        next_before = encode_cursor([at, rank, item_id])
    return TimelinePage(items=page, next_before=next_before)


def _sort_key(item: TimelineItem) -> tuple[datetime, int, int]:
    return item.at, EVENT_RANK if item.source == "event" else ACTIVITY_RANK, item.id


def _activity_item(row: Any) -> TimelineItem:
    kind = str(row.kind)
    title = KIND_LABELS.get(kind, kind.capitalize())
    if row.subject:
        title = f"{title}: {row.subject}"
    if row.done_at:
        when_label, when = "Done", row.done_at
    elif kind == "meeting" and row.starts_at:
        when_label, when = "Starts", row.starts_at
    elif row.due_at:
        when_label, when = "Due", row.due_at
    else:
        when_label, when = "", None
    lines = [f"Outcome: {row.outcome}"] if row.outcome else []
    html = ""
    if row.body and len(row.body) <= SHOWN_BODY:
        html = rich_text.sanitize(row.body)  # sanitised when saved; again, in case
    elif row.body:  # a long text: its start, as plain text
        text = " ".join(re.sub(r"<[^>]*>", " ", row.body).split())
        text = re.sub(r" ([.,;:!?])", r"\1", text)  # "the <b>engine</b>." has no space before "."
        lines.append(_short(text, 160))
    return TimelineItem(
        source="activity",
        id=row.id,
        at=row.created_at,
        action=kind,
        title=title,
        actor=row.owner or "",
        lines=lines,
        when_label=when_label,
        when=when,
        html=html,
    )


def _event_item(event: AuditEvent, who: str | None, names: _Names) -> TimelineItem:
    order = FIELD_ORDER.get(event.entity, ())
    shown = {k: v for k, v in (event.changes or {}).items() if k not in UNSHOWN}
    changes = dict(sorted(shown.items(), key=lambda kv: _position(order, kv[0])))
    if event.action == "create":
        lines = [line for key, pair in changes.items() for line in names.created(key, pair)]
    else:
        lines = [line for key, pair in changes.items() for line in names.changed(key, pair)]
    if len(lines) > MAX_LINES:
        lines = [*lines[:MAX_LINES], f"and {len(lines) - MAX_LINES} more"]
    return TimelineItem(
        source="event",
        id=event.id,
        at=event.at,
        action=event.action,
        title=ACTION_TITLES.get(event.action, event.action.replace("_", " ").capitalize()),
        actor=who or event.actor_label or "System",
        lines=lines,
    )


def _short(text: str, limit: int = SHORT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(value: Any) -> str:
    """A stored value as one short line; "—" for nothing."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return _short(", ".join(str(v) for v in value))
    if isinstance(value, dict):
        return _short(json.dumps(value, ensure_ascii=False))
    return _short(" ".join(str(value).split()))


def _pair(value: Any) -> tuple[Any, Any] | None:
    if isinstance(value, list) and len(value) == 2:
        return value[0], value[1]
    return None


def _contact_name() -> Any:
    return func.trim(func.concat(Contact.first_name, " ", Contact.last_name))


# Ids a change can mention, named in one query per kind: (model, name column, noun).
NAMED: dict[str, tuple[Any, Any, str]] = {
    "owner_id": (User, User.name, "user"),
    "account_id": (Account, Account.name, "company"),
    "pipeline_id": (Pipeline, Pipeline.name, "pipeline"),
    "stage_id": (Stage, Stage.name, "stage"),
    "primary_contact_id": (Contact, _contact_name(), "contact"),
    "converted_contact_id": (Contact, _contact_name(), "contact"),
    "converted_account_id": (Account, Account.name, "company"),
    "converted_deal_id": (Deal, Deal.name, "deal"),
}


class _Names:
    """Names for the ids and custom-field keys that a page of changes mentions, each kind
    looked up in one query."""

    def __init__(self, session: Session, entity: str, events: list[AuditEvent]) -> None:
        mentioned: dict[str, set[int]] = {key: set() for key in NAMED}
        custom = False
        for event in events:
            for key, value in (event.changes or {}).items():
                pair = _pair(value) or (None, value)
                if key in mentioned:
                    mentioned[key] |= {int(v) for v in pair if isinstance(v, int)}
                custom = custom or key == "custom"
        self.names: dict[str, dict[int, str]] = {}
        for key, ids in mentioned.items():
            if ids:
                model, name = NAMED[key][:2]
                rows = session.execute(select(model.id, name).where(model.id.in_(ids)))
                self.names[key] = dict(rows.all())
        self.fields = (
            {d.key: d for d in custom_field.list_fields(session, entity=entity)} if custom else {}
        )

    def value(self, key: str, value: Any) -> str:
        """How one field's stored value reads."""
        if key in NAMED and isinstance(value, int):
            return self.names.get(key, {}).get(value, f"{NAMED[key][2]} #{value}")
        if key in WORDS and isinstance(value, str):
            return value.capitalize()
        return _plain(value)

    def _custom(self, key: str, value: Any) -> tuple[str, str]:
        definition = self.fields.get(key)
        if definition is None:
            return key.replace("_", " ").capitalize(), _plain(value)
        shown = custom_value.display_value(definition, value)
        return definition.label, _short(shown) if shown else "—"

    def created(self, key: str, value: Any) -> list[str]:
        """Lines for a field set when the record was created ("Title: CTO")."""
        after = _pair(value)[1] if _pair(value) else value
        if key == "custom" and isinstance(after, dict):
            return [": ".join(self._custom(k, v)) for k, v in after.items()]
        return [f"{label(key)}: {self.value(key, after)}"]

    def changed(self, key: str, value: Any) -> list[str]:
        """Lines for a changed field ("Title: Engineer → CTO"; tags as added and removed)."""
        pair = _pair(value)
        if pair is None:
            return [f"{label(key)}: {self.value(key, value)}"]
        before, after = pair
        if key == "merged":  # services.merge: [the merged-in record, the one kept]
            return [f"Merged in record #{before}, which went to the trash"]
        if key == "tags" and isinstance(before, list | None) and isinstance(after, list | None):
            return [_tag_line(before or [], after or [])]
        if key == "custom" and isinstance(before, dict | None) and isinstance(after, dict | None):
            before, after = before or {}, after or {}
            lines = []
            for k in sorted(before.keys() | after.keys()):
                if before.get(k) != after.get(k):
                    name, old = self._custom(k, before.get(k))
                    lines.append(f"{name}: {old} → {self._custom(k, after.get(k))[1]}")
            return lines
        return [f"{label(key)}: {self.value(key, before)} → {self.value(key, after)}"]


def _position(order: tuple[str, ...], key: str) -> tuple[int, str]:
    """Where a field goes in the list (JSONB does not keep the order changes were saved in)."""
    return (order.index(key) if key in order else len(order), key)


def label(key: str) -> str:
    """A field's name as people read it."""
    return FIELD_LABELS.get(key, key.replace("_", " ").capitalize())


def _tag_line(before: list[Any], after: list[Any]) -> str:
    old = {str(t).lower() for t in before}
    new = {str(t).lower() for t in after}
    added = [str(t) for t in after if str(t).lower() not in old]
    removed = [str(t) for t in before if str(t).lower() not in new]
    parts = []
    if added:
        parts.append("added " + ", ".join(added))
    if removed:
        parts.append("removed " + ", ".join(removed))
    return "Tags: " + ("; ".join(parts) or "reordered")
