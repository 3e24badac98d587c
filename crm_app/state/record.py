"""The read-only summary pages of leads and deals (until they get pages of their own)."""

from __future__ import annotations

import reflex as rx

from crm_app.services import record
from crm_app.services.errors import Forbidden, NotFound
from crm_app.state.base import AppState


class RecordState(AppState):
    """The record shown: its kind, title and labelled fields."""

    kind: str = ""
    title: str = ""
    fields: list[dict[str, str]] = []
    problem: str = ""

    def _show(self, kind: str):
        self.kind, self.title, self.fields, self.problem = "", "", [], ""
        return self._load_page(lambda session, actor: self._summarize(session, actor, kind))

    def _summarize(self, session, actor, kind: str) -> None:
        try:
            record_id = int(str(self.router.page.params.get("id", "")))
            summary = record.summarize(session, actor=actor, kind=kind, record_id=record_id)
        except ValueError:
            self.problem = "This address does not name a record."
            return
        except (NotFound, Forbidden) as error:
            self.problem = error.message
            return
        self.kind, self.title = summary.kind, summary.title
        self.fields = [{"label": label, "value": value} for label, value in summary.fields]

    @rx.event
    def load_lead(self):
        """on_load of /leads/[id]."""
        return self._show("lead")

    @rx.event
    def load_deal(self):
        """on_load of /deals/[id]."""
        return self._show("deal")
