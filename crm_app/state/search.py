"""The global search box in the top bar."""

from __future__ import annotations

import dataclasses

import reflex as rx

from crm_app.services import search
from crm_app.services.errors import DomainError
from crm_app.state.base import AppState, error_event


class SearchState(AppState):
    """What was typed and the first matches of each kind."""

    text: str = ""
    hits: list[dict[str, str]] = []
    searched: bool = False

    @rx.event(supersedes=True)
    def search(self, text: str):
        """Search as the user types (the input debounces)."""
        self.text = str(text)[:200]
        if len(self.text.strip()) < 2:
            self.hits, self.searched = [], False
            return None
        try:
            with self._actor_session() as (session, actor):
                found = search.global_search(session, actor=actor, text=self.text)
        except DomainError as error:
            return error_event(error)
        self.hits = [{k: str(v) for k, v in dataclasses.asdict(h).items()} for h in found]
        self.searched = True
        return None

    @rx.event
    def on_key(self, key: str):
        """Escape closes the results."""
        if key == "Escape":
            self.text, self.hits, self.searched = "", [], False

    @rx.event
    def clear(self):
        """Close the results."""
        self.text, self.hits, self.searched = "", [], False
