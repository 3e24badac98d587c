"""Saved views: the sidebar's list of them, and saving, opening, editing and deleting a view
from a record list."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import SavedView, User
from crm_app.services import saved_view
from crm_app.services.errors import DomainError, NotFound, Unauthenticated, ValidationFailed
from crm_app.state.base import AppState, error_event
from crm_app.state.record_list import RecordListState, int_arg

LIST_ROUTES = {
    "contact": routes.CONTACTS,
    "account": routes.ACCOUNTS,
    "lead": routes.LEADS,
    "deal": routes.DEAL_LIST,
}


def view_href(entity: str, view_id: int) -> str:
    """The list page showing a saved view."""
    return f"{LIST_ROUTES[entity]}?view={view_id}"


def _shared(form: dict) -> bool:
    return str(form.get("shared", "")).lower() in ("on", "true", "yes")


class SavedViewState(AppState):
    """The saved views the user can open, as the sidebar and the lists' view menus show them."""

    views: list[dict[str, str]] = []  # id, name, entity, href, shared ("yes" or "")

    @rx.event
    def refresh(self):
        """Read the views again (on mount of the sidebar, after a view changed)."""
        try:
            with self._actor_session() as (session, actor):
                found = saved_view.list_views(session, actor=actor)
        except Unauthenticated:
            self.views = []
            return None
        except DomainError as error:
            return error_event(error)
        self.views = [
            {
                "id": str(v.id),
                "name": v.name,
                "entity": v.entity,
                "href": view_href(v.entity, v.id),
                "shared": "yes" if v.is_shared else "",
            }
            for v in found
        ]
        return None

    @rx.var
    def contact_views(self) -> list[dict[str, str]]:
        """The saved views of the contact list."""
        return [v for v in self.views if v["entity"] == "contact"]

    @rx.var
    def account_views(self) -> list[dict[str, str]]:
        """The saved views of the company list."""
        return [v for v in self.views if v["entity"] == "account"]

    @rx.var
    def deal_views(self) -> list[dict[str, str]]:
        """The saved views of the deal list."""
        return [v for v in self.views if v["entity"] == "deal"]

    @rx.var
    def lead_views(self) -> list[dict[str, str]]:
        """The saved views of the lead list."""
        return [v for v in self.views if v["entity"] == "lead"]


class SavedViewsMixin(RecordListState, mixin=True):
    """A record list that opens `?view=<id>` and saves, edits and deletes its views."""

    view_id: str = ""
    view_name: str = ""
    view_shared: bool = False
    view_editable: bool = False
    view_dirty: bool = False
    view_missing: bool = False
    save_open: bool = False
    edit_open: bool = False
    delete_view_open: bool = False
    name_error: str = ""

    def _apply_requested_view(self, session: Session, actor: User) -> None:
        self._show_view(None, session, actor)
        self.view_missing = False
        raw = str(self.router.page.params.get("view", "") or "")[:12]
        if not raw:
            return
        try:
            view = saved_view.get_view(session, actor=actor, view_id=int_arg(raw))
            if view.entity != self.LIST.entity:
                raise NotFound("No such saved view.")
        except NotFound:
            self.view_missing = True
            return
        self.filters = {**self.filters, **view.filters}
        self.sort = view.sort or self.LIST.default_sort
        self._show_columns(list(view.columns))
        self._show_view(view, session, actor)

    def _show_view(self, view: SavedView | None, session: Session, actor: User) -> None:
        self.view_id = str(view.id) if view else ""
        self.view_name = view.name if view else ""
        self.view_shared = bool(view and view.is_shared)
        self.view_editable = bool(view and saved_view.can_change(session, actor, view))
        self.view_dirty = False

    def _changed(self) -> None:
        self.view_dirty = self.view_id != ""

    @rx.event
    def open_save(self, is_open: bool = True):
        """Open or close the "Save view" dialog."""
        self.save_open, self.name_error = bool(is_open), ""

    @rx.event
    def save_view(self, form: dict):
        """Save the list as it is now (filters, sort, columns) as a new view and open it."""
        self.name_error = ""
        try:
            with self._actor_session() as (session, actor):
                view = saved_view.create_view(
                    session,
                    actor=actor,
                    entity=self.LIST.entity,
                    name=str(form.get("name", ""))[:200],
                    is_shared=_shared(form),
                    filters={k: v for k, v in self.filters.items() if v},
                    sort=self.sort,
                    columns=list(self.columns),
                    ip=self._client_ip(),
                )
                href = view_href(view.entity, view.id)
        except ValidationFailed as error:
            return self._name_error(error)
        except DomainError as error:
            return error_event(error)
        self.save_open = False
        return [SavedViewState.refresh, rx.redirect(href)]

    @rx.event
    def save_changes(self):
        """Store the list's current filters, sort and columns in the open view."""
        try:
            with self._actor_session() as (session, actor):
                saved_view.update_view(
                    session,
                    actor=actor,
                    view_id=int_arg(self.view_id),
                    data={
                        "filters": {k: v for k, v in self.filters.items() if v},
                        "sort": self.sort,
                        "columns": list(self.columns),
                    },
                    ip=self._client_ip(),
                )
        except DomainError as error:
            return error_event(error)
        self.view_dirty = False
        return rx.toast.success(f"Saved “{self.view_name}”.")

    @rx.event
    def open_edit(self, is_open: bool = True):
        """Open or close the dialog that renames or (un)shares the open view."""
        self.edit_open, self.name_error = bool(is_open), ""

    @rx.event
    def edit_view(self, form: dict):
        """Rename the open view, or change who sees it."""
        self.name_error = ""
        try:
            with self._actor_session() as (session, actor):
                view = saved_view.update_view(
                    session,
                    actor=actor,
                    view_id=int_arg(self.view_id),
                    data={"name": str(form.get("name", ""))[:200], "is_shared": _shared(form)},
                    ip=self._client_ip(),
                )
                self.view_name, self.view_shared = view.name, view.is_shared
        except ValidationFailed as error:
            return self._name_error(error)
        except DomainError as error:
            return error_event(error)
        self.edit_open = False
        return SavedViewState.refresh

    @rx.event
    def ask_delete_view(self):
        """Open the confirmation before deleting the open view."""
        self.delete_view_open = self.view_id != ""

    @rx.event
    def close_delete_view(self, is_open: bool = False):
        """Dismiss the confirmation."""
        if not is_open:
            self.delete_view_open = False

    @rx.event
    def delete_view(self):
        """Delete the open view and show the plain list."""
        self.delete_view_open = False
        try:
            with self._actor_session() as (session, actor):
                saved_view.delete_view(
                    session, actor=actor, view_id=int_arg(self.view_id), ip=self._client_ip()
                )
        except DomainError as error:
            return error_event(error)
        name = self.view_name
        return [
            SavedViewState.refresh,
            rx.redirect(LIST_ROUTES[self.LIST.entity]),
            rx.toast.success(f"Deleted “{name}”."),
        ]

    def _name_error(self, error: ValidationFailed) -> rx.event.EventSpec | None:
        found = {e.field: e.message for e in error.errors}
        self.name_error = found.get("name", "")
        return None if self.name_error else error_event(error)
