"""The PostgreSQL rate limiter: a sliding estimate over fixed windows, per bucket and key,
atomic across connections, telling how long to wait, and cleaned up by a periodic job."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, delete, select

from crm_app.models import RateLimitCounter
from crm_app.services import rate_limit
from crm_app.services.errors import ErrorCode, RateLimited
from crm_app.services.rate_limit import RetryAfter

MINUTE = timedelta(minutes=1)
# The start of a one-minute window, so tests place hits at known offsets into it.
T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_counters(db):
    """Start from an empty table: API tests commit their keys' counters (they count in a
    transaction of their own); this test's transaction rolls the deletion back."""
    db.exec(delete(RateLimitCounter))


def hit(db, key="203.0.113.7", at=T0, limit=3, window=MINUTE, bucket="test"):
    return rate_limit.hit(db, bucket=bucket, key=key, limit=limit, window=window, now=at)


def test_hits_within_the_limit_pass_and_the_next_is_told_to_wait_for_the_window(db):
    assert [hit(db, at=T0 + timedelta(seconds=s)) for s in (0, 5, 10)] == [None] * 3

    refused = hit(db, at=T0 + timedelta(seconds=20))

    # The estimate takes the three hits as spread over this window: they weigh fully until it
    # ends, 40 s later, and then enough of them until a third of the next one has passed.
    assert refused == RetryAfter(60)


def test_a_client_that_waits_the_retry_after_gets_through(db):
    for s in (0, 5, 10):
        hit(db, at=T0 + timedelta(seconds=s))
    refused = hit(db, at=T0 + timedelta(seconds=30))
    assert refused is not None

    assert hit(db, at=T0 + timedelta(seconds=30 + refused.seconds)) is None


def test_refused_hits_are_not_counted(db):
    for s in (0, 1, 2):
        hit(db, at=T0 + timedelta(seconds=s))
    for s in range(3, 50):
        assert hit(db, at=T0 + timedelta(seconds=s)) is not None

    counter = db.exec(select(RateLimitCounter)).one()
    assert counter.hits == 3


def test_the_previous_window_still_weighs_by_the_share_still_inside_the_sliding_window(db):
    for s in (50, 55, 58):
        hit(db, at=T0 + timedelta(seconds=s))

    # 6 s into the next window, 90% of the previous three still count: 2.7 + 1 > 3.
    refused = hit(db, at=T0 + timedelta(seconds=66))
    assert refused is not None
    # One hit fits once that weight is at most 2, a third of the way in (20 s): 14 s more.
    assert refused == RetryAfter(14)
    assert hit(db, at=T0 + timedelta(seconds=80)) is None


def test_a_burst_across_a_window_boundary_cannot_double_the_limit(db):
    at_end = [hit(db, at=T0 + timedelta(seconds=59)) for _ in range(3)]
    at_start = [hit(db, at=T0 + timedelta(seconds=61)) for _ in range(3)]

    assert at_end == [None] * 3
    assert all(result is not None for result in at_start)


def test_keys_and_buckets_are_limited_apart(db):
    for _ in range(3):
        hit(db)
    assert hit(db) is not None

    assert hit(db, key="198.51.100.1") is None
    assert hit(db, bucket="other") is None


def test_an_unknown_key_is_not_limited(db):
    assert all(hit(db, key=None, limit=1) is None for _ in range(5))


def test_keys_are_stored_hashed(db):
    hit(db, key="ada@example.com")

    counter = db.exec(select(RateLimitCounter)).one()
    assert "ada" not in counter.key_hash
    assert len(counter.key_hash) == 64


def test_concurrent_hits_from_several_connections_never_overshoot(engine):
    key = f"parallel-{datetime.now(UTC).timestamp()}"

    def one_hit(_: int) -> bool:
        with Session(engine) as session:
            result = rate_limit.hit(session, bucket="parallel", key=key, limit=5, window=MINUTE)
            session.commit()
            return result is None

    with ThreadPoolExecutor(max_workers=8) as pool:
        allowed = list(pool.map(one_hit, range(20)))
    try:
        assert allowed.count(True) == 5
    finally:
        with Session(engine) as session:
            session.exec(  # type: ignore[call-overload]
                RateLimitCounter.__table__.delete().where(RateLimitCounter.bucket == "parallel")
            )
            session.commit()


