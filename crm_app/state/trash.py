"""Settings -> Trash: deleted records and restoring them."""

from __future__ import annotations

import reflex as rx

from crm_app.services import trash
from crm_app.services.errors import DomainError
from crm_app.state.base import AppState, error_event

PAGE_SIZE = 50
ALL = "all"


class TrashState(AppState):
    """One page of the trash, optionally one kind of record."""

    items: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    kind: str = ALL

    def _reload(self, session, actor) -> None:
        entity = None if self.kind == ALL else self.kind
        found, self.total = trash.list_trash(
            session, actor=actor, entity=entity, offset=self.offset, limit=PAGE_SIZE
        )
        self.items = [
            {
                "entity": i.entity,
                "id": str(i.id),
                "kind": trash.KINDS[i.entity],
                "label": i.label,
                "deleted": i.deleted_at.strftime("%Y-%m-%d %H:%M UTC"),
                "can_restore": "yes" if i.can_restore else "",
            }
            for i in found
        ]

    @rx.event
    def load(self):
        """on_load: the newest deletions."""
        self.offset, self.kind = 0, ALL
        return self._load_page(self._reload)

    @rx.event
    def show_kind(self, kind: str):
        """Only one kind of record (contacts, companies, leads, deals), or everything."""
        self.kind = kind if kind in (*trash.KINDS, ALL) else ALL
        self.offset = 0
        return self._refresh()

    @rx.event
    def page(self, direction: int):
        """The next (1) or previous (-1) page."""
        step = PAGE_SIZE if int(direction) > 0 else -PAGE_SIZE
        self.offset = min(max(0, self.offset + step), max(0, self.total - 1))
        return self._refresh()

    @rx.event
    def restore(self, entity: str, record_id: str):
        """Bring one record back."""
        shown = next(
            (i for i in self.items if i["entity"] == str(entity) and i["id"] == str(record_id)),
            None,
        )
        label = shown["label"] if shown else "The record"
        try:
            with self._actor_session() as (session, actor):
                trash.restore(
                    session,
                    actor=actor,
                    entity=str(entity)[:20],
                    record_id=int(record_id),
                    ip=self._client_ip(),
                )
                self._reload(session, actor)
        except ValueError:
            return rx.toast.error("Unknown record.")
        except DomainError as error:
            return error_event(error)
        return rx.toast.success(f"{label} is back.")

    def _refresh(self):
        try:
            with self._actor_session() as (session, actor):
                self._reload(session, actor)
        except DomainError as error:
            return error_event(error)
        return None

    @rx.var
    def page_label(self) -> str:
        """Which rows are shown."""
        if self.total == 0:
            return "The trash is empty."
        end = min(self.offset + PAGE_SIZE, self.total)
        return f"{self.offset + 1}-{end} of {self.total}"
