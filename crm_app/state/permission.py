"""Settings -> Roles: the role x resource x action permission matrix."""

from __future__ import annotations

import reflex as rx

from crm_app.services import permission
from crm_app.services.errors import DomainError
from crm_app.state.base import AppState, error_event


def cell_key(role: str, resource: str, action: str) -> str:
    """How one cell of the matrix is keyed in `RoleMatrixState.scopes`."""
    return f"{role}.{resource}.{action}"


class RoleMatrixState(AppState):
    """The scope of every cell, keyed "role.resource.action"."""

    scopes: dict[str, str] = {}

    def _reload(self, session, actor) -> None:
        matrix = permission.get_matrix(session, actor=actor)
        self.scopes = {cell_key(*cell): scope.value for cell, scope in matrix.items()}

    @rx.event
    def load(self):
        """on_load."""
        return self._load_page(self._reload)

    @rx.event
    def set_scope(self, role: str, resource: str, action: str, scope: str):
        """Change one cell (admins only; the service checks the role and the scope)."""
        args = {
            "role": str(role)[:20],
            "resource": str(resource)[:30],
            "action": str(action)[:30],
            "scope": str(scope)[:10],
        }
        try:
            with self._actor_session() as (session, actor):
                permission.set_scope(session, actor=actor, **args)
                self._reload(session, actor)
        except DomainError as error:
            return error_event(error)
        return rx.toast.success("Saved")