def test_enforce_raises_rate_limited_with_the_wait_in_words(db, monkeypatch):
    monkeypatch.setattr(rate_limit, "utcnow", lambda: T0 + timedelta(seconds=15))
    rate_limit.enforce(db, bucket="test", key="k", limit=1, window=MINUTE)

    with pytest.raises(RateLimited) as caught:
        rate_limit.enforce(db, bucket="test", key="k", limit=1, window=MINUTE)

    assert caught.value.code is ErrorCode.RATE_LIMITED
    # 45 s to the end of this window, then the whole next one while this hit weighs on it.
    assert caught.value.retry_after_seconds == 105
    assert caught.value.message == "Too many attempts. Try again in 105 seconds."


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "1 second"), (59, "59 seconds"), (119, "119 seconds"), (900, "15 minutes")],
)
def test_waits_read_as_a_person_would_say_them(seconds, words):
    assert rate_limit.wait_phrase(seconds) == words


def test_purge_deletes_only_counters_of_windows_that_no_longer_weigh(db):
    hit(db, key="old", at=T0)
    hit(db, key="recent", at=T0 + timedelta(minutes=2))

    purged = rate_limit.purge_expired(db, now=T0 + timedelta(minutes=2, seconds=30))

    assert purged == 1
    remaining = db.exec(select(RateLimitCounter)).one()
    assert remaining.window_start == T0 + timedelta(minutes=2)


# ---- where the limiter is applied ------------------------------------------------------------


def test_sign_in_is_refused_for_a_while_after_too_many_attempts_from_one_address(
    db, people, monkeypatch
):
    from crm_app.services import auth
    from crm_app.settings import get_settings
    from tests.factories import PASSWORD

    monkeypatch.setattr(get_settings(), "sign_in_ip_limit", 3)
    for email in ("nobody@example.com", "carol@example.com", "dave@example.com"):
        auth.sign_in(db, email=email, password="wrong-password", ip="203.0.113.9")

    refused = auth.sign_in(db, email="bob@example.com", password=PASSWORD, ip="203.0.113.9")

    assert isinstance(refused.error, RateLimited)
    assert refused.handoff_code is None
    assert refused.error.message.startswith("Too many attempts. Try again in ")
    other_address = auth.sign_in(db, email="bob@example.com", password=PASSWORD, ip="192.0.2.1")
    assert other_address.handoff_code is not None


def test_sign_in_attempts_per_e_mail_are_limited_from_any_address(db, people, monkeypatch):
    from crm_app.services import auth
    from crm_app.settings import get_settings
    from tests.factories import PASSWORD

    monkeypatch.setattr(get_settings(), "sign_in_email_limit", 2)
    for n in range(2):
        auth.sign_in(db, email="bob@example.com", password=PASSWORD, ip=f"198.51.100.{n}")

    refused = auth.sign_in(db, email="Bob@Example.com", password=PASSWORD, ip="198.51.100.9")

    assert isinstance(refused.error, RateLimited)
    assert auth.sign_in(db, email="carol@example.com", password=PASSWORD).handoff_code


def test_password_reset_requests_are_limited_per_e_mail_alike_for_unknown_ones(db, people):
    from crm_app.services import invitation

    for email in ("bob@example.com", "nobody@example.com"):
        for n in range(invitation.RESET_EMAIL_LIMIT):
            invitation.request_password_reset(db, email=email, ip=f"192.0.2.{n}")
        with pytest.raises(RateLimited) as caught:
            invitation.request_password_reset(db, email=email, ip="192.0.2.99")
        assert caught.value.message.startswith("Too many attempts. Try again in ")


def test_password_reset_requests_are_limited_per_address(db, people):
    from crm_app.services import invitation

    for n in range(invitation.RESET_IP_LIMIT):
        invitation.request_password_reset(db, email=f"someone{n}@example.com", ip="192.0.2.7")

    with pytest.raises(RateLimited):
        invitation.request_password_reset(db, email="bob@example.com", ip="192.0.2.7")
    invitation.request_password_reset(db, email="bob@example.com", ip="192.0.2.8")
