"""Managing users: listing, roles, deactivation, profile; and `crm user create`."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_
from sqlmodel import Session, select

from crm_app.auth.passwords import hash_password, password_problem
from crm_app.auth.permissions import Role
from crm_app.models import AuthToken, Team, User
from crm_app.models.base import utcnow
from crm_app.services import audit
from crm_app.services.auth import end_all_sessions, find_user_by_email, normalize_email
from crm_app.services.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from crm_app.services.permission import require

ROLES = [r.value for r in Role]


def validate_user_fields(*, email: str, name: str, role: str) -> tuple[str, str]:
    """Normalised (email, name), or ValidationFailed naming each bad field."""
    errors: list[FieldError] = []
    email = normalize_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        errors.append(FieldError("email", "Enter a valid e-mail address."))
    name = " ".join(name.split())
    if not name:
        errors.append(FieldError("name", "Enter a name."))
    elif len(name) > 120:
        errors.append(FieldError("name", "Use at most 120 characters."))
    if role not in ROLES:
        errors.append(FieldError("role", "Pick a role."))
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)
    return email, name


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    team_id: int | None = None,
    actor: User | None = None,
) -> User:
    """Create an active user with a password (the CLI and seeding; the UI invites instead)."""
    if actor is not None:
        require(session, actor, "user", "manage")
    email, name = validate_user_fields(email=email, name=name, role=role)
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise ValidationFailed.for_field("password", problem)
    if find_user_by_email(session, email):
        raise Conflict("A user with this e-mail already exists.", [FieldError("email", "Taken.")])
    user = User(
        email=email,
        name=name,
        role=role,
        team_id=team_id,
        is_active=True,
        password_hash=hash_password(password),
        created_by=actor.id if actor else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="user",
        entity_id=user.id,
        changes={"email": [None, email], "role": [None, role]},
    )
    return user


@dataclass
class UserRow:
    """A user as listed in Settings -> Users."""

    id: int
    name: str
    email: str
    role: str
    team: str
    status: str
    last_login: str
    version: int
    two_factor: bool = False


def list_users(
    session: Session, *, actor: User, q: str = "", offset: int = 0, limit: int = 50
) -> tuple[list[UserRow], int]:
    """A page of users ordered by name, and the total count."""
    require(session, actor, "user", "read")
    query = select(User, Team.name).join(Team, Team.id == User.team_id, isouter=True)
    if q.strip():
        like = f"%{q.strip().lower()}%"
        query = query.where(
            or_(func.lower(User.name).like(like), func.lower(User.email).like(like))
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(func.lower(User.name), User.id).offset(offset).limit(limit))
    pending = set(
        session.exec(
            select(AuthToken.user_id).where(
                AuthToken.purpose == "invite", AuthToken.used_at.is_(None)
            )
        ).all()
    )
    result = []
    for user, team_name in rows.all():
        if not user.is_active:
            status = "Deactivated"
        elif not user.password_hash:
            status = "Invited" if user.id in pending else "No password"
        else:
            status = "Active"
        result.append(
            UserRow(
                id=user.id,
                name=user.name,
                email=user.email,
                role=user.role,
                team=team_name or "",
                status=status,
                last_login=user.last_login_at.isoformat() if user.last_login_at else "",
                version=user.version,
                two_factor=user.totp_enabled_at is not None,
            )
        )
    return result, total


def _get_for_manage(session: Session, actor: User, user_id: int) -> User:
    require(session, actor, "user", "manage")
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No such user.")
    return user


def _active_admins(session: Session) -> int:
    return session.exec(
        select(func.count()).where(User.role == Role.admin.value, User.is_active.is_(True))
    ).one()


def change_role(
    session: Session,
    *,
    actor: User,
    user_id: int,
    role: str,
    version: int | None = None,
    ip: str | None = None,
) -> User:
    """Give a user another role; the last active admin cannot be demoted."""
    user = _get_for_manage(session, actor, user_id)
    if role not in ROLES:
        raise ValidationFailed.for_field("role", "Pick a role.")
    if version is not None and version != user.version:
        raise StaleVersion()
    if user.role == role:
        return user
    if user.role == Role.admin and user.is_active and _active_admins(session) <= 1:
        raise Forbidden("The workspace needs at least one active admin.")
    before = user.role
    user.role = role
    _touch(user)
    session.add(user)
    audit.record(
        session,
        actor=actor,
        action="role_change",
        entity="user",
        entity_id=user.id,
        changes={"role": [before, role]},
        ip=ip,
    )
    return user


def set_active(
    session: Session, *, actor: User, user_id: int, active: bool, ip: str | None = None
) -> User:
    """Deactivate (ending their sessions at once) or reactivate a user."""
    user = _get_for_manage(session, actor, user_id)
    if user.is_active == active:
        return user
    if not active and user.id == actor.id:
        raise Forbidden("You cannot deactivate yourself.")
    if not active and user.role == Role.admin and _active_admins(session) <= 1:
        raise Forbidden("The workspace needs at least one active admin.")
    user.is_active = active
    _touch(user)
    session.add(user)
    if not active:
        end_all_sessions(session, user_id=user.id)
    audit.record(
        session,
        actor=actor,
        action="deactivate" if not active else "reactivate",
        entity="user",
        entity_id=user.id,
        changes={"is_active": [not active, active]},
        ip=ip,
    )
    return user


def update_profile(session: Session, *, actor: User, name: str, timezone: str) -> User:
    """Change one's own display name and time zone."""
    from zoneinfo import available_timezones

    user = session.get(User, actor.id, with_for_update=True)
    if user is None:
        raise NotFound()
    _, name = validate_user_fields(email=user.email, name=name, role=user.role)
    if timezone not in available_timezones():
        raise ValidationFailed.for_field("timezone", "Pick a time zone from the list.")
    changes = audit.diff(
        {"name": user.name, "timezone": user.timezone}, {"name": name, "timezone": timezone}
    )
    user.name, user.timezone = name, timezone
    _touch(user)
    session.add(user)
    if changes:
        audit.record(
            session, actor=actor, action="update", entity="user", entity_id=user.id, changes=changes
        )
    return user


