"""`/settings/leads`: lead sources, scoring rules and the assignment team (admins)."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.components.ui import field, no_access
from crm_app.state.base import AppState
from crm_app.state.lead_settings import KINDS, LeadSettingsState
from crm_app.state.views import NONE

S = LeadSettingsState
LABEL_STYLE = {"font_weight": "500", "font_size": "0.875rem"}


def _error(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def _subheading(title: str, description: str) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="3", as_="h3"),
        rx.text(description, size="2", color_scheme="gray"),
        spacing="1",
    )


# ---- sources -------------------------------------------------------------------------------


def _source_name(row: rx.Var) -> rx.Component:
    renaming = rx.form(
        rx.hstack(
            rx.input(
                name="name",
                default_value=row["name"],
                aria_label="New name of " + row["name"],
                auto_focus=True,
                max_length=100,
                on_key_down=S.rename_key,
            ),
            rx.button("Save", type="submit", size="1"),
            rx.button(
                "Cancel",
                type="button",
                variant="soft",
                color_scheme="gray",
                size="1",
                on_click=S.cancel_rename,
            ),
            align="center",
            spacing="2",
        ),
        _error(S.rename_error),
        on_submit=S.rename_source,
        reset_on_submit=False,
    )
    return rx.cond(S.renaming == row["id"], renaming, rx.text(row["name"]))


def _source_actions(row: rx.Var) -> rx.Component:
    name = row["name"]
    return rx.hstack(
        rx.icon_button(
            rx.icon("arrow-up", size=16),
            variant="ghost",
            aria_label="Move " + name + " up",
            disabled=row["first"] == "yes",
            on_click=S.move_source(row["id"], -1),
        ),
        rx.icon_button(
            rx.icon("arrow-down", size=16),
            variant="ghost",
            aria_label="Move " + name + " down",
            disabled=row["last"] == "yes",
            on_click=S.move_source(row["id"], 1),
        ),
        rx.button(
            "Rename",
            variant="soft",
            size="1",
            aria_label="Rename " + name,
            on_click=S.start_rename(row["id"]),
        ),
        rx.cond(
            row["active"] == "yes",
            rx.button(
                "Deactivate",
                variant="soft",
                color_scheme="gray",
                size="1",
                aria_label="Deactivate " + name,
                on_click=S.set_source_active(row["id"], False),
            ),
            rx.button(
                "Activate",
                variant="soft",
                size="1",
                aria_label="Activate " + name,
                on_click=S.set_source_active(row["id"], True),
            ),
        ),
        spacing="3",
        align="center",
    )


def _source_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(_source_name(row)),
        rx.table.cell(
            rx.cond(
                row["active"] == "yes",
                rx.badge("Active", color_scheme="grass", variant="soft"),
                rx.badge("Retired", color_scheme="gray", variant="soft"),
            )
        ),
        rx.table.cell(_source_actions(row)),
        align="center",
    )


def _add_source() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.box(
                field("New source", "source_name", error=S.source_error, max_length=100),
                flex="1",
                min_width="12rem",
                max_width="24rem",
            ),
            rx.button(rx.icon("plus", size=16), "Add source", type="submit", size="3"),
            gap="0.5rem",
            align="end",
            wrap="wrap",
        ),
        on_submit=S.add_source,
        reset_on_submit=False,
        key=S.source_form_key,
    )


def _sources() -> rx.Component:
    return rx.card(
        rx.vstack(
            _subheading(
                "Sources",
                "Where leads come from, in the order forms offer them. A retired source "
                "stays on the leads that have it but can no longer be picked.",
            ),
            data_table(
                "Lead sources",
                ["Name", "Status", "Actions"],
                rx.table.body(rx.foreach(S.sources, _source_row)),
            ),
            _add_source(),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


# ---- scoring rules -------------------------------------------------------------------------


def _rule_row(row: rx.Var) -> rx.Component:
    name = row["name"]
    return rx.table.row(
        rx.table.row_header_cell(name),
        rx.table.cell(row["description"]),
        rx.table.cell(rx.badge(row["points"], variant="soft")),
        rx.table.cell(rx.cond(row["active"] == "yes", "Yes", "No")),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Edit",
                    variant="soft",
                    size="1",
                    aria_label="Edit " + name,
                    on_click=S.open_edit_rule(row["id"]),
                ),
                rx.button(
                    "Delete",
                    variant="soft",
                    color_scheme="red",
                    size="1",
                    aria_label="Delete " + name,
                    on_click=S.ask_delete_rule(row["id"]),
                ),
                spacing="2",
            )
        ),
        align="center",
    )


def _rules() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                _subheading(
                    "Scoring rules",
                    "Each matching rule adds its points to a lead's score (0 to 100). Leads "
                    "are rescored in the background when rules change.",
                ),
                rx.spacer(),
                rx.button(rx.icon("plus", size=16), "Add rule", on_click=S.open_add_rule),
                width="100%",
                align="end",
                wrap="wrap",
            ),
            rx.cond(
                S.rules.length() > 0,
                data_table(
                    "Scoring rules",
                    ["Name", "Condition", "Points", "Active", "Actions"],
                    rx.table.body(rx.foreach(S.rules, _rule_row)),
                ),
                rx.text("No rules yet: every lead scores 0.", color_scheme="gray", size="2"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _labelled(label: str, input_id: str, control: rx.Component, error: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=input_id, style=LABEL_STYLE),
        control,
        _error(error),
        spacing="1",
        width="100%",
    )


def _condition_inputs() -> rx.Component:
    errors = S.rule_errors
    field_select = _labelled(
        "Field",
        "rule-field",
        rx.select.root(
            rx.select.trigger(id="rule-field", width="100%"),
            rx.select.content(
                rx.foreach(S.field_choices, lambda c: rx.select.item(c.label, value=c.value)),
                position="popper",
            ),
            value=S.rule_field,
            on_change=S.choose_field,
        ),
        errors.get("condition.field", ""),
    )
    value = field(
        "Text",
        "value",
        default_value=S.rule_value,
        max_length=200,
        error=errors.get("condition.value", ""),
    )
    days = field(
        "In the last (days)",
        "days",
        type="number",
        default_value=S.rule_days,
        min=1,
        max=365,
        error=errors.get("condition.days", ""),
    )
    at_least = field(
        "At least (activities)",
        "at_least",
        type="number",
        default_value=S.rule_at_least,
        min=1,
        max=1000,
        error=errors.get("condition.at_least", ""),
    )
    return rx.match(
        S.rule_kind,
        ("present", field_select),
        ("activity_count", rx.grid(days, at_least, columns="2", gap="0.75rem", width="100%")),
        rx.grid(field_select, value, columns="2", gap="0.75rem", width="100%"),
    )


def _rule_dialog() -> rx.Component:
    errors = S.rule_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(S.rule_title),
            rx.form(
                rx.vstack(
                    field(
                        "Name",
                        "name",
                        default_value=S.rule_name,
                        max_length=100,
                        auto_focus=True,
                        error=errors.get("name", ""),
                    ),
                    _labelled(
                        "Condition",
                        "rule-kind",
                        rx.select.root(
                            rx.select.trigger(id="rule-kind", width="100%"),
                            rx.select.content(
                                *[rx.select.item(k.label, value=k.value) for k in KINDS],
                                position="popper",
                            ),
                            value=S.rule_kind,
                            on_change=S.choose_kind,
                        ),
                        errors.get("condition", ""),
                    ),
                    _condition_inputs(),
                    field(
                        "Points",
                        "points",
                        type="number",
                        default_value=S.rule_points,
                        min=-100,
                        max=100,
                        error=errors.get("points", ""),
                    ),
                    rx.checkbox("Active", checked=S.rule_active, on_change=S.toggle_rule_active),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Save rule", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=S.save_rule,
                reset_on_submit=False,
                no_validate=True,  # the service's messages show next to each field
                key=S.rule_form_key,
            ),
            max_width="32rem",
        ),
        open=S.rule_open,
        on_open_change=S.close_rule,
    )


def _delete_rule_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete the rule “", S.confirm_rule_name, "”?"),
            rx.alert_dialog.description("Leads no longer get its points once rescored."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Delete rule", color_scheme="red", on_click=S.delete_rule),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
        open=S.confirm_rule != "",
        on_open_change=S.close_delete_rule,
    )


# ---- assignment ----------------------------------------------------------------------------


def _assignment() -> rx.Component:
    return rx.card(
        rx.vstack(
            _subheading(
                "Assignment",
                "New leads without an owner go to the active reps of this team in turn; "
                "each is notified in the app. A web form can name its own team.",
            ),
            rx.box(
                _labelled(
                    "Assignment team",
                    "assignment-team",
                    rx.select.root(
                        rx.select.trigger(id="assignment-team", width="100%"),
                        rx.select.content(
                            rx.select.item("No one: leave new leads unowned", value=NONE),
                            rx.foreach(S.teams, lambda t: rx.select.item(t.label, value=t.value)),
                            position="popper",
                        ),
                        value=S.team_id,
                        on_change=S.choose_team,
                    ),
                    "",
                ),
                max_width="24rem",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


@rx.page(route=routes.SETTINGS_LEADS, title="Leads · Settings · CRM", on_load=S.load)
@protected_page("Settings")
def settings_leads() -> rx.Component:
    """Lead sources, scoring rules and round-robin assignment (admins only)."""
    return settings_page(
        section_header(
            "Leads", "Where leads come from, how they are scored and who receives new ones."
        ),
        rx.cond(
            AppState.can_manage_settings,
            rx.vstack(
                _sources(),
                _rules(),
                _assignment(),
                _rule_dialog(),
                _delete_rule_dialog(),
                spacing="4",
                width="100%",
            ),
            no_access("the lead settings"),
        ),
    )
