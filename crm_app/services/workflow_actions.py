"""Running workflow rules: a queued run's conditions and actions, and the date triggers.

Who acts: a rule's actions run as the rule's author (the admin who created it), through the
same services a person uses, so every permission check, validation rule, audit entry and
notification applies as if that admin had made the change by hand. A rule whose author is no
longer active fails with a message saying so, rather than acting as someone else.

Once, even when a worker is killed: `execute_run` locks the run row and does nothing unless it
is still queued; the actions and the run's new status commit together. A job killed half-way
rolls back both, and its retry runs the actions exactly once.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, case, cast, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from crm_app.models import (
    Account,
    Activity,
    Contact,
    Deal,
    Lead,
    RunStatus,
    User,
    Workflow,
    WorkflowDateFire,
    WorkflowRun,
)
from crm_app.models.base import utcnow
from crm_app.services import (
    account,
    activity,
    contact,
    deal,
    lead,
    lead_assignment,
    normalize,
    tag,
    workflow,
)
from crm_app.services.errors import DomainError, ValidationFailed

log = logging.getLogger(__name__)

DATE_BATCH = 500  # records one date rule fires for per call; the next call takes the rest

MODELS: dict[str, Any] = {
    "contact": Contact,
    "account": Account,
    "lead": Lead,
    "deal": Deal,
    "activity": Activity,
}
# entity -> (its update service, the service's id keyword)
UPDATES: dict[str, tuple[Callable[..., Any], str]] = {
    "contact": (contact.update_contact, "contact_id"),
    "account": (account.update_account, "account_id"),
    "lead": (lead.update_lead, "lead_id"),
    "deal": (deal.update_deal, "deal_id"),
    "activity": (activity.update_activity, "activity_id"),
}
WEBHOOK_EVENT = "workflow.triggered"  # what a rule's "call a webhook" sends
MERGE_FIELD = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z0-9_]+)?)\s*\}\}")


def display_name(entity: str, record: Any) -> str:
    """How a record is named in a task subject ({{name}})."""
    if entity in ("contact", "lead"):
        name = f"{record.first_name} {record.last_name}".strip()
        return name or record.email or f"#{record.id}"
    if entity == "activity":
        return record.subject or f"#{record.id}"
    return record.name


def merge(text: str, entity: str, record: Any, fields: dict[str, Any] | None = None) -> str:
    """`text` with {{name}} and {{field}} (any field rules know; `fields`, when given, adds the
    custom ones: {{custom.plan}}) filled from the record; an unknown one is left as written."""
    known = fields if fields is not None else workflow.FIELDS[entity]

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "name":
            return display_name(entity, record)
        if key not in known:
            return match.group(0)
        found = workflow.field_value(record, key)
        if isinstance(found, list):
            return ", ".join(str(v) for v in found)
        return "" if found is None else str(getattr(found, "value", found))

    return MERGE_FIELD.sub(value, text)


# ---- the actions ------------------------------------------------------------------------------


def _update(session: Session, author: User, entity: str, record_id: int, data: dict) -> None:
    update, id_keyword = UPDATES[entity]
    update(session, actor=author, data=data, **{id_keyword: record_id})


def _create_task(session, author, entity, record, action, rule) -> str:
    if action.assignee == "user":
        owner_id = action.user_id
    else:
        owner_id = getattr(record, "owner_id", None) or author.id
    related = (
        {k: getattr(record, k) for k in ("deal_id", "lead_id", "contact_id", "account_id")}
        if entity == "activity"
        else {f"{entity}_id": record.id}
    )
    subject = merge(action.subject, entity, record, workflow.rule_fields(entity, session))[:300]
    activity.create_activity(
        session,
        actor=author,
        data={
            "kind": "task",
            "subject": subject,
            "due_at": utcnow() + timedelta(days=action.due_in_days),
            "owner_id": owner_id,
            **related,
        },
    )
    return f"Created the task “{subject}”"


def _send_email(session, author, entity, record, action, rule) -> str:
    from crm_app.models.email import MessageStatus
    from crm_app.services import email

    message = email.send_templated(
        session,
        actor=author,
        template_id=action.template_id,
        entity=entity,
        record_id=record.id,
    )
    if message.status == MessageStatus.suppressed:
        return f"Not sent: {message.to_address} unsubscribed"
    return f"Sent “{message.subject}” to {message.to_address}"


def _set_field(session, author, entity, record, action, rule) -> str:
    value = action.value if action.value != "" else None
    key = action.field.removeprefix(workflow.CUSTOM_PREFIX)
    # a custom field is one key of the record's `custom`, which updates merge
    data = {"custom": {key: value}} if key != action.field else {action.field: value}
    _update(session, author, entity, record.id, data)
    label = workflow.rule_fields(entity, session).get(action.field, (key,))[0]
    return f"Set {label.lower()} to “{action.value}”" if value else f"Emptied {label.lower()}"


def _assign_owner(session, author, entity, record, action, rule) -> str:
    if action.mode == "round_robin":
        owner = lead_assignment.next_assignee(session, team_id=action.team_id)
        if owner is None:
            raise ValidationFailed("The team has no active rep to take a turn.")
    else:
        owner = session.get(User, action.user_id)
    _update(session, author, entity, record.id, {"owner_id": owner.id})
    return f"Assigned to {owner.name}"


def _add_tag(session, author, entity, record, action, rule) -> str:
    if entity in tag.ENTITIES:
        tag.add_tag(session, actor=author, entity=entity, record_id=record.id, tag=action.tag)
        return f"Tagged “{action.tag}”"
    try:
        name = normalize.tag(action.tag)
    except ValueError as error:
        raise ValidationFailed.for_field("tag", str(error)) from None
    name = tag.catalog_name(session, name) or name
    tags = list(record.tags or [])
    if all(t.lower() != name.lower() for t in tags):
        _update(session, author, entity, record.id, {"tags": [*tags, name]})
        tag.remember(session, actor=author, names=[name])
    return f"Tagged “{name}”"


def _call_webhook(session, author, entity, record, action, rule) -> str:
    """Send a "workflow.triggered" event about the record to one webhook (queued like any
    subscribed event: a delivery row and its job, the same signing and retries)."""
    from crm_app.services import webhook
    from crm_app.services.record_payload import record_payload

    hook = webhook.get_webhook(session, actor=author, webhook_id=action.webhook_id)
    if not hook.is_active:
        raise ValidationFailed.for_field("webhook_id", "The webhook is switched off.")
    data = {
        "rule": {"id": rule.id, "name": rule.name},
        "entity": entity,
        "record": record_payload(session, entity, record.id),
    }
    webhook.queue_event(session, webhook_ids=[hook.id], event_type=WEBHOOK_EVENT, data=data)
    return f"Called the webhook {hook.url}"


ACTIONS: dict[str, Callable[..., str]] = {
    "create_task": _create_task,
    "send_email": _send_email,
    "set_field": _set_field,
    "assign_owner": _assign_owner,
    "add_tag": _add_tag,
    "call_webhook": _call_webhook,
}
ACTION_LABELS = {
    "create_task": "Create a task",
    "send_email": "Send an e-mail",
    "set_field": "Set a field",
    "assign_owner": "Assign an owner",
    "add_tag": "Add a tag",
    "call_webhook": "Call a webhook",
}


# ---- one run ----------------------------------------------------------------------------------


def _live_record(session: Session, entity: str, record_id: int) -> Any | None:
    record = session.get(MODELS[entity], record_id, populate_existing=True)
    if record is None or record.deleted_at is not None:
        return None
    return record


def _finish(run: WorkflowRun, status: RunStatus, started: float, error: str | None = None):
    run.status = status
    run.error = error[:1000] if error else None
    run.finished_at = utcnow()
    run.duration_ms = int((time.monotonic() - started) * 1000)


def _run_actions(session: Session, run: WorkflowRun, rule: Workflow, author: User, record, parts):
    """Run every action in one savepoint; the first refusal undoes them all and fails the
    run with the refusal's message."""
    done: list[str] = []
    info = session.info
    saved = info.get(workflow.DEPTH_KEY), info.get(workflow.CHAIN_KEY)
    info[workflow.DEPTH_KEY] = run.depth + 1
    info[workflow.CHAIN_KEY] = [*run.chain, [rule.id, run.entity, run.record_id]]
    try:
        with session.begin_nested():
            for action in parts.actions:
                done.append(ACTIONS[action.kind](session, author, run.entity, record, action, rule))
    except DomainError as error:
        step = len(done) + 1
        label = ACTION_LABELS[parts.actions[step - 1].kind]
        detail = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
        message = error.message + (f" ({detail})" if detail and detail not in error.message else "")
        return [], f"Action {step} ({label}) failed: {message}"
    finally:
        for key, value in zip((workflow.DEPTH_KEY, workflow.CHAIN_KEY), saved, strict=True):
            if value is None:
                info.pop(key, None)
            else:
                info[key] = value
    return done, None


