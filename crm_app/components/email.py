"""E-mail widgets: labelled controls, a rendered message, and the "Send e-mail" button and
dialog that contact, lead and deal pages show."""

from __future__ import annotations

import reflex as rx

from crm_app.state.send_email import SendEmailState

S = SendEmailState


def field_error(error: rx.Var | str) -> rx.Component:
    """An error message under a control, announced to screen readers."""
    return rx.cond(error != "", rx.text(error, color_scheme="red", size="2", role="alert"))


def labelled(
    label: str, control_id: str, control: rx.Component, error: rx.Var | str
) -> rx.Component:
    """A visible label over any control, its error underneath."""
    return rx.vstack(
        rx.el.label(label, html_for=control_id, font_weight="500", font_size="0.875rem"),
        control,
        field_error(error),
        spacing="1",
        width="100%",
    )


def rendered_message(subject: rx.Var, html: rx.Var, *, label: str) -> rx.Component:
    """A message as its recipient sees it: the subject, then the (sanitised) HTML body."""
    return rx.box(
        rx.text(rx.text.strong("Subject: "), subject, size="2"),
        rx.separator(margin_y="0.5rem"),
        rx.html(html, class_name="email-body"),
        role="region",
        aria_label=label,
        padding="0.75rem",
        border=f"1px solid {rx.color('gray', 6)}",
        border_radius="var(--radius-3)",
        width="100%",
        min_height="6rem",
        overflow_wrap="anywhere",
    )


def send_email_button(entity: str, record_id: rx.Var, visible: rx.Var) -> rx.Component:
    """The record page's "Send e-mail" action, for those who may log activities (`visible`)."""
    return rx.cond(
        visible,
        rx.button(
            rx.icon("mail", size=16),
            "Send e-mail",
            variant="soft",
            on_click=S.open_for(entity, record_id),
        ),
    )


def _address(option: rx.Var) -> rx.Component:
    return rx.select.item(option["label"], value=option["address"])


def _template_item(option: rx.Var) -> rx.Component:
    return rx.select.item(option["name"], value=option["id"])


def _fields() -> rx.Component:
    return rx.vstack(
        labelled(
            "To",
            "send-email-to",
            rx.cond(
                S.addresses.length() > 0,
                rx.select.root(
                    rx.select.trigger(id="send-email-to", width="100%"),
                    rx.select.content(rx.foreach(S.addresses, _address)),
                    value=S.to,
                    on_change=lambda value: S.set_value("to", value),
                ),
                rx.text("This record has no e-mail address.", size="2", color_scheme="gray"),
            ),
            S.errors.get("to", ""),
        ),
        rx.cond(
            S.templates.length() > 0,
            labelled(
                "Template",
                "send-email-template",
                rx.select.root(
                    rx.select.trigger(id="send-email-template", placeholder="None", width="100%"),
                    rx.select.content(rx.foreach(S.templates, _template_item)),
                    value=S.template_id,
                    on_change=S.pick_template,
                ),
                "",
            ),
        ),
        labelled(
            "Subject",
            "send-email-subject",
            rx.input(
                id="send-email-subject",
                value=S.subject,
                on_change=lambda value: S.set_value("subject", value),
                max_length=300,
                width="100%",
            ),
            S.errors.get("subject", ""),
        ),
        labelled(
            "Message (Markdown)",
            "send-email-body",
            rx.text_area(
                id="send-email-body",
                value=S.body,
                on_change=lambda value: S.set_value("body", value),
                rows="8",
                width="100%",
            ),
            S.errors.get("body", ""),
        ),
        field_error(S.errors.get("form", "")),
        rx.cond(
            S.previewing,
            rendered_message(S.preview_subject, S.preview_html, label="E-mail preview"),
        ),
        spacing="3",
        width="100%",
    )


def send_email_dialog() -> rx.Component:
    """The dialog behind `send_email_button` (one per page)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Send e-mail"),
            rx.dialog.description(
                "Merge fields such as {{ contact.first_name }} are filled in when it is sent.",
                size="2",
                color_scheme="gray",
            ),
            _fields(),
            rx.hstack(
                rx.dialog.close(
                    rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                ),
                rx.button("Preview", variant="soft", on_click=S.preview, type="button"),
                rx.button(
                    rx.icon("send", size=16),
                    "Send",
                    on_click=S.send,
                    disabled=S.addresses.length() == 0,
                ),
                justify="end",
                width="100%",
                margin_top="1rem",
            ),
            max_width="640px",
        ),
        open=S.is_open,
        on_open_change=S.close,
    )
