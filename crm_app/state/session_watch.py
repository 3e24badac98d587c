"""Open tabs leave within seconds when their session ends: revoked (signed out elsewhere,
ended on the sessions page, password changed or reset), expired, or its user deactivated.

Every event handler already re-checks the session (AppState._actor_session), so no data
leaks from a dead session's tab; this is about the tab leaving promptly instead of showing
stale pages until its next click, and about the server no longer serving its websocket.

Design (a Reflex lifespan task, `watch_sessions`, one per backend process):
- Reflex keeps, per connected socket (`sid`), the handshake's headers in
  `EventNamespace._static_router_data[sid]` (computed once at connect); the `Cookie` header
  there names the browser's session (`crm_session`, HttpOnly: the handshake carries it).
- A small wrapper around the namespace's `on_event` remembers the page path each socket last
  sent an event from (every page load sends its on_load events), and drops events from a
  socket that was told to leave.
- Every CHECK_SECONDS the task takes the sockets on *protected* pages (a page is protected
  when its on_load runs an AppState handler, which is how every signed-in page checks the
  session; the sign-in, reset, invitation and public form pages use plain states), hashes
  their session cookies and asks the database, in one query, which are still live
  (`session_list.live_token_hashes`, read-only: watching does not keep a session awake).
- A socket whose session is dead is sent a StateUpdate holding one `call_script` event that
  replaces the page with /login?next=<where it was> (a full load: nothing of the old page
  stays in the tab's memory, and the new page opens a fresh socket, which the sign-in page
  needs); GRACE_SECONDS later the server disconnects the old socket, whether or not the
  browser obeyed. A server-side disconnect is not retried by Reflex's client.

So a tab leaves within CHECK_SECONDS + one round trip of the change (about 2-3 s; the
browser test measures it). With several backend processes each watches its own sockets.
A fresh load of a protected page with a dead cookie needs none of this: its on_load
redirects to sign in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from reflex.event import Event
from reflex.state import StateUpdate

from crm_app import routes
from crm_app.auth.tokens import hash_token
from crm_app.db import get_engine
from crm_app.services import session_list
from crm_app.state.base import session_token_in

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
# Between telling a tab to leave and closing its socket: time for the browser to navigate.
GRACE_SECONDS = 1.5
LEAVE_SCRIPT = (
    f"window.location.replace('{routes.LOGIN}?next=' + "
    "encodeURIComponent(window.location.pathname + window.location.search))"
)


def _live_hashes(token_hashes: set[str]) -> set[str]:
    from sqlmodel import Session

    with Session(get_engine()) as session:
        return session_list.live_token_hashes(session, token_hashes)


class SessionWatch:
    """The open sockets of this process, where their tabs are, and which were sent away."""

    def __init__(self, app: rx.App) -> None:
        self.app = app
        self.paths: dict[str, str] = {}  # sid -> path of the page it last sent an event from
        self.sent_away: set[str] = set()
        self._protected: dict[str, bool] = {}  # path -> whether its page needs a session
        self._closing: set[asyncio.Task] = set()

    @property
    def namespace(self) -> Any:
        return self.app.event_namespace

    def install(self) -> None:
        """Wrap the namespace's event handler to learn each socket's page."""
        original = self.namespace.on_event

        async def on_event(sid: str, data: Any) -> None:
            if sid in self.sent_away:
                return  # told to leave: served no more, whatever it sends
            router_data = data.get("router_data") if isinstance(data, dict) else None
            path = router_data.get("pathname") if isinstance(router_data, dict) else None
            if isinstance(path, str):
                self.paths[sid] = path[:2000]
            await original(sid, data)

        # python-socketio looks handlers up on the instance (`getattr(ns, "on_event")`), and
        # Reflex's on_connect calls `self.on_event` for the boot event: both reach this.
        self.namespace.on_event = on_event

    def is_protected(self, path: str) -> bool:
        """Whether the page at `path` is for signed-in users (its on_load is AppState's)."""
        from crm_app.state.base import AppState

        known = self._protected.get(path)
        if known is None:
            handlers = [
                getattr(event, "handler", event) for event in self.app.get_load_events(path)
            ]
            known = any(
                isinstance(getattr(handler, "state", None), type)
                and issubclass(handler.state, AppState)
                for handler in handlers
            )
            if len(self._protected) < 10_000:  # paths with ids: bounded cache
                self._protected[path] = known
        return known

    def _watched(self) -> dict[str, str]:
        """sid -> session token hash ("" for none) of the sockets on protected pages."""
        connected = self.namespace._static_router_data
        for sid in [s for s in self.paths if s not in connected]:
            del self.paths[sid]
        self.sent_away &= set(connected)
        watched = {}
        for sid, static in list(connected.items()):
            path = self.paths.get(sid)
            if sid in self.sent_away or path is None or not self.is_protected(path):
                continue
            token = session_token_in((static.get("headers") or {}).get("cookie"))
            watched[sid] = hash_token(token) if token else ""
        return watched

    async def check_once(self) -> int:
        """Send away the tabs whose session ended; returns how many."""
        watched = self._watched()
        if not watched:
            return 0
        live = await asyncio.to_thread(_live_hashes, set(watched.values()) - {""})
        dead = [sid for sid, token_hash in watched.items() if token_hash not in live]
        for sid in dead:
            await self.send_away(sid)
        return len(dead)

    async def send_away(self, sid: str) -> None:
        """Tell the tab to load the sign-in page, then close its socket."""
        self.sent_away.add(sid)
        token = self.namespace.sid_to_token.get(sid)
        if token is not None:
            events = Event.from_event_type(rx.call_script(LEAVE_SCRIPT))
            with contextlib.suppress(Exception):
                await self.namespace.emit_update(StateUpdate(events=events), token)
        task = asyncio.create_task(self._close_later(sid), name=f"session_watch_close|{sid}")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close_later(self, sid: str) -> None:
        await asyncio.sleep(GRACE_SECONDS)
        if self.app.sio is not None:
            await self.app.sio.disconnect(sid, namespace=self.namespace.namespace)

    async def run(self) -> None:
        """Check every CHECK_SECONDS until cancelled; a failed check is logged, not fatal."""
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                await self.check_once()
            except Exception:
                log.exception("Checking the sessions of open tabs failed")


@contextlib.asynccontextmanager
async def watch_sessions(app: rx.App) -> AsyncIterator[None]:
    """Reflex lifespan task: send away open tabs whose session ended, for as long as the
    backend runs."""
    if app.event_namespace is None:
        yield
        return
    watch = SessionWatch(app)
    watch.install()
    task = asyncio.create_task(watch.run(), name="session_watch")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
