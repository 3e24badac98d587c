"""Settings -> Automation: the rules, the "When ... If ... Then ..." builder, and a rule's run
log. The builder keeps plain strings per row; `_definition` turns them into what the service
validates, and the service's messages come back next to the row they are about."""

from __future__ import annotations

from typing import Any

import reflex as rx
from sqlmodel import Session

from crm_app import routes
from crm_app.models import User, Workflow, WorkflowRun
from crm_app.services import email_template, pipeline, user, webhook, workflow
from crm_app.services.errors import DomainError, ValidationFailed
from crm_app.state import workflow_form as form
from crm_app.state.audit import local_time
from crm_app.state.base import AppState, error_event
from crm_app.state.record_list import int_arg
from crm_app.state.views import Choice

RUN_PAGE = 20
STATUS_COLORS = {
    "succeeded": "grass",
    "skipped": "gray",
    "failed": "red",
    "stopped": "amber",
    "queued": "blue",
}


def record_link(entity: str, record_id: int) -> str:
    """The page of a record a run was about."""
    builders = {
        "contact": routes.contact_detail,
        "account": routes.account_detail,
        "lead": routes.lead_detail,
        "deal": routes.deal_detail,
    }
    return builders[entity](record_id) if entity in builders else routes.ACTIVITIES


def run_row(run: WorkflowRun, tz: str) -> dict[str, str]:
    """A run as the log shows it."""
    return {
        "id": str(run.id),
        "at": local_time(run.created_at, tz),
        "status": str(run.status),
        "color": STATUS_COLORS.get(str(run.status), "gray"),
        "record": f"{workflow.ENTITIES.get(run.entity, run.entity)} #{run.record_id}",
        "href": record_link(run.entity, run.record_id),
        "event": run.event_type,
        "done": "; ".join(run.actions_done or []),
        "error": run.error or "",
        "duration": f"{run.duration_ms} ms" if run.duration_ms is not None else "",
    }


