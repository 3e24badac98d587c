"""Settings -> Leads: the lead sources, the scoring rules and the assignment team (admins)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app.models import LeadScoringRule, User
from crm_app.services import lead_assignment, lead_scoring, lead_source, user
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.state.base import AppState, error_event
from crm_app.state.record_list import int_arg
from crm_app.state.views import NONE, Choice

KINDS = [
    Choice("contains", "Field contains text"),
    Choice("equals", "Field is exactly"),
    Choice("present", "Field is filled in"),
    Choice("activity_count", "Activities in the last days"),
]
TEXT_FIELDS = [Choice(f, lead_scoring.FIELD_LABELS[f]) for f in lead_scoring.TEXT_FIELDS]
EQUALS_FIELDS = [Choice(f, lead_scoring.FIELD_LABELS[f]) for f in lead_scoring.EQUALS_FIELDS]


def _fields_for(kind: str) -> list[Choice]:
    return EQUALS_FIELDS if kind == "equals" else TEXT_FIELDS


def condition_of(kind: str, field: str, form: dict[str, Any]) -> dict[str, Any]:
    """The condition the rule dialog describes: only the parts its kind has (the service
    validates them)."""
    if kind == "activity_count":
        return {"kind": kind, "days": form.get("days", ""), "at_least": form.get("at_least", "")}
    if kind == "present":
        return {"kind": kind, "field": field}
    return {"kind": kind, "field": field, "value": str(form.get("value", ""))[:300]}


def _rule_row(rule: LeadScoringRule) -> dict[str, str]:
    try:
        described = lead_scoring.describe(lead_scoring.parse_condition(rule.condition))
    except ValidationFailed:
        described = "An invalid condition: edit or delete this rule."
    return {
        "id": str(rule.id),
        "name": rule.name,
        "description": described,
        "points": f"+{rule.points}" if rule.points > 0 else str(rule.points),
        "active": "yes" if rule.is_active else "",
    }


class LeadSettingsState(AppState):
    """The three lists of the page, the rule dialog and the rename in progress."""

    sources: list[dict[str, str]] = []  # id, name, active ("yes"/""), first, last
    source_error: str = ""
    source_form_key: int = 0
    renaming: str = ""  # the id of the source being renamed
    rename_error: str = ""
    rules: list[dict[str, str]] = []  # id, name, description, points, active
    teams: list[Choice] = []
    team_id: str = NONE
    # The rule dialog ("" rule_id adds a rule); its starting values and errors.
    rule_open: bool = False
    rule_id: str = ""
    rule_version: int = 0
    rule_name: str = ""
    rule_kind: str = "contains"
    rule_field: str = "title"
    rule_value: str = ""
    rule_days: str = "30"
    rule_at_least: str = "1"
    rule_points: str = "10"
    rule_active: bool = True
    rule_errors: dict[str, str] = {}
    rule_form_key: int = 0
    confirm_rule: str = ""  # the id of the rule whose deletion is being confirmed
    confirm_rule_name: str = ""

    # ---- loading --------------------------------------------------------------------------

    @rx.event
    def load(self):
        """on_load: everything, for admins (others see a notice)."""
        self.renaming = self.rename_error = self.source_error = self.confirm_rule = ""
        self.rule_open = False
        return self._load_page(self._reload)

    def _reload(self, session: Session, actor: User) -> None:
        if not self.can_manage_settings:
            return
        found = lead_source.list_sources(session, actor=actor, include_inactive=True)
        last = len(found) - 1
        self.sources = [
            {
                "id": str(s.id),
                "name": s.name,
                "active": "yes" if s.is_active else "",
                "first": "yes" if i == 0 else "",
                "last": "yes" if i == last else "",
            }
            for i, s in enumerate(found)
        ]
        self.rules = [_rule_row(r) for r in lead_scoring.list_rules(session, actor=actor)]
        self.teams = [Choice(str(t.id), t.name) for t in user.list_teams(session)]
        chosen = lead_assignment.get_assignment(session, actor=actor)
        self.team_id = str(chosen.team_id) if chosen.team_id else NONE

    def _act(self, change, message: str | None = None) -> rx.event.EventSpec | None:
        """Run `change(session, actor)` and show the page as it is now."""
        return self._act_then(change, self._reload, message)

    # ---- sources --------------------------------------------------------------------------

    @rx.event
    def add_source(self, form: dict):
        """Add a source at the end of the list."""
        name = str(form.get("source_name", ""))[:200]
        self.source_error = ""
        try:
            with self._actor_session() as (session, actor):
                lead_source.add_source(session, actor=actor, name=name)
                self._reload(session, actor)
        except ValidationFailed as error:
            self.source_error = error.errors[0].message if error.errors else error.message
            return None
        except DomainError as error:
            return error_event(error)
        self.source_form_key += 1  # a fresh, empty input
        return rx.toast.success(f"{' '.join(name.split())} added.")

    @rx.event
    def start_rename(self, source_id: str):
        """Open the rename box of one source."""
        self.renaming, self.rename_error = str(source_id)[:12], ""

    @rx.event
    def cancel_rename(self):
        """Close the rename box."""
        self.renaming, self.rename_error = "", ""

    @rx.event
    def rename_key(self, key: str):
        """Escape closes the rename box."""
        if key == "Escape":
            self.renaming, self.rename_error = "", ""

    @rx.event
    def rename_source(self, form: dict):
        """Rename the source (and every lead, form and rule using its name)."""
        name = str(form.get("name", ""))[:200]
        try:
            with self._actor_session() as (session, actor):
                lead_source.rename_source(
                    session, actor=actor, source_id=int_arg(self.renaming), name=name
                )
                self._reload(session, actor)
        except ValidationFailed as error:
            self.rename_error = error.errors[0].message if error.errors else error.message
            return None
        except DomainError as error:
            return error_event(error)
        self.renaming, self.rename_error = "", ""
        return rx.toast.success("Source renamed.")

    @rx.event
    def set_source_active(self, source_id: str, active: bool):
        """Retire a source (leads keep it) or bring it back."""
        return self._act(
            lambda session, actor: lead_source.set_source_active(
                session, actor=actor, source_id=int_arg(source_id), active=bool(active)
            )
        )

    @rx.event
    def move_source(self, source_id: str, step: int):
        """Move a source one place up (-1) or down (1)."""
        ids = [int_arg(s["id"]) for s in self.sources]
        wanted = int_arg(source_id)
        if wanted not in ids:
            return None
        i = ids.index(wanted)
        j = i + (1 if int_arg(step) > 0 else -1)
        if not 0 <= j < len(ids):
            return None
        ids[i], ids[j] = ids[j], ids[i]
        return self._act(
            lambda session, actor: lead_source.reorder_sources(session, actor=actor, ids=ids)
        )

    # ---- scoring rules --------------------------------------------------------------------

    @rx.event
    def open_add_rule(self):
        """Open the dialog for a new rule."""
        if not self.can_manage_settings:
            return
        self.rule_id, self.rule_version, self.rule_name = "", 0, ""
        self.rule_kind, self.rule_field, self.rule_value = "contains", "title", ""
        self.rule_days, self.rule_at_least, self.rule_points = "30", "1", "10"
        self.rule_active, self.rule_errors = True, {}
        self.rule_form_key += 1
        self.rule_open = True

    @rx.event
    def open_edit_rule(self, rule_id: str):
        """Open the dialog on one rule, as it is now."""
        try:
            with self._actor_session() as (session, actor):
                wanted = int_arg(rule_id)
                found = lead_scoring.list_rules(session, actor=actor)
                rule = next((r for r in found if r.id == wanted), None)
                if rule is None:
                    self._reload(session, actor)
                    return rx.toast.error("That rule was deleted meanwhile.")
                self._fill_rule(rule)
        except DomainError as error:
            return error_event(error)
        return None

    def _fill_rule(self, rule: LeadScoringRule) -> None:
        condition = dict(rule.condition or {})
        self.rule_id, self.rule_version, self.rule_name = str(rule.id), rule.version, rule.name
        self.rule_kind = str(condition.get("kind", "contains"))
        self.rule_field = str(condition.get("field", "title"))
        self.rule_value = str(condition.get("value", ""))
        self.rule_days = str(condition.get("days", "30"))
        self.rule_at_least = str(condition.get("at_least", "1"))
        self.rule_points, self.rule_active = str(rule.points), rule.is_active
        self.rule_errors = {}
        self.rule_form_key += 1
        self.rule_open = True

    @rx.event
    def close_rule(self, is_open: bool = False):
        """Dismiss the rule dialog."""
        if not is_open:
            self.rule_open = False

    @rx.event
    def choose_kind(self, kind: str):
        """The kind of condition; the field is kept when the new kind offers it."""
        if kind not in {k.value for k in KINDS}:
            return
        self.rule_kind = kind
        if all(f.value != self.rule_field for f in _fields_for(kind)):
            self.rule_field = _fields_for(kind)[0].value

    @rx.event
    def choose_field(self, field: str):
        """The lead field the condition looks at."""
        if any(f.value == field for f in _fields_for(self.rule_kind)):
            self.rule_field = field

    @rx.event
    def toggle_rule_active(self, checked: bool):
        """The dialog's Active checkbox."""
        self.rule_active = bool(checked)

    @rx.event
    def save_rule(self, form: dict):
        """Add the rule, or save the one being edited; every lead is rescored in the
        background."""
        self.rule_errors = {}
        data = {
            "name": str(form.get("name", ""))[:200],
            "condition": condition_of(self.rule_kind, self.rule_field, form),
            "points": str(form.get("points", ""))[:12],
            "is_active": self.rule_active,
        }
        try:
            with self._actor_session() as (session, actor):
                if self.rule_id:
                    lead_scoring.update_rule(
                        session,
                        actor=actor,
                        rule_id=int_arg(self.rule_id),
                        data=data,
                        version=self.rule_version,
                    )
                else:
                    lead_scoring.create_rule(session, actor=actor, data=data)
                self._reload(session, actor)
        except ValidationFailed as error:
            self.rule_errors = {e.field: e.message for e in error.errors}
            return None
        except DomainError as error:
            return error_event(error)
        self.rule_open = False
        return rx.toast.success("Rule saved. Leads are being rescored.")

    @rx.event
    def ask_delete_rule(self, rule_id: str):
        """Open the confirmation before deleting a rule."""
        row = next((r for r in self.rules if r["id"] == str(rule_id)), None)
        if row is not None:
            self.confirm_rule, self.confirm_rule_name = row["id"], row["name"]

    @rx.event
    def close_delete_rule(self, is_open: bool = False):
        """Dismiss the confirmation."""
        if not is_open:
            self.confirm_rule = ""

    @rx.event
    def delete_rule(self):
        """Delete the rule the confirmation was about."""
        rule_id, self.confirm_rule = self.confirm_rule, ""
        return self._act(
            lambda session, actor: lead_scoring.delete_rule(
                session, actor=actor, rule_id=int_arg(rule_id)
            ),
            "Rule deleted. Leads are being rescored.",
        )

    # ---- assignment -----------------------------------------------------------------------

    @rx.event
    def choose_team(self, team_id: str):
        """The team whose active reps take turns receiving new unowned leads."""
        chosen = None if team_id == NONE else int_arg(team_id, -1)
        return self._act(
            lambda session, actor: lead_assignment.set_assignment_team(
                session, actor=actor, team_id=chosen
            ),
            "Assignment saved.",
        )

    @rx.var
    def field_choices(self) -> list[Choice]:
        """The lead fields the chosen kind of condition can look at."""
        return _fields_for(self.rule_kind)

    @rx.var
    def rule_title(self) -> str:
        """The rule dialog's title."""
        return f"Edit {self.rule_name}" if self.rule_id else "Add a scoring rule"
