"""Settings -> Web forms: the web-to-lead forms, their dialog, and their public addresses."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import LeadForm, User
from crm_app.services import lead_form, user
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.settings import get_settings
from crm_app.state.base import AppState, error_event
from crm_app.state.lead import source_choices
from crm_app.state.record_list import int_arg
from crm_app.state.views import NONE, Choice


def public_url(key: str) -> str:
    """The absolute address of a form's public page."""
    return get_settings().base_url.rstrip("/") + routes.public_form(key)


def api_endpoint(key: str) -> str:
    """The absolute address the form's submissions can be POSTed to."""
    return f"{get_settings().base_url.rstrip('/')}{routes.API_PREFIX}/forms/{key}"


def _blank_fields() -> list[dict[str, str]]:
    """Every field a form can ask for: name, label, on ("yes"/""), required ("yes"/"")."""
    return [
        {"name": name, "label": label, "on": "", "required": ""}
        for name, label in lead_form.FIELD_LABELS.items()
    ]


def _form_row(form: LeadForm, teams: dict[int, str]) -> dict[str, str]:
    fields = [f["label"] + (" *" if f.get("required") else "") for f in form.fields or []]
    return {
        "id": str(form.id),
        "name": form.name,
        "fields": ", ".join(fields),
        "source": form.source or "—",
        "team": teams.get(form.team_id or 0, "Assignment team"),
        "active": "yes" if form.is_active else "",
    }


