"""Settings -> Users: the paged user list, invitations, roles, deactivation and reset links."""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from crm_app.services import invitation, two_factor, user
from crm_app.services.errors import Conflict, DomainError, ValidationFailed
from crm_app.services.permission import require
from crm_app.state.audit import local_time
from crm_app.state.base import AppState, error_event

PAGE_SIZE = 25
NO_TEAM = "none"  # the "no team" choice: a select item's value cannot be empty
CONFIRMS = ("deactivate", "reset", "reset_2fa")


def _last_sign_in(iso: str, tz: str) -> str:
    return local_time(datetime.fromisoformat(iso), tz) if iso else "Never"


def _int_arg(raw: str) -> int:
    """An id or version sent by the browser, or ValidationFailed."""
    try:
        return int(str(raw)[:12])
    except ValueError:
        raise ValidationFailed("Unknown user.") from None


class UserAdminState(AppState):
    """One page of users and the dialogs acting on them."""

    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    query: str = ""
    teams: list[dict[str, str]] = []
    # The confirm dialog ("deactivate" or "reset") and the user it is about.
    confirm_kind: str = ""
    confirm_user_id: str = ""
    confirm_name: str = ""
    # A reset or invitation link to hand over, and what it is.
    link_title: str = ""
    link_url: str = ""

    def _reload(self, session, actor) -> None:
        # list_users needs only user.read, but this page is for user managers
        require(session, actor, "user", "manage")
        found, self.total = user.list_users(
            session, actor=actor, q=self.query, offset=self.offset, limit=PAGE_SIZE
        )
        if not found and self.offset > 0:
            self.offset = max(0, (self.total - 1) // PAGE_SIZE * PAGE_SIZE)
            found, self.total = user.list_users(
                session, actor=actor, q=self.query, offset=self.offset, limit=PAGE_SIZE
            )
        self.rows = [
            {
                "id": str(u.id),
                "name": u.name,
                "email": u.email,
                "role": u.role,
                "team": u.team or "—",
                "status": u.status,
                "last_login": _last_sign_in(u.last_login, actor.timezone),
                "version": str(u.version),
                "is_me": "yes" if u.id == actor.id else "",
                "two_factor": "yes" if u.two_factor else "",
            }
            for u in found
        ]

    def _refresh(self) -> rx.event.EventSpec | None:
        try:
            with self._actor_session() as (session, actor):
                self._reload(session, actor)
        except DomainError as error:
            self.rows = []
            return error_event(error)
        return None

    @rx.event
    def load(self):
        """on_load: the first page; nothing at all for those who may not manage users."""
        self.rows, self.total, self.offset, self.query = [], 0, 0, ""
        self.link_url = self.confirm_kind = ""
        return self._load_page(self._first_page)

    def _first_page(self, session, actor) -> None:
        if not self.can_manage_users:
            return
        self._reload(session, actor)
        self.teams = [{"id": str(t.id), "name": t.name} for t in user.list_teams(session)]

    @rx.event
    def search(self, text: str):
        """Filter by name or e-mail, from the first page."""
        self.query, self.offset = str(text)[:100], 0
        return self._refresh()

    @rx.event
    def next_page(self):
        """The next 25 users."""
        if self.offset + PAGE_SIZE < self.total:
            self.offset += PAGE_SIZE
        return self._refresh()

    @rx.event
    def previous_page(self):
        """The previous 25 users."""
        self.offset = max(0, self.offset - PAGE_SIZE)
        return self._refresh()

    @rx.var
    def page_label(self) -> str:
        """Which users are shown, e.g. "26-50 of 61"."""
        if self.total == 0:
            return "No users"
        return f"{self.offset + 1}-{min(self.offset + PAGE_SIZE, self.total)} of {self.total}"

    @rx.var
    def has_previous(self) -> bool:
        """Whether a page comes before this one."""
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        """Whether a page follows this one."""
        return self.offset + PAGE_SIZE < self.total

    @rx.event
    def change_role(self, user_id: str, version: str, role: str):
        """Give a user another role (the last admin keeps theirs)."""
        try:
            with self._actor_session() as (session, actor):
                changed = user.change_role(
                    session,
                    actor=actor,
                    user_id=_int_arg(user_id),
                    role=str(role)[:20],
                    version=_int_arg(version),
                    ip=self._client_ip(),
                )
                message = f"{changed.name} is now {changed.role}."
                self._reload(session, actor)
        except DomainError as error:
            return error_event(error)
        return rx.toast.success(message)

    @rx.event
    def ask(self, kind: str, user_id: str):
        """Open the confirm dialog for deactivating or resetting a listed user's password."""
        row = next((r for r in self.rows if r["id"] == str(user_id)), None)
        if kind in CONFIRMS and row is not None:
            self.confirm_kind = kind
            self.confirm_user_id, self.confirm_name = row["id"], row["name"]

    @rx.event
    def close_confirm(self, is_open: bool = False):
        """Dismiss the confirm dialog."""
        if not is_open:
            self.confirm_kind = ""

    @rx.event
    def confirm(self):
        """Do what the confirm dialog asked about."""
        kind, self.confirm_kind = self.confirm_kind, ""
        if kind not in CONFIRMS:
            return None
        try:
            with self._actor_session() as (session, actor):
                target = _int_arg(self.confirm_user_id)
                if kind == "deactivate":
                    done = user.set_active(
                        session, actor=actor, user_id=target, active=False, ip=self._client_ip()
                    )
                elif kind == "reset_2fa":
                    done = two_factor.reset_for_user(
                        session, actor=actor, user_id=target, ip=self._client_ip()
                    )
                else:
                    issued = invitation.admin_password_reset(
                        session, actor=actor, user_id=target, ip=self._client_ip()
                    )
                self._reload(session, actor)
        except DomainError as error:
            return error_event(error)
        if kind == "deactivate":
            return rx.toast.success(f"{done.name} is deactivated.")
        if kind == "reset_2fa":
            return rx.toast.success(
                f"Two-factor is off for {done.name}; their sessions have ended."
            )
        self._show_link(f"Password reset link for {issued.user.name}", issued.url)
        return rx.toast.success("Their sessions have ended. Send them the link.")

    @rx.event
    def reactivate(self, user_id: str):
        """Let a deactivated user sign in again."""
        try:
            with self._actor_session() as (session, actor):
                done = user.set_active(
                    session,
                    actor=actor,
                    user_id=_int_arg(user_id),
                    active=True,
                    ip=self._client_ip(),
                )
                name = done.name
                self._reload(session, actor)
        except DomainError as error:
            return error_event(error)
        return rx.toast.success(f"{name} can sign in again.")

    @rx.event
    def resend(self, user_id: str):
        """A fresh invitation link (earlier ones stop working)."""
        try:
            with self._actor_session() as (session, actor):
                issued = invitation.resend_invitation(
                    session, actor=actor, user_id=_int_arg(user_id)
                )
        except DomainError as error:
            return error_event(error)
        self._show_link(f"New invitation link for {issued.user.name}", issued.url)
        return None

    def _show_link(self, title: str, url: str) -> None:
        self.link_title, self.link_url = title, url

    @rx.event
    def close_link(self, is_open: bool = False):
        """Forget the link shown."""
        if not is_open:
            self.link_url = self.link_title = ""


class InviteState(UserAdminState):
    """The "Invite user" dialog: its field errors and the link it produced."""

    is_open: bool = False
    invite_link: str = ""
    email_error: str = ""
    name_error: str = ""
    role_error: str = ""
    team_error: str = ""

    def _clear_errors(self) -> None:
        self.email_error = self.name_error = self.role_error = self.team_error = ""

    @rx.event
    def open_dialog(self, is_open: bool = True):
        """Open or close the dialog (closing forgets the link shown)."""
        self.is_open = bool(is_open)
        self._clear_errors()
        self.invite_link = ""

    @rx.event
    def invite(self, form: dict):
        """Create the invited user and show the link to send them."""
        self._clear_errors()
        team = str(form.get("team_id", NO_TEAM))[:12]
        if team != NO_TEAM and not team.isdigit():
            self.team_error = "Pick a team."
            return None
        try:
            with self._actor_session() as (session, actor):
                issued = invitation.invite_user(
                    session,
                    actor=actor,
                    email=str(form.get("email", ""))[:320],
                    name=str(form.get("name", ""))[:200],
                    role=str(form.get("role", ""))[:20],
                    team_id=None if team == NO_TEAM else int(team),
                    ip=self._client_ip(),
                )
                self._reload(session, actor)
        except ValidationFailed as error:
            return self._show_field_errors(error)
        except Conflict as error:
            self.email_error = error.message
            return None
        except DomainError as error:
            return error_event(error)
        self.invite_link = issued.url
        return rx.toast.success("Invitation created.")

    def _show_field_errors(self, error: ValidationFailed) -> rx.event.EventSpec | None:
        found = {e.field: e.message for e in error.errors}
        self.email_error = found.get("email", "")
        self.name_error = found.get("name", "")
        self.role_error = found.get("role", "")
        self.team_error = found.get("team_id", "")
        return None if found else error_event(error)
