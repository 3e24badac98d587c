"""Every Reflex event handler is safe to call directly: a script on the event websocket calls
every handler of every state with hostile arguments, as a visitor and as a viewer, and
changes nothing, learns nothing it may not see, and makes no handler raise.

The handlers are enumerated when the test runs (every state class under crm_app.state), so a
new handler is called too, and a new handler without its session or permission check fails.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import select

from crm_app.models import User
from crm_app.services import auth
from tests.e2e.event_socket import EventSocket, backend_errors
from tests.e2e.hostile import (
    Seeded,
    Target,
    calls,
    changed_tables,
    fingerprint,
    router_data,
    router_paths,
    seed_others,
    state_classes,
    targets,
)
from tests.loop import run_in_own_loop

SOCKETS = 4  # tabs working side by side; one tab's events run one after another
TIME_LIMIT = 300  # seconds for one role's whole run
# Sign-in handlers hash on purpose (argon2) and run on the server's one event loop, so one
# tab's answer may wait on the other tabs' sign-in attempts.
CALL_TIMEOUT = 150


@dataclass
class Run:
    """What one role's run did and received."""

    exercised: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)


def _short(payload: dict[str, Any]) -> str:
    return json.dumps(payload, default=str)[:160]


async def _drive(socket: EventSocket, group: list[Target], seeded: Seeded, me: int, run: Run):
    """One tab's share: each state's handlers in turn, round by round, so a handler that
    remembers an id (ask_delete) is followed by the one that acts on it (confirm_delete)."""
    paths = router_paths(seeded)
    by_state: dict[type, list[Target]] = {}
    for target in group:
        by_state.setdefault(target.state, []).append(target)
    for state_targets in by_state.values():
        payloads = {t.label: calls(t, seeded, me) for t in state_targets}
        rounds = max(len(p) for p in payloads.values())
        for round_ in range(rounds):
            for target in state_targets:
                mine = payloads[target.label]
                if round_ >= len(mine) and target.params:
                    continue
                payload = mine[round_ % len(mine)]
                path = paths[(round_ + len(target.label)) % len(paths)]
                updates = await socket.call(
                    target.event_name, payload, router_data(path, seeded), timeout=CALL_TIMEOUT
                )
                run.exercised.add(target.label)
                run.errors += [
                    f"{target.label}({_short(payload)}) at {path}: {e}"
                    for e in backend_errors(updates)
                ]


async def _run_as(
    base_url: str, every: list[Target], session_token: str | None, seeded: Seeded, me: int
) -> Run:
    run = Run()
    # Whole states per tab: a state's rounds must run in one tab, in order.
    states = sorted({t.state for t in every}, key=lambda s: s.get_full_name())
    groups = [[t for t in every if states.index(t.state) % SOCKETS == n] for n in range(SOCKETS)]
    sockets = [EventSocket(base_url, session_token=session_token) for _ in range(SOCKETS)]
    for socket in sockets:
        await socket.__aenter__()
    try:
        async with asyncio.timeout(TIME_LIMIT):
            await asyncio.gather(
                *(_drive(s, g, seeded, me, run) for s, g in zip(sockets, groups, strict=True))
            )
    finally:
        for socket in sockets:
            run.received += socket.received
            await socket.__aexit__(None, None, None)
    return run


def _leaks(run: Run, marks: list[str]) -> list[str]:
    """Each mark found in what the server sent, with a little of its context."""
    found = []
    for update in run.received:
        dumped = json.dumps(update, default=str)
        for mark in marks:
            if (at := dumped.find(mark)) >= 0:
                found.append(f"{mark}: …{dumped[max(at - 120, 0) : at + 60]}…")
    return found


@pytest.fixture(scope="module")
def seeded(app_server) -> Seeded:
    with app_server.session() as session:
        found = seed_others(session)
        session.commit()
    return found


def _check(
    app_server, every: list[Target], run: Run, before: dict, *, own_rows: dict | None = None
):
    with app_server.session() as session:
        after = fingerprint(session, own_rows=own_rows)
    assert {t.label for t in every} - run.exercised == set(), "handlers never called"
    assert {t.state for t in every} >= {s for s in state_classes() if _has_own_handlers(s)}
    assert changed_tables(before, after) == {}, "the hostile calls changed data"
    assert run.errors == [], f"{len(run.errors)} calls raised on the server:\n" + "\n".join(
        run.errors[:40]
    )
    with app_server.session() as session:
        # the server still serves: a plain query through a fresh connection
        assert session.exec(select(User).limit(1)).first() is not None


def _has_own_handlers(state) -> bool:
    from tests.e2e.hostile import is_ours

    return any(is_ours(h) for h in state.event_handlers.values())


def test_a_visitor_calling_every_handler_changes_and_learns_nothing(app_server, seeded):
    with app_server.session() as session:
        before = fingerprint(session)
    every = targets()  # before the event loop: importing states needs Reflex's context
    started = time.monotonic()
    run = run_in_own_loop(_run_as(app_server.base_url, every, None, seeded, me=0))
    print(f"visitor: {len(run.exercised)} handlers in {time.monotonic() - started:.0f}s")

    assert _leaks(run, seeded.record_marks + seeded.private_marks) == []
    _check(app_server, every, run, before)


def test_a_viewer_calling_every_handler_changes_only_their_own_things_and_sees_no_private_ones(
    app_server, seeded
):
    with app_server.session() as session:
        vic = session.exec(select(User).where(User.email == app_server.viewer_email)).one()
        token = auth.start_session(session, user=vic)
        session.commit()
        me = vic.id
        # What a viewer may change of their own (the profile page, the bell, API keys, saved
        # views): left out of the fingerprint, and their account's role and status checked.
        own_rows = {
            "users": f"id = {me}",
            "sessions": f"user_id = {me}",
            "notifications": f"user_id = {me}",
            "api_keys": f"user_id = {me}",
            "saved_views": f"owner_id = {me} AND NOT is_shared",
            "audit_events": f"actor_id = {me} AND entity IN ('user', 'api_key', 'saved_view')",
        }
        before = fingerprint(session, own_rows=own_rows)
    every = targets()
    started = time.monotonic()
    run = run_in_own_loop(_run_as(app_server.base_url, every, token, seeded, me=me))
    print(f"viewer: {len(run.exercised)} handlers in {time.monotonic() - started:.0f}s")

    assert _leaks(run, seeded.private_marks) == []
    _check(app_server, every, run, before, own_rows=own_rows)
    with app_server.session() as session:
        vic = session.get(User, me)
        assert (vic.role, vic.is_active, vic.team_id) == ("viewer", True, None)
