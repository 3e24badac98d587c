"""Fields edited in place, inputs chosen by a field's kind, the company picker, and the
duplicate warning. Every control has a name a screen reader announces."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app.state.views import PICK


def value_input(view: Any, name: rx.Var | str, size: str = "2", **props) -> rx.Component:
    """The input for one field, by its kind; starts with the field's value."""
    common = {"name": name, "width": "100%", "size": size, **props}
    select = rx.select.root(
        rx.select.trigger(width="100%", aria_label=view.label, id=props.get("id")),
        rx.select.content(
            rx.foreach(view.options, lambda o: rx.select.item(o.label, value=o.value)),
            position="popper",
        ),
        name=name,
        default_value=view.value,
        size=size,
    )
    picks = rx.vstack(
        rx.foreach(
            view.options,
            lambda o: rx.text(
                rx.hstack(
                    rx.checkbox(
                        name=_pick_name(name, o.value),
                        default_checked=view.picked.contains(o.value),
                    ),
                    o.label,
                    spacing="2",
                ),
                as_="label",
                size="2",
            ),
        ),
        role="group",
        aria_label=view.label,
        spacing="1",
    )
    typed = {"email": "email", "tel": "tel", "url": "url", "date": "date", "number": "number"}
    return rx.match(
        view.kind,
        ("select", select),
        ("multi_select", picks),
        ("textarea", rx.text_area(default_value=view.value, rows="4", **common)),
        ("money", rx.input(default_value=view.value, input_mode="decimal", **common)),
        *[
            (kind, rx.input(default_value=view.value, type=html, step="any", **common))
            for kind, html in typed.items()
        ],
        rx.input(default_value=view.value, type="text", **common),
    )


def _pick_name(name: rx.Var | str, option: rx.Var) -> rx.Var:
    """Checkbox names of a multi-select: pick:<option> in place, pick:<field>:<option> in
    forms (where `name` is the field's key)."""
    if isinstance(name, str) and name == "value":
        return PICK + option
    return PICK + name + ":" + option


def _display(state: Any, view: Any) -> rx.Component:
    blank = rx.text("—", color_scheme="gray")
    shown = rx.cond(
        view.href != "",
        rx.link(view.display, href=view.href, is_external=view.kind == "url"),
        rx.text(
            view.display,
            white_space="pre-wrap",
            cursor=rx.cond(state.can_edit, "pointer", "auto"),
            on_click=state.start_edit(view.key),
        ),
    )
    return rx.hstack(
        rx.cond(view.display != "", shown, blank),
        rx.cond(
            state.can_edit,
            rx.icon_button(
                rx.icon("pencil", size=14),
                variant="ghost",
                size="1",
                aria_label="Edit " + view.label,
                on_click=state.start_edit(view.key),
            ),
        ),
        align="center",
        spacing="2",
        min_height="1.75rem",
    )


def _edit_buttons(state: Any) -> rx.Component:
    return rx.hstack(
        rx.button("Save", type="submit", size="2"),
        rx.button(
            "Cancel",
            type="button",
            variant="soft",
            color_scheme="gray",
            size="2",
            on_click=state.cancel_edit,
        ),
        spacing="2",
    )


def _editor(state: Any, view: Any) -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.flex(
                rx.box(
                    value_input(
                        view,
                        "value",
                        aria_label=view.label,
                        auto_focus=True,
                        on_key_down=state.edit_key,
                    ),
                    flex="1",
                    min_width="12rem",
                ),
                _edit_buttons(state),
                gap="0.5rem",
                wrap="wrap",
                align="start",
                width="100%",
            ),
            on_submit=state.save_edit,
            reset_on_submit=False,
            width="100%",
        ),
        rx.cond(
            state.edit_matches.length() > 0,
            duplicate_warning(state.edit_matches, state.edit_error, state.save_edit_anyway),
            _error(state.edit_error),
        ),
        spacing="2",
        width="100%",
    )


def inline_field(state: Any, view: Any) -> rx.Component:
    """A label and its value; those who may edit open an editor by clicking the value or
    its Edit button (Enter saves, Escape cancels)."""
    return rx.data_list.item(
        rx.data_list.label(view.label, min_width="9rem"),
        rx.data_list.value(
            rx.cond(
                state.editing == view.key,
                _editor(state, view),
                _display(state, view),
            ),
            width="100%",
        ),
        align="start",
    )


def field_list(state: Any, fields: rx.Var) -> rx.Component:
    """Fields edited in place, as a description list."""
    return rx.data_list.root(
        rx.foreach(fields, lambda view: inline_field(state, view)),
        orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
        size="2",
        width="100%",
    )


def _error(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def record_picker(
    *,
    noun: str,
    query: rx.Var,
    options: rx.Var,
    on_search: Any,
    on_key: Any,
    on_choose: Any,
    label: str,
    auto_focus: bool = False,
    **props,
) -> rx.Component:
    """Search records of one kind ("companies", "contacts") as one types; picking one calls
    `on_choose` with its value."""
    listbox = rx.vstack(
        rx.foreach(
            options,
            lambda c: rx.button(
                c.label,
                type="button",
                variant="ghost",
                role="option",
                width="100%",
                justify="start",
                on_click=on_choose(c.value),
            ),
        ),
        role="listbox",
        aria_label=f"Matching {noun}",
        spacing="1",
        padding="0.25rem",
        position="absolute",
        top="calc(100% + 4px)",
        left="0",
        right="0",
        z_index="10",
        background=rx.color("gray", 1),
        border=f"1px solid {rx.color('gray', 6)}",
        border_radius="var(--radius-3)",
        box_shadow="var(--shadow-4)",
    )
    return rx.box(
        rx.debounce_input(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                value=query,
                on_change=on_search,
                on_key_down=on_key,
                placeholder=f"Search {noun}…",
                aria_label=label,
                auto_complete="off",
                auto_focus=auto_focus,
                width="100%",
                **props,
            ),
            debounce_timeout=250,
        ),
        rx.cond(options.length() > 0, listbox),
        position="relative",
        width="100%",
    )


def company_picker(state: Any, *, label: str, auto_focus: bool = False, **props) -> rx.Component:
    """Search companies as one types; picking one calls the state's `choose_company`."""
    return record_picker(
        noun="companies",
        query=state.company_query,
        options=state.company_options,
        on_search=state.search_companies,
        on_key=state.company_key,
        on_choose=state.choose_company,
        label=label,
        auto_focus=auto_focus,
        **props,
    )


def duplicate_warning(matches: rx.Var, message: rx.Var, on_save_anyway: Any) -> rx.Component:
    """The records the one being saved looks like, each with a link, and "Save anyway"."""
    return rx.cond(
        matches.length() > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon("copy")),
            rx.vstack(
                rx.text(message, weight="medium"),
                rx.el.ul(
                    rx.foreach(
                        matches,
                        lambda m: rx.el.li(
                            rx.link("Open " + m.label, href=m.href),
                            rx.cond(m.detail != "", rx.text.span(" · ", m.detail)),
                        ),
                    ),
                    padding_left="1rem",
                ),
                rx.button(
                    "Save anyway",
                    type="button",
                    variant="outline",
                    color_scheme="amber",
                    on_click=on_save_anyway,
                ),
                spacing="2",
            ),
            color_scheme="amber",
            role="alert",
            width="100%",
        ),
    )
