"""Workflow rules: "when TRIGGER, if CONDITIONS, then ACTIONS", kept by admins in Settings.

A rule's parts are validated here (pydantic, one discriminated union each for triggers,
conditions and actions) and stored as JSON on the `workflows` row. What happens when they fire
is in `workflow_actions`:

- this module's listener (`on_event`, registered on the domain-event bus) finds the active
  rules whose trigger matches an event in one indexed query, and for each writes a queued
  `WorkflowRun` row and defers a `run_workflow` job, in the caller's transaction: a run exists
  exactly when the change that caused it commits;
- the job (`workflow_actions.execute_run`) re-reads the record, checks the conditions and runs
  the actions in one transaction, as the rule's author (see `workflow_actions`);
- date triggers have no event: a periodic job (`workflow_actions.fire_date_triggers`) finds
  the records whose date has come.

Loop protection: an event caused by a rule's action carries the depth of the chain that led
to it (`events.DomainEvent.depth`, set from `session.info` while actions run) and the chain of
(rule, record) runs itself. A run that would go deeper than MAX_DEPTH, or run a rule again on a
record it already ran on in the same chain, is logged as "stopped" and never run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from pydantic import ValidationError as PydanticError
from sqlalchemy import func, select, tuple_
from sqlmodel import Session

from crm_app.models import (
    EmailTemplate,
    FieldType,
    Pipeline,
    RunStatus,
    Stage,
    Team,
    User,
    Webhook,
    Workflow,
    WorkflowRun,
)
from crm_app.models.base import utcnow
from crm_app.services import audit, crud, custom_field, events
from crm_app.services.errors import FieldError, NotFound, ValidationFailed
from crm_app.services.permission import require

MAX_DEPTH = 5  # actions of actions of ... at most this deep
DEPTH_KEY = "workflow_depth"  # session.info: read by events.emit while actions run
CHAIN_KEY = "workflow_chain"  # session.info: [[rule id, entity, record id], ...] of the chain
RULES_CACHE_KEY = "workflow_rules"
MAX_CONDITIONS = 20
MAX_ACTIONS = 10
RUN_PAGE = 25

Entity = Literal["contact", "account", "lead", "deal", "activity"]
ENTITIES: dict[str, str] = {
    "contact": "Contact",
    "account": "Company",
    "lead": "Lead",
    "deal": "Deal",
    "activity": "Activity",
}

# The fields rules can look at, per entity: field -> (label, type). Types: text, number, date,
# datetime, choice, user, tags, ref (an id of another record).
FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "contact": {
        "first_name": ("First name", "text"),
        "last_name": ("Last name", "text"),
        "email": ("E-mail", "text"),
        "phone": ("Phone", "text"),
        "title": ("Title", "text"),
        "lifecycle_stage": ("Lifecycle stage", "choice"),
        "owner_id": ("Owner", "user"),
        "tags": ("Tags", "tags"),
        "created_at": ("Created", "datetime"),
    },
    "account": {
        "name": ("Name", "text"),
        "domain": ("Domain", "text"),
        "industry": ("Industry", "text"),
        "size": ("Size", "text"),
        "city": ("City", "text"),
        "country": ("Country", "text"),
        "owner_id": ("Owner", "user"),
        "tags": ("Tags", "tags"),
        "created_at": ("Created", "datetime"),
    },
    "lead": {
        "first_name": ("First name", "text"),
        "last_name": ("Last name", "text"),
        "email": ("E-mail", "text"),
        "phone": ("Phone", "text"),
        "company_name": ("Company", "text"),
        "title": ("Title", "text"),
        "source": ("Source", "text"),
        "status": ("Status", "choice"),
        "score": ("Score", "number"),
        "owner_id": ("Owner", "user"),
        "tags": ("Tags", "tags"),
        "created_at": ("Created", "datetime"),
    },
    "deal": {
        "name": ("Name", "text"),
        "amount": ("Amount", "number"),
        "currency": ("Currency", "text"),
        "probability": ("Probability", "number"),
        "expected_close_date": ("Expected close date", "date"),
        "pipeline_id": ("Pipeline", "ref"),
        "stage_id": ("Stage", "ref"),
        "lost_reason": ("Lost reason", "text"),
        "owner_id": ("Owner", "user"),
        "tags": ("Tags", "tags"),
        "created_at": ("Created", "datetime"),
        "won_at": ("Won", "datetime"),
    },
    "activity": {
        "kind": ("Kind", "choice"),
        "subject": ("Subject", "text"),
        "priority": ("Priority", "choice"),
        "owner_id": ("Owner", "user"),
        "due_at": ("Due", "datetime"),
        "created_at": ("Created", "datetime"),
    },
}
DERIVED = frozenset({"created_at", "won_at", "score", "tags"})  # not set by "set field"
ORDERED_TYPES = frozenset({"number", "date", "datetime"})

OPERATORS: dict[str, str] = {
    "equals": "is",
    "not_equals": "is not",
    "contains": "contains",
    "greater_than": "is greater than",
    "less_than": "is less than",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "in": "is one of",
}


# Rules also see a record's custom fields, named "custom.<key>"; their types compare as the
# built-in types do (a checkbox as "yes" or "no").
CUSTOM_PREFIX = "custom."
CUSTOM_KINDS = {
    FieldType.text: "text",
    FieldType.long_text: "text",
    FieldType.url: "text",
    FieldType.number: "number",
    FieldType.money: "number",
    FieldType.date: "date",
    FieldType.select: "choice",
    FieldType.multi_select: "tags",
    FieldType.checkbox: "yes_no",
}


def rule_fields(entity: str, session: Session | None = None) -> dict[str, tuple[str, str]]:
    """The fields rules may use on this entity, label and type: its own, and with a session
    its live custom fields after them, in their display order (read once per session)."""
    fields = dict(FIELDS.get(entity, {}))
    if session is not None and entity in custom_field.MODELS:
        for spec in custom_field.specs(session, entity).values():
            kind = CUSTOM_KINDS[FieldType(spec.field_type)]
            fields[CUSTOM_PREFIX + spec.key] = (spec.label, kind)
    return fields


def field_value(record: Any, field: str) -> Any:
    """A record's value of a built-in field or of a custom one ("custom.<key>")."""
    if field.startswith(CUSTOM_PREFIX):
        return (getattr(record, "custom", None) or {}).get(field.removeprefix(CUSTOM_PREFIX))
    return getattr(record, field, None)


