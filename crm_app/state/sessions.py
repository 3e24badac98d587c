"""Settings -> Profile -> Sessions: one's open sessions, ending one or all the others."""

from __future__ import annotations

import reflex as rx

from crm_app.services import session_list
from crm_app.state.audit import local_time
from crm_app.state.base import AppState
from crm_app.state.record_list import int_arg


class SessionsState(AppState):
    """The user's open sessions as rows of text, this browser's first."""

    sessions: list[dict[str, str]] = []

    def _show_sessions(self, session, actor) -> None:
        rows = session_list.list_sessions(session, actor=actor, current_token=self._session_token())
        zone = actor.timezone or "UTC"
        self.sessions = [
            {
                "id": str(row.id),
                "device": row.device,
                "ip": row.ip or "Unknown address",
                "signed_in": local_time(row.created_at, zone),
                "last_seen": "Now" if row.is_current else local_time(row.last_seen_at, zone),
                "current": "yes" if row.is_current else "",
            }
            for row in rows
        ]

    @rx.event
    def load_sessions(self):
        """When the section shows: the open sessions."""
        return self._act_then(None, self._show_sessions)

    @rx.event
    def end_session(self, session_id: str):
        """End one other session; its open tabs go to the sign-in page within seconds."""
        target = int_arg(session_id)

        def end(session, actor) -> None:
            session_list.end_session(
                session,
                actor=actor,
                session_id=target,
                current_token=self._session_token(),
                ip=self._client_ip(),
            )

        return self._act_then(end, self._show_sessions, "Session ended.")

    @rx.event
    def end_other_sessions(self):
        """Sign out every other browser; this one stays signed in."""

        def end(session, actor) -> None:
            session_list.end_other_sessions(
                session, actor=actor, current_token=self._session_token(), ip=self._client_ip()
            )

        return self._act_then(end, self._show_sessions, "Signed out of all other sessions.")
