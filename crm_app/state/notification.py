"""The bell in the top bar: the user's newest notifications, opened and marked read."""

from __future__ import annotations

import reflex as rx

from crm_app.services import notification
from crm_app.services.errors import DomainError, Unauthenticated
from crm_app.state.audit import local_time
from crm_app.state.base import AppState, error_event


class NotificationState(AppState):
    """The notifications listed when the bell is opened."""

    items: list[dict[str, str]] = []  # id, title, body, when, unread ("yes" or "")

    @rx.event
    def opened(self, is_open: bool):
        """The bell was opened: read the newest notifications."""
        if not is_open:
            return None
        try:
            with self._actor_session() as (session, actor):
                found = notification.list_notifications(session, actor=actor)
                self.unread_notifications = notification.unread_count(session, actor=actor)
                tz = actor.timezone
        except DomainError as error:
            return error_event(error)
        self.items = [
            {
                "id": str(n.id),
                "title": n.title,
                "body": n.body,
                "when": local_time(n.created_at, tz),
                "unread": "" if n.read_at else "yes",
            }
            for n in found
        ]
        return None

    @rx.event
    def recount(self):
        """Every few seconds while the tab is visible: the unread count again. The badge is
        sent to the browser only when it changed."""
        try:
            with self._polling_session() as (session, actor):
                count = notification.unread_count(session, actor=actor)
        except Unauthenticated:
            return  # signed out: their next action takes them to sign in
        if count != self.unread_notifications:
            self.unread_notifications = count

    @rx.event
    def open_item(self, notification_id: str):
        """Mark a notification read and go where it points."""
        try:
            with self._actor_session() as (session, actor):
                link = notification.mark_read(
                    session, actor=actor, notification_id=int(str(notification_id)[:12])
                )
                self.unread_notifications = notification.unread_count(session, actor=actor)
        except ValueError:
            return None
        except DomainError as error:
            return error_event(error)
        self.items = [
            {**i, "unread": ""} if i["id"] == str(notification_id) else i for i in self.items
        ]
        return rx.redirect(link) if link and link.startswith("/") else None

    @rx.event
    def mark_all_read(self):
        """Mark every notification read."""
        try:
            with self._actor_session() as (session, actor):
                notification.mark_read(session, actor=actor)
        except DomainError as error:
            return error_event(error)
        self.unread_notifications = 0
        self.items = [{**i, "unread": ""} for i in self.items]
        return None
