"""A user's open sessions: listed with a readable device, ended one at a time or all but this
browser's; a password change ends the others, deactivation ends them all; the open-tab
watcher's one query tells live sessions from dead ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from crm_app.auth.tokens import hash_token
from crm_app.models import AuditEvent, UserSession
from crm_app.models.base import utcnow
from crm_app.services import auth, session_list
from crm_app.services import user as users
from crm_app.services.errors import NotFound, ValidationFailed
from tests.factories import PASSWORD

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0"


def open_session(db, user, user_agent: str = CHROME_LINUX, ip: str = "192.0.2.10") -> str:
    return auth.start_session(db, user=user, ip=ip, user_agent=user_agent)


@pytest.mark.parametrize(
    ("agent", "device"),
    [
        (CHROME_LINUX, "Chrome on Linux"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (EDGE_WINDOWS, "Edge on Windows"),
        (FIREFOX_MAC, "Firefox on macOS"),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
        (None, "Unknown device"),
    ],
)
def test_a_user_agent_reads_as_a_device(agent, device):
    assert session_list.describe_device(agent) == device


def test_the_list_shows_this_browser_first_then_the_others_by_last_seen(db, people):
    laptop = open_session(db, people.bob, CHROME_LINUX, "192.0.2.10")
    phone = open_session(db, people.bob, SAFARI_IPHONE, "198.51.100.4")
    open_session(db, people.carol)
    db.flush()
    phone_row = db.exec(select(UserSession).where(UserSession.token_hash == hash_token(phone)))
    phone_row.one().last_seen_at = utcnow() + timedelta(seconds=5)
    db.flush()

    listed = session_list.list_sessions(db, actor=people.bob, current_token=laptop)

    assert [(s.device, s.ip, s.is_current) for s in listed] == [
        ("Chrome on Linux", "192.0.2.10", True),
        ("Safari on iOS", "198.51.100.4", False),
    ]


def test_ended_expired_and_idle_sessions_are_not_listed(db, people):
    current = open_session(db, people.bob)
    for token, change in (
        (open_session(db, people.bob), {"revoked_at": utcnow()}),
        (open_session(db, people.bob), {"expires_at": utcnow() - timedelta(seconds=1)}),
        (open_session(db, people.bob), {"last_seen_at": utcnow() - timedelta(hours=13)}),
    ):
        db.flush()
        row = db.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).one()
        for name, value in change.items():
            setattr(row, name, value)
    db.flush()

    listed = session_list.list_sessions(db, actor=people.bob, current_token=current)

    assert [s.is_current for s in listed] == [True]


def test_ending_another_session_signs_that_browser_out_and_is_audited(db, people):
    laptop = open_session(db, people.bob)
    phone = open_session(db, people.bob, SAFARI_IPHONE)
    db.flush()
    other = next(
        s
        for s in session_list.list_sessions(db, actor=people.bob, current_token=laptop)
        if not s.is_current
    )

    session_list.end_session(db, actor=people.bob, session_id=other.id, current_token=laptop)

    assert auth.authenticate(db, phone) is None
    assert auth.authenticate(db, laptop).id == people.bob.id
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "session_ended")).one()
    assert event.changes["device"] == ["Safari on iOS", None]


def test_nobody_can_end_someone_elses_session(db, people):
    bobs = open_session(db, people.bob)
    carols = open_session(db, people.carol)
    db.flush()
    carol_session = session_list.list_sessions(db, actor=people.carol, current_token=carols)[0]

    with pytest.raises(NotFound):
        session_list.end_session(
            db, actor=people.bob, session_id=carol_session.id, current_token=bobs
        )

    assert auth.authenticate(db, carols).id == people.carol.id


def test_this_browsers_session_is_ended_by_signing_out_not_from_the_list(db, people):
    laptop = open_session(db, people.bob)
    db.flush()
    this = session_list.list_sessions(db, actor=people.bob, current_token=laptop)[0]

    with pytest.raises(ValidationFailed):
        session_list.end_session(db, actor=people.bob, session_id=this.id, current_token=laptop)


def test_signing_out_all_other_sessions_keeps_this_one(db, people):
    laptop = open_session(db, people.bob)
    others = [open_session(db, people.bob, SAFARI_IPHONE) for _ in range(2)]
    carols = open_session(db, people.carol)

    ended = session_list.end_other_sessions(db, actor=people.bob, current_token=laptop)

    assert ended == 2
    assert all(auth.authenticate(db, token) is None for token in others)
    assert auth.authenticate(db, laptop).id == people.bob.id
    assert auth.authenticate(db, carols).id == people.carol.id


def test_changing_the_password_ends_the_other_sessions_but_not_this_one(db, people):
    laptop = open_session(db, people.bob)
    phone = open_session(db, people.bob, SAFARI_IPHONE)

    users.change_password(
        db, actor=people.bob, current=PASSWORD, new="a-new-long-passphrase-42", keep_token=laptop
    )

    assert auth.authenticate(db, phone) is None
    assert auth.authenticate(db, laptop).id == people.bob.id


def test_deactivating_a_user_ends_all_their_sessions(db, people):
    tokens = [open_session(db, people.bob), open_session(db, people.bob, SAFARI_IPHONE)]

    users.set_active(db, actor=people.alice, user_id=people.bob.id, active=False)

    assert all(auth.authenticate(db, token) is None for token in tokens)
    assert session_list.live_token_hashes(db, {hash_token(t) for t in tokens}) == set()


def test_the_watchers_query_keeps_only_live_sessions_of_active_users(db, people):
    live = open_session(db, people.bob)
    ended = open_session(db, people.bob)
    deactivated = open_session(db, people.dave)
    db.flush()
    auth.sign_out(db, token=ended)
    people.dave.is_active = False
    db.flush()

    found = session_list.live_token_hashes(
        db, {hash_token(live), hash_token(ended), hash_token(deactivated), hash_token("unknown")}
    )

    assert found == {hash_token(live)}


def test_changing_ones_own_e_mail_needs_the_password_and_ends_the_other_sessions(db, people):
    laptop = open_session(db, people.bob)
    phone = open_session(db, people.bob, SAFARI_IPHONE)
    with pytest.raises(ValidationFailed):
        users.change_email(
            db,
            actor=people.bob,
            user_id=people.bob.id,
            email="robert@example.com",
            current_password="wrong-password",
            keep_token=laptop,
        )
    assert auth.authenticate(db, phone) is not None

    users.change_email(
        db,
        actor=people.bob,
        user_id=people.bob.id,
        email="Robert@Example.com",
        current_password=PASSWORD,
        keep_token=laptop,
    )

    assert people.bob.email == "robert@example.com"
    assert auth.authenticate(db, phone) is None
    assert auth.authenticate(db, laptop).id == people.bob.id


def test_an_admin_changing_someones_e_mail_ends_all_their_sessions(db, people):
    tokens = [open_session(db, people.bob), open_session(db, people.bob, SAFARI_IPHONE)]

    users.change_email(db, actor=people.alice, user_id=people.bob.id, email="rob@example.com")

    assert all(auth.authenticate(db, token) is None for token in tokens)
    outcome = auth.sign_in(db, email="rob@example.com", password=PASSWORD)
    assert outcome.handoff_code is not None


def test_an_e_mail_in_use_is_refused_and_a_rep_cannot_change_anothers(db, people):
    from crm_app.services.errors import Conflict, Forbidden

    with pytest.raises(Conflict):
        users.change_email(db, actor=people.alice, user_id=people.bob.id, email="carol@example.com")
    with pytest.raises(Forbidden):
        users.change_email(db, actor=people.bob, user_id=people.carol.id, email="c@example.com")
