"""`/settings/forms`: web-to-lead forms, their fields, source and team, and their public URL
and API endpoint (admins)."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.components.ui import field, link_box, no_access
from crm_app.state.base import AppState
from crm_app.state.lead_form_settings import LeadFormSettingsState
from crm_app.state.views import NONE

S = LeadFormSettingsState
LABEL_STYLE = {"font_weight": "500", "font_size": "0.875rem"}
LINK_NOTE = (
    "Anyone with this link can send the form, without signing in. Switch the form off to "
    "stop it taking submissions."
)


def _error(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def _row(row: rx.Var) -> rx.Component:
    name = row["name"]
    return rx.table.row(
        rx.table.row_header_cell(name),
        rx.table.cell(row["fields"], min_width="10rem"),
        rx.table.cell(row["source"]),
        rx.table.cell(row["team"]),
        rx.table.cell(
            rx.cond(
                row["active"] == "yes",
                rx.badge("On", color_scheme="grass", variant="soft"),
                rx.badge("Off", color_scheme="gray", variant="soft"),
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Link",
                    variant="soft",
                    size="1",
                    aria_label="Link of " + name,
                    on_click=S.open_links(row["id"]),
                ),
                rx.button(
                    "Edit",
                    variant="soft",
                    size="1",
                    aria_label="Edit " + name,
                    on_click=S.open_edit(row["id"]),
                ),
                spacing="2",
            )
        ),
        align="center",
    )


def _forms() -> rx.Component:
    return rx.cond(
        S.forms.length() > 0,
        data_table(
            "Web forms",
            ["Name", "Fields (* required)", "Source", "Owner team", "Status", "Actions"],
            rx.table.body(rx.foreach(S.forms, _row)),
        ),
        rx.text("No web forms yet.", color_scheme="gray", role="status"),
    )


def _field_row(f: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(f["label"]),
        rx.table.cell(
            rx.checkbox(
                checked=f["on"] == "yes",
                on_change=lambda on: S.toggle_field(f["name"], on),
                aria_label="Ask for " + f["label"],
            )
        ),
        rx.table.cell(
            rx.checkbox(
                checked=f["required"] == "yes",
                disabled=f["on"] != "yes",
                on_change=lambda required: S.toggle_required(f["name"], required),
                aria_label=f["label"] + " required",
            )
        ),
        align="center",
    )


def _select(label: str, select_id: str, items, value, on_change, error) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=select_id, style=LABEL_STYLE),
        rx.select.root(
            rx.select.trigger(id=select_id, width="100%"),
            rx.select.content(*items, position="popper"),
            value=value,
            on_change=on_change,
        ),
        _error(error),
        spacing="1",
        width="100%",
    )


def _form_dialog() -> rx.Component:
    errors = S.form_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing_id != "", "Edit web form", "New web form")),
            rx.form(
                rx.vstack(
                    field(
                        "Name",
                        "name",
                        default_value=S.form_name,
                        max_length=100,
                        auto_focus=True,
                        error=errors.get("name", ""),
                    ),
                    rx.vstack(
                        data_table(
                            "Fields of the form",
                            ["Field", "Ask", "Required"],
                            rx.table.body(rx.foreach(S.form_fields, _field_row)),
                            size="1",
                        ),
                        _error(S.fields_error),
                        spacing="1",
                        width="100%",
                    ),
                    rx.grid(
                        _select(
                            "Source of its leads",
                            "form-source",
                            [
                                rx.foreach(
                                    S.sources, lambda c: rx.select.item(c.label, value=c.value)
                                )
                            ],
                            S.form_source,
                            S.choose_source,
                            errors.get("source", ""),
                        ),
                        _select(
                            "Owner team",
                            "form-team",
                            [
                                rx.select.item("The assignment team", value=NONE),
                                rx.foreach(
                                    S.teams, lambda c: rx.select.item(c.label, value=c.value)
                                ),
                            ],
                            S.form_team,
                            S.choose_team,
                            errors.get("team_id", ""),
                        ),
                        columns=rx.breakpoints(initial="1", sm="2"),
                        gap="0.75rem",
                        width="100%",
                    ),
                    rx.checkbox(
                        "Active: the form takes submissions",
                        checked=S.form_active,
                        on_change=S.toggle_active,
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Save form", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=S.save,
                reset_on_submit=False,
                key=S.form_key,
            ),
            max_width="34rem",
        ),
        open=S.form_open,
        on_open_change=S.close_form,
    )


def _links_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Link of ", S.links_name),
            rx.vstack(
                link_box(S.links_url, LINK_NOTE),
                rx.vstack(
                    rx.text("API endpoint", style=LABEL_STYLE),
                    rx.code("POST ", S.links_api, variant="soft", size="2"),
                    rx.text(
                        "Send the fields as JSON or as an HTML form; no API key is needed.",
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.hstack(
                    rx.link(
                        rx.button("Open the form", variant="soft"),
                        href=S.links_url,
                        is_external=True,
                    ),
                    rx.dialog.close(rx.button("Done")),
                    justify="end",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            max_width="36rem",
        ),
        open=S.links_open,
        on_open_change=S.close_links,
    )


@rx.page(route=routes.SETTINGS_FORMS, title="Web forms · Settings · CRM", on_load=S.load)
@protected_page("Settings")
def settings_forms() -> rx.Component:
    """Create web-to-lead forms and hand out their links (admins only)."""
    return settings_page(
        section_header(
            "Web forms",
            "Public forms whose submissions become leads, with the source and team you pick.",
            rx.cond(
                AppState.can_manage_settings,
                rx.button(rx.icon("plus", size=16), "New form", on_click=S.open_create),
            ),
        ),
        rx.cond(
            AppState.can_manage_settings,
            rx.fragment(_forms(), _form_dialog(), _links_dialog()),
            no_access("the web forms"),
        ),
    )