def field_change(changes: dict[str, list[Any]], field: str) -> tuple[Any, Any] | None:
    """(before, after) of a field in an event's changes, None when it did not change. A
    custom field's change sits inside the record's "custom" change."""
    if not field.startswith(CUSTOM_PREFIX):
        found = changes.get(field)
        return (found[0], found[1]) if found else None
    if "custom" not in changes:
        return None
    key = field.removeprefix(CUSTOM_PREFIX)
    before, after = (v if isinstance(v, dict) else {} for v in changes["custom"][:2])
    return None if before.get(key) == after.get(key) else (before.get(key), after.get(key))


def _settable(fields: dict[str, tuple[str, str]]) -> list[str]:
    return [f for f in fields if f not in DERIVED]


def _dated(fields: dict[str, tuple[str, str]]) -> list[str]:
    return [f for f, (_label, kind) in fields.items() if kind in ("date", "datetime")]


def settable_fields(entity: str, session: Session | None = None) -> list[str]:
    """The fields a "set field" action may change on this entity (not those the app derives);
    with a session its custom fields too."""
    return _settable(rule_fields(entity, session))


def date_fields(entity: str, session: Session | None = None) -> list[str]:
    """The fields a date trigger may watch on this entity; with a session its custom date
    fields too."""
    return _dated(rule_fields(entity, session))


# ---- the parts of a rule ----------------------------------------------------------------------


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RecordCreated(_Part):
    """A record of `entity` is created."""

    kind: Literal["record_created"] = "record_created"
    entity: Entity


class RecordUpdated(_Part):
    """A record of `entity` is changed (any field)."""

    kind: Literal["record_updated"] = "record_updated"
    entity: Entity


class FieldChanged(_Part):
    """One field of a record changes (to a given value, when `to_value` is set)."""

    kind: Literal["field_changed"] = "field_changed"
    entity: Entity
    field: str
    to_value: str | None = Field(default=None, max_length=200)


