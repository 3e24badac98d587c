"""The home page."""

from __future__ import annotations

import reflex as rx

from crm_app.services import overview
from crm_app.services.errors import DomainError
from crm_app.state.base import AppState, error_event


class HomeState(AppState):
    """Counts shown on the home page."""

    tallies: list[dict[str, str]] = []

    @rx.event
    def load(self):
        """on_load: check the session, then count records."""
        guard = self._check_session()
        if guard is not None:
            return guard
        try:
            with self._actor_session() as (session, actor):
                found = overview.workspace_tallies(session, actor=actor)
        except DomainError as error:
            return error_event(error)
        self.tallies = [{"label": t.label, "count": f"{t.count:,}"} for t in found]
        return None
