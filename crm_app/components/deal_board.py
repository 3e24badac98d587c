"""The deals board as a Reflex component: `kanban.jsx` around @hello-pangea/dnd.

The library is maintained, and drags with the mouse, touch and the keyboard, announcing each
step to screen readers. Columns and cards arrive as plain dicts of display strings (the state
formats amounts and dates once, on the server).
"""

from __future__ import annotations

from typing import Any

import reflex as rx


class DealBoard(rx.NoSSRComponent):
    """Columns of deal cards that can be dragged between stages and within a stage."""

    library = f"$/public{rx.asset('kanban.jsx', shared=True)}"
    tag = "DealBoard"
    lib_dependencies: list[str] = ["@hello-pangea/dnd@18.0.1"]

    # [{id, name, count, total, weighted, cards: [{id, name, href, company, amount, owner,
    #   close, days, rotting}]}]
    columns: rx.Var[list[dict[str, Any]]]
    # the won and lost stages a card can be dropped on: [{id, name, kind}]
    drop_zones: rx.Var[list[dict[str, str]]]
    # bumped by the server to undo a refused move (the columns themselves may not change)
    version: rx.Var[int]
    # cards cannot be dragged (the user may not change deals)
    read_only: rx.Var[bool]
    # how often (ms) on_tick fires while the board is shown and the tab visible
    tick_ms: rx.Var[int]

    # (deal id, stage id, id of the card now above it or "", id of the card below or "")
    on_move: rx.EventHandler[
        lambda deal_id, stage_id, above_id, below_id: [deal_id, stage_id, above_id, below_id]
    ]
    # (stage id): show the next cards of a column
    on_more: rx.EventHandler[lambda stage_id: [stage_id]]
    on_tick: rx.EventHandler[lambda: []]


deal_board = DealBoard.create