def _conditions_hold(session: Session, entity: str, conditions: list[Any], record: Any) -> bool:
    if not conditions:
        return True
    fields = workflow.rule_fields(entity, session)
    return all(workflow.condition_holds(c, record, fields) for c in conditions)


def execute_run(session: Session, run_id: int) -> RunStatus:
    """Run one queued run in the caller's transaction (the `run_workflow` job's work): re-read
    the record, check the conditions, run the actions, log the outcome. A run that is no
    longer queued (it already ran) is left alone. Errors other than a refusal by a service
    (a lost connection, say) propagate, so the job is retried."""
    run = session.get(WorkflowRun, run_id, with_for_update=True, populate_existing=True)
    if run is None or run.status != RunStatus.queued:
        return run.status if run is not None else RunStatus.skipped
    started = time.monotonic()
    rule = session.get(Workflow, run.workflow_id)
    if rule is None or rule.deleted_at is not None or not rule.is_active:
        _finish(run, RunStatus.skipped, started, "The rule was switched off or deleted.")
        return run.status
    author = session.get(User, rule.created_by) if rule.created_by else None
    record = _live_record(session, run.entity, run.record_id)
    try:
        parts = workflow.stored_parts(rule)
    except ValidationFailed as error:
        _finish(run, RunStatus.failed, started, f"The rule is invalid: {error.message}")
        return run.status
    if author is None or not author.is_active:
        _finish(run, RunStatus.failed, started, "The rule's author is no longer an active user.")
    elif record is None:
        _finish(run, RunStatus.skipped, started, "The record was deleted.")
    elif not _conditions_hold(session, run.entity, parts.conditions, record):
        _finish(run, RunStatus.skipped, started, "The conditions did not hold.")
    else:
        done, error = _run_actions(session, run, rule, author, record, parts)
        run.actions_done = done
        _finish(run, RunStatus.failed if error else RunStatus.succeeded, started, error)
    session.add(run)
    session.flush()
    return run.status