class StageChanged(_Part):
    """A deal moves to another stage: any, a won or lost one, or one stage (`stage_id`)."""

    kind: Literal["stage_changed"] = "stage_changed"
    entity: Literal["deal"] = "deal"
    pipeline_id: int | None = Field(default=None, gt=0, lt=2**31)
    to: Literal["any", "won", "lost", "stage"] = "any"
    stage_id: int | None = Field(default=None, gt=0, lt=2**31)

    @model_validator(mode="after")
    def _stage_given(self) -> StageChanged:
        if self.to == "stage" and self.stage_id is None:
            raise ValueError("Pick the stage.")
        return self


class ScoreCrosses(_Part):
    """A lead's score goes up to `threshold` or above (or down below it)."""

    kind: Literal["score_crosses"] = "score_crosses"
    entity: Literal["lead"] = "lead"
    threshold: int = Field(ge=1, le=100)
    direction: Literal["up", "down"] = "up"


class DateReached(_Part):
    """A date field of a record plus `offset_days` is today (-3: three days before it)."""

    kind: Literal["date_reached"] = "date_reached"
    entity: Entity
    field: str
    offset_days: int = Field(default=0, ge=-365, le=365)


Trigger = Annotated[
    RecordCreated | RecordUpdated | FieldChanged | StageChanged | ScoreCrosses | DateReached,
    Field(discriminator="kind"),
]


class ValueCondition(_Part):
    """The field compared with one value."""

    operator: Literal["equals", "not_equals", "contains", "greater_than", "less_than"]
    field: str
    value: str = Field(min_length=1, max_length=200)


class EmptyCondition(_Part):
    """The field is (not) filled in."""

    operator: Literal["is_empty", "is_not_empty"]
    field: str


class InCondition(_Part):
    """The field is one of several values."""

    operator: Literal["in"]
    field: str
    values: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=50
    )


Condition = Annotated[
    ValueCondition | EmptyCondition | InCondition, Field(discriminator="operator")
]


class CreateTask(_Part):
    """A task on the record, due in `due_in_days`, for its owner or a given user. The subject
    may hold merge fields such as {{name}} or {{amount}}."""

    kind: Literal["create_task"] = "create_task"
    subject: str = Field(min_length=1, max_length=300)
    due_in_days: int = Field(default=0, ge=0, le=365)
    assignee: Literal["owner", "user"] = "owner"
    user_id: int | None = Field(default=None, gt=0, lt=2**31)

    @model_validator(mode="after")
    def _user_given(self) -> CreateTask:
        if self.assignee == "user" and self.user_id is None:
            raise ValueError("Pick who gets the task.")
        return self


class SendEmail(_Part):
    """An e-mail from a template to the record's person (its contact)."""

    kind: Literal["send_email"] = "send_email"
    template_id: int = Field(gt=0, lt=2**31)


class SetField(_Part):
    """A field set to a value, checked by the record's own rules ("" empties it)."""

    kind: Literal["set_field"] = "set_field"
    field: str
    value: str = Field(default="", max_length=200)


class AssignOwner(_Part):
    """A new owner: one user, or the reps of a team in turn (round-robin)."""

    kind: Literal["assign_owner"] = "assign_owner"
    mode: Literal["user", "round_robin"] = "user"
    user_id: int | None = Field(default=None, gt=0, lt=2**31)
    team_id: int | None = Field(default=None, gt=0, lt=2**31)

    @model_validator(mode="after")
    def _who(self) -> AssignOwner:
        if self.mode == "user" and self.user_id is None:
            raise ValueError("Pick the new owner.")
        if self.mode == "round_robin" and self.team_id is None:
            raise ValueError("Pick the team whose reps take turns.")
        return self


class AddTag(_Part):
    """A tag put on the record."""

    kind: Literal["add_tag"] = "add_tag"
    tag: str = Field(min_length=1, max_length=50)


class CallWebhook(_Part):
    """The event sent to one of the workspace's webhooks."""

    kind: Literal["call_webhook"] = "call_webhook"
    webhook_id: int = Field(gt=0, lt=2**31)


Action = Annotated[
    CreateTask | SendEmail | SetField | AssignOwner | AddTag | CallWebhook,
    Field(discriminator="kind"),
]


class RuleDefinition(_Part):
    """A whole rule as submitted: its parts must fit its trigger's entity."""

    name: str = Field(min_length=1, max_length=100)
    trigger: Trigger
    conditions: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    actions: list[Action] = Field(min_length=1, max_length=MAX_ACTIONS)
    is_active: bool = True


