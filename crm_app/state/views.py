"""What record pages and forms show, as plain data for the state: fields with their inputs,
duplicate matches, timeline entries and related-list rows, and the helpers that build them."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlmodel import Session

from crm_app import routes
from crm_app.models import CustomFieldDefinition, User
from crm_app.models.custom_field import FieldType
from crm_app.services import calendar_feed, custom_value, normalize, related, timeline
from crm_app.state.audit import local_time

NONE = "none"  # the "no value" choice: a select item's value cannot be empty
PICK = "pick:"  # multi-select checkboxes are named pick:<option>
TEXT_LIMIT = 20_000


@dataclasses.dataclass
class Choice:
    """One option of a select."""

    value: str
    label: str


@dataclasses.dataclass
class FieldView:
    """One field of a record page or form: how it shows and how it is edited.

    `kind` picks the input: text, email, tel, url, list (comma-separated), textarea, number,
    money, date, select, multi_select, company.
    """

    key: str  # the service's field name, or custom.<key>
    label: str
    kind: str = "text"
    value: str = ""  # what the input starts with
    display: str = ""  # what the page shows; "" reads as "—"
    href: str = ""  # a link for the shown value
    options: list[Choice] = dataclasses.field(default_factory=list)
    picked: list[str] = dataclasses.field(default_factory=list)  # ticked multi-select options
    required: bool = False


@dataclasses.dataclass
class MatchView:
    """An existing record the one being saved looks like."""

    id: int
    label: str
    detail: str
    href: str


@dataclasses.dataclass
class TimelineEntry:
    """One line of the timeline, formatted for the viewer."""

    key: str
    source: str  # event or activity
    action: str  # create, update, ... or the activity's kind
    title: str
    actor: str
    at: str
    when: str
    lines: list[str]
    invite: str = ""  # a meeting's .ics invitation to download
    html: str = ""  # an activity's formatted text, sanitised


@dataclasses.dataclass
class RelatedRow:
    """A row of a related list: a linked title, a line under it, and a note on the right."""

    id: int
    title: str
    href: str
    subtitle: str = ""
    note: str = ""


CUSTOM_KINDS = {
    FieldType.text: "text",
    FieldType.long_text: "textarea",
    FieldType.number: "number",
    FieldType.money: "money",
    FieldType.date: "date",
    FieldType.select: "select",
    FieldType.multi_select: "multi_select",
    FieldType.checkbox: "select",
    FieldType.url: "url",
}
YES_NO = [Choice("yes", "Yes"), Choice("no", "No")]


def custom_views(
    definitions: list[CustomFieldDefinition], values: dict[str, Any]
) -> list[FieldView]:
    """The record's custom fields as page fields, in the admin's order."""
    views = []
    for d in definitions:
        kind = FieldType(d.field_type)
        raw = (values or {}).get(d.key)
        if kind is FieldType.checkbox:
            options = [Choice(NONE, "Not set"), *YES_NO]
            value = "yes" if raw is True else "no" if raw is False else NONE
        elif kind is FieldType.select:
            options = [Choice(NONE, "Not set"), *[Choice(o, o) for o in d.options or []]]
            value = str(raw or NONE)
        else:
            options, value = [Choice(o, o) for o in d.options or []], _text(raw)
        views.append(
            FieldView(
                key=f"custom.{d.key}",
                label=d.label,
                kind=CUSTOM_KINDS[kind],
                value=value,
                display=custom_value.display_value(d, raw),
                href=safe_href(raw) if kind is FieldType.url else "",
                options=options,
                picked=[str(v) for v in raw] if isinstance(raw, list) else [],
                required=bool(d.required),
            )
        )
    return views


def _text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, list):
        return ", ".join(str(v) for v in raw)
    return str(raw)


def owner_view(session: Session, actor: User, resource: str, owner_id: int | None) -> FieldView:
    """The owner select: whom the actor may give the record to, and the current owner."""
    found = related.owner_choices(session, actor=actor, resource=resource)
    choices = [Choice(str(i), name) for i, name in found]
    current = next((c for c in choices if owner_id and c.value == str(owner_id)), None)
    if current is None and owner_id:
        # someone the actor may not give records to (or who left): shown, not offered
        user = session.get(User, owner_id)
        current = Choice(str(owner_id), user.name) if user else None
        choices = [current, *choices] if current else choices
    return FieldView(
        key="owner_id",
        label="Owner",
        kind="select",
        value=str(owner_id) if owner_id else NONE,
        display=current.label if current else "",
        options=[Choice(NONE, "No owner"), *choices],
    )


def form_value(view: FieldView | None, form: dict[str, Any], key: str = "value") -> Any:
    """What a submitted input means for the service: None for the "none" choice, a list for
    a multi-select or a comma-separated list, text cut to a sane length otherwise."""
    if view is not None and view.kind == "multi_select":
        prefix = PICK if key == "value" else f"{PICK}{view.key}:"
        return [str(k)[len(prefix) :] for k, v in form.items() if str(k).startswith(prefix) and v]
    raw = str(form.get(key, "") or "")[:TEXT_LIMIT]
    if raw == NONE:
        return None
    if view is not None and view.kind == "list":
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def field_data(key: str, value: Any) -> dict[str, Any]:
    """The service's `data` for one field."""
    if key.startswith("custom."):
        return {"custom": {key.removeprefix("custom."): "" if value is None else value}}
    return {key: value}


