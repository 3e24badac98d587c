"""Lead scoring: admin-defined rules, each adding points when a lead matches its condition.

A lead's score is the sum of the points of the active rules it matches, clamped to 0..100.
The score is computed by PostgreSQL from one SQL expression built from the rules
(`score_expression`), so scoring one lead and rescoring every lead are the same code:

- a lead's own changes rescore it in the same transaction (`rescore_lead`, called by the lead
  services; activity services call it too when an activity of a lead is written);
- a change to the rules queues the `rescore_leads` job, which rescores every lead in batches of
  its own transactions, so saving a rule never waits on (or locks) 30,000 leads;
- a daily job rescores every lead again, because "activities in the last N days" changes with
  the date alone.

Rescoring does not bump a lead's version or `updated_at`: the score is derived, and a user
editing the lead should not get a "changed by someone else" for it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticError
from sqlalchemy import ColumnElement, case, func, literal, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from crm_app.models import Activity, Lead, LeadScoringRule, User
from crm_app.models.base import utcnow
from crm_app.services import audit, crud, events
from crm_app.services.errors import FieldError, NotFound, ValidationFailed
from crm_app.services.permission import require

RESCORE_BATCH = 1000
MIN_SCORE, MAX_SCORE = 0, 100

# The lead fields a condition can look at: text columns of the lead.
TEXT_FIELDS = ("first_name", "last_name", "email", "phone", "company_name", "title")
EQUALS_FIELDS = (*TEXT_FIELDS, "source", "status")
TextField = Literal["first_name", "last_name", "email", "phone", "company_name", "title"]
EqualsField = Literal[
    "first_name", "last_name", "email", "phone", "company_name", "title", "source", "status"
]
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "phone": "Phone",
    "company_name": "Company",
    "title": "Title",
    "source": "Source",
    "status": "Status",
}


class _Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FieldContains(_Condition):
    """The field contains this text, ignoring case ("title contains VP")."""

    kind: Literal["contains"] = "contains"
    field: TextField
    value: str = Field(min_length=1, max_length=200)


class FieldEquals(_Condition):
    """The field is exactly this value, ignoring case and outer spaces ("source is Referral")."""

    kind: Literal["equals"] = "equals"
    field: EqualsField
    value: str = Field(min_length=1, max_length=200)


class FieldPresent(_Condition):
    """The field is filled in ("has an e-mail")."""

    kind: Literal["present"] = "present"
    field: TextField


class RecentActivities(_Condition):
    """At least `at_least` live activities of the lead were logged in the last `days` days."""

    kind: Literal["activity_count"] = "activity_count"
    days: int = Field(ge=1, le=365)
    at_least: int = Field(ge=1, le=1000)


Condition = Annotated[
    FieldContains | FieldEquals | FieldPresent | RecentActivities, Field(discriminator="kind")
]
_CONDITION = TypeAdapter(Condition)


# ---- conditions as SQL -----------------------------------------------------------------------


def parse_condition(raw: Any) -> Condition:
    """The typed condition of a stored or submitted dict; ValidationFailed naming each part."""
    try:
        return _CONDITION.validate_python(raw)
    except PydanticError as error:
        errors = [
            FieldError(".".join(["condition", *[str(p) for p in e["loc"][1:]]]), e["msg"])
            for e in error.errors()
        ]
        raise ValidationFailed("The rule's condition is invalid.", errors) from None


def condition_clause(condition: Condition) -> ColumnElement[bool]:
    """The condition as a SQL test on a `leads` row."""
    if isinstance(condition, RecentActivities):
        since = func.now() - timedelta(days=condition.days)
        recent = (
            select(func.count())
            .select_from(Activity)
            .where(
                Activity.lead_id == Lead.id,
                Activity.deleted_at.is_(None),
                Activity.created_at >= since,
            )
            .scalar_subquery()
        )
        return recent >= condition.at_least
    column = getattr(Lead, condition.field)
    if isinstance(condition, FieldContains):
        return func.strpos(func.lower(column), condition.value.lower()) > 0
    if isinstance(condition, FieldEquals):
        return func.lower(func.trim(column)) == condition.value.lower()
    return func.coalesce(func.trim(column), "") != ""


def describe(condition: Condition) -> str:
    """The condition in words, for Settings."""
    if isinstance(condition, RecentActivities):
        return f"At least {condition.at_least} activities in the last {condition.days} days"
    label = FIELD_LABELS[condition.field]
    if isinstance(condition, FieldContains):
        return f'{label} contains "{condition.value}"'
    if isinstance(condition, FieldEquals):
        return f'{label} is "{condition.value}"'
    return f"{label} is filled in"


def _active_rules(session: Session) -> list[LeadScoringRule]:
    return list(
        session.execute(
            select(LeadScoringRule)
            .where(LeadScoringRule.is_active, LeadScoringRule.deleted_at.is_(None))
            .order_by(LeadScoringRule.id)
        )
        .scalars()
        .all()
    )


def score_expression(rules: list[LeadScoringRule]) -> ColumnElement[int]:
    """SQL computing a lead's score from `rules`: their matching points summed, clamped."""
    terms = [
        case((condition_clause(parse_condition(r.condition)), r.points), else_=0)
        for r in rules
        if r.points
    ]
    if not terms:
        return literal(0)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return func.greatest(MIN_SCORE, func.least(MAX_SCORE, total))


