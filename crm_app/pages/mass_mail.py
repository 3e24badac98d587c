"""`/settings/mass-mail`: a template to everyone in a saved view of contacts or leads."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.email import labelled, rendered_message
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.components.ui import no_access
from crm_app.state.mass_mail import MassMailState

S = MassMailState


def _option(item: rx.Var, label_key: str) -> rx.Component:
    return rx.select.item(item[label_key], value=item["id"])


def _picker(label: str, control_id: str, items, label_key: str, value, on_change) -> rx.Component:
    return labelled(
        label,
        control_id,
        rx.select.root(
            rx.select.trigger(id=control_id, placeholder="Pick…", width="100%"),
            rx.select.content(rx.foreach(items, lambda item: _option(item, label_key))),
            value=value,
            on_change=on_change,
        ),
        "",
    )


def _audience() -> rx.Component:
    return rx.cond(
        S.audience.contains("sendable"),
        rx.text(
            rx.text.strong(S.audience["sendable"].to_string(), " recipients"),
            " (",
            S.audience["with_email"].to_string(),
            " with an e-mail address, ",
            S.audience["suppressed"].to_string(),
            " suppressed)",
            size="2",
            role="status",
        ),
    )


def _send_confirm() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("send", size=16),
                "Send",
                disabled=(S.view_id == "") | (S.template_id == "") | (S.problem != ""),
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Send this mass mail?"),
            rx.alert_dialog.description(
                "It goes to ",
                S.audience["sendable"].to_string(),
                " people, at the rate set by CRM_MAIL_RATE_PER_MINUTE.",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Send now", on_click=S.send)),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
    )


def _composer() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.grid(
                _picker("Saved view", "mass-mail-view", S.views, "label", S.view_id, S.choose_view),
                _picker(
                    "Template",
                    "mass-mail-template",
                    S.templates,
                    "name",
                    S.template_id,
                    S.choose_template,
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
            ),
            _audience(),
            rx.cond(
                S.problem != "",
                rx.callout(S.problem, icon="triangle_alert", color_scheme="red", role="alert"),
            ),
            rx.cond(
                S.preview_subject != "",
                rendered_message(S.preview_subject, S.preview_html, label="Mass mail preview"),
            ),
            rx.hstack(
                rx.button(
                    "Send a test to me",
                    variant="soft",
                    on_click=S.send_test,
                    disabled=(S.view_id == "") | (S.template_id == ""),
                ),
                _send_confirm(),
                justify="end",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _campaign_row(c: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(c["name"]),
        rx.table.cell(rx.badge(c["status"])),
        rx.table.cell(c["sent"], " / ", c["total"]),
        rx.table.cell(c["failed"]),
        rx.table.cell(c["suppressed"]),
        rx.table.cell(c["created"]),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    "Recipients",
                    size="1",
                    variant="soft",
                    aria_label="Recipients of " + c["name"],
                    on_click=S.show_recipients(c["id"]),
                ),
                rx.cond(
                    c["status"] == "sending",
                    rx.button(
                        "Cancel",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=S.cancel(c["id"]),
                    ),
                ),
            )
        ),
    )


def _recipient_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(r["email"]),
        rx.table.cell(r["name"]),
        rx.table.cell(rx.badge(r["status"])),
        rx.table.cell(r["sent"]),
        rx.table.cell(r["error"]),
    )


def _campaigns() -> rx.Component:
    return rx.vstack(
        rx.heading("Campaigns", size="4", as_="h2"),
        rx.cond(
            S.campaigns.length() > 0,
            data_table(
                "Campaigns",
                ["Campaign", "Status", "Sent", "Failed", "Suppressed", "Started", ""],
                rx.table.body(rx.foreach(S.campaigns, _campaign_row)),
            ),
            rx.text("No mass mail sent yet.", color_scheme="gray", size="2"),
        ),
        rx.cond(
            S.recipients_of != "",
            data_table(
                "Recipients",
                ["Address", "Name", "Status", "Sent", "Error"],
                rx.table.body(rx.foreach(S.recipients, _recipient_row)),
            ),
        ),
        spacing="3",
        width="100%",
    )


@rx.page(route=routes.MASS_MAIL, title="Mass mail · CRM", on_load=S.load)
@protected_page("Settings")
def mass_mail_page() -> rx.Component:
    """Compose a mass mail and follow the campaigns."""
    return settings_page(
        section_header(
            "Mass mail",
            "Send a template to everyone in a saved view of contacts or leads. Each message "
            "has an unsubscribe link; suppressed addresses are skipped.",
        ),
        rx.cond(
            S.can_send,
            rx.vstack(_composer(), _campaigns(), spacing="5", width="100%"),
            no_access("mass mail"),
        ),
    )
