"""`/contacts/new` and `/contacts/[id]`: create a contact; a contact's page."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.email import send_email_button, send_email_dialog
from crm_app.components.inline_edit import company_picker
from crm_app.components.layout import protected_page
from crm_app.components.record import (
    new_record_form,
    page_problem,
    record_body,
)
from crm_app.components.ui import field, no_access, select_field
from crm_app.services.contact import STAGES
from crm_app.state.contact import ContactFormState, ContactPageState

FORM_ID = "new-contact"
F = ContactFormState
P = ContactPageState


# ---- /contacts/new -----------------------------------------------------------------------


def _error(name: str) -> rx.Var:
    return F.errors.get(name, "")


def _company_field() -> rx.Component:
    return rx.vstack(
        rx.el.label("Company", html_for="field-company", font_weight="500", font_size="0.875rem"),
        rx.cond(
            F.company_id != "",
            rx.hstack(
                rx.badge(rx.icon("building-2", size=14), F.company_name, size="3", variant="soft"),
                rx.icon_button(
                    rx.icon("x", size=14),
                    type="button",
                    variant="ghost",
                    aria_label="Remove company",
                    on_click=F.clear_company,
                ),
                align="center",
            ),
            company_picker(F, label="Company", id="field-company", name="company_search", size="3"),
        ),
        rx.cond(
            _error("account_id") != "",
            rx.text(_error("account_id"), color_scheme="red", size="2", role="alert"),
        ),
        spacing="1",
        width="100%",
    )


def _fields() -> rx.Component:
    return rx.grid(
        field("First name", "first_name", error=_error("first_name"), auto_focus=True),
        field("Last name", "last_name", error=_error("last_name")),
        field("E-mail", "email", type="email", error=_error("email")),
        field("Phone", "phone", type="tel", error=_error("phone")),
        field("Title", "title", error=_error("title")),
        _company_field(),
        select_field(
            "Lifecycle stage",
            "lifecycle_stage",
            [rx.select.item(s.capitalize(), value=s) for s in STAGES],
            default="lead",
            error=_error("lifecycle_stage"),
        ),
        select_field(
            "Owner",
            "owner_id",
            [rx.foreach(F.owner_options, lambda o: rx.select.item(o.label, value=o.value))],
            default=F.default_owner,
            error=_error("owner_id"),
        ),
        columns=rx.breakpoints(initial="1", sm="2"),
        gap="1rem",
        width="100%",
    )


def _form() -> rx.Component:
    return new_record_form(
        F, _fields(), form_id=FORM_ID, submit="Create contact", cancel_href=routes.CONTACTS
    )


@rx.page(route=routes.CONTACT_NEW, title="New contact · CRM", on_load=F.load)
@protected_page("New contact")
def new_contact() -> rx.Component:
    """Create a contact, warned first when the e-mail or phone is already known."""
    return rx.cond(F.can_create, _form(), no_access("creating contacts"))


# ---- /contacts/[id] ----------------------------------------------------------------------


def _company_link() -> rx.Component:
    return rx.cond(
        P.company_id > 0,
        rx.link(P.company_name, href=routes.ACCOUNTS + "/" + P.company_id.to_string()),
        rx.text("No company", color_scheme="gray"),
    )


def _company() -> rx.Component:
    edit = rx.icon_button(
        rx.icon("pencil", size=14),
        variant="ghost",
        size="1",
        aria_label="Edit Company",
        on_click=P.start_edit("account_id"),
    )
    return rx.cond(
        P.editing == "account_id",
        rx.vstack(
            company_picker(P, label="Company", auto_focus=True),
            rx.hstack(
                rx.button("No company", variant="soft", size="1", on_click=P.clear_company),
                rx.button(
                    "Cancel", variant="soft", color_scheme="gray", size="1", on_click=P.cancel_edit
                ),
            ),
            rx.cond(P.edit_error != "", rx.text(P.edit_error, color_scheme="red", size="2")),
            width="100%",
            max_width="24rem",
        ),
        rx.hstack(
            rx.icon("building-2", size=16, color=rx.color("gray", 10)),
            _company_link(),
            rx.cond(P.can_edit, edit),
            align="center",
            spacing="2",
        ),
    )


def _header() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.avatar(fallback=P.initials, size="5", radius="full"),
            rx.vstack(
                rx.heading(P.name, size="6", as_="h2"),
                rx.cond(P.job_title != "", rx.text(P.job_title, size="3")),
                _company(),
                rx.text("Owner: ", rx.cond(P.owner_name != "", P.owner_name, "—"), size="2"),
                spacing="1",
            ),
            align="start",
            spacing="4",
        ),
        rx.spacer(),
        send_email_button("contact", P.record_id, P.can_log),
        rx.cond(
            P.can_delete,
            rx.button(
                rx.icon("trash-2", size=16),
                "Delete",
                color_scheme="red",
                variant="soft",
                on_click=P.ask_delete,
            ),
        ),
        gap="1rem",
        wrap="wrap",
        width="100%",
    )


def _company_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Company", size="3", as_="h3"),
            rx.cond(
                P.company_id > 0,
                rx.vstack(
                    rx.cond(P.company_detail != "", rx.text(P.company_detail, size="2")),
                    rx.link(
                        "Open the company's page",
                        href=routes.ACCOUNTS + "/" + P.company_id.to_string(),
                        size="2",
                    ),
                    spacing="1",
                ),
                rx.text("Not linked to a company.", size="2", color_scheme="gray"),
            ),
            spacing="2",
        ),
        width="100%",
    )


def _contact() -> rx.Component:
    return rx.fragment(
        record_body(P, noun="contact", header=_header(), first_related=_company_card()),
        send_email_dialog(),
    )


@rx.page(route=f"{routes.CONTACTS}/[id]", title="Contact · CRM", on_load=P.load)
@protected_page("Contact")
def contact_page() -> rx.Component:
    """A contact: fields edited in place, tags, company, deals, activities and timeline."""
    return page_problem(P, _contact())
