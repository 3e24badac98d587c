"""One typed settings object, read from the environment (and `.env`), failing fast.

`rxconfig.py`, `alembic/env.py`, the CLI and the app all read `get_settings()`.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values that must never protect a production deployment.
KNOWN_DEFAULT_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})


class Settings(BaseSettings):
    """Every setting of the app; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Literal["dev", "prod", "test"] = Field("prod", alias="CRM_ENV")
    port: int = Field(3000, alias="PORT")
    base_url: str = Field("", alias="CRM_BASE_URL")
    database_url: str = Field("", alias="DATABASE_URL")
    data_dir: Path = Field(PROJECT_ROOT / "data", alias="CRM_DATA_DIR")
    secret_key: str = Field("", alias="CRM_SECRET_KEY")
    cors_origins: str = Field("", alias="CRM_CORS_ORIGINS")
    redis_url: str = Field("", alias="REDIS_URL")
    session_idle_hours: int = Field(12, alias="CRM_SESSION_IDLE_HOURS")
    session_max_days: int = Field(30, alias="CRM_SESSION_MAX_DAYS")
    invite_valid_days: int = Field(7, alias="CRM_INVITE_VALID_DAYS")
    reset_valid_minutes: int = Field(60, alias="CRM_RESET_VALID_MINUTES")
    lockout_attempts: int = Field(5, alias="CRM_LOCKOUT_ATTEMPTS")
    lockout_minutes: int = Field(15, alias="CRM_LOCKOUT_MINUTES")
    secure_cookies: bool | None = Field(None, alias="CRM_SECURE_COOKIES")
    worker_in_process: bool = Field(True, alias="CRM_WORKER_IN_PROCESS")
    worker_concurrency: int = Field(1, ge=1, le=8, alias="CRM_WORKER_CONCURRENCY")
    # Reverse proxies in front of the app whose X-Forwarded-For entries are believed; 0 (the
    # default) uses the connection's peer address, which a client cannot forge.
    trusted_proxy_hops: int = Field(0, ge=0, le=10, alias="CRM_TRUSTED_PROXY_HOPS")
    # Rate limits (services/rate_limit.py): requests per minute per API key; sign-in attempts
    # per client address (all e-mails together: an office behind one address) and per e-mail,
    # per 15 minutes.
    api_rate_limit: int = Field(600, ge=1, le=1_000_000, alias="CRM_API_RATE_LIMIT")
    sign_in_ip_limit: int = Field(50, ge=1, le=100_000, alias="CRM_SIGN_IN_IP_LIMIT")
    sign_in_email_limit: int = Field(20, ge=1, le=100_000, alias="CRM_SIGN_IN_EMAIL_LIMIT")
    # Prometheus metrics at /metrics for `Authorization: Bearer <token>`; unset = no /metrics.
    metrics_token: str = Field("", alias="CRM_METRICS_TOKEN")
    # "json": one JSON object a line (with the request id) for log collectors; "text" for people.
    log_format: Literal["text", "json"] = Field("text", alias="CRM_LOG_FORMAT")
    sentry_dsn: str = Field("", alias="SENTRY_DSN")
    # Single sign-on (OpenID Connect): on when the discovery URL and client id are set.
    oidc_discovery_url: str = Field("", alias="CRM_OIDC_DISCOVERY_URL")
    oidc_client_id: str = Field("", alias="CRM_OIDC_CLIENT_ID")
    oidc_client_secret: str = Field("", alias="CRM_OIDC_CLIENT_SECRET")
    oidc_scopes: str = Field("openid email profile", alias="CRM_OIDC_SCOPES")
    oidc_label: str = Field("Single sign-on", max_length=60, alias="CRM_OIDC_LABEL")
    # Let webhooks target loopback, private and link-local addresses (tests, a trusted LAN);
    # off, such targets are refused when saved and when sent (server-side request forgery).
    webhooks_allow_private: bool = Field(False, alias="CRM_WEBHOOKS_ALLOW_PRIVATE")
    # Outgoing e-mail; no SMTP host = development mode: messages are kept in Settings -> Outbox.
    smtp_host: str = Field("", alias="CRM_SMTP_HOST")
    smtp_port: int = Field(587, ge=1, le=65535, alias="CRM_SMTP_PORT")
    smtp_username: str = Field("", alias="CRM_SMTP_USERNAME")
    smtp_password: str = Field("", alias="CRM_SMTP_PASSWORD")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field("starttls", alias="CRM_SMTP_TLS")
    mail_from: str = Field("", alias="CRM_MAIL_FROM")
    mail_rate_per_minute: int = Field(60, ge=1, le=10_000, alias="CRM_MAIL_RATE_PER_MINUTE")

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, value: str) -> str:
        # "*" would let any web page drive a signed-in user's websocket and API.
        if "*" in value:
            msg = "CRM_CORS_ORIGINS lists origins (https://crm.example.com); '*' is refused."
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        if not self.base_url:
            self.base_url = f"http://localhost:{self.port}"
        if self.database_url.startswith("postgresql://"):
            self.database_url = "postgresql+psycopg://" + self.database_url.removeprefix(
                "postgresql://"
            )
        return self

    @property
    def uses_embedded_db(self) -> bool:
        """True when no DATABASE_URL is configured and pgserver runs PostgreSQL under data/."""
        return not self.database_url

    @property
    def sends_mail(self) -> bool:
        """True when an SMTP server is configured; otherwise mail is kept in the outbox."""
        return bool(self.smtp_host)

    @property
    def mail_from_address(self) -> str:
        """The From address of every message: CRM_MAIL_FROM, else crm@<the base URL's host>."""
        if self.mail_from:
            return self.mail_from
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        return f"crm@{host or 'localhost'}"

    @property
    def sso_enabled(self) -> bool:
        """True when single sign-on is configured (a discovery URL and a client id)."""
        return bool(self.oidc_discovery_url and self.oidc_client_id)

    @property
    def imports_dir(self) -> Path:
        """Uploaded CSV files and rejected-row reports (private: never under Reflex's /_upload)."""
        return self.data_dir / "imports"

    @property
    def cookie_secure(self) -> bool:
        """Send the session cookie only over HTTPS when the app is served over HTTPS."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.base_url.startswith("https://")

    @property
    def allowed_origins(self) -> list[str]:
        """Origins allowed to open the event websocket and call the API from a browser."""
        origins = [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]
        return origins or [self.base_url]

    def resolved_secret_key(self) -> str:
        """The secret key: from the environment, else generated once into data/secret_key."""
        if self.secret_key:
            if self.env == "prod" and self.secret_key.lower() in KNOWN_DEFAULT_SECRETS:
                msg = "CRM_SECRET_KEY is a known default; set a random value (or unset it)."
                raise RuntimeError(msg)
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def client_address(peer: str | None, forwarded_for: str | None, hops: int) -> str | None:
    """The client's address: the peer's, or behind `hops` trusted proxies the entry they
    appended to X-Forwarded-For (`hops` from the right); entries further left are the
    client's own word and never trusted. Reflex applies the same rule to the websocket."""
    if hops <= 0 or not forwarded_for:
        return peer
    entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    return entries[-hops] if len(entries) >= hops else peer
