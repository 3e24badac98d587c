"""`/f/[key]`: a public web-to-lead form. No sign-in and no app shell: just the form."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.ui import VISUALLY_HIDDEN
from crm_app.services.lead_form import HONEYPOT_FIELD
from crm_app.state.public_form import PublicFormState

S = PublicFormState


def _field(f: rx.Var) -> rx.Component:
    input_id = "form-" + f["name"]
    error = S.errors.get(f["name"], "")
    return rx.vstack(
        rx.el.label(
            f["label"],
            rx.cond(f["required"] == "yes", rx.text.span(" (required)", color_scheme="gray")),
            html_for=input_id,
            font_weight="500",
            font_size="0.875rem",
        ),
        rx.input(
            id=input_id,
            name=f["name"],
            type=f["type"],
            size="3",
            width="100%",
            max_length=1000,
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=rx.cond(error != "", input_id + "-error", None),
        ),
        rx.cond(
            error != "",
            rx.text(error, id=input_id + "-error", color_scheme="red", size="2", role="alert"),
        ),
        spacing="1",
        width="100%",
    )


def _honeypot() -> rx.Component:
    """Hidden from people (and from screen readers and the Tab key); bots fill it in."""
    return rx.box(
        rx.el.label("Leave this empty", html_for="form-website"),
        rx.el.input(
            id="form-website",
            name=HONEYPOT_FIELD,
            type="text",
            tab_index=-1,
            auto_complete="off",
        ),
        aria_hidden="true",
        style=VISUALLY_HIDDEN,
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.cond(
                S.problem != "",
                rx.callout(
                    S.problem, icon="circle_alert", color_scheme="red", role="alert", width="100%"
                ),
            ),
            rx.foreach(S.fields, _field),
            _honeypot(),
            rx.button("Send", type="submit", size="3", width="100%"),
            spacing="4",
            width="100%",
        ),
        on_submit=S.submit,
        reset_on_submit=False,
        no_validate=True,
        width="100%",
    )


def _thanks() -> rx.Component:
    return rx.callout(
        "Thank you! We received your details and will be in touch soon.",
        icon="circle_check",
        color_scheme="grass",
        role="status",
        width="100%",
    )


def _missing() -> rx.Component:
    return rx.callout(
        "This form does not exist or no longer takes submissions.",
        icon="triangle_alert",
        color_scheme="amber",
        role="alert",
        width="100%",
    )


def _body() -> rx.Component:
    return rx.match(
        S.phase,
        ("ready", rx.fragment(rx.heading(S.name, size="6", as_="h1"), _form())),
        ("sent", rx.fragment(rx.heading(S.name, size="6", as_="h1"), _thanks())),
        ("missing", rx.fragment(rx.heading("Form not found", size="6", as_="h1"), _missing())),
        rx.center(rx.spinner(size="3"), aria_label="Loading", width="100%"),
    )


@rx.page(route=routes.PUBLIC_FORM, title="Contact form", on_load=S.load)
def public_form() -> rx.Component:
    """A web-to-lead form anyone with the link may send."""
    return rx.center(
        rx.card(
            rx.el.main(rx.vstack(_body(), spacing="4", width="100%")),
            size="4",
            width="100%",
            max_width="32rem",
        ),
        min_height="100vh",
        padding="1rem",
        background=rx.color("gray", 2),
    )
