"""Pieces of the deal page and form: the contact picker, the stage path with its won and lost
dialogs, the stage history, the contacts involved, and the company and contact links."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app.components.inline_edit import company_picker, record_picker
from crm_app.components.record import section_card
from crm_app.components.ui import VISUALLY_HIDDEN, select_field

LABEL_STYLE = {"font_weight": "500", "font_size": "0.875rem"}


def contact_picker(state: Any, *, label: str, auto_focus: bool = False, **props) -> rx.Component:
    """Search contacts as one types; picking one calls the state's `choose_contact`."""
    return record_picker(
        noun="contacts",
        query=state.contact_query,
        options=state.contact_options,
        on_search=state.search_contacts,
        on_key=state.contact_key,
        on_choose=state.choose_contact,
        label=label,
        auto_focus=auto_focus,
        **props,
    )


# ---- the new-deal form ---------------------------------------------------------------------


def _chosen(name: rx.Var, icon: str, remove_label: str, on_remove: Any) -> rx.Component:
    return rx.hstack(
        rx.badge(rx.icon(icon, size=14), name, size="3", variant="soft"),
        rx.icon_button(
            rx.icon("x", size=14),
            type="button",
            variant="ghost",
            aria_label=remove_label,
            on_click=on_remove,
        ),
        align="center",
    )


def _form_error(F: Any, name: str) -> rx.Component:
    error = F.errors.get(name, "")
    return rx.cond(error != "", rx.text(error, color_scheme="red", size="2", role="alert"))


def form_company(F: Any) -> rx.Component:
    """The company of a new deal: picked by searching, removable."""
    return rx.vstack(
        rx.el.label("Company", html_for="field-company", style=LABEL_STYLE),
        rx.cond(
            F.company_id != "",
            _chosen(F.company_name, "building-2", "Remove company", F.clear_company),
            company_picker(F, label="Company", id="field-company", name="company_search", size="3"),
        ),
        _form_error(F, "account_id"),
        spacing="1",
        width="100%",
    )


def form_contact(F: Any) -> rx.Component:
    """The primary contact of a new deal: picked by searching, removable."""
    return rx.vstack(
        rx.el.label("Primary contact", html_for="field-contact", style=LABEL_STYLE),
        rx.cond(
            F.contact_id != "",
            _chosen(F.contact_name, "user", "Remove primary contact", F.clear_contact),
            contact_picker(
                F, label="Primary contact", id="field-contact", name="contact_search", size="3"
            ),
        ),
        _form_error(F, "primary_contact_id"),
        spacing="1",
        width="100%",
    )


def form_pipeline(F: Any) -> rx.Component:
    """The pipeline select; the stage select below offers its open stages."""
    return rx.vstack(
        rx.el.label("Pipeline", html_for="field-pipeline_id", style=LABEL_STYLE),
        rx.select.root(
            rx.select.trigger(id="field-pipeline_id", width="100%"),
            rx.select.content(
                rx.foreach(F.pipelines, lambda p: rx.select.item(p.label, value=p.value)),
                position="popper",
            ),
            value=F.form_pipeline,
            on_change=F.choose_pipeline,
            size="3",
        ),
        _form_error(F, "pipeline_id"),
        spacing="1",
        width="100%",
    )


def form_stage(F: Any) -> rx.Component:
    """The stage select, started again whenever the pipeline changes."""
    return rx.box(
        select_field(
            "Stage",
            "stage_id",
            [rx.foreach(F.stage_options, lambda s: rx.select.item(s["name"], value=s["id"]))],
            default=F.first_stage,
            error=F.errors.get("stage_id", ""),
        ),
        key=F.form_pipeline,
        width="100%",
    )


# ---- the deal page: header links -----------------------------------------------------------


def _edit_button(P: Any, label: str, key: str) -> rx.Component:
    return rx.cond(
        P.can_edit,
        rx.icon_button(
            rx.icon("pencil", size=14),
            variant="ghost",
            size="1",
            aria_label=f"Edit {label}",
            on_click=P.start_edit(key),
        ),
    )


