"""Settings -> API keys."""

from __future__ import annotations

import reflex as rx

from crm_app.services import api_key
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.state.base import AppState, error_event


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


class ApiKeyState(AppState):
    """The user's keys (admins: everyone's), the create dialog and the key shown once."""

    keys: list[dict[str, str]] = []
    name_error: str = ""
    new_key: str = ""
    create_open: bool = False

    def _reload(self, session, actor) -> None:
        self.keys = [
            {
                "id": str(k.id),
                "name": k.name,
                "prefix": k.prefix + "…",
                "owner": k.owner,
                "created": _when(k.created_at),
                "last_used": _when(k.last_used_at) or "Never",
                "status": "Revoked" if k.revoked_at else "Active",
            }
            for k in api_key.list_keys(session, actor=actor)
        ]

    @rx.event
    def load(self):
        """on_load."""
        return self._load_page(self._reload)

    @rx.event
    def open_create(self, is_open: bool = True):
        """Open or close the create dialog (closing forgets the shown key)."""
        self.create_open = bool(is_open)
        self.name_error = ""
        if not is_open:
            self.new_key = ""

    @rx.event
    def create(self, form: dict):
        """Create a key and show its secret once."""
        self.name_error = ""
        try:
            with self._actor_session() as (session, actor):
                created = api_key.create_key(
                    session, actor=actor, name=str(form.get("name", ""))[:200]
                )
                self._reload(session, actor)
        except ValidationFailed as error:
            self.name_error = error.message
            return None
        except DomainError as error:
            return error_event(error)
        self.new_key = created.plaintext
        return None

    @rx.event
    def revoke(self, key_id: str):
        """Revoke a key; it stops working at once."""
        try:
            with self._actor_session() as (session, actor):
                api_key.revoke_key(session, actor=actor, key_id=int(key_id))
                self._reload(session, actor)
        except (DomainError, ValueError) as error:
            return error_event(
                error if isinstance(error, DomainError) else ValidationFailed("Bad key id.")
            )
        return rx.toast.success("Key revoked.")
