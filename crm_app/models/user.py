"""Users: the people who sign in, with their role and team."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator
from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import LowerEmail, PublicRecord, TimestampedBase


class Role(StrEnum):
    """What a user may do, refined by the permissions table."""

    admin = "admin"
    manager = "manager"
    rep = "rep"
    viewer = "viewer"


def _known_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone") from None
    return name


TimezoneName = Annotated[str, AfterValidator(_known_timezone)]


class UserBase(SQLModel):
    """Fields an admin (or the user, for their profile) may edit."""

    email: str = Field(max_length=320)
    name: str = Field(min_length=1, max_length=200)
    role: Role = Field(default=Role.rep, sa_type=String)
    # use_alter breaks the users <-> teams cycle so create_all can order the tables
    team_id: int | None = Field(
        default=None,
        index=True,
        sa_column_args=[ForeignKey("teams.id", ondelete="SET NULL", use_alter=True)],
    )
    is_active: bool = True
    timezone: str = Field(default="UTC", max_length=64)


class User(UserBase, TimestampedBase, table=True):
    """A person who signs in; the e-mail is unique case-insensitively."""

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_lower", text("lower(email)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str | None = None  # None until the invitation is accepted
    # AES-GCM ciphertext of the TOTP secret (services/two_factor.py), never the secret itself;
    # set while enrolling, and two-factor is on once `totp_enabled_at` is set.
    totp_secret: str | None = None
    totp_enabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last time step whose code was accepted: a code is refused at or before it (replay).
    totp_last_step: int | None = Field(default=None, sa_type=BigInteger)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    calendar_token_hash: str | None = Field(default=None, max_length=64, unique=True)


class UserCreate(UserBase):
    """New user; without a password they are invited to set one."""

    email: LowerEmail
    timezone: TimezoneName = "UTC"
    password: str | None = Field(default=None, min_length=8, max_length=128)


class UserUpdate(SQLModel):
    """Partial update of a user; unset fields are left alone."""

    email: LowerEmail | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    team_id: int | None = None
    is_active: bool | None = None
    timezone: TimezoneName | None = None


class UserPublic(UserBase, PublicRecord):
    """A user as the API and UI show it: never any secret."""

    last_login_at: datetime | None = None
