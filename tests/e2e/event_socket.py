"""A client for Reflex's event websocket, as a hostile script would use it: any handler of any
state, any payload, with or without the session cookie.

Socket.IO v5 over Engine.IO v4, spoken by hand over `simple_websocket` (installed with
Reflex): python-socketio's own clients need aiohttp or websocket-client for the websocket
transport, and the server accepts no other transport. The protocol used is small: the Engine.IO
open packet, the CONNECT of Reflex's namespace (`40/_event,`), pings answered with pongs, and
`42/_event,["event", ...]` messages both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from typing import Any

from reflex.state import State
from simple_websocket import AioClient, ConnectionClosed

from crm_app import routes
from crm_app.state.base import AppState  # imported here, not in an event loop: see below

# A handler of ours that touches no data and answers with a script only it sends: sent after
# each event, its answer marks the end of that event's answers (one tab's events run in order).
SENTINEL_HANDLER = "sign_out"
# The generic toast Reflex sends when a handler raised (its id in the toast's options).
BACKEND_ERROR = "backend_error"
HOME = {"pathname": "/", "asPath": "/"}
NAMESPACE = "/_event"  # Reflex's Socket.IO namespace, also the socket's path


class _Client(AioClient):
    """simple_websocket's client leaves a frame that came in one read with the handshake's
    answer (here the Engine.IO open packet) unread until more data arrives: read it now."""

    async def _connect(self) -> None:
        await super()._connect()
        self.connected = await self._handle_events()


def app_state_name() -> str:
    """The full name of AppState, the parent of every signed-in page's state.

    State classes register in a context variable Reflex sets on first use: defining them
    inside `asyncio.run` would set it in the loop's copy of the context only, and every state
    imported after the loop would fail.
    """
    return AppState.get_full_name()


def is_sentinel_answer(update: dict[str, Any]) -> bool:
    """Whether an update carries the sentinel's sign-out script."""
    return any(
        event.get("name") == "_call_script"
        and routes.AUTH_SIGN_OUT in str(event.get("payload", {}).get("javascript_code", ""))
        for event in update.get("events") or []
    )


def backend_errors(updates: list[dict[str, Any]]) -> list[str]:
    """The generic error toasts among `updates` (a handler raised on the server)."""
    return [json.dumps(u)[:300] for u in updates if BACKEND_ERROR in json.dumps(u)]


class CutOff(ConnectionError):
    """The server ended this tab's socket (a tab on a signed-in page without a live session
    is sent away: crm_app/state/session_watch.py)."""


RECONNECTS = 50  # a visitor's tab on signed-in pages is cut off every few seconds


class EventSocket:
    """One browser tab: its own client token, optionally a session cookie. Cut off by the
    server, it connects again and sends the event again, as a hostile script would."""

    def __init__(self, base_url: str, *, session_token: str | None = None) -> None:
        self.url = base_url.replace("http://", "ws://", 1)
        self.token = str(uuid.uuid4())
        self.cookie = f"{routes.SESSION_COOKIE}={session_token}" if session_token else None
        self.received: list[dict[str, Any]] = []  # every update, for the leak checks
        self._updates: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._ws: _Client | None = None
        self._reader: asyncio.Task | None = None
        self.reconnects = 0

    async def __aenter__(self) -> EventSocket:
        await self._connect()
        return self

    async def _connect(self) -> None:
        self._updates = asyncio.Queue()
        headers = [("Cookie", self.cookie)] if self.cookie else []
        self._ws = await _Client.connect(
            f"{self.url}{NAMESPACE}/?EIO=4&transport=websocket&token={self.token}", headers=headers
        )
        opened = await self._ws.receive(timeout=10)
        assert opened and opened.startswith("0"), f"no Engine.IO open packet: {opened!r}"
        # Like a browser tab, hydrate on connect (the event rides in the CONNECT packet): a
        # tab's first other event would otherwise rehydrate and run the claimed page's on_load.
        hydrate = {"name": f"{State.get_full_name()}.hydrate", "payload": {}, "router_data": HOME}
        await self._ws.send(f"40{NAMESPACE}," + json.dumps({"event": hydrate}))
        connected = await self._ws.receive(timeout=10)
        assert connected and connected.startswith(f"40{NAMESPACE},"), f"refused: {connected!r}"
        self._reader = asyncio.create_task(self._read(self._ws, self._updates))

    async def _reconnect(self) -> None:
        self.reconnects += 1
        if self.reconnects > RECONNECTS:
            msg = f"cut off more than {RECONNECTS} times"
            raise ConnectionError(msg)
        await self.__aexit__(None, None, None)
        await self._connect()

    async def __aexit__(self, *exc_info) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None and self._ws.connected:
            with contextlib.suppress(ConnectionClosed):
                await self._ws.close()

    async def _read(self, ws: _Client, updates: asyncio.Queue) -> None:
        try:
            while True:
                packet = await ws.receive()
                if packet is None:
                    continue
                if packet == "2":  # Engine.IO ping
                    await ws.send("3")
                elif packet.startswith(f"41{NAMESPACE}"):  # the server left the namespace
                    break
                elif packet.startswith(f"42{NAMESPACE},"):
                    name, *args = json.loads(packet[len(NAMESPACE) + 3 :])
                    if name == "event" and args:
                        self.received.append(args[0])
                        await updates.put(args[0])
        except ConnectionClosed:
            pass
        finally:
            await updates.put(None)  # cut off

    async def send(self, name: str, payload: dict[str, Any], router_data: dict[str, Any]) -> None:
        """Fire one event without waiting for its answers."""
        assert self._ws is not None
        event = {"name": name, "payload": payload, "router_data": router_data}
        await self._ws.send(f"42{NAMESPACE}," + json.dumps(["event", event]))

    async def call(
        self,
        name: str,
        payload: dict[str, Any],
        router_data: dict[str, Any],
        *,
        timeout: float = 60,
    ) -> list[dict[str, Any]]:
        """Fire one event and return the updates it caused (up to the sentinel's answer); a
        tab cut off on the way connects again and fires it again."""
        while True:
            try:
                return await self._call_once(name, payload, router_data, timeout=timeout)
            except CutOff:
                await self._reconnect()

    async def _call_once(
        self, name: str, payload: dict[str, Any], router_data: dict[str, Any], *, timeout: float
    ) -> list[dict[str, Any]]:
        try:
            await self.send(name, payload, router_data)
            await self.send(f"{app_state_name()}.{SENTINEL_HANDLER}", {}, router_data)
        except ConnectionClosed as error:
            raise CutOff(str(error)) from None
        # The sentinel handler answers like the sentinel: wait for both answers then.
        expected = 2 if name.endswith(f".{SENTINEL_HANDLER}") else 1
        updates: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(timeout):
                await self._collect(updates, expected, name)
        except TimeoutError:
            msg = f"no answer within {timeout}s to {name}({json.dumps(payload)[:200]})"
            raise TimeoutError(msg) from None
        return updates

    async def _collect(self, updates: list[dict[str, Any]], expected: int, name: str) -> None:
        while expected:
            update = await self._updates.get()
            if update is None:
                msg = f"the server cut the socket off while {name} ran"
                raise CutOff(msg)
            if is_sentinel_answer(update):
                expected -= 1
                # the sentinel may share an update with what the event still changed
                update = {**update, "events": [e for e in update["events"] if not _sentinel(e)]}
            updates.append(update)


def _sentinel(event: dict[str, Any]) -> bool:
    return is_sentinel_answer({"events": [event]})
