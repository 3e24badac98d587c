"""What the contact and company pages share: fields edited in place, the timeline, delete.

`RecordPage` is a state mixin: each page's state (ContactPageState, AccountPageState) gets its
own copy of these vars and handlers and supplies the record-specific `_fetch`, `_update`,
`_delete`, `_show` and `_load_related`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app.models import User
from crm_app.services import custom_field, related, timeline
from crm_app.services.errors import (
    DomainError,
    DuplicateFound,
    Forbidden,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from crm_app.services.permission import can
from crm_app.state.activity import ActivityComposer
from crm_app.state.base import AppState, error_event
from crm_app.state.views import (
    FieldView,
    MatchView,
    RelatedRow,
    TimelineEntry,
    activity_rows,
    custom_views,
    deal_rows,
    field_data,
    form_value,
    timeline_entries,
)

TIMELINE_PAGE = 20
RELATED_MAX = 100  # rows a related list holds in state; beyond, the list pages take over
STALE = "Changed by someone else — reloaded."


class RecordPage(ActivityComposer, AppState, mixin=True):
    """A record's page: its fields edited one at a time in place, its timeline, delete."""

    record_id: int = 0
    version: int = 0
    problem: str = ""
    can_edit: bool = False
    can_delete: bool = False
    fields: list[FieldView] = []
    custom: list[FieldView] = []
    editing: str = ""
    edit_error: str = ""
    edit_matches: list[MatchView] = []
    timeline: list[TimelineEntry] = []
    timeline_more: bool = False
    confirm_delete: bool = False
    deals: list[RelatedRow] = []
    deals_total: int = 0
    activities: list[RelatedRow] = []
    activities_total: int = 0
    can_see_deals: bool = False
    can_see_activities: bool = False
    _timeline_before: str = ""
    _pending_edit: dict[str, Any] = {}

    # ---- what each page supplies --------------------------------------------------------

    def _entity(self) -> str:
        raise NotImplementedError

    def _fetch(self, session: Session, actor: User) -> Any:
        raise NotImplementedError

    def _id_limit(self) -> int:
        """Ids are INTEGER unless a page says otherwise (contacts' are BIGINT)."""
        return 2**31

    def _update(self, session, actor, data: dict, allow_duplicate: bool) -> Any:
        raise NotImplementedError

    def _delete(self, session: Session, actor: User) -> rx.event.EventSpec | list:
        raise NotImplementedError

    def _show(self, session: Session, actor: User, record: Any) -> None:
        raise NotImplementedError

    def _load_related(self, session: Session, actor: User) -> None:
        raise NotImplementedError

    # ---- opening the page ---------------------------------------------------------------

    def _clear(self) -> None:
        self.record_id = self.version = 0
        self.problem = self.editing = self.edit_error = ""
        self.fields, self.custom, self.timeline, self.edit_matches = [], [], [], []
        self.can_edit = self.can_delete = self.confirm_delete = self.timeline_more = False

    @rx.event
    def load(self):
        """on_load: the record, its related lists and the first page of its timeline."""
        self._clear()
        return self._load_page(self._open)

    def _open(self, session: Session, actor: User) -> None:
        try:
            # the [id] of /contacts/[id] and /accounts/[id]: the last segment of the path
            record_id = int(self.router.url.path.rstrip("/").rsplit("/", 1)[-1][:20])
            if not 0 < record_id < self._id_limit():
                raise ValueError("out of range")
            # kept only when valid: the page's other handlers act on it
            self.record_id = record_id
            record = self._fetch(session, actor)
        except ValueError:
            self.problem = "This address does not name a record."
            return
        except (NotFound, Forbidden) as error:
            self.problem = error.message
            return
        self._show_record(session, actor, record)
        self._load_related(session, actor)
        self._ready_composer(session, actor)

    def _show_record(self, session: Session, actor: User, record: Any) -> None:
        entity = self._entity()
        self.version = record.version
        self.can_edit = can(session, actor, entity, "update", record)
        self.can_delete = can(session, actor, entity, "delete", record)
        definitions = custom_field.list_fields(session, entity=entity)
        self.custom = custom_views(definitions, record.custom or {})
        self._show(session, actor, record)
        self._reload_timeline(session, actor)

    def _reload_timeline(self, session: Session, actor: User) -> None:
        self._timeline_before = ""
        self.timeline = []
        self._more_timeline(session, actor)

    def _more_timeline(self, session: Session, actor: User) -> None:
        page = timeline.timeline(
            session,
            actor=actor,
            entity=self._entity(),
            record_id=self.record_id,
            before=self._timeline_before or None,
            limit=TIMELINE_PAGE,
        )
        self.timeline = [*self.timeline, *timeline_entries(page, actor.timezone)]
        self._timeline_before = page.next_before or ""
        self.timeline_more = page.next_before is not None

    @rx.event
    def load_older(self):
        """The next page of the timeline."""
        if not self.timeline_more or not self.record_id:
            return None
        try:
            with self._actor_session() as (session, actor):
                self._more_timeline(session, actor)
        except DomainError as error:
            return error_event(error)
        return None

    # ---- editing in place ---------------------------------------------------------------

    def _view(self, key: str) -> FieldView | None:
        """The field `key` as the page shows it (only those can be edited)."""
        return next((f for f in [*self.fields, *self.custom] if f.key == key), None)

    @rx.event
    def start_edit(self, key: str):
        """Open one field's editor (only fields shown on the page)."""
        key = str(key)[:80]
        if self.can_edit and self._view(key) is not None:
            self.editing, self.edit_error, self.edit_matches = key, "", []

    @rx.event
    def cancel_edit(self):
        """Close the editor without saving."""
        self.editing, self.edit_error, self.edit_matches = "", "", []

    @rx.event
    def edit_key(self, key: str):
        """Escape cancels the edit (Enter submits the editor's form)."""
        if key == "Escape":
            self.editing, self.edit_error, self.edit_matches = "", "", []

    @rx.event
    def save_edit(self, form: dict):
        """Save the field being edited, with the version this page loaded."""
        view = self._view(self.editing)
        if view is None:
            return None
        return self._save(field_data(view.key, form_value(view, form)))

    @rx.event
    def save_edit_anyway(self):
        """Save the edit that matched another record's e-mail, phone or domain."""
        if not self._pending_edit:
            return None
        return self._save(self._pending_edit, allow_duplicate=True)

    def _save(self, data: dict[str, Any], allow_duplicate: bool = False):
        self.edit_error, self.edit_matches, self._pending_edit = "", [], {}
        try:
            with self._actor_session() as (session, actor):
                record = self._update(session, actor, data, allow_duplicate)
                self.editing = ""
                self._show_record(session, actor, record)
        except StaleVersion:
            self.editing = ""
            return self._reload() or rx.toast.warning(STALE)
        except DuplicateFound as error:
            self.edit_error = error.errors[0].message if error.errors else error.message
            self.edit_matches = self._matches(error)
            self._pending_edit = data
        except ValidationFailed as error:
            self.edit_error = "; ".join(e.message for e in error.errors) or error.message
        except DomainError as error:
            return error_event(error)
        return None

    def _matches(self, error: DuplicateFound) -> list[MatchView]:
        raise NotImplementedError

    def _reload(self) -> rx.event.EventSpec | None:
        try:
            with self._actor_session() as (session, actor):
                self._open(session, actor)
        except DomainError as error:
            return error_event(error)
        return None

    # ---- related lists ------------------------------------------------------------------

    def _related_deals(self, session: Session, actor: User, offset: int):
        """This record's deals page at `offset` (each page type says which deals are its)."""
        raise NotImplementedError

    def _load_deals_and_activities(self, session: Session, actor: User) -> None:
        """The first page of deals and of activities, for those who may read them."""
        self.can_see_deals = can(session, actor, "deal", "read")
        if self.can_see_deals:
            self.deals, self.deals_total = self._deals(session, actor, 0)
        self.can_see_activities = can(session, actor, "activity", "read")
        if self.can_see_activities:
            self.activities, self.activities_total = self._activities(session, actor, 0)

    def _deals(self, session, actor, offset: int) -> tuple[list[RelatedRow], int]:
        found = self._related_deals(session, actor, offset)
        return deal_rows(found), found.total

    def _activities(self, session, actor, offset: int) -> tuple[list[RelatedRow], int]:
        found = related.activities(
            session, actor=actor, entity=self._entity(), record_id=self.record_id, offset=offset
        )
        return activity_rows(found, actor.timezone), found.total

    @rx.event
    def more_deals(self):
        """The next ten deals."""
        if not self.can_see_deals:  # set by pages that list deals (not deals or leads)
            return None
        return self._more("deals", self._deals)

    @rx.event
    def more_activities(self):
        """The next ten activities."""
        return self._more("activities", self._activities)

    def _more(self, name: str, fetch) -> rx.event.EventSpec | None:
        """Append the next rows of the related list `name` (and refresh `name`_total);
        `fetch(session, actor, offset)` returns (rows, total)."""
        shown = getattr(self, name)
        if not self.record_id or len(shown) >= RELATED_MAX:
            return None
        try:
            with self._actor_session() as (session, actor):
                rows, total = fetch(session, actor, len(shown))
        except DomainError as error:
            return error_event(error)
        setattr(self, name, [*shown, *rows])
        setattr(self, f"{name}_total", total)
        return None

    # ---- delete -------------------------------------------------------------------------

    @rx.event
    def ask_delete(self):
        """Open the delete confirmation."""
        self.confirm_delete = self.can_delete

    @rx.event
    def close_delete(self, _open: bool = False):
        """Close the delete confirmation."""
        self.confirm_delete = False

    @rx.event
    def delete(self):
        """Move the record to the trash and go back to the list."""
        self.confirm_delete = False
        try:
            with self._actor_session() as (session, actor):
                return self._delete(session, actor)
        except DomainError as error:
            return error_event(error)
