"""What the new-contact and new-company forms share: owners, custom fields, tags, per-field
errors, and the duplicate warning with its "Save anyway".

`RecordForm` is a state mixin; each form's state supplies `_entity`, `_data`, `_create`,
`_route` and `_prepare`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app.models import User
from crm_app.services import custom_field, tag
from crm_app.services.errors import DomainError, DuplicateFound, ValidationFailed
from crm_app.services.permission import can
from crm_app.state.base import error_event
from crm_app.state.tag import FormTags
from crm_app.state.views import (
    NONE,
    Choice,
    FieldView,
    MatchView,
    custom_views,
    form_value,
    owner_view,
)

TEXT_LIMIT = 2_000


def text(form: dict[str, Any], name: str, limit: int = TEXT_LIMIT) -> str:
    """A submitted text input, cut to `limit` characters."""
    return str(form.get(name, "") or "")[:limit]


class RecordForm(FormTags, mixin=True):
    """A form creating one record; inputs are uncontrolled, so they keep what was typed
    while errors are shown."""

    can_create: bool = False
    errors: dict[str, str] = {}
    form_error: str = ""
    duplicate_message: str = ""
    matches: list[MatchView] = []
    owner_options: list[Choice] = []
    default_owner: str = ""
    custom: list[FieldView] = []
    form_key: int = 0
    _pending: dict[str, Any] = {}

    def _entity(self) -> str:
        raise NotImplementedError

    def _data(self, form: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _create(self, session: Session, actor: User, data: dict, allow_duplicate: bool) -> Any:
        raise NotImplementedError

    def _route(self, record_id: int) -> str:
        raise NotImplementedError

    def _prepare(self, session: Session, actor: User) -> None:
        """Anything the form pre-fills from the address."""

    @rx.event
    def load(self):
        """on_load: a blank form, owned by the signed-in user."""
        self.errors, self.matches, self.tags = {}, [], []
        self.form_error = self.duplicate_message = self.tag_text = ""
        self.tag_suggestions, self._pending = [], {}
        self.form_key += 1
        return self._load_page(self._open_form)

    def _open_form(self, session: Session, actor: User) -> None:
        self.can_create = can(session, actor, self._entity(), "create")
        if not self.can_create:
            return
        owner = owner_view(session, actor, self._entity(), actor.id)
        self.owner_options = [c for c in owner.options if c.value != NONE]
        self.default_owner = str(actor.id)
        self.custom = custom_views(custom_field.list_fields(session, entity=self._entity()), {})
        self._prepare(session, actor)

    @rx.event
    def submit(self, form: dict):
        """Create the record, or show what to correct."""
        data = self._data(form)
        data["owner_id"] = text(form, "owner_id", 18) or None
        data["tags"] = list(self.tags)
        if self.custom:
            data["custom"] = {
                v.key.removeprefix("custom."): form_value(v, form, v.key) or "" for v in self.custom
            }
        return self._save(data)

    @rx.event
    def save_anyway(self):
        """Create the record although it looks like an existing one."""
        if not self._pending:
            return None
        return self._save(self._pending, allow_duplicate=True)

    def _save(self, data: dict[str, Any], allow_duplicate: bool = False):
        self.errors, self.matches, self._pending = {}, [], {}
        self.form_error = self.duplicate_message = ""
        try:
            with self._actor_session() as (session, actor):
                record = self._create(session, actor, data, allow_duplicate)
                tag.remember(session, actor=actor, names=record.tags or [])
                target = self._route(record.id)
        except DuplicateFound as error:
            self.errors = {e.field: e.message for e in error.errors}
            self.duplicate_message = error.message
            self.matches = [
                MatchView(m.id, m.label, m.detail, self._route(m.id)) for m in error.matches
            ]
            self._pending = data
            return None
        except ValidationFailed as error:
            self.errors = {e.field: e.message for e in error.errors}
            self.form_error = error.message
            return None
        except DomainError as error:
            return error_event(error)
        return rx.redirect(target)
