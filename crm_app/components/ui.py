"""Small shared widgets: labelled fields, selects, hand-over links, access notices."""

from __future__ import annotations

from typing import Any

import reflex as rx

# Hidden on screen, read by screen readers.
VISUALLY_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "padding": "0",
    "margin": "-1px",
    "overflow": "hidden",
    "clip": "rect(0, 0, 0, 0)",
    "white_space": "nowrap",
    "border": "0",
}


def field(
    label: str,
    name: str,
    *,
    type: str = "text",
    error: rx.Var | str = "",
    **props,
) -> rx.Component:
    """A labelled input with its error message underneath (announced to screen readers)."""
    input_id = f"field-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=input_id, font_weight="500", font_size="0.875rem"),
        rx.input(
            id=input_id,
            name=name,
            type=type,
            width="100%",
            size="3",
            aria_invalid=rx.cond(error != "", "true", "false"),
            **props,
        ),
        rx.cond(
            error != "",
            rx.text(error, color_scheme="red", size="2", role="alert"),
        ),
        spacing="1",
        width="100%",
    )


def no_access(what: str) -> rx.Component:
    """Shown instead of a page the user may not open."""
    return rx.callout(
        f"You don't have access to {what}.",
        icon="lock",
        color_scheme="gray",
        role="status",
        width="100%",
    )


def select_field(
    label: str, name: str, items: list[rx.Component], *, default: str, error: rx.Var | str = ""
) -> rx.Component:
    """A labelled select that submits with its form, its error underneath."""
    select_id = f"field-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=select_id, font_weight="500", font_size="0.875rem"),
        rx.select.root(
            rx.select.trigger(id=select_id, width="100%"),
            rx.select.content(*items, position="popper"),
            name=name,
            default_value=default,
            size="3",
        ),
        rx.cond(error != "", rx.text(error, color_scheme="red", size="2", role="alert")),
        spacing="1",
        width="100%",
    )


def link_box(url: rx.Var, note: str) -> rx.Component:
    """A link to hand over by hand: read-only, with a copy button."""
    return rx.vstack(
        rx.el.label("Link", html_for="issued-link", font_weight="500", font_size="0.875rem"),
        rx.hstack(
            rx.input(
                id="issued-link", value=url, read_only=True, width="100%", font_family="monospace"
            ),
            rx.button(
                rx.icon("copy", size=16),
                "Copy",
                on_click=[rx.set_clipboard(url), rx.toast.info("Link copied.")],
            ),
            width="100%",
        ),
        rx.callout(note, icon="info", color_scheme="amber", width="100%"),
        spacing="2",
        width="100%",
    )


def view_switch(name: str, views: list[tuple[str, str]], current: str) -> rx.Component:
    """Links to the views of one thing (label, href), the current one marked."""
    return rx.el.nav(
        rx.hstack(
            *[
                rx.link(
                    rx.button(
                        label,
                        variant="solid" if label == current else "soft",
                        color_scheme="indigo" if label == current else "gray",
                        size="2",
                    ),
                    href=href,
                    aria_current="page" if label == current else None,
                )
                for label, href in views
            ],
            spacing="2",
        ),
        aria_label=name,
    )


def download_link(label: rx.Var | str, url: rx.Var | str, icon: str = "download") -> rx.Component:
    """A link the browser downloads (rx.el.a is a router link: without reload_document it
    would navigate inside the app)."""
    return rx.el.a(
        rx.hstack(rx.icon(icon, size=14), label, spacing="1", align="center"),
        href=url,
        download="",
        reload_document=True,
        color=rx.color("accent", 11),
        font_size="var(--font-size-2)",
        white_space="nowrap",
        width="fit-content",
    )


def confirm_button(
    label: str,
    title: rx.Var | str,
    description: rx.Var | str,
    on_confirm: Any,
    *,
    aria_label: rx.Var | str | None = None,
    color_scheme: str = "gray",
    confirm_label: str | None = None,
    confirm_color: str | None = None,
    size: str = "1",
) -> rx.Component:
    """A soft button that asks `title` (with `description`) in a dialog before running
    `on_confirm`; the dialog's button reads `confirm_label` (by default `label`)."""
    named = {"aria_label": aria_label} if aria_label is not None else {}
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(label, size=size, variant="soft", color_scheme=color_scheme, **named)
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(
                        confirm_label or label,
                        color_scheme=confirm_color or color_scheme,
                        on_click=on_confirm,
                    )
                ),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
    )
