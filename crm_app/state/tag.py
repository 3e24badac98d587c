"""The tag editor: chips with remove buttons and an input that suggests tags as one types.

`TagInput` holds the tags and suggestions; on a record's page `RecordTags` saves each change
at once, in a new-record form `FormTags` only keeps the list until the form is saved.
"""

from __future__ import annotations

import reflex as rx

from crm_app.services import normalize, tag
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.state.base import AppState, error_event

TAG_LIMIT = 50
MAX_TAGS = 50


class TagInput(AppState, mixin=True):
    """Tags being shown or picked, what is typed, and the suggestions for it."""

    tags: list[str] = []
    tag_text: str = ""
    tag_suggestions: list[str] = []
    tag_error: str = ""

    def _add_tag(self, name: str) -> rx.event.EventSpec | None:
        raise NotImplementedError

    def _remove_tag(self, name: str) -> rx.event.EventSpec | None:
        raise NotImplementedError

    @rx.event
    def type_tag(self, text: str):
        """Suggest tags starting with what was typed (the input debounces)."""
        self.tag_text, self.tag_error = str(text)[:TAG_LIMIT], ""
        if not self.tag_text.strip():
            self.tag_suggestions = []
            return None
        try:
            with self._actor_session() as (session, actor):
                self.tag_suggestions = tag.suggest(
                    session, actor=actor, prefix=self.tag_text, exclude=self.tags
                )
        except DomainError as error:
            return error_event(error)
        return None

    @rx.event
    def submit_tag(self, form: dict):
        """Enter in the tag input adds what was typed."""
        return self._add_tag(str(form.get("tag", ""))[:TAG_LIMIT])

    @rx.event
    def pick_tag(self, name: str):
        """Add a suggested tag."""
        return self._add_tag(str(name)[:TAG_LIMIT])

    @rx.event
    def drop_tag(self, name: str):
        """Remove one tag."""
        return self._remove_tag(str(name)[:TAG_LIMIT])

    @rx.event
    def tag_key(self, key: str):
        """Escape closes the suggestions."""
        if key == "Escape":
            self.tag_suggestions = []

    def _typed_done(self) -> None:
        self.tag_text, self.tag_suggestions = "", []


class FormTags(TagInput, mixin=True):
    """Tags picked for a record that is not saved yet."""

    def _add_tag(self, name: str) -> rx.event.EventSpec | None:
        try:
            name = normalize.tag(name)
        except ValueError as error:
            self.tag_error = str(error)
            return None
        # a suggestion's spelling wins over what was typed in another case
        name = next((s for s in self.tag_suggestions if s.lower() == name.lower()), name)
        if all(t.lower() != name.lower() for t in self.tags) and len(self.tags) < MAX_TAGS:
            self.tags = [*self.tags, name]
        self._typed_done()
        return None

    def _remove_tag(self, name: str) -> rx.event.EventSpec | None:
        self.tags = [t for t in self.tags if t != name]
        return None


class RecordTags(TagInput, mixin=True):
    """Tags of a saved record: each change is saved at once (see services.tag)."""

    def _tag_change(self, change, name: str) -> rx.event.EventSpec | None:
        try:
            with self._actor_session() as (session, actor):
                record = change(
                    session,
                    actor=actor,
                    entity=self._entity(),
                    record_id=self.record_id,
                    tag=name,
                    ip=self._client_ip(),
                )
                self._show_record(session, actor, record)
        except ValidationFailed as error:
            self.tag_error = error.message
            return None
        except DomainError as error:
            return error_event(error)
        self._typed_done()
        return None

    def _add_tag(self, name: str) -> rx.event.EventSpec | None:
        return self._tag_change(tag.add_tag, name)

    def _remove_tag(self, name: str) -> rx.event.EventSpec | None:
        return self._tag_change(tag.remove_tag, name)
