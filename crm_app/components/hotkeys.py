"""Single-letter keyboard shortcuts for a page, and Ctrl+Enter to submit a form
(`hotkeys.jsx`)."""

from __future__ import annotations

import reflex as rx


class Hotkeys(rx.Component):
    """Calls `on_key` with the letter pressed outside a text field (one of `keys`), then
    focuses `focus_id`; Ctrl+Enter in the form `submit_form_id` submits it."""

    library = f"$/public{rx.asset('hotkeys.jsx', shared=True)}"
    tag = "Hotkeys"

    keys: rx.Var[str]
    focus_id: rx.Var[str]
    submit_form_id: rx.Var[str]
    on_key: rx.EventHandler[lambda key: [key]]


hotkeys = Hotkeys.create