_RULE = TypeAdapter(RuleDefinition)
_TRIGGER: TypeAdapter = TypeAdapter(Trigger)
_CONDITION: TypeAdapter = TypeAdapter(Condition)
_ACTION: TypeAdapter = TypeAdapter(Action)
INVALID = "Please correct the highlighted parts of the rule."

MESSAGES = {
    "missing": "This is required.",
    "literal_error": "Pick one of the choices.",
    "too_short": "Add at least one.",
    "string_too_short": "This is required.",
    "int_parsing": "Enter a whole number.",
    "union_tag_invalid": "Pick one of the choices.",
    "union_tag_not_found": "Pick one of the choices.",
}


def _message(error: dict[str, Any]) -> str:
    text = MESSAGES.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "too_short" and error["loc"] and error["loc"][0] == "actions":
        text = "Add at least one action."
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _location(loc: tuple[Any, ...]) -> str:
    """ "actions.0.subject" for ("actions", 0, "create_task", "subject"): union tags dropped."""
    tags = {
        "record_created",
        "record_updated",
        "field_changed",
        "stage_changed",
        "score_crosses",
        "date_reached",
        *OPERATORS,
        "create_task",
        "send_email",
        "set_field",
        "assign_owner",
        "add_tag",
        "call_webhook",
        "function-after[_stage_given()]",
    }
    parts = [str(p) for p in loc if not (isinstance(p, str) and (p in tags or "[" in p))]
    return ".".join(parts) or "rule"


def _fit_errors(
    trigger: Any,
    conditions: list[tuple[int, Any]],
    actions: list[tuple[int, Any]],
    session: Session | None,
) -> list[FieldError]:
    """Parts that name fields their trigger's entity does not have (or may not use); each
    condition and action comes with its place in the rule. Without a session (a stored rule
    read back to run) custom fields are not looked up: one deleted since reads as empty."""
    entity = trigger.entity
    fields = rule_fields(entity, session)

    def unknown(field: str, among: Iterable[str]) -> bool:
        # without a session custom fields are not looked up: they pass
        return field not in among and not (session is None and field.startswith(CUSTOM_PREFIX))

    errors: list[FieldError] = []
    if isinstance(trigger, FieldChanged) and unknown(trigger.field, fields):
        errors.append(FieldError("trigger.field", "Pick a field of this kind of record."))
    if isinstance(trigger, DateReached) and unknown(trigger.field, _dated(fields)):
        errors.append(FieldError("trigger.field", "Pick a date field of this kind of record."))
    for i, condition in conditions:
        if unknown(condition.field, fields):
            errors.append(FieldError(f"conditions.{i}.field", "Pick a field of the record."))
        elif condition.field in fields and condition.operator in ("greater_than", "less_than"):
            if fields[condition.field][1] not in ORDERED_TYPES:
                errors.append(
                    FieldError(f"conditions.{i}.operator", "Only numbers and dates compare.")
                )
            elif _typed(fields[condition.field][1], condition.value) is None:
                errors.append(FieldError(f"conditions.{i}.value", "Enter a number or a date."))
    for i, action in actions:
        if isinstance(action, SetField) and unknown(action.field, _settable(fields)):
            errors.append(FieldError(f"actions.{i}.field", "Pick a field the rule may set."))
        if isinstance(action, AddTag | AssignOwner) and entity == "activity":
            errors.append(FieldError(f"actions.{i}.kind", "Activities have no tags or owner."))
    return errors


def _reference_errors(session: Session, rule: RuleDefinition) -> list[FieldError]:
    """Parts that name a user, team, stage, template or webhook that does not exist."""
    errors: list[FieldError] = []

    def live(model: Any, record_id: int | None) -> bool:
        record = session.get(model, record_id) if record_id else None
        return record is not None and getattr(record, "deleted_at", None) is None

    trigger = rule.trigger
    if isinstance(trigger, StageChanged):
        if trigger.pipeline_id and not live(Pipeline, trigger.pipeline_id):
            errors.append(FieldError("trigger.pipeline_id", "Pick an existing pipeline."))
        if trigger.to == "stage" and not live(Stage, trigger.stage_id):
            errors.append(FieldError("trigger.stage_id", "Pick an existing stage."))
    for i, action in enumerate(rule.actions):
        named_user = (isinstance(action, CreateTask) and action.assignee == "user") or (
            isinstance(action, AssignOwner) and action.mode == "user"
        )
        if named_user:
            found = session.get(User, action.user_id)
            if found is None or not found.is_active:
                errors.append(FieldError(f"actions.{i}.user_id", "Pick an active user."))
        round_robin = isinstance(action, AssignOwner) and action.mode == "round_robin"
        if round_robin and not live(Team, action.team_id):
            errors.append(FieldError(f"actions.{i}.team_id", "Pick an existing team."))
        if isinstance(action, SendEmail) and not live(EmailTemplate, action.template_id):
            errors.append(FieldError(f"actions.{i}.template_id", "Pick an e-mail template."))
        if isinstance(action, CallWebhook) and not live(Webhook, action.webhook_id):
            errors.append(FieldError(f"actions.{i}.webhook_id", "Pick a webhook."))
    return errors


