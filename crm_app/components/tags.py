"""Tags as chips with remove buttons, and an input that suggests tags as one types."""

from __future__ import annotations

from typing import Any

import reflex as rx


def _chip(state: Any, name: rx.Var, editable: rx.Var | bool) -> rx.Component:
    return rx.badge(
        rx.icon("tag", size=12),
        name,
        rx.cond(
            editable,
            rx.icon_button(
                rx.icon("x", size=12),
                variant="ghost",
                size="1",
                color_scheme="gray",
                aria_label="Remove tag " + name,
                on_click=state.drop_tag(name),
                type="button",
            ),
        ),
        variant="soft",
        size="2",
        radius="full",
        role="listitem",
    )


def _suggestions(state: Any) -> rx.Component:
    return rx.cond(
        state.tag_suggestions.length() > 0,
        rx.flex(
            rx.text("Suggestions:", size="1", color_scheme="gray"),
            rx.foreach(
                state.tag_suggestions,
                lambda s: rx.button(
                    rx.icon("plus", size=12),
                    s,
                    type="button",
                    variant="outline",
                    size="1",
                    aria_label="Add tag " + s,
                    on_click=state.pick_tag(s),
                ),
            ),
            gap="0.375rem",
            wrap="wrap",
            align="center",
            role="group",
            aria_label="Suggested tags",
        ),
    )


def tag_input(state: Any) -> rx.Component:
    """The "Add a tag" box: Enter adds what was typed, or pick a suggestion."""
    return rx.vstack(
        rx.form(
            rx.debounce_input(
                rx.input(
                    rx.input.slot(rx.icon("tag", size=14)),
                    name="tag",
                    value=state.tag_text,
                    on_change=state.type_tag,
                    on_key_down=state.tag_key,
                    placeholder="Add a tag and press Enter",
                    aria_label="Add a tag",
                    auto_complete="off",
                    max_length=50,
                    width="100%",
                ),
                debounce_timeout=200,
            ),
            on_submit=state.submit_tag,
            reset_on_submit=True,
            width="100%",
            max_width="20rem",
        ),
        _suggestions(state),
        rx.cond(
            state.tag_error != "",
            rx.text(state.tag_error, color_scheme="red", size="2", role="alert"),
        ),
        spacing="2",
        width="100%",
    )


def tag_list(state: Any, editable: rx.Var | bool) -> rx.Component:
    """The tags as chips; those who may edit get a remove button on each."""
    return rx.cond(
        state.tags.length() > 0,
        rx.flex(
            rx.foreach(state.tags, lambda name: _chip(state, name, editable)),
            gap="0.375rem",
            wrap="wrap",
            align="center",
            role="list",
            aria_label="Tags",
        ),
        rx.text("No tags", size="2", color_scheme="gray"),
    )


def tag_editor(state: Any, editable: rx.Var | bool) -> rx.Component:
    """Chips, and for those who may edit, the input to add more."""
    return rx.vstack(
        tag_list(state, editable),
        rx.cond(editable, tag_input(state)),
        spacing="2",
        width="100%",
    )
