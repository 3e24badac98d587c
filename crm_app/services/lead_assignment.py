"""Round-robin assignment of new, unowned leads among the active reps of a team.

The admin picks the team in Settings (the `lead_assignment` AppSetting); a web form may name
its own team instead. The setting row also remembers, per team, who got the last lead, and
each assignment locks that row (`SELECT ... FOR UPDATE`) before reading it: two leads arriving
at once are handed out one after the other, never both to the same rep. The lock is held only
until the creating transaction commits, which is short.

Reps are taken in id order (a stable order that survives renames); inactive users, and users
who are not reps, are skipped. The assignee gets an in-app notification linking to the lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from crm_app import routes
from crm_app.models import AppSetting, Lead, Notification, Team, User
from crm_app.models.base import utcnow
from crm_app.models.user import Role
from crm_app.services import audit
from crm_app.services.errors import ValidationFailed
from crm_app.services.permission import require

SETTING_KEY = "lead_assignment"
NOTIFICATION_KIND = "assigned"


@dataclass
class AssignmentSetting:
    """The team whose reps receive new unowned leads (None: leads stay unowned)."""

    team_id: int | None
    team_name: str | None


def _locked_setting(session: Session) -> AppSetting:
    """The assignment setting row, created if missing, locked until the transaction ends."""
    session.execute(
        insert(AppSetting)
        .values(key=SETTING_KEY, value={"team_id": None, "last_user_by_team": {}})
        .on_conflict_do_nothing(index_elements=["key"])
    )
    setting = session.exec(
        select(AppSetting)
        .where(AppSetting.key == SETTING_KEY)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return setting


def _value(setting: AppSetting | None) -> dict[str, Any]:
    value = dict(setting.value or {}) if setting is not None else {}
    value.setdefault("team_id", None)
    value.setdefault("last_user_by_team", {})
    return value


def get_assignment(session: Session, *, actor: User) -> AssignmentSetting:
    """The team new unowned leads go to."""
    require(session, actor, "lead", "read")
    team_id = _value(session.get(AppSetting, SETTING_KEY))["team_id"]
    team = session.get(Team, team_id) if team_id else None
    if team is None or team.deleted_at is not None:
        return AssignmentSetting(None, None)
    return AssignmentSetting(team.id, team.name)


def set_assignment_team(session: Session, *, actor: User, team_id: int | None) -> AssignmentSetting:
    """Pick the team whose active reps receive new unowned leads (None turns it off)."""
    require(session, actor, "setting", "manage")
    team = None
    if team_id is not None:
        team = session.get(Team, team_id) if 0 < int(team_id) < 2**31 else None
        if team is None or team.deleted_at is not None:
            raise ValidationFailed.for_field("team_id", "Pick an existing team.")
    setting = _locked_setting(session)
    value = _value(setting)
    before = value["team_id"]
    setting.value = {**value, "team_id": team.id if team else None}
    setting.updated_at = utcnow()
    session.add(setting)
    audit.record(
        session,
        actor=actor,
        action="update",
        entity="setting",
        changes={"lead_assignment_team_id": [before, setting.value["team_id"]]},
    )
    session.flush()
    return AssignmentSetting(team.id if team else None, team.name if team else None)


def team_reps(session: Session, team_id: int) -> list[User]:
    """The active reps of a team, in the order they take turns."""
    return list(
        session.exec(
            select(User)
            .where(User.team_id == team_id, User.role == Role.rep, User.is_active)
            .order_by(User.id)
        ).all()
    )


def next_assignee(session: Session, *, team_id: int | None = None) -> User | None:
    """Whose turn it is for the next lead (of `team_id`, else of the configured team), and
    record the turn; None when there is no team or it has no active rep."""
    if team_id is None and _value(session.get(AppSetting, SETTING_KEY))["team_id"] is None:
        return None  # no rotation configured: nothing to lock
    setting = _locked_setting(session)
    value = _value(setting)
    team = team_id or value["team_id"]
    if team is None:
        return None
    reps = team_reps(session, team)
    if not reps:
        return None
    last = value["last_user_by_team"].get(str(team), 0)
    chosen = next((u for u in reps if u.id > last), reps[0])
    setting.value = {
        **value,
        "last_user_by_team": {**value["last_user_by_team"], str(team): chosen.id},
    }
    setting.updated_at = utcnow()
    session.add(setting)
    return chosen


def notify_assignee(session: Session, *, user: User, lead: Lead) -> Notification:
    """Tell a rep a lead was assigned to them, with a link to it."""
    name = f"{lead.first_name} {lead.last_name}".strip() or lead.email or lead.company_name
    notification = Notification(
        user_id=user.id,
        kind=NOTIFICATION_KIND,
        title=f"New lead assigned to you: {name or f'#{lead.id}'}"[:200],
        body=f"From {lead.source}." if lead.source else "",
        link=routes.lead_detail(lead.id),
    )
    session.add(notification)
    return notification
