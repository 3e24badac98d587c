"""Pieces of the contact and company pages and forms: cards, related lists, custom-field
inputs, the tags field, the form's buttons and problems, and the delete confirmation."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app.components.activity import history_card
from crm_app.components.inline_edit import duplicate_warning, field_list, value_input
from crm_app.components.tags import tag_editor, tag_input, tag_list
from crm_app.services.crud import TRASH_DAYS


def section_card(title: str, *children: rx.Component) -> rx.Component:
    """A card with a heading (h3) naming its section."""
    heading_id = "section-" + title.lower().replace(" ", "-")
    return rx.card(
        rx.el.section(
            rx.vstack(
                rx.heading(title, size="4", as_="h3", id=heading_id),
                *children,
                spacing="3",
                width="100%",
            ),
            aria_labelledby=heading_id,
        ),
        width="100%",
    )


def record_layout(main: rx.Component, side: rx.Component, history: rx.Component) -> rx.Component:
    """Fields, then related cards, then the timeline on a phone; on a wide screen the related
    cards form a column on the right of the fields and the timeline under them."""
    return rx.box(
        rx.box(main, grid_area="main", min_width="0"),
        rx.box(side, grid_area="side", min_width="0"),
        rx.box(history, grid_area="history", min_width="0"),
        display="grid",
        grid_template_columns=rx.breakpoints(
            initial="minmax(0, 1fr)", md="minmax(0, 2fr) minmax(0, 1fr)"
        ),
        grid_template_rows=rx.breakpoints(initial="auto", md="auto 1fr"),
        grid_template_areas=rx.breakpoints(
            initial='"main" "side" "history"', md='"main side" "history side"'
        ),
        gap="1rem",
        align_items="start",
        width="100%",
    )


def _related_row(row: Any) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.vstack(
                rx.cond(
                    row.href != "",
                    rx.link(row.title, href=row.href, weight="medium", size="2"),
                    rx.text(row.title, weight="medium", size="2"),
                ),
                rx.cond(row.subtitle != "", rx.text(row.subtitle, size="1", color_scheme="gray")),
                spacing="0",
                min_width="0",
            ),
            rx.spacer(),
            rx.cond(
                row.note != "",
                rx.text(row.note, size="1", color_scheme="gray", white_space="nowrap"),
            ),
            gap="0.5rem",
            align="start",
            width="100%",
        ),
        padding_y="0.375rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def related_card(
    title: str,
    rows: rx.Var,
    total: rx.Var,
    on_more: Any,
    *actions: rx.Component,
    empty: str = "None yet.",
) -> rx.Component:
    """A card listing related records (RelatedRow) with their total and "Show more"."""
    heading_id = "related-" + title.lower().replace(" ", "-")
    return rx.card(
        rx.el.section(
            rx.vstack(
                rx.hstack(
                    rx.heading(title, size="3", as_="h3", id=heading_id),
                    rx.badge(total.to_string(), variant="soft", title=f"{title} in all"),
                    rx.spacer(),
                    *actions,
                    align="center",
                    width="100%",
                ),
                rx.cond(
                    rows.length() > 0,
                    rx.el.ul(
                        rx.foreach(rows, _related_row),
                        list_style="none",
                        margin="0",
                        padding="0",
                        width="100%",
                    ),
                    rx.text(empty, size="2", color_scheme="gray"),
                ),
                rx.cond(
                    rows.length() < total,
                    rx.button(
                        "Show more",
                        variant="ghost",
                        size="1",
                        on_click=on_more,
                        aria_label=f"Show more {title.lower()}",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            aria_labelledby=heading_id,
        ),
        width="100%",
    )


def _custom_input(state: Any, view: Any) -> rx.Component:
    input_id = "field-" + view.key
    error = state.errors.get(view.key, "")
    return rx.vstack(
        rx.el.label(
            view.label,
            rx.cond(view.required, rx.text.span(" (required)", color_scheme="gray")),
            html_for=input_id,
            font_weight="500",
            font_size="0.875rem",
        ),
        value_input(view, view.key, id=input_id, size="3"),
        rx.cond(error != "", rx.text(error, color_scheme="red", size="2", role="alert")),
        spacing="1",
        width="100%",
    )


def custom_inputs(state: Any) -> rx.Component:
    """The entity's custom fields as inputs, named custom.<key>, with their errors."""
    return rx.cond(
        state.custom.length() > 0,
        rx.grid(
            rx.foreach(state.custom, lambda view: _custom_input(state, view)),
            columns=rx.breakpoints(initial="1", sm="2"),
            gap="1rem",
            width="100%",
        ),
    )


