"""A rate limiter over PostgreSQL, shared by every backend process and worker.

Each `hit` counts one request of a key (a client address, an e-mail, an API key id) in a
bucket (what is being limited: "sign_in_ip", "api_key"...) and says whether it may go on.

How it counts: a *sliding window estimate* over fixed windows. Every bucket/key has one
counter row per fixed window of `window` seconds (aligned on the epoch). A hit is allowed when
the previous window's count, weighted by the share of it still inside the sliding window, plus
the current window's count, plus this hit, is at most `limit`. This smooths out the burst of
twice the limit that a plain fixed window allows across a boundary, with two small rows per key.

How it is atomic across processes: the increment is one `INSERT ... ON CONFLICT DO UPDATE ...
WHERE hits + 1 <= cap RETURNING hits`; PostgreSQL locks the row and re-checks the condition,
so concurrent hits never overshoot. A refused hit is not counted: a client that waits the
`Retry-After` it was given gets through.

Transactions: the counter changes in the caller's session, so they last only if the caller
commits. Services that refuse something (a wrong password, a wrong code) must still commit
the hit, as `auth.sign_in` does by returning its failure instead of raising. The counter row
stays locked until that commit: on a hot path (every API request) count in a short
transaction of its own so concurrent requests of one key do not queue behind each other.

Keys are stored as a SHA-256 hash: the table holds no e-mail or address. `purge_expired`
(a periodic job) deletes the counters of windows that no longer matter.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, text
from sqlmodel import Session

from crm_app.models import RateLimitCounter
from crm_app.models.base import utcnow
from crm_app.services.errors import RateLimited

_COUNT = text(
    """
    INSERT INTO rate_limit_counters (bucket, key_hash, window_start, hits, expires_at)
    SELECT :bucket, :key_hash, :window_start, 1, :expires_at
    WHERE CAST(:cap AS double precision) >= 1
    ON CONFLICT (bucket, key_hash, window_start)
    DO UPDATE SET hits = rate_limit_counters.hits + 1
    WHERE rate_limit_counters.hits + 1 <= CAST(:cap AS double precision)
    RETURNING hits
    """
)
_SLACK = 1e-6


@dataclass(frozen=True)
class RetryAfter:
    """A refused hit: the whole seconds to wait before the next one is allowed."""

    seconds: int


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _hits(session: Session, bucket: str, key_hash: str, window_start: datetime) -> int:
    found = session.execute(
        select(RateLimitCounter.hits).where(
            RateLimitCounter.bucket == bucket,
            RateLimitCounter.key_hash == key_hash,
            RateLimitCounter.window_start == window_start,
        )
    ).scalar_one_or_none()
    return found or 0


def seconds_to_wait(
    *, previous: int, current: int, limit: int, window: float, elapsed: float
) -> float:
    """How long until one more hit fits, given the previous and the current window's counts
    and how far (`elapsed` seconds) into the current window we are."""
    room = limit - current - 1
    if room >= 0 and previous > room:
        # Later in this window, when less of the previous one still weighs.
        share_gone = 1 - room / previous
        if share_gone < 1:
            return max(0.0, share_gone * window - elapsed)
    # In the next window this one becomes the previous, starting at full weight.
    into_next = window * (1 - (limit - 1) / current) if current > limit - 1 else 0.0
    return (window - elapsed) + max(0.0, into_next)


def hit(
    session: Session,
    *,
    bucket: str,
    key: str | None,
    limit: int,
    window: timedelta,
    now: datetime | None = None,
) -> RetryAfter | None:
    """Count one hit of `key` in `bucket`; None when it is within `limit` per `window`,
    otherwise how long to wait (the refused hit is not counted). A None key (an unknown
    client address) is not limited."""
    if key is None:
        return None
    now = now or utcnow()
    size = max(1, int(window.total_seconds()))
    epoch = now.timestamp()
    start_ts = math.floor(epoch / size) * size
    elapsed = epoch - start_ts
    start = datetime.fromtimestamp(start_ts, UTC)
    key_hash = _key_hash(key)
    previous = _hits(session, bucket, key_hash, start - timedelta(seconds=size))
    # A hair of slack so the hit at exactly the promised second is not refused by rounding.
    cap = limit - previous * (1 - elapsed / size) + _SLACK
    counted = session.execute(
        _COUNT,
        {
            "bucket": bucket,
            "key_hash": key_hash,
            "window_start": start,
            "expires_at": start + timedelta(seconds=2 * size),
            "cap": cap,
        },
    ).first()
    if counted is not None:
        return None
    current = _hits(session, bucket, key_hash, start)
    wait = seconds_to_wait(
        previous=previous, current=current, limit=limit, window=size, elapsed=elapsed
    )
    return RetryAfter(max(1, math.ceil(wait - _SLACK)))


def wait_phrase(seconds: int) -> str:
    """'1 second', '45 seconds', '15 minutes': how a person reads a wait."""
    if seconds >= 120:
        minutes = math.ceil(seconds / 60)
        return f"{minutes} minutes"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def too_many(retry: RetryAfter, what: str = "attempts") -> RateLimited:
    """The error for a refused hit: 'Too many attempts. Try again in 30 seconds.'"""
    return RateLimited(
        f"Too many {what}. Try again in {wait_phrase(retry.seconds)}.", retry.seconds
    )


def enforce(
    session: Session,
    *,
    bucket: str,
    key: str | None,
    limit: int,
    window: timedelta,
    what: str = "attempts",
) -> None:
    """`hit`, raising RateLimited when refused (for callers that have nothing to commit
    on refusal, since the refused hit is not counted anyway)."""
    retry = hit(session, bucket=bucket, key=key, limit=limit, window=window)
    if retry is not None:
        raise too_many(retry, what)


def purge_expired(session: Session, *, now: datetime | None = None) -> int:
    """Delete the counters of windows too old to weigh on any hit; returns how many."""
    result = session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.expires_at < (now or utcnow()))
    )
    return result.rowcount or 0