def matched_rules(session: Session, *, actor: User, lead_id: int) -> list[LeadScoringRule]:
    """The active rules the lead matches now (what its score is made of), in one query."""
    require(session, actor, "lead", "read")
    rules = [r for r in _active_rules(session) if r.points]
    if not rules:
        return []
    tests = [condition_clause(parse_condition(r.condition)) for r in rules]
    row = session.execute(select(*tests).where(Lead.id == lead_id)).first()
    return [rule for rule, hit in zip(rules, row or (), strict=False) if hit]


# ---- rescoring -------------------------------------------------------------------------------


def _rescore_where(session: Session, *conditions: ColumnElement[bool]) -> int:
    """Rescore the leads matching `conditions`; only rows whose score changes are written,
    and each of those emits "lead.score_changed" (workflow rules watch scores cross a value)."""
    scored = (
        select(
            Lead.id.label("id"),
            Lead.score.label("old"),
            score_expression(_active_rules(session)).label("score"),
        )
        .where(*conditions)
        .subquery()
    )
    changed = session.execute(
        update(Lead)
        .where(Lead.id == scored.c.id, Lead.score.is_distinct_from(scored.c.score))
        # updated_at has an ORM `onupdate`: keep it, the lead itself did not change
        .values(score=scored.c.score, updated_at=Lead.updated_at)
        .returning(Lead.id, scored.c.old, scored.c.score)
        .execution_options(synchronize_session=False)
    ).all()
    for lead_id, old, new in changed:
        events.emit(
            session,
            events.DomainEvent(
                type="lead.score_changed",
                entity="lead",
                record_id=lead_id,
                actor_id=None,
                changes={"score": [old, new]},
            ),
        )
    return len(changed)


def rescore_lead(session: Session, lead_id: int) -> int:
    """Recompute one lead's score in the caller's transaction; returns the new score.

    Lead services call it after every change to a lead, activity services after every change
    to an activity of a lead (so no permission check here: the caller checked its own).
    """
    _rescore_where(session, Lead.id == lead_id)
    score = session.execute(select(Lead.score).where(Lead.id == lead_id)).scalar_one()
    lead = session.identity_map.get(session.identity_key(Lead, lead_id))
    if lead is not None:
        # the new value without marking the lead dirty (which would write it again)
        set_committed_value(lead, "score", score)
    return score


def rescore_batch(session: Session, *, after_id: int, size: int = RESCORE_BATCH) -> int | None:
    """Rescore the live leads with the next `size` ids after `after_id`; returns the last id
    looked at, or None when there were none left."""
    ids = (
        select(Lead.id)
        .where(Lead.id > after_id, Lead.deleted_at.is_(None))
        .order_by(Lead.id)
        .limit(size)
    )
    last = session.execute(select(func.max(ids.subquery().c.id))).scalar_one()
    if last is None:
        return None
    _rescore_where(session, Lead.id > after_id, Lead.id <= last, Lead.deleted_at.is_(None))
    return last


def rescore_all(session: Session, *, size: int = RESCORE_BATCH) -> None:
    """Rescore every live lead in the caller's transaction, batch by batch (tests, `crm`)."""
    after: int | None = 0
    while after is not None:
        after = rescore_batch(session, after_id=after, size=size)