def _parsed(adapter: TypeAdapter, raw: Any) -> Any | None:
    try:
        return adapter.validate_python(raw)
    except PydanticError:
        return None


def _fit_errors_of_valid_parts(data: dict[str, Any], session: Session | None) -> list[FieldError]:
    """`_fit_errors` of the parts of a rule that are valid on their own, so a rule with a
    missing value elsewhere still learns everything wrong with it at once."""
    trigger = _parsed(_TRIGGER, data.get("trigger"))
    if trigger is None:
        return []
    raw_conditions, raw_actions = data.get("conditions"), data.get("actions")
    conditions = raw_conditions if isinstance(raw_conditions, list) else []
    actions = raw_actions if isinstance(raw_actions, list) else []
    return _fit_errors(
        trigger,
        [(i, c) for i, c in enumerate(_parsed(_CONDITION, c) for c in conditions) if c],
        [(i, a) for i, a in enumerate(_parsed(_ACTION, a) for a in actions) if a],
        session,
    )


def parse_rule(data: dict[str, Any], session: Session | None = None) -> RuleDefinition:
    """The typed rule of submitted (or stored) data; ValidationFailed naming every bad part
    ("trigger.field", "conditions.0.value", "actions.1.subject")."""
    try:
        rule = _RULE.validate_python(data)
    except PydanticError as error:
        errors = [FieldError(_location(e["loc"]), _message(e)) for e in error.errors()]
        if isinstance(data, dict):
            errors += _fit_errors_of_valid_parts(data, session)
        raise ValidationFailed(INVALID, errors) from None
    errors = _fit_errors(
        rule.trigger, list(enumerate(rule.conditions)), list(enumerate(rule.actions)), session
    )
    if session is not None and not errors:
        errors = _reference_errors(session, rule)
    if errors:
        raise ValidationFailed(INVALID, errors)
    return rule


def stored_parts(rule: Workflow) -> RuleDefinition:
    """The typed definition of a stored rule (ValidationFailed when it no longer parses)."""
    return parse_rule(
        {
            "name": rule.name,
            "trigger": rule.trigger,
            "conditions": rule.conditions,
            "actions": rule.actions,
            "is_active": rule.is_active,
        }
    )


# ---- comparing values -------------------------------------------------------------------------


def _typed(kind: str, raw: Any) -> Any:
    """`raw` as the field type compares it (None when it does not parse)."""
    if raw is None:
        return None
    try:
        if kind == "number":
            return Decimal(str(raw).strip())
        if kind in ("date", "datetime"):
            if isinstance(raw, datetime):
                return raw.date()
            if isinstance(raw, date):
                return raw
            return date.fromisoformat(str(raw).strip()[:10])
    except (ArithmeticError, ValueError):
        return None
    if kind == "yes_no":
        return _yes_no(raw)
    return " ".join(str(getattr(raw, "value", raw)).split()).lower()


YES = frozenset({"yes", "true", "1", "on", "checked", "y"})
NO = frozenset({"no", "false", "0", "off", "unchecked", "n"})


def _yes_no(raw: Any) -> str | None:
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    text = str(raw).strip().lower()
    return "yes" if text in YES else "no" if text in NO else None


def same_value(kind: str, actual: Any, wanted: str) -> bool:
    """Whether a field's value is `wanted` (as typed by hand: numbers, dates, any case)."""
    if kind == "tags":
        return any(_typed("text", tag) == _typed("text", wanted) for tag in actual or [])
    value, other = _typed(kind, actual), _typed(kind, wanted)
    return value is not None and value == other


