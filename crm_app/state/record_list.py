"""What the contact and company lists share: one page of rows, search, filters, sort, columns,
paging and the row selection. Each list is a state built on `RecordListState` (a mixin, so
each keeps its own values) that names its `ListSpec`.

Only the page on screen is kept (at most 100 rows of strings, every column of the catalogue
already formatted, so choosing columns needs no round trip to the database).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import User
from crm_app.models.custom_field import FieldType
from crm_app.services import bulk, custom_field, custom_value, user
from crm_app.services import saved_view as views
from crm_app.services.errors import DomainError, Forbidden
from crm_app.services.listing import ListQuery, Page
from crm_app.services.permission import can
from crm_app.state.base import AppState, error_event

PAGE_SIZES = (25, 50, 100)
ANY = "any"  # the "no filter" choice: a select item's value cannot be empty
COMMON_FILTERS = (
    "owner_id",
    "tag",
    "created_from",
    "created_to",
    "updated_from",
    "updated_to",
)
FILTER_VALUE_MAX = 200
# The operator and the input each custom field type filters with.
CUSTOM_FILTER_OPS = {
    FieldType.text: ("contains", "text"),
    FieldType.long_text: ("contains", "text"),
    FieldType.url: ("contains", "text"),
    FieldType.number: ("eq", "number"),
    FieldType.money: ("eq", "number"),
    FieldType.date: ("eq", "date"),
    FieldType.select: ("eq", "select"),
    FieldType.multi_select: ("has", "select"),
    FieldType.checkbox: ("is", "checkbox"),
}


@dataclasses.dataclass
class FilterField:
    """A custom field's filter as the filter bar shows it."""

    name: str  # the filter name, e.g. "custom.region__contains"
    label: str
    kind: str  # text, number, date, select, checkbox
    options: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class ListSpec:
    """How one record list reads and shows its rows."""

    entity: str  # as saved views and bulk actions name it
    noun: str  # "contact"
    plural: str  # "contacts"
    filters: tuple[str, ...]  # its filter names besides COMMON_FILTERS and custom fields
    default_sort: str
    fetch: Callable[..., Page]  # list_contacts(session, actor=, listq=)
    count: Callable[..., int]
    to_row: Callable[[Any, str, list], dict[str, str]]  # (row, time zone, custom fields)
    # a shown column that is several columns in a spreadsheet, e.g. name: first and last name
    export_as: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    can_merge: bool = True  # two selected rows can be merged into one


def local_date(value: datetime | None, tz_name: str) -> str:
    """The day of a moment in the user's time zone, as YYYY-MM-DD."""
    if value is None:
        return ""
    try:
        zone = ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return value.astimezone(zone).strftime("%Y-%m-%d")


def custom_cells(custom: dict[str, Any] | None, definitions: list) -> dict[str, str]:
    """The `custom.<key>` cells of a row."""
    values = custom or {}
    return {
        f"{views.CUSTOM_PREFIX}{d.key}": custom_value.display_value(d, values.get(d.key))
        for d in definitions
    }


def negate_sort(spec: str) -> str:
    """The descending form of an ascending sort spec ("last_name,first_name")."""
    return ",".join(f"-{part}" for part in spec.split(","))


def int_arg(raw: Any, default: int = 0) -> int:
    """A number sent by the browser, or `default` when it is not one."""
    try:
        return int(str(raw)[:12])
    except ValueError:
        return default