def run_rescore(*, only_if_time_based: bool = False, should_stop=lambda: False) -> bool:
    """Rescore every live lead, each batch in a transaction of its own so no lock is held
    for long (the `rescore_leads` job's work); False when asked to stop before the end."""
    from crm_app.db import session_scope

    if only_if_time_based:
        with session_scope() as session:
            if not has_time_based_rules(session):
                return True
    after: int | None = 0
    while after is not None:
        if should_stop():
            return False
        with session_scope() as session:
            after = rescore_batch(session, after_id=after)
    return True


def has_time_based_rules(session: Session) -> bool:
    """Whether any active rule counts recent activities (scores then change with the date)."""
    return any(r.condition.get("kind") == "activity_count" for r in _active_rules(session))


def schedule_rescore(session: Session) -> None:
    """Queue the job rescoring every lead, committed with the caller's transaction; a job
    already waiting covers this change too (it reads the rules when it runs)."""
    from procrastinate.exceptions import AlreadyEnqueued

    from crm_app.jobs import app as jobs
    from crm_app.jobs.tasks import LEADS_QUEUE, RESCORE_LEADS

    try:
        with session.begin_nested():  # a refused duplicate must not abort the transaction
            jobs.defer(
                session,
                RESCORE_LEADS,
                queue=LEADS_QUEUE,
                lock=RESCORE_LEADS,
                queueing_lock=RESCORE_LEADS,
            )
    except AlreadyEnqueued:
        pass


# ---- rules (admins) --------------------------------------------------------------------------

RULE_FIELDS = ("name", "condition", "points", "is_active")


def _clean_rule(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    errors = [
        FieldError(k, "This field cannot be set.") for k in sorted(set(data) - {*RULE_FIELDS})
    ]
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors.append(FieldError("name", "Name the rule."))
        elif len(name) > 100:
            errors.append(FieldError("name", "Use at most 100 characters."))
        out["name"] = name
    if "condition" in data or not partial:
        try:
            out["condition"] = parse_condition(data.get("condition")).model_dump()
        except ValidationFailed as error:
            errors += error.errors
    if "points" in data or not partial:
        points = data.get("points")
        if isinstance(points, bool) or not isinstance(points, int | str):
            points = None
        try:
            out["points"] = int(points)  # type: ignore[arg-type]
            if not -100 <= out["points"] <= 100:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError("points", "Enter whole points from -100 to 100."))
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    return out


def list_rules(session: Session, *, actor: User) -> list[LeadScoringRule]:
    """Every rule (active or not), oldest first: anyone who reads leads may see why they
    score what they score."""
    require(session, actor, "lead", "read")
    return list(
        session.execute(
            select(LeadScoringRule)
            .where(LeadScoringRule.deleted_at.is_(None))
            .order_by(LeadScoringRule.id)
        )
        .scalars()
        .all()
    )


def _get_rule(session: Session, rule_id: int) -> LeadScoringRule:
    rule = session.get(LeadScoringRule, rule_id, with_for_update=True)
    if rule is None or rule.deleted_at is not None:
        raise NotFound("No such scoring rule.")
    return rule


def create_rule(session: Session, *, actor: User, data: dict[str, Any]) -> LeadScoringRule:
    """A new rule; every lead is rescored in the background."""
    require(session, actor, "setting", "manage")
    values = _clean_rule(data, partial=False)
    rule = LeadScoringRule(**values, created_by=actor.id)
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="lead_scoring_rule",
        entity_id=rule.id,
        changes={k: [None, v] for k, v in values.items()},
    )
    schedule_rescore(session)
    return rule


def update_rule(
    session: Session,
    *,
    actor: User,
    rule_id: int,
    data: dict[str, Any],
    version: int | None = None,
) -> LeadScoringRule:
    """Change a rule (also to switch it off); every lead is rescored in the background."""
    require(session, actor, "setting", "manage")
    rule = _get_rule(session, rule_id)
    crud.check_version(rule, version)
    values = _clean_rule(data, partial=True)
    if not crud.apply_changes(session, actor, rule, values, entity="lead_scoring_rule"):
        return rule
    schedule_rescore(session)
    return rule


def delete_rule(session: Session, *, actor: User, rule_id: int) -> None:
    """Remove a rule; every lead is rescored in the background."""
    require(session, actor, "setting", "manage")
    rule = _get_rule(session, rule_id)
    rule.deleted_at = utcnow()
    rule.version += 1
    session.add(rule)
    audit.record(
        session, actor=actor, action="delete", entity="lead_scoring_rule", entity_id=rule.id
    )
    session.flush()
    schedule_rescore(session)