def condition_holds(condition: Any, record: Any, fields: dict[str, tuple[str, str]]) -> bool:
    """Whether the condition holds for the record (its current values); `fields` is
    `rule_fields` of its entity. A custom field deleted since the rule was written is
    empty."""
    kind = fields.get(condition.field, ("", "text"))[1]
    actual = field_value(record, condition.field) if condition.field in fields else None
    if condition.operator in ("is_empty", "is_not_empty"):
        empty = actual is None or actual == "" or actual == []
        return empty if condition.operator == "is_empty" else not empty
    if condition.operator == "in":
        return any(same_value(kind, actual, v) for v in condition.values)
    if condition.operator == "equals":
        return same_value(kind, actual, condition.value)
    if condition.operator == "not_equals":
        return not same_value(kind, actual, condition.value)
    if condition.operator == "contains":
        if kind == "tags":
            return same_value(kind, actual, condition.value)
        text = _typed("text", actual)
        return text is not None and _typed("text", condition.value) in text
    value, other = _typed(kind, actual), _typed(kind, condition.value)
    if value is None or other is None or isinstance(value, str):
        return False
    return value > other if condition.operator == "greater_than" else value < other


# ---- describing a rule ------------------------------------------------------------------------


def _field_label(entity: str, field: str, session: Session | None = None) -> str:
    fields = rule_fields(entity, session)
    return fields.get(field, (field.removeprefix(CUSTOM_PREFIX), ""))[0].lower()


def describe_trigger(session: Session, trigger: Any) -> str:
    """The trigger in words, e.g. "A deal is won" or "3 days before a deal's expected close
    date"."""
    noun = ENTITIES[trigger.entity].lower()
    article = "An" if noun[0] in "aeiou" else "A"
    if isinstance(trigger, RecordCreated):
        return f"{article} {noun} is created"
    if isinstance(trigger, RecordUpdated):
        return f"{article} {noun} is changed"
    if isinstance(trigger, FieldChanged):
        label = _field_label(trigger.entity, trigger.field, session)
        text = f"{article} {noun}'s {label} changes"
        return text + (f' to "{trigger.to_value}"' if trigger.to_value else "")
    if isinstance(trigger, StageChanged):
        pipeline = session.get(Pipeline, trigger.pipeline_id) if trigger.pipeline_id else None
        where = f" in {pipeline.name}" if pipeline else ""
        if trigger.to in ("won", "lost"):
            return f"A deal{where} is {trigger.to}"
        if trigger.to == "stage":
            stage = session.get(Stage, trigger.stage_id)
            return f"A deal{where} moves to {stage.name if stage else 'a deleted stage'}"
        return f"A deal{where} changes stage"
    if isinstance(trigger, ScoreCrosses):
        if trigger.direction == "up":
            return f"A lead's score reaches {trigger.threshold}"
        return f"A lead's score drops below {trigger.threshold}"
    days = abs(trigger.offset_days)
    label = _field_label(trigger.entity, trigger.field, session)
    if days == 0:
        return f"{article} {noun}'s {label} is today"
    when = "before" if trigger.offset_days < 0 else "after"
    return f"{days} day{'s' if days != 1 else ''} {when} {article.lower()} {noun}'s {label}"


# ---- rules (admins) ---------------------------------------------------------------------------


def _values(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    rule = parse_rule(data, session)
    return {
        "name": " ".join(rule.name.split()),
        "trigger": rule.trigger.model_dump(mode="json"),
        "conditions": [c.model_dump(mode="json") for c in rule.conditions],
        "actions": [a.model_dump(mode="json") for a in rule.actions],
        "is_active": rule.is_active,
    }


def list_rules(session: Session, *, actor: User) -> list[Workflow]:
    """Every live rule, oldest first (a workspace has tens, not thousands)."""
    require(session, actor, "setting", "manage")
    return list(
        session.execute(
            select(Workflow).where(Workflow.deleted_at.is_(None)).order_by(Workflow.id)
        ).scalars()
    )


def get_rule(session: Session, *, actor: User, rule_id: int, lock: bool = False) -> Workflow:
    """A live rule, or NotFound."""
    require(session, actor, "setting", "manage")
    if not 0 < int(rule_id) < 2**31:
        raise NotFound("No such rule.")
    return crud.get_live(session, Workflow, int(rule_id), label="rule", lock=lock)


def create_rule(session: Session, *, actor: User, data: dict[str, Any]) -> Workflow:
    """A new rule, run as its author (the actor) whenever it fires."""
    require(session, actor, "setting", "manage")
    values = _values(session, data)
    rule = Workflow(**values, created_by=actor.id)
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="workflow",
        entity_id=rule.id,
        changes={k: [None, v] for k, v in values.items()},
    )
    session.info.pop(RULES_CACHE_KEY, None)
    return rule