def timeline_entries(page: timeline.TimelinePage, tz: str) -> list[TimelineEntry]:
    """Timeline items with their times in the viewer's zone."""
    return [
        TimelineEntry(
            key=f"{item.source}-{item.id}",
            source=item.source,
            action=item.action,
            title=item.title,
            actor=item.actor,
            at=local_time(item.at, tz),
            when=f"{item.when_label} {local_time(item.when, tz)}" if item.when else "",
            lines=item.lines,
            invite=calendar_feed.invite_path(item.id) if item.action == "meeting" else "",
            html=item.html,
        )
        for item in page.items
    ]


KIND_LABELS = timeline.KIND_LABELS


SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:")


def safe_href(url: object) -> str:
    """A link the page may render: a web, mail or phone address, or a page of the app; ""
    for anything else (a stored `javascript:` URL must never become a link). Services
    validate on save; rows loaded in bulk or from older versions pass here too."""
    text = str(url or "").strip()
    if text.lower().startswith(SAFE_SCHEMES) or (
        text.startswith("/") and not text.startswith("//")
    ):
        return text
    return ""


def text_view(key: str, label: str, value: str | None, kind: str = "text", href: str = ""):
    """A plain field whose input starts with its shown value."""
    return FieldView(
        key=key,
        label=label,
        kind=kind,
        value=value or "",
        display=value or "",
        href=safe_href(href),
    )


def select_view(key: str, label: str, value: str | None, choices: list[str], blank: str = ""):
    """A select of fixed choices, optionally with a "none" choice labelled `blank`."""
    options = [Choice(c, c.capitalize() if c.isalpha() else c) for c in choices]
    if blank:
        options.insert(0, Choice(NONE, blank))
    shown = next((o.label for o in options if o.value == value), value or "")
    return FieldView(
        key=key, label=label, kind="select", value=value or NONE, display=shown, options=options
    )


def tel_href(phone: str | None) -> str:
    """A link that dials the number."""
    return f"tel:{phone}" if phone else ""


def phone_view(key: str, label: str, value: str | None) -> FieldView:
    """A phone: shown as people read it ("+1 415-555-0100"), linked to dial, edited as shown."""
    shown = normalize.phone_display(value)
    return FieldView(key=key, label=label, kind="tel", value=shown, display=shown,
                     href=tel_href(value))  # fmt: skip


def money(amount: Any, currency: str) -> str:
    """An amount as lists show it: "12,500.00 USD"."""
    return f"{amount:,.2f} {currency}" if amount is not None else ""


def deal_rows(found: related.Related[related.DealRow]) -> list[RelatedRow]:
    """Deals as related-list rows."""
    return [
        RelatedRow(
            id=d.id,
            title=d.name,
            href=routes.deal_detail(d.id),
            subtitle=" · ".join(p for p in (d.stage, money(d.amount, d.currency)) if p),
            note=f"Closes {d.expected_close_date.isoformat()}" if d.expected_close_date else "",
        )
        for d in found.rows
    ]


def activity_rows(found: related.Related[related.ActivityRow], tz: str) -> list[RelatedRow]:
    """Activities as related-list rows: what, whose, and when it is due or was done."""
    rows = []
    for a in found.rows:
        kind = KIND_LABELS.get(a.kind, a.kind.capitalize())
        if a.done_at:
            note = f"Done {local_time(a.done_at, tz)}"
        else:
            note = f"Due {local_time(a.due_at, tz)}" if a.due_at else "Open"
        title = f"{kind}: {a.subject}" if a.subject else kind
        rows.append(RelatedRow(id=a.id, title=title, href="", subtitle=a.owner, note=note))
    return rows


def contact_rows(found: related.Related[related.ContactRow]) -> list[RelatedRow]:
    """A company's contacts as related-list rows."""
    return [
        RelatedRow(
            id=c.id,
            title=c.name,
            href=routes.contact_detail(c.id),
            subtitle=" · ".join(p for p in (c.title, c.email) if p),
            note=c.phone,
        )
        for c in found.rows
    ]
