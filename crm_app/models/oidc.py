"""Single sign-on: the provider identities linked to users, and sign-ins in progress."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel, UTCDateTime

from crm_app.models.base import utcnow


class UserIdentity(SQLModel, table=True):
    """A user's account at an OpenID provider. The pair (issuer, subject) identifies the
    person; the e-mail is kept only as it was when the identity was linked, since a provider
    lets people change it."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_user_identities_issuer"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OidcLogin(SQLModel, table=True):
    """A sign-in (or a connection from a profile) sent to the provider and not yet back: its
    state (stored hashed), the nonce and PKCE verifier the answer must match, and where to go
    afterwards. Used once."""

    __tablename__ = "oidc_logins"

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(max_length=64, unique=True)
    nonce: str = Field(max_length=128)
    code_verifier: str = Field(max_length=128)
    next_path: str = Field(default="/", max_length=2000)
    # Set when a signed-in user connects their provider account from their profile: the
    # answer links that account to this user instead of signing anyone in.
    link_user_id: int | None = Field(
        default=None, foreign_key="users.id", ondelete="CASCADE", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