def tags_field(state: Any) -> rx.Component:
    """The tags picked for a new record (outside its form: Enter adds a tag, not the record)."""
    return rx.vstack(
        rx.text("Tags", font_weight="500", font_size="0.875rem"),
        tag_list(state, True),
        tag_input(state),
        spacing="2",
        width="100%",
    )


def form_problem(state: Any) -> rx.Component:
    """The summary above a form that has errors."""
    return rx.cond(
        state.form_error != "",
        rx.callout(state.form_error, icon="circle_alert", color_scheme="red", width="100%"),
    )


def form_actions(form_id: str, submit: str, cancel_href: str) -> rx.Component:
    """Cancel and the submit button of the form `form_id` (placed after the tags field)."""
    return rx.hstack(
        rx.button(
            "Cancel",
            type="button",
            variant="soft",
            color_scheme="gray",
            on_click=rx.redirect(cancel_href),
        ),
        rx.button(submit, type="submit", custom_attrs={"form": form_id}),
        justify="end",
        width="100%",
    )


def page_problem(state: Any, content: rx.Component) -> rx.Component:
    """The record's page, or why it cannot be shown."""
    return rx.cond(
        state.problem != "",
        rx.callout(state.problem, icon="triangle_alert", color_scheme="amber", role="alert"),
        content,
    )


def delete_dialog(state: Any, noun: str) -> rx.Component:
    """Asks before moving the record to the trash."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(f"Delete this {noun}?"),
            rx.alert_dialog.description(
                f"The {noun} goes to the trash, where it can be restored for {TRASH_DAYS} days."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Delete", color_scheme="red", on_click=state.delete),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
        open=state.confirm_delete,
        on_open_change=state.close_delete,
    )


def record_body(
    state: Any, *, noun: str, header: rx.Component, first_related: rx.Component
) -> rx.Component:
    """A record's page: header, tags, its fields, the related cards (`first_related` on top,
    then deals and activities), the timeline and the delete dialog."""
    main = rx.vstack(
        section_card("Details", field_list(state, state.fields)),
        rx.cond(
            state.custom.length() > 0, section_card("More fields", field_list(state, state.custom))
        ),
        spacing="4",
        width="100%",
    )
    side = rx.vstack(
        first_related,
        rx.cond(
            state.can_see_deals,
            related_card(
                "Deals", state.deals, state.deals_total, state.more_deals, empty="No deals yet."
            ),
        ),
        rx.cond(
            state.can_see_activities,
            related_card(
                "Activities",
                state.activities,
                state.activities_total,
                state.more_activities,
                empty="No activities yet.",
            ),
        ),
        spacing="4",
        width="100%",
    )
    return rx.vstack(
        header,
        tag_editor(state, state.can_edit),
        record_layout(main, side, history_card(state)),
        delete_dialog(state, noun),
        spacing="4",
        width="100%",
    )


def new_record_form(
    state: Any, fields: rx.Component, *, form_id: str, submit: str, cancel_href: str
) -> rx.Component:
    """The create form of a contact or company: problems, the duplicate warning, its fields and
    custom fields, tags (outside the form, so Enter adds a tag) and the buttons."""
    return rx.card(
        rx.vstack(
            form_problem(state),
            duplicate_warning(state.matches, state.duplicate_message, state.save_anyway),
            rx.form(
                rx.vstack(fields, custom_inputs(state), spacing="4", width="100%"),
                id=form_id,
                on_submit=state.submit,
                reset_on_submit=False,
                no_validate=True,
                key=state.form_key,
            ),
            tags_field(state),
            form_actions(form_id, submit, cancel_href),
            spacing="4",
            width="100%",
        ),
        width="100%",
        max_width="48rem",
    )