def _link_editor(P: Any, picker: rx.Component, none_label: str, on_none: Any) -> rx.Component:
    return rx.vstack(
        picker,
        rx.hstack(
            rx.button(none_label, variant="soft", size="1", on_click=on_none),
            rx.button(
                "Cancel", variant="soft", color_scheme="gray", size="1", on_click=P.cancel_edit
            ),
        ),
        rx.cond(P.edit_error != "", rx.text(P.edit_error, color_scheme="red", size="2")),
        width="100%",
        max_width="24rem",
    )


def company_line(P: Any, href: rx.Var) -> rx.Component:
    """The deal's company, linked, with its editor."""
    return rx.cond(
        P.editing == "account_id",
        _link_editor(
            P, company_picker(P, label="Company", auto_focus=True), "No company", P.clear_company
        ),
        rx.hstack(
            rx.icon("building-2", size=16, color=rx.color("gray", 10), aria_hidden="true"),
            rx.cond(
                P.company_id > 0,
                rx.link(P.company_name, href=href),
                rx.text("No company", color_scheme="gray"),
            ),
            _edit_button(P, "Company", "account_id"),
            align="center",
            spacing="2",
        ),
    )


def contact_line(P: Any, href: rx.Var) -> rx.Component:
    """The deal's primary contact, linked, with its editor."""
    return rx.cond(
        P.editing == "primary_contact_id",
        _link_editor(
            P,
            contact_picker(P, label="Primary contact", auto_focus=True),
            "No primary contact",
            P.clear_contact,
        ),
        rx.hstack(
            rx.icon("user", size=16, color=rx.color("gray", 10), aria_hidden="true"),
            rx.cond(
                P.contact_id > 0,
                rx.link(P.contact_name, href=href),
                rx.text("No primary contact", color_scheme="gray"),
            ),
            _edit_button(P, "Primary contact", "primary_contact_id"),
            align="center",
            spacing="2",
        ),
    )


# ---- the stage path and its dialogs --------------------------------------------------------


def _step(P: Any, step: rx.Var) -> rx.Component:
    current = step["state"] == "current"
    return rx.el.li(
        rx.button(
            rx.cond(current, rx.icon("check", size=14, aria_hidden="true")),
            step["name"],
            rx.cond(current, rx.el.span(" (current stage)", style=VISUALLY_HIDDEN)),
            variant=rx.cond(current, "solid", rx.cond(step["state"] == "done", "soft", "outline")),
            color_scheme=rx.match(step["kind"], ("won", "green"), ("lost", "red"), "indigo"),
            disabled=~P.can_edit & ~current,
            aria_current=rx.cond(current, "step", "false"),
            on_click=P.choose_stage(step["id"]),
            size="2",
        ),
    )


def stage_path(P: Any) -> rx.Component:
    """The stages of the deal's pipeline in order, the current one marked; those who may edit
    the deal move it by pressing another."""
    return rx.el.nav(
        rx.el.ol(
            rx.foreach(P.path, lambda step: _step(P, step)),
            style={
                "display": "flex",
                "flex_wrap": "wrap",
                "gap": "0.375rem",
                "list_style": "none",
                "margin": "0",
                "padding": "0",
            },
        ),
        aria_label="Stages",
        width="100%",
    )


def won_dialog(P: Any) -> rx.Component:
    """Asks before marking the deal won."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Mark this deal as won?"),
            rx.alert_dialog.description(
                rx.text(
                    rx.text.strong(P.name), " moves to ", rx.text.strong(P.closing_stage_name), "."
                )
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Mark as won", color_scheme="green", on_click=P.confirm_won),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
        open=P.closing_kind == "won",
        on_open_change=P.cancel_closing,
    )


def lost_dialog(P: Any) -> rx.Component:
    """Asks why the deal was lost before marking it lost."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Why was this deal lost?"),
            rx.dialog.description(
                rx.text(
                    rx.text.strong(P.name), " moves to ", rx.text.strong(P.closing_stage_name), "."
                ),
                margin_bottom="1rem",
            ),
            rx.form(
                rx.vstack(
                    select_field(
                        "Lost reason",
                        "lost_reason",
                        [rx.foreach(P.lost_reasons, lambda r: rx.select.item(r, value=r))],
                        default="",
                        error=P.lost_reason_error,
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Mark as lost", type="submit", color_scheme="red"),
                        justify="end",
                        spacing="3",
                        width="100%",
                        margin_top="1rem",
                    ),
                    spacing="2",
                ),
                on_submit=P.confirm_lost,
            ),
        ),
        open=P.closing_kind == "lost",
        on_open_change=P.cancel_closing,
    )