class RecordListState(AppState, mixin=True):
    """A paged, searchable, filterable, sortable record list with selectable rows."""

    LIST: ClassVar[ListSpec]

    rows: list[dict[str, str]] = []
    total: int = 0
    counted: bool = False  # whether `total` is the count of the current search and filters
    offset: int = 0
    page_size: int = 50
    loaded: bool = False
    query: str = ""
    filters: dict[str, str] = {}
    sort: str = ""
    columns: list[str] = []  # shown, in order; "name" always first
    catalog: list[dict[str, str]] = []  # every column: key, label, sort ("" = not sortable)
    owners: list[dict[str, str]] = []  # id, name, active ("yes" or "")
    custom_filters: list[FilterField] = []
    filters_open: bool = False
    can_read: bool = True
    can_edit: bool = False  # may update some of these records (bulk owner and tags)
    can_delete: bool = False
    can_export: bool = False  # this kind of record, to CSV
    selected: list[str] = []
    all_matching: bool = False
    bulk_delete_open: bool = False
    tag_form: str = ""  # which bulk tag form is open: "add", "remove" or none

    @rx.var
    def merge_href(self) -> str:
        """The merge screen when exactly two rows are picked (and not "all matching")."""
        if len(self.selected) != 2 or self.all_matching or not self.can_delete:
            return ""
        if not self.LIST.can_merge:
            return ""
        try:
            first, second = (int(i) for i in self.selected)
        except ValueError:
            return ""
        return routes.merge(self.LIST.entity, first, second)

    @rx.var
    def export_href(self) -> str:
        """The CSV download of this view: its search, filters, sort and shown columns."""
        columns: list[str] = []
        for key in self.columns:
            # A contact's "name" column is two columns in a spreadsheet.
            columns += (
                ["first_name", "last_name"]
                if key == "name" and self.LIST.noun == "contact"
                else list(self.LIST.export_as.get(key, (key,)))
            )
        params = {k: v for k, v in self.filters.items() if v}
        if self.query:
            params["q"] = self.query
        if self.sort:
            params["sort"] = self.sort
        params["columns"] = ",".join(columns)
        return routes.export_csv(self.LIST.plural, urlencode(params))

    # ---- loading --------------------------------------------------------------------------

    def _listq(self, *, paged: bool = True) -> ListQuery:
        active = {k: v for k, v in self.filters.items() if v}
        if not paged:
            return ListQuery(q=self.query, filters=active)
        return ListQuery(
            q=self.query,
            filters=active,
            sort=self.sort,
            limit=self.page_size,
            offset=self.offset,
        )

    def _fetch(self, session: Session, actor: User, *, recount: bool) -> None:
        """Read the page at `offset` (and the total when the matching rows may have changed)."""
        spec = self.LIST
        if recount:
            self._count(session, actor)
        page = spec.fetch(session, actor=actor, listq=self._listq())
        definitions = custom_field.list_fields(session, entity=spec.entity)
        self.rows = [spec.to_row(r, actor.timezone, definitions) for r in page.rows]
        self.selected, self.all_matching = [], False
        self.loaded = True

    def _count(self, session: Session, actor: User) -> None:
        """How many rows match; keeps `offset` within them."""
        self._show_total(self.LIST.count(session, actor=actor, listq=self._listq(paged=False)))

    def _show_total(self, total: int) -> None:
        """Show how many rows match (a list counting them its own way calls this)."""
        self.total = total
        self.counted = True
        if self.offset >= self.total and self.offset > 0:
            self.offset = max(0, (self.total - 1) // self.page_size * self.page_size)

    def _refresh(self, *, recount: bool) -> rx.event.EventSpec | None:
        """Show the current page again, re-checking the session."""
        try:
            with self._actor_session() as (session, actor):
                self._fetch(session, actor, recount=recount)
        except DomainError as error:
            self.rows, self.total, self.loaded = [], 0, True
            return error_event(error)
        return None

    def _refresh_then_count(self):
        """Show the first page of a changed search or filters, then count what matches.

        Counting 100,000 rows takes longer than reading a page of them, so the rows show
        first (a yield sends them) and the pager's total follows in a second update.
        """
        self.offset, self.counted = 0, False
        error = self._refresh(recount=False)
        if error is not None:
            yield error
            return
        yield
        yield self._recount()

    def _recount(self) -> rx.event.EventSpec | None:
        try:
            with self._actor_session() as (session, actor):
                self._count(session, actor)
        except DomainError as error:
            return error_event(error)
        return None

    def _reset(self) -> None:
        self.rows, self.total, self.offset, self.loaded = [], 0, 0, False
        self.counted = False
        self.query, self.filters, self.sort, self.columns = "", {}, "", []
        self.selected, self.all_matching = [], False
        self.bulk_delete_open = False

    def _load_choices(self, session: Session, actor: User) -> None:
        """The column catalogue, the filter bar's choices and the default view."""
        spec = self.LIST
        resource = views.entity_list(spec.entity).resource
        self.can_edit = can(session, actor, resource, "update")
        self.can_delete = can(session, actor, resource, "delete")
        self.can_export = can(session, actor, resource, "export")
        self.catalog = [
            {"key": c.key, "label": c.label, "sort": c.sort or ""}
            for c in views.list_columns(session, entity=spec.entity)
        ]
        definitions = custom_field.list_fields(session, entity=spec.entity)
        self.custom_filters = [_filter_field(d) for d in definitions]
        self.filters = {name: "" for name in self._filter_names()}
        self.sort = spec.default_sort
        self.columns = views.default_columns(spec.entity)

    def _load_owners(self, session: Session, actor: User) -> None:
        """The people the owner filter offers."""
        try:
            people, _ = user.list_users(session, actor=actor, limit=200)
        except Forbidden:
            people = []  # may read the list but not the users: filter by Me / Unassigned
        self.owners = [
            {"id": str(p.id), "name": p.name, "active": "" if p.status == "Deactivated" else "yes"}
            for p in people
        ]

    def _filter_names(self) -> list[str]:
        return [
            *COMMON_FILTERS,
            *self.LIST.filters,
            *[f.name for f in self.custom_filters],
        ]

    def _show_columns(self, keys: list[str]) -> None:
        """Show the known columns among `keys`, in their order, the name first."""
        known = {c["key"] for c in self.catalog}
        picked = [k for k in dict.fromkeys(keys) if k in known and k != "name"]
        self.columns = ["name", *picked]

    @rx.event
    def load(self):
        """on_load: the first page of the default list, or of the saved view in `?view=`;
        then (in a second update, so the rows show sooner) the total and the owner filter's
        people."""
        self._reset()
        error = self._load_page(self._first_page)
        if error is not None or not self.can_read:
            yield error
            return
        yield
        try:
            with self._actor_session() as (session, actor):
                self._load_owners(session, actor)
                self._count(session, actor)
        except DomainError as error:
            yield error_event(error)

    def _first_page(self, session: Session, actor: User) -> None:
        self.can_read = can(session, actor, views.entity_list(self.LIST.entity).resource, "read")
        if not self.can_read:
            return
        self._load_choices(session, actor)
        self._apply_requested_view(session, actor)
        try:
            self._fetch(session, actor, recount=False)
        finally:
            # A saved view can outlive a custom field it filters on: show the (empty) list
            # and the error, so the filters can be changed.
            self.loaded = True

    def _apply_requested_view(self, session: Session, actor: User) -> None:
        """Hook: apply the saved view the address names (see SavedViewsMixin)."""

    # ---- search, filters, sort, pages -----------------------------------------------------

    @rx.event
    def search(self, text: str):
        """Search by prefix (names, e-mails, phones...), from the first page; views keep no
        search, so this leaves the open view unchanged."""
        self.query = str(text)[:200]
        yield from self._refresh_then_count()

    @rx.event
    def set_filter(self, name: str, value: str):
        """Change one filter and show the first page of what matches."""
        name, value = str(name)[:100], str(value).strip()[:FILTER_VALUE_MAX]
        if name not in self._filter_names():
            return
        self.filters = {**self.filters, name: "" if value == ANY else value}
        self._changed()
        yield from self._refresh_then_count()

    @rx.event
    def clear_filters(self):
        """Drop every filter (and the search)."""
        self.filters = {name: "" for name in self._filter_names()}
        self.query = ""
        self._changed()
        yield from self._refresh_then_count()

    @rx.event
    def toggle_filters(self):
        """Show or hide the filter bar."""
        self.filters_open = not self.filters_open

    @rx.event
    def sort_by(self, key: str):
        """Sort by a column: ascending first, descending on the next click."""
        column = next((c for c in self.catalog if c["key"] == str(key)), None)
        if column is None or not column["sort"]:
            return None
        ascending = column["sort"]
        self.sort = negate_sort(ascending) if self.sort == ascending else ascending
        self.offset = 0
        self._changed()
        return self._refresh(recount=False)

    @rx.event
    def next_page(self):
        """The next page."""
        if self._more_follow():
            self.offset += self.page_size
        return self._refresh(recount=False)

    @rx.event
    def previous_page(self):
        """The previous page."""
        self.offset = max(0, self.offset - self.page_size)
        return self._refresh(recount=False)

    @rx.event
    def set_page_size(self, size: str):
        """Show 25, 50 or 100 rows a page."""
        value = int_arg(size, self.page_size)
        if value not in PAGE_SIZES:
            return None
        self.page_size, self.offset = value, 0
        return self._refresh(recount=False)

    # ---- columns --------------------------------------------------------------------------

    @rx.event
    def toggle_column(self, key: str, shown: bool):
        """Show or hide a column (the name always shows)."""
        key = str(key)
        if bool(shown) and key not in self.columns:
            self._show_columns([*self.columns, key])
        elif not shown:
            self._show_columns([c for c in self.columns if c != key])
        self._changed()

    @rx.event
    def move_column(self, key: str, step: int):
        """Move a shown column one place left (-1) or right (1)."""
        order = list(self.columns)
        key = str(key)
        if key not in order or key == "name":
            return
        i = order.index(key)
        j = i + (1 if int_arg(step) > 0 else -1)
        if 1 <= j < len(order):
            order[i], order[j] = order[j], order[i]
            self.columns = order
            self._changed()

    @rx.event
    def reset_columns(self):
        """The columns the list shows by default."""
        self._show_columns(views.default_columns(self.LIST.entity))
        self._changed()

    def _changed(self) -> None:
        """Hook: the list's filters, sort or columns changed (saved views track this)."""

    # ---- selection ------------------------------------------------------------------------

    @rx.event
    def flip_row(self, row_id: str):
        """Select a row of the page, or unselect it when it was selected."""
        row_id = str(row_id)
        if not any(r["id"] == row_id for r in self.rows):
            return
        rest = [s for s in self.selected if s != row_id]
        self.selected = rest if row_id in self.selected else [*rest, row_id]
        self.all_matching = False

    @rx.event
    def flip_page(self):
        """Select every row of the page, or none when all were selected."""
        every = [r["id"] for r in self.rows]
        self.selected = [] if self.rows and set(self.selected) >= set(every) else every
        self.all_matching = False

    @rx.event
    def select_all_matching(self):
        """Act on every row the search and filters match, not only this page."""
        self.selected = [r["id"] for r in self.rows]
        self.all_matching = True

    @rx.event
    def clear_selection(self):
        """Unselect everything."""
        self.selected, self.all_matching = [], False

    # ---- bulk actions ---------------------------------------------------------------------

    @rx.event
    def bulk_assign(self, owner: str):
        """Give the selected rows to another owner (or to no one)."""
        value = str(owner)[:12]
        if value != "none" and not value.isdigit():
            return None
        return self._bulk("assign_owner", None if value == "none" else int(value))

    @rx.event
    def open_tag_form(self, kind: str, is_open: bool):
        """Open or close the "Add tag" or "Remove tag" form."""
        self.tag_form = str(kind) if is_open and kind in ("add", "remove") else ""

    @rx.event
    def bulk_add_tag(self, form: dict):
        """Tag the selected rows."""
        self.tag_form = ""
        return self._bulk("add_tag", str(form.get("add_tag", ""))[:100])

    @rx.event
    def bulk_remove_tag(self, form: dict):
        """Untag the selected rows."""
        self.tag_form = ""
        return self._bulk("remove_tag", str(form.get("remove_tag", ""))[:100])

    @rx.event
    def ask_bulk_delete(self):
        """Open the confirmation before moving the selection to the trash."""
        self.bulk_delete_open = bool(self.selected or self.all_matching)

    @rx.event
    def close_bulk_delete(self, is_open: bool = False):
        """Dismiss the confirmation."""
        if not is_open:
            self.bulk_delete_open = False

    @rx.event
    def confirm_bulk_delete(self):
        """Move the selection to the trash."""
        self.bulk_delete_open = False
        return self._bulk("delete", None)

    def _bulk(self, action: str, value: str | int | None) -> rx.event.EventSpec | None:
        """Run a bulk action on the selection (or the whole filtered list) and report it."""
        if not (self.selected or self.all_matching):
            return None
        ids = None if self.all_matching else [int_arg(s) for s in self.selected]
        listq = self._listq(paged=False) if self.all_matching else None
        entity = self.LIST.entity
        try:
            with self._actor_session() as (session, actor):
                refused = bulk.count_refused(
                    session, actor=actor, entity=entity, action=action, ids=ids, listq=listq
                )
                changed = bulk.bulk_apply(
                    session,
                    actor=actor,
                    entity=entity,
                    action=action,
                    value=value,
                    ids=ids,
                    listq=listq,
                    ip=self._client_ip(),
                )
                self._fetch(session, actor, recount=True)
        except DomainError as error:
            return error_event(error)
        return rx.toast.success(self._bulk_message(action, changed, refused), duration=8000)

    def _bulk_message(self, action: str, changed: int, refused: int) -> str:
        noun = self.LIST.noun if changed == 1 else self.LIST.plural
        done = (
            f"Moved {changed:,} {noun} to the trash."
            if action == "delete"
            else f"Updated {changed:,} {noun}."
        )
        if refused:
            done += f" {refused:,} skipped: you may not change them."
        return done

    # ---- computed -------------------------------------------------------------------------

    @rx.var
    def header_columns(self) -> list[dict[str, str]]:
        """The shown columns with their sort state: aria_sort ascending/descending/none."""
        labels = {c["key"]: c for c in self.catalog}
        out = []
        for key in self.columns:
            column = labels.get(key)
            if column is None:
                continue
            ascending = column["sort"]
            state = "none"
            if ascending and self.sort == ascending:
                state = "ascending"
            elif ascending and self.sort == negate_sort(ascending):
                state = "descending"
            out.append({**column, "aria_sort": state})
        return out

    @rx.var
    def body_columns(self) -> list[str]:
        """The shown columns after the name (the name is each row's header cell)."""
        return [c for c in self.columns if c != "name"]

    @rx.var
    def chooser(self) -> list[dict[str, str]]:
        """Every column for the chooser: shown ones in order, then the hidden ones."""
        labels = {c["key"]: c["label"] for c in self.catalog}
        shown = [k for k in self.columns if k in labels]
        hidden = [c["key"] for c in self.catalog if c["key"] not in shown]
        last = len(shown) - 1
        return [
            {
                "key": key,
                "label": labels[key],
                "shown": "yes" if i <= last else "",
                "fixed": "yes" if key == "name" else "",
                "can_up": "yes" if 1 < i <= last else "",
                "can_down": "yes" if 0 < i < last else "",
            }
            for i, key in enumerate([*shown, *hidden])
        ]

    @rx.var
    def active_filter_count(self) -> int:
        """How many filters are set."""
        return sum(1 for v in self.filters.values() if v)

    @rx.var
    def page_label(self) -> str:
        """Which rows are shown, e.g. "1 to 50 of 100,000" with an en dash."""
        if not self.counted:
            shown = f"{self.offset + 1:,}\N{EN DASH}{self.offset + len(self.rows):,}"
            return f"{shown} of \N{HORIZONTAL ELLIPSIS}" if self.rows else ""
        if self.total == 0:
            return f"No {self.LIST.plural}"
        end = min(self.offset + self.page_size, self.total)
        return f"{self.offset + 1:,}\N{EN DASH}{end:,} of {self.total:,}"

    @rx.var
    def has_previous(self) -> bool:
        """Whether a page comes before this one."""
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        """Whether a page follows this one."""
        return self._more_follow()

    def _more_follow(self) -> bool:
        if not self.counted:  # a full page: probably (the count is on its way)
            return len(self.rows) == self.page_size
        return self.offset + self.page_size < self.total

    @rx.var
    def can_select(self) -> bool:
        """Whether rows get checkboxes: only for those who may act on them in bulk."""
        return self.can_edit or self.can_delete

    @rx.var
    def page_selected(self) -> bool:
        """Whether every row of the page is selected."""
        return bool(self.rows) and len(self.selected) == len(self.rows)

    @rx.var
    def selection_count(self) -> int:
        """How many rows a bulk action would target."""
        return self.total if self.all_matching else len(self.selected)

    @rx.var
    def selection_label(self) -> str:
        """What is selected, e.g. "2 contacts selected"."""
        n = self.total if self.all_matching else len(self.selected)
        noun = self.LIST.noun if n == 1 else self.LIST.plural
        if self.all_matching:
            return f"All {n:,} matching {noun} selected"
        return f"{n:,} {noun} selected"

    @rx.var
    def can_select_all_matching(self) -> bool:
        """Whether "Select all N matching" is worth offering."""
        return self.page_selected and not self.all_matching and self.total > len(self.rows)

    @rx.var
    def select_all_label(self) -> str:
        """The "Select all N matching" link's text."""
        return f"Select all {self.total:,} matching {self.LIST.plural}"


def _filter_field(definition) -> FilterField:
    op, kind = CUSTOM_FILTER_OPS.get(FieldType(definition.field_type), ("eq", "text"))
    options = [str(o) for o in definition.options or []] if kind == "select" else []
    return FilterField(
        name=f"{views.CUSTOM_PREFIX}{definition.key}__{op}",
        label=definition.label,
        kind=kind,
        options=options,
    )
