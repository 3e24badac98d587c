"""The home page."""

from __future__ import annotations

import reflex as rx

from crm_app.services import overview
from crm_app.state.base import AppState


class HomeState(AppState):
    """Counts shown on the home page."""

    tallies: list[dict[str, str]] = []

    @rx.event
    def load(self):
        """on_load: check the session, then count records."""
        return self._load_page(self._count)

    def _count(self, session, actor) -> None:
        found = overview.workspace_tallies(session, actor=actor)
        self.tallies = [{"label": t.label, "count": f"{t.count:,}"} for t in found]
