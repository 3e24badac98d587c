"""API keys: bearer credentials that act as the user who owns them."""

from datetime import datetime

from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import utcnow


class ApiKey(SQLModel, table=True):
    """A REST API key; only its hash is stored, the key is shown once."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16, index=True)  # shown in lists to tell keys apart
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
