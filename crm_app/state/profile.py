"""Settings -> Profile: one's own name, time zone, password and calendar feed."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.services import calendar_feed, user
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.state.base import AppState, error_event


class ProfileState(AppState):
    """The profile form's saved values and both forms' field errors."""

    name: str = ""
    timezone: str = "UTC"
    name_error: str = ""
    timezone_error: str = ""
    current_error: str = ""
    new_error: str = ""
    repeat_error: str = ""
    # Bumped to re-mount a form, so its inputs show the saved values (or go blank).
    profile_form_key: int = 0
    password_form_key: int = 0
    email_error: str = ""
    email_password_error: str = ""
    email_form_key: int = 0
    has_calendar_feed: bool = False
    calendar_url: str = ""  # a new feed URL, shown once: only its hash is kept

    def _clear_errors(self) -> None:
        self.name_error = self.timezone_error = ""
        self.current_error = self.new_error = self.repeat_error = ""

    @rx.event
    def load(self):
        """on_load: the saved name and time zone."""
        self._clear_errors()
        self.profile_form_key += 1
        return self._load_page(self._show_profile)

    def _show_profile(self, session, me) -> None:
        self.name, self.timezone = me.name, me.timezone or "UTC"
        self.has_calendar_feed = calendar_feed.has_feed(session, actor=me)
        self.calendar_url = ""

    @rx.event
    def open_settings(self):
        """on_load of /settings: the profile is the first settings page."""
        return self._check_session() or rx.redirect(routes.SETTINGS_PROFILE)

    @rx.event
    def save_profile(self, form: dict):
        """Change one's name and time zone."""
        self.name_error = self.timezone_error = ""
        try:
            with self._actor_session() as (session, actor):
                saved = user.update_profile(
                    session,
                    actor=actor,
                    name=str(form.get("name", ""))[:200],
                    timezone=str(form.get("timezone", ""))[:64],
                )
                self.name, self.timezone = saved.name, saved.timezone
                self._show_user(session, saved)
        except ValidationFailed as error:
            found = {e.field: e.message for e in error.errors}
            self.name_error, self.timezone_error = found.get("name", ""), found.get("timezone", "")
            return None if found else error_event(error)
        except DomainError as error:
            return error_event(error)
        self.profile_form_key += 1
        return rx.toast.success("Profile saved.")

    @rx.event
    def change_password(self, form: dict):
        """Change one's password; other sessions end, this one stays."""
        self.current_error = self.new_error = self.repeat_error = ""
        new = str(form.get("new_password", ""))[:200]
        if new != str(form.get("repeat_password", ""))[:200]:
            self.repeat_error = "The two new passwords differ."
            return None
        try:
            with self._actor_session() as (session, actor):
                user.change_password(
                    session,
                    actor=actor,
                    current=str(form.get("current_password", ""))[:200],
                    new=new,
                    keep_token=self._session_token(),
                )
        except ValidationFailed as error:
            found = {e.field: e.message for e in error.errors}
            self.current_error = found.get("current_password", "")
            self.new_error = found.get("new_password", "")
            return None if found else error_event(error)
        except DomainError as error:
            return error_event(error)
        self.password_form_key += 1
        return rx.toast.success("Password changed. Your other sessions have been signed out.")

    @rx.event
    def change_email(self, form: dict):
        """Change one's sign-in e-mail (with the password); other sessions end, this one stays."""
        self.email_error = self.email_password_error = ""
        try:
            with self._actor_session() as (session, actor):
                saved = user.change_email(
                    session,
                    actor=actor,
                    user_id=actor.id,
                    email=str(form.get("email", ""))[:320],
                    current_password=str(form.get("email_password", ""))[:200],
                    keep_token=self._session_token(),
                    ip=self._client_ip(),
                )
                self._show_user(session, saved)
        except DomainError as error:
            found = {e.field: e.message for e in error.errors}
            self.email_error = found.get("email", "")
            self.email_password_error = found.get("current_password", "")
            return None if found else error_event(error)
        self.email_form_key += 1
        return rx.toast.success("E-mail changed. Your other sessions have been signed out.")

    @rx.event
    def create_calendar_feed(self):
        """Create the calendar feed URL, or reset it: the old URL stops working."""
        try:
            with self._actor_session() as (session, actor):
                token = calendar_feed.create_feed(session, actor=actor)
        except DomainError as error:
            return error_event(error)
        reset = self.has_calendar_feed
        self.has_calendar_feed, self.calendar_url = True, calendar_feed.feed_url(token)
        return rx.toast.success("New URL created. The old one no longer works.") if reset else None

    @rx.event
    def turn_off_calendar_feed(self):
        """Turn the calendar feed off: its URL stops working."""
        try:
            with self._actor_session() as (session, actor):
                calendar_feed.revoke_feed(session, actor=actor)
        except DomainError as error:
            return error_event(error)
        self.has_calendar_feed, self.calendar_url = False, ""
        return rx.toast.success("Calendar feed turned off.")