def update_rule(
    session: Session,
    *,
    actor: User,
    rule_id: int,
    data: dict[str, Any],
    version: int | None = None,
) -> Workflow:
    """Change a rule: `data` holds the whole definition, or only `is_active` to switch it."""
    rule = get_rule(session, actor=actor, rule_id=rule_id, lock=True)
    crud.check_version(rule, version)
    if set(data) == {"is_active"}:
        values = {"is_active": bool(data["is_active"])}
    else:
        values = _values(session, data)
    crud.apply_changes(session, actor, rule, values, entity="workflow")
    session.info.pop(RULES_CACHE_KEY, None)
    return rule


def delete_rule(session: Session, *, actor: User, rule_id: int) -> None:
    """Remove a rule (its queued runs then do nothing; its log goes with it when purged)."""
    rule = get_rule(session, actor=actor, rule_id=rule_id, lock=True)
    rule.deleted_at = utcnow()
    rule.version += 1
    session.add(rule)
    audit.record(session, actor=actor, action="delete", entity="workflow", entity_id=rule.id)
    session.flush()
    session.info.pop(RULES_CACHE_KEY, None)


# ---- the run log ------------------------------------------------------------------------------


def run_counts(session: Session, rule_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per rule: how many runs, how many failed, and when the last one was (one query)."""
    if not rule_ids:
        return {}
    rows = session.execute(
        select(
            WorkflowRun.workflow_id,
            func.count(),
            func.count().filter(WorkflowRun.status == RunStatus.failed),
            func.max(WorkflowRun.created_at),
        )
        .where(WorkflowRun.workflow_id.in_(rule_ids))
        .group_by(WorkflowRun.workflow_id)
    )
    return {r[0]: {"runs": r[1], "failed": r[2], "last": r[3]} for r in rows}


def list_runs(
    session: Session,
    *,
    actor: User,
    rule_id: int,
    before_id: int | None = None,
    limit: int = RUN_PAGE,
) -> list[WorkflowRun]:
    """One page of a rule's run log, newest first: runs with an id below `before_id`."""
    get_rule(session, actor=actor, rule_id=rule_id)
    query = select(WorkflowRun).where(WorkflowRun.workflow_id == int(rule_id))
    if before_id is not None:
        query = query.where(WorkflowRun.id < int(before_id))
    limit = max(1, min(int(limit), 100))
    return list(session.execute(query.order_by(WorkflowRun.id.desc()).limit(limit)).scalars())


# ---- the listener: events to queued runs ------------------------------------------------------

# What each event action can trigger. A deal created straight into a won or lost stage emits
# deal.won / deal.lost without deal.stage_changed (a move emits both: the listener then takes
# the stage_changed one only, see `on_event`).
KINDS_BY_ACTION: dict[str, tuple[str, ...]] = {
    "created": ("record_created",),
    "updated": ("record_updated", "field_changed"),
    "stage_changed": ("stage_changed",),
    "won": ("stage_changed",),
    "lost": ("stage_changed",),
    "score_changed": ("score_crosses",),
}


def _rules_for(session: Session, entity: str, kinds: tuple[str, ...]) -> list[tuple[Workflow, Any]]:
    """The active rules of these trigger kinds on `entity`, with their parsed triggers: one
    query on an index per transaction (a bulk change emits an event per record)."""
    transaction = session.get_transaction()
    cached = session.info.get(RULES_CACHE_KEY)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info[RULES_CACHE_KEY] = cached
    key = (entity, kinds)
    if key not in cached[1]:
        rules = session.execute(
            select(Workflow)
            .where(
                Workflow.is_active,
                Workflow.deleted_at.is_(None),
                tuple_(Workflow.trigger["entity"].astext, Workflow.trigger["kind"].astext).in_(
                    [(entity, kind) for kind in kinds]
                ),
            )
            .order_by(Workflow.id)
        ).scalars()
        found = []
        for rule in rules:
            try:
                found.append((rule, stored_parts(rule).trigger))
            except ValidationFailed:
                continue  # broken by a later change of the fields: Settings shows it as such
        cached[1][key] = found
    return cached[1][key]


def _stage_matches(session: Session, trigger: StageChanged, event: events.DomainEvent) -> bool:
    stage_id = (event.changes.get("stage_id") or [None, None])[1]
    if stage_id is None:
        from crm_app.models import Deal

        deal = session.get(Deal, event.record_id)
        stage_id = deal.stage_id if deal is not None else None
    stage = session.get(Stage, stage_id) if stage_id else None
    if stage is None:
        return False
    if trigger.pipeline_id and stage.pipeline_id != trigger.pipeline_id:
        return False
    if trigger.to in ("won", "lost"):
        return str(stage.kind) == trigger.to
    return trigger.to == "any" or stage.id == trigger.stage_id


def trigger_matches(session: Session, trigger: Any, event: events.DomainEvent) -> bool:
    """Whether an event (already of the trigger's entity and kind) fires the trigger."""
    if isinstance(trigger, FieldChanged):
        change = field_change(event.changes, trigger.field)
        if change is None:
            return False
        if trigger.to_value is None:
            return True
        fields = rule_fields(trigger.entity, session)
        kind = fields.get(trigger.field, ("", "text"))[1]
        return same_value(kind, change[1], trigger.to_value)
    if isinstance(trigger, StageChanged):
        return _stage_matches(session, trigger, event)
    if isinstance(trigger, ScoreCrosses):
        before, after = (event.changes.get("score") or [None, None])[:2]
        if before is None or after is None:
            return False
        if trigger.direction == "up":
            return before < trigger.threshold <= after
        return after < trigger.threshold <= before
    return isinstance(trigger, RecordCreated | RecordUpdated)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(getattr(value, "value", value))


def queue_run(
    session: Session,
    rule: Workflow,
    *,
    event_id: str,
    event_type: str,
    entity: str,
    record_id: int,
    changes: dict[str, Any] | None = None,
    depth: int = 0,
    chain: list[Any] | None = None,
) -> WorkflowRun:
    """Log a run of `rule` for one event and queue its job, in the caller's transaction; a
    run that would loop is logged as stopped instead."""
    chain = list(chain or [])
    looping = depth >= MAX_DEPTH or [rule.id, entity, record_id] in chain
    run = WorkflowRun(
        workflow_id=rule.id,
        event_id=event_id,
        event_type=event_type,
        entity=entity,
        record_id=record_id,
        depth=depth,
        chain=chain,
        changes=_json_safe(changes or {}),
    )
    if looping:
        run.status = RunStatus.stopped
        run.error = (
            f"Stopped: loop (this rule already ran on this {ENTITIES[entity].lower()} in the "
            f"same chain of rules)"
            if depth < MAX_DEPTH
            else f"Stopped: loop (more than {MAX_DEPTH} rules in a chain)"
        )
        run.finished_at = run.created_at
    session.add(run)
    session.flush()
    if not looping:
        from crm_app.jobs import app as jobs
        from crm_app.jobs.tasks import RUN_WORKFLOW, WORKFLOWS_QUEUE

        jobs.defer(session, RUN_WORKFLOW, queue=WORKFLOWS_QUEUE, run_id=run.id)
    return run


@events.register
def on_event(session: Session, event: events.DomainEvent) -> None:
    """Queue a run of every active rule this event fires (see the module docstring)."""
    entity, _, action = event.type.partition(".")
    kinds = KINDS_BY_ACTION.get(action)
    if not kinds or entity != event.entity or entity not in ENTITIES:
        return
    if action in ("won", "lost") and (event.changes.get("stage_id") or [None])[0] is not None:
        return  # a move: its deal.stage_changed event fires the rules
    rules = _rules_for(session, entity, kinds)
    if not rules:
        return
    event_id = uuid.uuid4().hex
    chain = session.info.get(CHAIN_KEY, [])
    for rule, trigger in rules:
        if trigger_matches(session, trigger, event):
            queue_run(
                session,
                rule,
                event_id=event_id,
                event_type=event.type,
                entity=entity,
                record_id=event.record_id,
                changes=event.changes,
                depth=event.depth,
                chain=chain,
            )