# ---- stage history -------------------------------------------------------------------------


def _visit(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["stage"]),
        rx.table.cell(row["entered"], white_space="nowrap"),
        rx.table.cell(row["left"], white_space="nowrap"),
        rx.table.cell(row["spent"], white_space="nowrap"),
    )


def stage_history(P: Any) -> rx.Component:
    """Each stay of the deal in a stage, newest first, with the time spent there."""
    return section_card(
        "Stage history",
        rx.box(
            rx.table.root(
                rx.el.caption("Stage history", style=VISUALLY_HIDDEN),
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h, white_space="nowrap")
                            for h in ("Stage", "Entered", "Left", "Time in stage")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(P.history, _visit)),
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
    )


# ---- contacts involved ---------------------------------------------------------------------


def _role_editor(P: Any, person: rx.Var) -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                name="role",
                default_value=person["role"],
                placeholder="e.g. Decision maker",
                aria_label="Role of " + person["name"],
                max_length=100,
                auto_focus=True,
                size="1",
                width="100%",
            ),
            rx.button("Save", type="submit", size="1"),
            rx.button(
                "Cancel",
                type="button",
                variant="soft",
                color_scheme="gray",
                size="1",
                on_click=P.cancel_role,
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=P.save_role,
        reset_on_submit=False,
        width="100%",
    )


def _person_actions(P: Any, person: rx.Var) -> rx.Component:
    return rx.cond(
        P.can_edit,
        rx.hstack(
            rx.icon_button(
                rx.icon("pencil", size=14),
                variant="ghost",
                size="1",
                aria_label="Edit role of " + person["name"],
                on_click=P.start_role(person["id"]),
            ),
            rx.icon_button(
                rx.icon("x", size=14),
                variant="ghost",
                color_scheme="red",
                size="1",
                aria_label="Remove " + person["name"] + " from the deal",
                on_click=P.remove_person(person["id"]),
            ),
            spacing="1",
        ),
    )


def _person(P: Any, person: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.vstack(
            rx.flex(
                rx.vstack(
                    rx.link(person["name"], href=person["href"], weight="medium", size="2"),
                    rx.cond(
                        person["detail"] != "",
                        rx.text(person["detail"], size="1", color_scheme="gray"),
                    ),
                    spacing="0",
                    min_width="0",
                ),
                rx.spacer(),
                rx.cond(person["role"] != "", rx.badge(person["role"], variant="soft")),
                _person_actions(P, person),
                gap="0.5rem",
                align="center",
                width="100%",
            ),
            rx.cond(P.role_for == person["id"], _role_editor(P, person)),
            spacing="1",
            width="100%",
        ),
        padding_y="0.375rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _add_person(P: Any) -> rx.Component:
    return rx.cond(
        P.adding_person & (P.editing == ""),
        rx.vstack(
            contact_picker(P, label="Find a contact to add", auto_focus=True),
            rx.button(
                "Cancel",
                variant="soft",
                color_scheme="gray",
                size="1",
                on_click=P.open_add_person(False),
            ),
            width="100%",
        ),
        rx.cond(
            P.can_edit,
            rx.button(
                rx.icon("user-plus", size=14),
                "Add contact",
                variant="soft",
                size="1",
                on_click=P.open_add_person(True),
            ),
        ),
    )


def involved_contacts(P: Any) -> rx.Component:
    """The contacts taking part in the deal, with their roles."""
    return section_card(
        "Contacts involved",
        rx.cond(
            P.involved.length() > 0,
            rx.el.ul(
                rx.foreach(P.involved, lambda person: _person(P, person)),
                list_style="none",
                margin="0",
                padding="0",
                width="100%",
            ),
            rx.text("No one yet besides the primary contact.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            P.role_error != "", rx.text(P.role_error, color_scheme="red", size="2", role="alert")
        ),
        _add_person(P),
    )
