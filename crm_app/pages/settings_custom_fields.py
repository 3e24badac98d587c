"""`/settings/custom-fields`: the extra fields of contacts, companies, leads and deals."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.components.ui import field
from crm_app.services.custom_field import ENTITY_LABELS, TYPE_LABELS
from crm_app.state.base import AppState
from crm_app.state.custom_field import CustomFieldState

HEADERS = ["Label", "Key", "Type", "Options", "Required"]


def _error(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def _label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(text, html_for=html_for, font_weight="500", font_size="0.875rem")


def _hint(text: str, hint_id: str) -> rx.Component:
    return rx.text(text, id=hint_id, size="1", color_scheme="gray")


def _type_input() -> rx.Component:
    """A select for a new field; a read-only box for an existing one, whose type is fixed."""
    choose = rx.select.root(
        rx.select.trigger(id="field-field_type", width="100%"),
        rx.select.content(
            *[rx.select.item(label, value=kind.value) for kind, label in TYPE_LABELS.items()],
            position="popper",
        ),
        name="field_type",
        value=CustomFieldState.form_type,
        on_change=CustomFieldState.choose_type,
        size="3",
    )
    fixed = rx.input(
        id="field-field_type",
        name="type_shown",  # submitted but unused: the type of an existing field is fixed
        value=CustomFieldState.form_type_label,
        read_only=True,
        size="3",
        width="100%",
        aria_describedby="type-hint",
    )
    return rx.vstack(
        _label("Type", "field-field_type"),
        rx.cond(
            CustomFieldState.editing_id == "",
            choose,
            rx.fragment(
                fixed,
                _hint("The type cannot change: stored values would no longer fit.", "type-hint"),
            ),
        ),
        _error(CustomFieldState.type_error),
        spacing="1",
        width="100%",
    )


def _options_input() -> rx.Component:
    # Hidden rather than removed for other types, so typed options survive a change of type.
    return rx.vstack(
        _label("Options", "field-options"),
        _hint("One per line, in the order they should be offered.", "options-hint"),
        rx.text_area(
            id="field-options",
            name="options",
            default_value=CustomFieldState.form_options,
            rows="5",
            width="100%",
            aria_describedby="options-hint",
            aria_invalid=rx.cond(CustomFieldState.options_error != "", "true", "false"),
        ),
        _error(CustomFieldState.options_error),
        display=rx.cond(CustomFieldState.shows_options, "flex", "none"),
        spacing="1",
        width="100%",
    )


def _required_input() -> rx.Component:
    return rx.vstack(
        rx.checkbox(
            "Required",
            checked=CustomFieldState.form_required,
            on_change=CustomFieldState.toggle_required,
            aria_describedby="required-hint",
        ),
        _hint("Records cannot be saved without a value.", "required-hint"),
        _error(CustomFieldState.required_error),
        display=rx.cond(CustomFieldState.form_type == "checkbox", "none", "flex"),
        spacing="1",
        width="100%",
    )


def _form_dialog() -> rx.Component:
    editing = CustomFieldState.editing_id != ""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(CustomFieldState.form_title),
            rx.form(
                rx.vstack(
                    field(
                        "Label",
                        "label",
                        default_value=CustomFieldState.form_label,
                        error=CustomFieldState.label_error,
                        max_length=100,
                        auto_focus=True,
                    ),
                    _type_input(),
                    _options_input(),
                    _required_input(),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button(rx.cond(editing, "Save", "Add"), type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=CustomFieldState.save,
                reset_on_submit=False,
            ),
            max_width="30rem",
        ),
        open=CustomFieldState.form_open,
        on_open_change=CustomFieldState.close_form,
    )


def _confirm_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete ", CustomFieldState.confirm_label, "?"),
            rx.alert_dialog.description(
                "It disappears from forms, lists, filters, exports and the API. Values already "
                "stored are kept, so restoring the field brings them back."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(
                    "Delete field", color_scheme="red", on_click=CustomFieldState.confirm_delete
                ),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
        open=CustomFieldState.confirm_id != "",
        on_open_change=CustomFieldState.close_confirm,
    )


def _actions(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            rx.icon("arrow-up", size=16),
            variant="ghost",
            aria_label="Move " + row["label"] + " up",
            disabled=row["first"] == "yes",
            on_click=CustomFieldState.move(row["id"], -1),
        ),
        rx.icon_button(
            rx.icon("arrow-down", size=16),
            variant="ghost",
            aria_label="Move " + row["label"] + " down",
            disabled=row["last"] == "yes",
            on_click=CustomFieldState.move(row["id"], 1),
        ),
        rx.button(
            "Edit",
            variant="soft",
            size="1",
            aria_label="Edit " + row["label"],
            on_click=CustomFieldState.open_edit(row["id"]),
        ),
        rx.button(
            "Delete",
            variant="soft",
            color_scheme="red",
            size="1",
            aria_label="Delete " + row["label"],
            on_click=CustomFieldState.ask_delete(row["id"]),
        ),
        spacing="3",
        align="center",
    )


def _row(row: rx.Var, editable: bool) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["label"]),
        rx.table.cell(rx.code(row["key"], variant="ghost")),
        rx.table.cell(row["type"], white_space="nowrap"),
        rx.table.cell(row["options"], min_width="8rem", max_width="20rem"),
        rx.table.cell(row["required"]),
        *([rx.table.cell(_actions(row))] if editable else []),
        align="center",
    )


def _fields_table(caption: str, editable: bool) -> rx.Component:
    return data_table(
        caption,
        HEADERS + (["Actions"] if editable else []),
        rx.table.body(rx.foreach(CustomFieldState.rows, lambda row: _row(row, editable))),
    )


def _deleted_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["label"]),
        rx.table.cell(rx.code(row["key"], variant="ghost")),
        rx.table.cell(row["type"]),
        rx.table.cell(
            rx.button(
                "Restore",
                variant="soft",
                size="1",
                aria_label="Restore " + row["label"],
                on_click=CustomFieldState.restore(row["id"]),
            )
        ),
        align="center",
    )


def _deleted(label: str) -> rx.Component:
    return rx.cond(
        AppState.can_manage_settings & (CustomFieldState.deleted_rows.length() > 0),
        rx.vstack(
            rx.heading("Deleted fields", size="3", as_="h3"),
            rx.text(
                "Records still hold their values; restoring a field shows them again.",
                size="2",
                color_scheme="gray",
            ),
            data_table(
                f"Deleted fields of {label}",
                ["Label", "Key", "Type", "Actions"],
                rx.table.body(rx.foreach(CustomFieldState.deleted_rows, _deleted_row)),
            ),
            spacing="2",
            width="100%",
        ),
    )


def _panel(label: str) -> rx.Component:
    caption = f"Custom fields of {label}"
    return rx.vstack(
        rx.cond(
            CustomFieldState.rows.length() > 0,
            rx.cond(
                AppState.can_manage_settings,
                _fields_table(caption, True),
                _fields_table(caption, False),
            ),
            rx.text(f"{label} have no custom fields yet.", color_scheme="gray", role="status"),
        ),
        _deleted(label),
        spacing="5",
        width="100%",
        padding_top="1rem",
    )


def _entity_tabs() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            *[rx.tabs.trigger(label, value=entity) for entity, label in ENTITY_LABELS.items()],
            aria_label="Record kind",
        ),
        *[rx.tabs.content(_panel(label), value=entity) for entity, label in ENTITY_LABELS.items()],
        value=CustomFieldState.entity,
        on_change=CustomFieldState.choose_entity,
        width="100%",
    )


@rx.page(
    route=routes.SETTINGS_CUSTOM_FIELDS,
    title="Custom fields · CRM",
    on_load=CustomFieldState.load,
)
@protected_page("Settings")
def custom_fields() -> rx.Component:
    """Define the extra fields each kind of record has (admins); everyone may look."""
    return settings_page(
        section_header(
            "Custom fields",
            "Your own fields on contacts, companies, leads and deals. They appear in forms, "
            "record pages, lists, filters, import, export and the API.",
            rx.cond(
                AppState.can_manage_settings,
                rx.button(
                    rx.icon("plus", size=16), "Add field", on_click=CustomFieldState.open_add
                ),
            ),
        ),
        rx.cond(
            ~AppState.can_manage_settings,
            rx.callout(
                "Only admins can add or change custom fields.",
                icon="lock",
                color_scheme="gray",
                role="status",
                width="100%",
            ),
        ),
        _entity_tabs(),
        _form_dialog(),
        _confirm_dialog(),
    )