# ---- date triggers ----------------------------------------------------------------------------


def _day_of(model: Any, field: str, kind: str) -> Any:
    """SQL for a row's date in a date field: a date column, a timestamp's UTC date, or a
    custom date field's ISO text in `custom` (anything else in it is no date)."""
    if field.startswith(workflow.CUSTOM_PREFIX):
        text = model.custom[field.removeprefix(workflow.CUSTOM_PREFIX)].astext
        return case((text.regexp_match(r"^\d{4}-\d{2}-\d{2}$"), cast(text, Date)), else_=None)
    column = getattr(model, field)
    return column if kind == "date" else cast(func.timezone("UTC", column), Date)


def fire_date_triggers(session: Session, *, today: date | None = None) -> int:
    """Queue a run of every active date rule for each record whose day has come, once per
    rule, record and date (the `workflow_date_fires` key: another worker doing the same at the
    same moment waits for this one and then finds nothing left). Days before the rule was
    created are not caught up on. Returns how many runs were queued."""
    today = today or utcnow().date()
    rules = session.execute(
        select(Workflow).where(
            Workflow.is_active,
            Workflow.deleted_at.is_(None),
            Workflow.trigger["kind"].astext == "date_reached",
        )
    ).scalars()
    queued = 0
    for rule in rules:
        try:
            trigger = workflow.stored_parts(rule).trigger
        except ValidationFailed:
            continue
        model = MODELS[trigger.entity]
        fields = workflow.rule_fields(trigger.entity, session)
        if trigger.field not in fields:
            continue  # a custom date field deleted since the rule was written
        # the day the rule fires for a row: the field's date plus the offset
        due = _day_of(model, trigger.field, fields[trigger.field][1]) + literal(trigger.offset_days)
        since = rule.created_at.date()
        candidates = (
            select(literal(rule.id), model.id, due)
            .where(model.deleted_at.is_(None), due <= today, due >= since)
            .where(
                ~select(WorkflowDateFire.record_id)
                .where(
                    WorkflowDateFire.workflow_id == rule.id,
                    WorkflowDateFire.record_id == model.id,
                    WorkflowDateFire.due_on == due,
                )
                .exists()
            )
            .order_by(model.id)
            .limit(DATE_BATCH)
        )
        fired = session.execute(
            insert(WorkflowDateFire)
            .from_select(["workflow_id", "record_id", "due_on"], candidates)
            .on_conflict_do_nothing()
            .returning(WorkflowDateFire.record_id, WorkflowDateFire.due_on)
        ).all()
        for record_id, due_on in fired:
            workflow.queue_run(
                session,
                rule,
                event_id=f"date:{due_on.isoformat()}:{record_id}",
                event_type=f"{trigger.entity}.date_reached",
                entity=trigger.entity,
                record_id=record_id,
                changes={trigger.field: [None, due_on - timedelta(days=trigger.offset_days)]},
            )
        queued += len(fired)
    return queued
