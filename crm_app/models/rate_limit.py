"""Counters of the rate limiter: hits per bucket, key and fixed time window."""

from datetime import datetime

from sqlmodel import Field, SQLModel, UTCDateTime


class RateLimitCounter(SQLModel, table=True):
    """How many hits one key (an address, an e-mail, an API key) made in one window of a
    bucket ("sign_in_ip", "api_key"...). The key is stored hashed: no e-mail or address is
    kept here. A periodic job deletes counters once `expires_at` has passed."""

    __tablename__ = "rate_limit_counters"

    bucket: str = Field(max_length=40, primary_key=True)
    key_hash: str = Field(max_length=64, primary_key=True)  # sha256 hex of the key
    window_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    hits: int = 0
    expires_at: datetime = Field(index=True, sa_type=UTCDateTime)
