"""Refuse a Reflex event whose arguments do not have the types its handler declares.

Any client can send any event with any payload over the websocket, and Reflex passes a payload
it cannot convert to the handler as it came (a list where the handler expects a form dict, a
dict where it expects a string), where it raises and the user sees a generic error. This
middleware checks each argument of our handlers against the handler's annotations first and
answers a mismatch with a short message, so no handler runs on arguments of the wrong type.
Sessions, permissions and values are still each handler's and service's to check.
"""

from __future__ import annotations

import logging
import re
import types
import typing
from typing import Any

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import StateUpdate
from reflex_base.event import Event
from reflex_base.registry import RegistrationContext
from reflex_base.utils.form import FORM_DATA_ENTRIES_KEY

log = logging.getLogger(__name__)

REFUSED = "This request was not understood. Reload the page and try again."
# Reflex turns a numeric string into the int a handler declares; anything else stays a string.
NUMERIC = re.compile(r"-?\d{1,18}")
# What a browser form sends for one field: text, a checkbox's flag, a number, a multi-select.
FORM_SCALARS = (str, bool, int, float, type(None))


def _is_form_value(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(v, FORM_SCALARS) for v in value)
    return isinstance(value, FORM_SCALARS)


def _is_form_entries(value: Any) -> bool:
    """Whether `value` is how `rx.form` sends its fields: `{FORM_DATA_ENTRIES_KEY: [[name,
    value], ...]}` (Reflex turns it into the dict the handler gets)."""
    if not isinstance(value, dict) or set(value) != {FORM_DATA_ENTRIES_KEY}:
        return False
    entries = value[FORM_DATA_ENTRIES_KEY]
    return isinstance(entries, list) and all(
        isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and _is_form_value(e[1])
        for e in entries
    )


def fits(value: Any, hint: Any) -> bool:
    """Whether `value`, as it came over the websocket, has the declared type `hint`."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, arg) for arg in typing.get_args(hint))
    if hint is None or hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        numeric = isinstance(value, str) and NUMERIC.fullmatch(value) is not None
        return numeric or (isinstance(value, int) and not isinstance(value, bool))
    if hint is float:
        return isinstance(value, int | float | str) and not isinstance(value, bool)
    if hint is str:  # a page may pass a number (a row's id) where the handler takes text
        return isinstance(value, str | int | float) and not isinstance(value, bool)
    if hint is dict or origin is dict:
        if isinstance(value, dict) and FORM_DATA_ENTRIES_KEY in value:
            return _is_form_entries(value)
        return isinstance(value, dict) and all(
            isinstance(k, str) and _is_form_value(v) for k, v in value.items()
        )
    if hint is list or origin is list:
        args = typing.get_args(hint)
        return isinstance(value, list) and all(fits(v, args[0]) for v in value if args)
    return True  # Any, unannotated, or a type Reflex builds itself (uploads)


def mismatched(handler: Any, payload: dict[str, Any]) -> list[str]:
    """The payload's arguments that do not fit the handler's annotations."""
    hints = handler._get_type_hints()  # resolved once per handler, cached by Reflex
    return [name for name, value in payload.items() if not fits(value, hints.get(name, Any))]


class PayloadGuard(Middleware):
    """App middleware (Reflex's documented pre-handler hook): a payload that does not fit its
    handler's annotations gets a message instead of the handler."""

    async def preprocess(self, app: Any, state: Any, event: Event) -> StateUpdate | None:
        """Refuse the event when an argument has the wrong type; otherwise let it run."""
        registered = RegistrationContext.get().event_handlers.get(event.name)
        if registered is None or not registered.handler.fn.__module__.startswith("crm_app."):
            return None  # unknown names are Reflex's to refuse; its own handlers are its own
        wrong = mismatched(registered.handler, event.payload)
        if not wrong:
            return None
        log.warning("Refused %s: arguments of the wrong type (%s)", event.name, ", ".join(wrong))
        return StateUpdate(events=Event.from_event_type(rx.toast.error(REFUSED)))