class LeadFormSettingsState(AppState):
    """The forms, the create/edit dialog, and the dialog with one form's addresses."""

    forms: list[dict[str, str]] = []  # id, name, fields, source, team, active
    sources: list[Choice] = []
    teams: list[Choice] = []
    # The create/edit dialog ("" editing_id creates a form).
    form_open: bool = False
    editing_id: str = ""
    editing_version: int = 0
    form_name: str = ""
    form_fields: list[dict[str, str]] = _blank_fields()
    form_source: str = NONE
    form_team: str = NONE
    form_active: bool = True
    form_errors: dict[str, str] = {}
    form_key: int = 0
    # The addresses dialog.
    links_open: bool = False
    links_name: str = ""
    links_url: str = ""
    links_api: str = ""

    @rx.event
    def load(self):
        """on_load: the forms, for admins (others see a notice)."""
        self.form_open = self.links_open = False
        return self._load_page(self._reload)

    def _reload(self, session: Session, actor: User) -> None:
        if not self.can_manage_settings:
            return
        teams = user.list_teams(session)
        self.teams = [Choice(str(t.id), t.name) for t in teams]
        names = {t.id: t.name for t in teams}
        self.forms = [_form_row(f, names) for f in lead_form.list_forms(session, actor=actor)]

    # ---- create and edit ------------------------------------------------------------------

    @rx.event
    def open_create(self):
        """Open the dialog for a new form: first name, last name and e-mail asked, e-mail
        required."""
        if not self.can_manage_settings:
            return None
        fields = _blank_fields()
        for f in fields:
            f["on"] = "yes" if f["name"] in ("first_name", "last_name", "email") else ""
            f["required"] = "yes" if f["name"] == "email" else ""
        return self._open(None, fields)

    @rx.event
    def open_edit(self, form_id: str):
        """Open the dialog on one form, as it is now."""
        try:
            with self._actor_session() as (session, actor):
                form = lead_form.get_form(session, actor=actor, form_id=int_arg(form_id))
                asked = {f["name"]: f for f in form.fields or []}
                fields = [
                    {
                        "name": f["name"],
                        "label": asked.get(f["name"], f)["label"],
                        "on": "yes" if f["name"] in asked else "",
                        "required": "yes" if asked.get(f["name"], {}).get("required") else "",
                    }
                    for f in _blank_fields()
                ]
                self.sources = source_choices(session, actor, form.source)
                self._fill(form, fields)
        except DomainError as error:
            return error_event(error)
        return None

    def _open(self, form: LeadForm | None, fields: list[dict[str, str]]):
        try:
            with self._actor_session() as (session, actor):
                self.sources = source_choices(session, actor)
        except DomainError as error:
            return error_event(error)
        self._fill(form, fields)
        return None

    def _fill(self, form: LeadForm | None, fields: list[dict[str, str]]) -> None:
        self.editing_id = str(form.id) if form else ""
        self.editing_version = form.version if form else 0
        self.form_name = form.name if form else ""
        self.form_fields = fields
        self.form_source = (form.source if form else None) or NONE
        self.form_team = str(form.team_id) if form and form.team_id else NONE
        self.form_active = form.is_active if form else True
        self.form_errors = {}
        self.form_key += 1
        self.form_open = True

    @rx.event
    def close_form(self, is_open: bool = False):
        """Dismiss the dialog."""
        if not is_open:
            self.form_open = False

    @rx.event
    def toggle_field(self, name: str, on: bool):
        """Ask for a field, or not (a field not asked cannot be required)."""
        self.form_fields = [
            {**f, "on": "yes" if on else "", "required": f["required"] if on else ""}
            if f["name"] == name
            else f
            for f in self.form_fields
        ]

    @rx.event
    def toggle_required(self, name: str, required: bool):
        """Make an asked field required, or optional."""
        self.form_fields = [
            {**f, "required": "yes" if required and f["on"] else ""} if f["name"] == name else f
            for f in self.form_fields
        ]

    @rx.event
    def choose_source(self, value: str):
        """The source the form's leads get."""
        if any(c.value == value for c in self.sources):
            self.form_source = value

    @rx.event
    def choose_team(self, value: str):
        """The team whose reps receive the form's leads."""
        if value == NONE or any(c.value == value for c in self.teams):
            self.form_team = value

    @rx.event
    def toggle_active(self, checked: bool):
        """Whether the form takes submissions."""
        self.form_active = bool(checked)

    @rx.event
    def save(self, form: dict):
        """Create the form (then show its addresses), or save the one being edited."""
        self.form_errors = {}
        data = {
            "name": str(form.get("name", ""))[:200],
            "fields": [
                {"name": f["name"], "label": f["label"], "required": f["required"] == "yes"}
                for f in self.form_fields
                if f["on"]
            ],
            "source": None if self.form_source == NONE else self.form_source,
            "team_id": None if self.form_team == NONE else self.form_team,
            "is_active": self.form_active,
        }
        try:
            with self._actor_session() as (session, actor):
                if self.editing_id:
                    saved = lead_form.update_form(
                        session,
                        actor=actor,
                        form_id=int_arg(self.editing_id),
                        data=data,
                        version=self.editing_version,
                    )
                else:
                    saved = lead_form.create_form(session, actor=actor, data=data)
                self._reload(session, actor)
                created = not self.editing_id
                name, key = saved.name, saved.key
        except ValidationFailed as error:
            self.form_errors = {e.field: e.message for e in error.errors}
            return None
        except DomainError as error:
            return error_event(error)
        self.form_open = False
        if created:
            self._show_links(name, key)
        return rx.toast.success(f"{name} saved.")

    # ---- the addresses --------------------------------------------------------------------

    @rx.event
    def open_links(self, form_id: str):
        """Show a form's public page and API endpoint."""
        try:
            with self._actor_session() as (session, actor):
                form = lead_form.get_form(session, actor=actor, form_id=int_arg(form_id))
                self._show_links(form.name, form.key)
        except DomainError as error:
            return error_event(error)
        return None

    def _show_links(self, name: str, key: str) -> None:
        self.links_name, self.links_url, self.links_api = name, public_url(key), api_endpoint(key)
        self.links_open = True

    @rx.event
    def close_links(self, is_open: bool = False):
        """Dismiss the addresses dialog."""
        if not is_open:
            self.links_open = False

    @rx.var
    def fields_error(self) -> str:
        """The dialog's problems with the picked fields, as one message."""
        found = [m for k, m in self.form_errors.items() if k == "fields" or k.startswith("fields.")]
        return " ".join(dict.fromkeys(found))
