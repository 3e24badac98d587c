"""The activities calendar as a Reflex component (`calendar.jsx`)."""

from __future__ import annotations

from typing import Any

import reflex as rx


class ActivityCalendar(rx.NoSSRComponent):
    """A grid of days with their tasks and meetings, which can be moved to other days."""

    library = f"$/public{rx.asset('calendar.jsx', shared=True)}"
    tag = "ActivityCalendar"

    # [{date, number, label, inMonth, today, items: [{id, kind, title, time, when, href, done,
    #   movable}]}]
    days: rx.Var[list[dict[str, Any]]]
    # bumped by the server to undo a refused move
    version: rx.Var[int]
    weekdays: rx.Var[list[str]]
    min_height: rx.Var[str]
    # (activity id, ISO day)
    on_move: rx.EventHandler[lambda item_id, day: [item_id, day]]


activity_calendar = ActivityCalendar.create