def change_password(
    session: Session, *, actor: User, current: str, new: str, keep_token: str | None
) -> None:
    """Change one's own password; every other session ends."""
    from crm_app.auth.passwords import verify_password

    user = session.get(User, actor.id, with_for_update=True)
    if user is None or not verify_password(user.password_hash, current):
        raise ValidationFailed.for_field("current_password", "The current password is wrong.")
    problem = password_problem(new, email=user.email, name=user.name)
    if problem:
        raise ValidationFailed.for_field("new_password", problem)
    user.password_hash = hash_password(new)
    _touch(user)
    session.add(user)
    end_all_sessions(session, user_id=user.id, except_token=keep_token)
    audit.record(session, actor=actor, action="password_changed", entity="user", entity_id=user.id)


def change_email(
    session: Session,
    *,
    actor: User,
    user_id: int,
    email: str,
    current_password: str | None = None,
    keep_token: str | None = None,
    ip: str | None = None,
) -> User:
    """Change a user's sign-in e-mail. One's own needs the current password and ends every
    other session (this browser's, `keep_token`, stays); an admin changing someone else's
    ends all of that user's sessions, so whoever holds them signs in with the new e-mail."""
    from crm_app.auth.passwords import verify_password

    own = user_id == actor.id
    if own:
        user = session.get(User, actor.id, with_for_update=True)
        if user is None or not verify_password(user.password_hash, current_password or ""):
            raise ValidationFailed.for_field("current_password", "The current password is wrong.")
    else:
        user = _get_for_manage(session, actor, user_id)
    email, _ = validate_user_fields(email=email, name=user.name, role=user.role)
    if email == user.email:
        return user
    taken = find_user_by_email(session, email)
    if taken is not None and taken.id != user.id:
        raise Conflict("A user with this e-mail already exists.", [FieldError("email", "Taken.")])
    before = user.email
    user.email = email
    _touch(user)
    session.add(user)
    end_all_sessions(session, user_id=user.id, except_token=keep_token if own else None)
    audit.record(
        session,
        actor=actor,
        action="email_changed",
        entity="user",
        entity_id=user.id,
        changes={"email": [before, email]},
        ip=ip,
    )
    return user


def list_teams(session: Session) -> list[Team]:
    """Every team, by name."""
    return list(session.exec(select(Team).order_by(Team.name)).all())


def _touch(user: User) -> None:
    user.updated_at = utcnow()
    user.version = (user.version or 0) + 1


__all__ = [
    "ROLES",
    "UserRow",
    "change_email",
    "change_password",
    "change_role",
    "create_user",
    "list_teams",
    "list_users",
    "normalize_email",
    "set_active",
    "update_profile",
    "validate_user_fields",
]


def colleagues(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every active user, by name: whom a meeting can invite. Any signed-in
    user sees their colleagues' names (on records, owners and the timeline) anyway."""
    query = select(User.id, User.name).where(User.is_active.is_(True))
    rows = session.execute(query.order_by(func.lower(User.name), User.id))
    return [(user_id, name) for user_id, name in rows]