class WorkflowState(AppState):
    """The rule list, the builder, the rule whose log is open, and the deletion to confirm."""

    rules: list[dict[str, str]] = []  # id, name, trigger, active, last_run, runs, failed
    users: list[Choice] = []
    owners: list[Choice] = []  # "user:ID" and "team:ID" (round-robin)
    stages: list[Choice] = []
    pipelines: list[Choice] = []
    templates: list[Choice] = []
    webhooks: list[Choice] = []
    custom_fields: dict[str, list[Choice]] = {}  # entity -> its "custom.<key>" fields
    custom_date_fields: dict[str, list[Choice]] = {}  # entity -> those of them that are dates
    # the builder ("" rule_id: a new rule)
    builder_open: bool = False
    rule_id: str = ""
    rule_version: int = 0
    name: str = ""
    rule_active: bool = True
    trigger: dict[str, str] = dict(form.NEW_TRIGGER)
    conditions: list[dict[str, str]] = []
    actions: list[dict[str, str]] = [dict(form.NEW_ACTION)]
    errors: dict[str, str] = {}  # name, trigger, conditions, actions, rule
    condition_errors: list[str] = []
    action_errors: list[str] = []
    # the run log of one rule
    log_rule_id: str = ""
    log_rule_name: str = ""
    runs: list[dict[str, str]] = []
    runs_have_older: bool = False
    runs_page: int = 1
    _run_cursors: list[int | None] = [None]
    confirm_delete: str = ""
    confirm_name: str = ""

    # ---- what the selects offer ----------------------------------------------------------

    @rx.var
    def field_choices(self) -> list[Choice]:
        """Every field of the trigger's kind of record a condition or a "field changes"
        trigger may look at: its own, then its custom fields."""
        entity = self.trigger.get("entity", "")
        own = [Choice(f, label) for f, (label, _kind) in workflow.FIELDS.get(entity, {}).items()]
        return own + self.custom_fields.get(entity, [])

    @rx.var
    def date_field_choices(self) -> list[Choice]:
        """The date fields of the trigger's kind of record."""
        entity = self.trigger.get("entity", "")
        fields = workflow.FIELDS.get(entity, {})
        own = [Choice(f, fields[f][0]) for f in workflow.date_fields(entity)]
        return own + self.custom_date_fields.get(entity, [])

    @rx.var
    def settable_choices(self) -> list[Choice]:
        """The fields a "set field" action may change on the trigger's kind of record, its
        custom fields last."""
        entity = self.trigger.get("entity", "")
        fields = workflow.FIELDS.get(entity, {})
        own = [Choice(f, fields[f][0]) for f in workflow.settable_fields(entity)]
        return own + self.custom_fields.get(entity, [])

    @rx.var
    def builder_title(self) -> str:
        """The builder's heading."""
        return "Edit rule" if self.rule_id else "New rule"

    # ---- loading -------------------------------------------------------------------------

    def _show(self, session: Session, actor: User) -> None:
        if not self.can_manage_settings:
            return
        found = workflow.list_rules(session, actor=actor)
        counts = workflow.run_counts(session, [r.id for r in found])
        self.rules = [self._rule_row(session, r, counts.get(r.id), actor.timezone) for r in found]
        if self.log_rule_id:
            self._show_runs(session, actor)

    @staticmethod
    def _rule_row(session: Session, rule: Workflow, counts: dict | None, tz: str) -> dict:
        try:
            described = workflow.describe_trigger(session, workflow.stored_parts(rule).trigger)
        except ValidationFailed:
            described = "Invalid: edit or delete this rule"
        counts = counts or {"runs": 0, "failed": 0, "last": None}
        return {
            "id": str(rule.id),
            "name": rule.name,
            "trigger": described,
            "active": "yes" if rule.is_active else "",
            "last_run": local_time(counts["last"], tz) or "Never",
            "runs": str(counts["runs"]),
            "failed": str(counts["failed"]),
        }

    def _load_choices(self, session: Session, actor: User) -> None:
        if not self.can_manage_settings:
            return
        people = user.colleagues(session)
        self.users = [Choice(str(i), name) for i, name in people]
        teams = [Choice(f"team:{t.id}", f"Round-robin: {t.name}") for t in user.list_teams(session)]
        self.owners = [Choice(f"user:{i}", name) for i, name in people] + teams
        found = pipeline.list_pipelines(session, actor=actor)
        self.pipelines = [Choice(str(p.pipeline.id), p.pipeline.name) for p in found]
        self.stages = [
            Choice(str(s.id), f"{p.pipeline.name} · {s.name}") for p in found for s in p.stages
        ]
        templates = email_template.list_templates(session, actor=actor)
        self.templates = [Choice(str(t.id), f"{t.name} ({t.entity})") for t in templates]
        self.webhooks = [
            Choice(str(w.id), w.url) for w in webhook.list_webhooks(session, actor=actor)
        ]
        custom = {
            entity: [
                (f, label, kind)
                for f, (label, kind) in workflow.rule_fields(entity, session).items()
                if f.startswith(workflow.CUSTOM_PREFIX)
            ]
            for entity in workflow.ENTITIES
        }
        self.custom_fields = {e: [Choice(f, label) for f, label, _ in c] for e, c in custom.items()}
        self.custom_date_fields = {
            e: [Choice(f, label) for f, label, kind in c if kind == "date"]
            for e, c in custom.items()
        }
        self._show(session, actor)

    @rx.event
    def load(self):
        """on_load: the rules and what the builder offers (admins; others see a notice)."""
        self.builder_open, self.confirm_delete, self.log_rule_id = False, "", ""
        self.runs = []
        return self._load_page(self._load_choices)

    # ---- the builder ---------------------------------------------------------------------

    def _open(self, rule: Workflow | None) -> None:
        self.builder_open = True
        self.errors, self.condition_errors, self.action_errors = {}, [], []
        self.rule_id = str(rule.id) if rule else ""
        self.rule_version = rule.version if rule else 0
        self.name = rule.name if rule else ""
        self.rule_active = rule.is_active if rule else True
        self.trigger = form.trigger_form(rule.trigger) if rule else dict(form.NEW_TRIGGER)
        self.conditions = [form.condition_form(c) for c in rule.conditions] if rule else []
        self.actions = (
            [form.action_form(a) for a in rule.actions] if rule else [dict(form.NEW_ACTION)]
        )
        self._fit_fields()

    @rx.event
    def open_new(self):
        """Open an empty builder."""
        if self.can_manage_settings:
            self._open(None)

    @rx.event
    def open_edit(self, rule_id: str):
        """Open the builder on a stored rule."""

        def show(session: Session, actor: User) -> None:
            self._open(workflow.get_rule(session, actor=actor, rule_id=int_arg(rule_id)))

        return self._act_then(None, show)

    @rx.event
    def close_builder(self):
        """Close the builder without saving."""
        self.builder_open = False

    @rx.event
    def set_name(self, value: str):
        """The rule's name, as typed."""
        self.name = str(value)[:100]

    @rx.event
    def set_active(self, checked: bool):
        """Whether the rule is on once saved."""
        self.rule_active = bool(checked)

    def _fit_fields(self) -> None:
        """Keep field picks valid for the trigger's record kind (a trigger on deals cannot
        look at a lead's fields)."""
        kind = self.trigger["kind"]
        if kind == "stage_changed":
            self.trigger["entity"] = "deal"
        elif kind == "score_crosses":
            self.trigger["entity"] = "lead"
        entity = self.trigger["entity"]
        custom = [c.value for c in self.custom_fields.get(entity, [])]
        fields = list(workflow.FIELDS[entity])
        dates = workflow.date_fields(entity) or fields
        custom_dates = [c.value for c in self.custom_date_fields.get(entity, [])]
        valid = dates + custom_dates if kind == "date_reached" else fields + custom
        if self.trigger["field"] not in valid:
            self.trigger["field"] = valid[0]
        for row in self.conditions:
            if row["field"] not in fields and row["field"] not in custom:
                row["field"] = fields[0]
        settable = workflow.settable_fields(entity) + custom
        for row in self.actions:
            if row["field"] not in settable:
                row["field"] = settable[0]

    @rx.event
    def set_trigger(self, key: str, value: str):
        """One part of the trigger."""
        if key not in form.TRIGGER_KEYS:
            return
        self.trigger = {**self.trigger, key: str(value)[:200]}
        self._fit_fields()

    @rx.event
    def add_condition(self):
        """Another condition row."""
        if len(self.conditions) < workflow.MAX_CONDITIONS:
            row = dict(
                form.NEW_CONDITION, field=next(iter(workflow.FIELDS[self.trigger["entity"]]))
            )
            self.conditions = [*self.conditions, row]

    @rx.event
    def remove_condition(self, index: int):
        """Drop one condition row."""
        i = int_arg(index, -1)
        self.conditions = [r for n, r in enumerate(self.conditions) if n != i]
        self.condition_errors = []

    @rx.event
    def set_condition(self, index: int, key: str, value: str):
        """One part of one condition."""
        i = int_arg(index, -1)
        if key in form.CONDITION_KEYS and 0 <= i < len(self.conditions):
            rows = [dict(r) for r in self.conditions]
            rows[i][key] = str(value)[:500]
            self.conditions = rows

    @rx.event
    def add_action(self):
        """Another action row."""
        if len(self.actions) < workflow.MAX_ACTIONS:
            self.actions = [*self.actions, dict(form.NEW_ACTION)]
            self._fit_fields()

    @rx.event
    def remove_action(self, index: int):
        """Drop one action row."""
        i = int_arg(index, -1)
        self.actions = [r for n, r in enumerate(self.actions) if n != i]
        self.action_errors = []

    @rx.event
    def set_action(self, index: int, key: str, value: str):
        """One part of one action."""
        i = int_arg(index, -1)
        if key in form.ACTION_KEYS and 0 <= i < len(self.actions):
            rows = [dict(r) for r in self.actions]
            rows[i][key] = str(value)[:300]
            self.actions = rows

    def _definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trigger": form.trigger_data(self.trigger),
            "conditions": [form.condition_data(r) for r in self.conditions],
            "actions": [form.action_data(r) for r in self.actions],
            "is_active": self.rule_active,
        }

    def _show_errors(self, error: ValidationFailed) -> None:
        errors: dict[str, list[str]] = {}
        rows: dict[tuple[str, int], list[str]] = {}
        for found in error.errors:
            parts = found.field.split(".")
            part = form.PART_LABELS.get(parts[-1])
            message = f"{part}: {found.message}" if part and len(parts) > 1 else found.message
            if parts[0] in ("conditions", "actions") and len(parts) > 1 and parts[1].isdigit():
                rows.setdefault((parts[0], int(parts[1])), []).append(message)
            else:
                key = (
                    parts[0] if parts[0] in ("name", "trigger", "conditions", "actions") else "rule"
                )
                errors.setdefault(key, []).append(message)
        self.errors = {k: " ".join(v) for k, v in errors.items()}
        self.condition_errors = [
            " ".join(rows.get(("conditions", i), [])) for i in range(len(self.conditions))
        ]
        self.action_errors = [
            " ".join(rows.get(("actions", i), [])) for i in range(len(self.actions))
        ]

    @rx.event
    def save(self):
        """Create or change the rule; problems show next to the part they are about."""
        data, rule_id = self._definition(), int_arg(self.rule_id)
        try:
            with self._actor_session() as (session, actor):
                if rule_id:
                    workflow.update_rule(
                        session, actor=actor, rule_id=rule_id, data=data, version=self.rule_version
                    )
                else:
                    workflow.create_rule(session, actor=actor, data=data)
                self._show(session, actor)
        except ValidationFailed as error:
            self._show_errors(error)
            return None
        except DomainError as error:
            return error_event(error)
        self.builder_open = False
        return rx.toast.success(f"Rule “{' '.join(self.name.split())}” saved.")

    # ---- the list ------------------------------------------------------------------------

    @rx.event
    def set_rule_active(self, rule_id: str, active: bool):
        """Switch a rule on or off from the list."""
        return self._act_then(
            lambda session, actor: workflow.update_rule(
                session, actor=actor, rule_id=int_arg(rule_id), data={"is_active": bool(active)}
            ),
            self._show,
        )

    @rx.event
    def ask_delete(self, rule_id: str):
        """Open the confirmation for deleting a rule."""
        found = next((r for r in self.rules if r["id"] == str(rule_id)), None)
        if found is not None:
            self.confirm_delete, self.confirm_name = found["id"], found["name"]

    @rx.event
    def close_delete(self, open_: bool = False):
        """Close the confirmation."""
        if not open_:
            self.confirm_delete = ""

    @rx.event
    def delete(self):
        """Delete the confirmed rule."""
        rule_id, name = int_arg(self.confirm_delete), self.confirm_name
        self.confirm_delete = ""
        if str(rule_id) == self.log_rule_id:
            self.log_rule_id, self.runs = "", []
        return self._act_then(
            lambda session, actor: workflow.delete_rule(session, actor=actor, rule_id=rule_id),
            self._show,
            f"Rule “{name}” deleted.",
        )

    # ---- the run log ---------------------------------------------------------------------

    def _show_runs(self, session: Session, actor: User) -> None:
        rule_id = int_arg(self.log_rule_id)
        found = workflow.list_runs(
            session,
            actor=actor,
            rule_id=rule_id,
            before_id=self._run_cursors[-1],
            limit=RUN_PAGE + 1,
        )
        self.log_rule_name = workflow.get_rule(session, actor=actor, rule_id=rule_id).name
        self.runs_have_older = len(found) > RUN_PAGE
        self.runs = [run_row(r, actor.timezone) for r in found[:RUN_PAGE]]
        self.runs_page = len(self._run_cursors)

    @rx.event
    def show_runs(self, rule_id: str):
        """Open the run log of one rule, newest first."""
        self.log_rule_id, self._run_cursors = str(int_arg(rule_id)), [None]
        return self._act_then(None, self._show)

    @rx.event
    def close_runs(self):
        """Close the run log."""
        self.log_rule_id, self.runs = "", []

    @rx.event
    def older_runs(self):
        """The next page of the log, back in time."""
        if self.runs_have_older and self.runs:
            self._run_cursors = [*self._run_cursors, int_arg(self.runs[-1]["id"])]
            return self._act_then(None, self._show_runs)
        return None

    @rx.event
    def newer_runs(self):
        """The page of the log before this one."""
        if len(self._run_cursors) > 1:
            self._run_cursors = self._run_cursors[:-1]
        return self._act_then(None, self._show_runs)
