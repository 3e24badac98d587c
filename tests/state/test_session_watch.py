"""The open-tab watcher: sockets on signed-in pages whose session ended are sent to sign in and
cut off; live sessions and public pages are left alone (the browser test drives it for real)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from crm_app import routes
from crm_app.services import auth, session_list
from crm_app.state import session_watch
from crm_app.state.auth import LoginState
from crm_app.state.base import AppState
from crm_app.state.session_watch import SessionWatch
from tests.loop import run_in_own_loop


class FakeNamespace:
    """What the watcher uses of Reflex's EventNamespace."""

    namespace = "/_event"

    def __init__(self) -> None:
        self._static_router_data: dict[str, dict[str, Any]] = {}
        self.sid_to_token: dict[str, str] = {}
        self.handled: list[str] = []
        self.emitted: list[tuple[str, Any]] = []

    async def on_event(self, sid: str, data: Any) -> None:
        self.handled.append(sid)

    async def emit_update(self, update: Any, token: str) -> None:
        self.emitted.append((token, update))


class FakeSio:
    def __init__(self) -> None:
        self.disconnected: list[str] = []

    async def disconnect(self, sid: str, namespace: str | None = None) -> None:
        self.disconnected.append(sid)


class FakeApp:
    def __init__(self) -> None:
        self.event_namespace = FakeNamespace()
        self.sio = FakeSio()

    def get_load_events(self, path: str) -> list[Any]:
        return [LoginState.redirect_if_signed_in] if path == routes.LOGIN else [AppState.guard]


@pytest.fixture
def watch(db, monkeypatch) -> SessionWatch:
    # The sessions of a test live in its uncommitted transaction: ask through it.
    monkeypatch.setattr(
        session_watch, "_live_hashes", lambda hashes: session_list.live_token_hashes(db, hashes)
    )
    monkeypatch.setattr(session_watch, "GRACE_SECONDS", 0)
    watch = SessionWatch(FakeApp())  # type: ignore[arg-type]
    watch.install()
    return watch


def connect(watch: SessionWatch, sid: str, token: str | None, path: str) -> None:
    """A socket whose handshake carried `token` and whose tab sent an event from `path`."""
    cookie = f"other=1; {routes.SESSION_COOKIE}={token}" if token else "other=1"
    namespace = watch.namespace
    namespace._static_router_data[sid] = {"headers": {"cookie": cookie}}
    namespace.sid_to_token[sid] = f"tab-{sid}"
    run_in_own_loop(namespace.on_event(sid, {"name": "x", "router_data": {"pathname": path}}))


async def check_and_let_closes_run(watch: SessionWatch) -> int:
    sent = await watch.check_once()
    await asyncio.sleep(0.01)
    return sent


def test_a_tab_whose_session_ended_is_sent_to_sign_in_and_cut_off(watch, db, people):
    live = auth.start_session(db, user=people.bob)
    ended = auth.start_session(db, user=people.bob)
    db.flush()
    auth.sign_out(db, token=ended)
    connect(watch, "a", live, "/contacts")
    connect(watch, "b", ended, "/deals/12")

    assert run_in_own_loop(check_and_let_closes_run(watch)) == 1

    [(token, update)] = watch.namespace.emitted
    assert token == "tab-b"
    assert update.events[0].name == "_call_script"
    assert "/login?next=" in update.events[0].payload["javascript_code"]
    assert watch.app.sio.disconnected == ["b"]
    # whatever it sends now is not served
    handled_before = len(watch.namespace.handled)
    run_in_own_loop(watch.namespace.on_event("b", {"router_data": {"pathname": "/contacts"}}))
    assert len(watch.namespace.handled) == handled_before


def test_a_deactivated_users_tab_is_sent_away(watch, db, people):
    token = auth.start_session(db, user=people.carol)
    db.flush()
    people.carol.is_active = False
    db.flush()
    connect(watch, "c", token, "/")

    assert run_in_own_loop(check_and_let_closes_run(watch)) == 1


def test_tabs_on_public_pages_and_live_sessions_are_left_alone(watch, db, people):
    token = auth.start_session(db, user=people.bob)
    db.flush()
    connect(watch, "live", token, "/contacts")
    connect(watch, "signing-in", "an-old-revoked-token", routes.LOGIN)

    assert run_in_own_loop(check_and_let_closes_run(watch)) == 0
    assert watch.namespace.emitted == []


def test_a_tab_on_a_signed_in_page_with_no_session_cookie_is_sent_away(watch, db, people):
    connect(watch, "anon", None, "/reports")

    assert run_in_own_loop(check_and_let_closes_run(watch)) == 1


def test_disconnected_sockets_are_forgotten(watch, db, people):
    connect(watch, "gone", None, "/reports")
    del watch.namespace._static_router_data["gone"]

    assert run_in_own_loop(check_and_let_closes_run(watch)) == 0
    assert "gone" not in watch.paths
