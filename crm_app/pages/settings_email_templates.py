"""`/settings/email-templates`: templates with merge fields and a live preview on a record."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.email import field_error, labelled, rendered_message
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.services.email_template import ENTITY_LABELS, FIELDS, NAMES
from crm_app.state.email_template import EmailTemplateState

S = EmailTemplateState


def _help() -> rx.Component:
    """Which merge fields each kind of template may use."""
    rows = [
        rx.text(
            rx.text.strong(ENTITY_LABELS[entity], ": "),
            ", ".join(f"{{{{ {name}.{FIELDS[name][0]} }}}}" for name in names),
            size="1",
        )
        for entity, names in NAMES.items()
    ]
    fields = [
        rx.text(rx.code(name), " ", ", ".join(fields), size="1", color_scheme="gray")
        for name, fields in FIELDS.items()
    ]
    return rx.vstack(*rows, *fields, spacing="1")


def _input(label: str, key: str, **props) -> rx.Component:
    return labelled(
        label,
        f"template-{key}",
        rx.debounce_input(
            rx.input(
                id=f"template-{key}",
                value=S.draft[key],
                on_change=lambda value: S.set_draft(key, value),
                width="100%",
                **props,
            ),
            debounce_timeout=300,
        ),
        S.errors.get(key, ""),
    )


def _editor_fields() -> rx.Component:
    return rx.vstack(
        _input("Name", "name", max_length=100),
        labelled(
            "Record kind",
            "template-entity",
            rx.select.root(
                rx.select.trigger(id="template-entity", width="100%"),
                rx.select.content(
                    *[rx.select.item(label, value=key) for key, label in ENTITY_LABELS.items()]
                ),
                value=S.draft["entity"],
                on_change=lambda value: S.set_draft("entity", value),
            ),
            S.errors.get("entity", ""),
        ),
        _input("Subject", "subject", max_length=300),
        labelled(
            "Body (Markdown)",
            "template-body",
            rx.debounce_input(
                rx.text_area(
                    id="template-body",
                    value=S.draft["body"],
                    on_change=lambda value: S.set_draft("body", value),
                    rows="10",
                    width="100%",
                ),
                debounce_timeout=300,
            ),
            S.errors.get("body", ""),
        ),
        _help(),
        spacing="3",
        width="100%",
    )


def _record_option(option: rx.Var) -> rx.Component:
    return rx.button(
        option["label"],
        variant="ghost",
        size="2",
        width="100%",
        justify="start",
        on_click=S.pick_record(option["id"], option["label"]),
    )


def _preview() -> rx.Component:
    return rx.vstack(
        rx.heading("Preview", size="3", as_="h3"),
        labelled(
            "Preview on",
            "template-preview-record",
            rx.debounce_input(
                rx.input(
                    id="template-preview-record",
                    value=S.record_query,
                    on_change=S.search_records,
                    placeholder="Search a record…",
                    auto_complete="off",
                    width="100%",
                ),
                debounce_timeout=250,
            ),
            "",
        ),
        rx.cond(
            S.record_options.length() > 0,
            rx.vstack(
                rx.foreach(S.record_options, _record_option),
                role="group",
                aria_label="Matching records",
                spacing="1",
                width="100%",
            ),
        ),
        rx.cond(
            S.record_label != "",
            rx.text("Previewing on ", rx.text.strong(S.record_label), size="2"),
            rx.text("No record picked: merge fields show empty.", size="2", color_scheme="gray"),
        ),
        rx.cond(
            S.preview_error != "",
            rx.callout(S.preview_error, icon="triangle_alert", color_scheme="red", role="alert"),
            rendered_message(S.preview_subject, S.preview_html, label="Template preview"),
        ),
        spacing="2",
        width="100%",
    )


def _editor() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.editing_id > 0, "Edit template", "New template")),
            rx.grid(
                _editor_fields(),
                _preview(),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="5",
                width="100%",
            ),
            field_error(S.errors.get("form", "")),
            rx.hstack(
                rx.dialog.close(
                    rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                ),
                rx.button("Save template", on_click=S.save),
                justify="end",
                width="100%",
                margin_top="1rem",
            ),
            max_width="1000px",
        ),
        open=S.editor_open,
        on_open_change=S.close_editor,
    )


def _row(template: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(template["name"]),
        rx.table.cell(template["entity"]),
        rx.table.cell(template["subject"]),
        rx.table.cell(
            rx.cond(
                S.can_manage,
                rx.hstack(
                    rx.button(
                        "Edit",
                        size="1",
                        variant="soft",
                        aria_label="Edit " + template["name"],
                        on_click=S.open_edit(template["id"]),
                    ),
                    rx.button(
                        "Delete",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        aria_label="Delete " + template["name"],
                        on_click=S.delete(template["id"]),
                    ),
                ),
            )
        ),
    )


@rx.page(route=routes.SETTINGS_EMAIL_TEMPLATES, title="E-mail templates · CRM", on_load=S.load)
@protected_page("Settings")
def email_templates() -> rx.Component:
    """Reusable e-mails with merge fields."""
    return settings_page(
        section_header(
            "E-mail templates",
            "Subjects and Markdown bodies with merge fields such as {{ contact.first_name }}.",
            rx.cond(
                S.can_manage,
                rx.button(rx.icon("plus", size=16), "New template", on_click=S.open_new),
            ),
        ),
        rx.cond(
            S.templates.length() > 0,
            data_table(
                "E-mail templates",
                ["Name", "Kind", "Subject", ""],
                rx.table.body(rx.foreach(S.templates, _row)),
            ),
            rx.text("No templates yet.", color_scheme="gray"),
        ),
        _editor(),
    )
