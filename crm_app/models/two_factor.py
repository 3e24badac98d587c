"""One-time recovery codes of two-factor sign-in."""

from datetime import datetime

from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import utcnow


class RecoveryCode(SQLModel, table=True):
    """A code that replaces an authenticator once; only its SHA-256 is stored (the codes are
    random with 60 bits each, and trying them is rate limited)."""

    __tablename__ = "recovery_codes"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
