"""`/accounts/new` and `/accounts/[id]`: create a company; a company's page."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.record import (
    new_record_form,
    page_problem,
    record_body,
    related_card,
)
from crm_app.components.ui import field, no_access, select_field
from crm_app.services.account import SIZES
from crm_app.state.account import AccountFormState, AccountPageState
from crm_app.state.views import NONE

FORM_ID = "new-company"
F = AccountFormState
P = AccountPageState


# ---- /accounts/new -----------------------------------------------------------------------


def _error(name: str) -> rx.Var:
    return F.errors.get(name, "")


def _description() -> rx.Component:
    return rx.vstack(
        rx.el.label(
            "Description", html_for="field-description", font_weight="500", font_size="0.875rem"
        ),
        rx.text_area(id="field-description", name="description", rows="4", width="100%", size="3"),
        rx.cond(
            _error("description") != "",
            rx.text(_error("description"), color_scheme="red", size="2", role="alert"),
        ),
        spacing="1",
        width="100%",
        grid_column=rx.breakpoints(initial="auto", sm="span 2"),
    )


def _fields() -> rx.Component:
    return rx.grid(
        field("Name", "name", error=_error("name"), auto_focus=True),
        field("Domain", "domain", placeholder="acme.com", error=_error("domain")),
        field("Website", "website", type="url", error=_error("website")),
        field("Industry", "industry", error=_error("industry")),
        select_field(
            "Size",
            "size",
            [
                rx.select.item("Not set", value=NONE),
                *[rx.select.item(f"{s} employees", value=s) for s in SIZES],
            ],
            default=NONE,
            error=_error("size"),
        ),
        field("Phone", "phone", type="tel", error=_error("phone")),
        field("Street", "street", error=_error("street")),
        field("City", "city", error=_error("city")),
        field("Region", "region", error=_error("region")),
        field("Postal code", "postal_code", error=_error("postal_code")),
        field("Country", "country", error=_error("country")),
        select_field(
            "Owner",
            "owner_id",
            [rx.foreach(F.owner_options, lambda o: rx.select.item(o.label, value=o.value))],
            default=F.default_owner,
            error=_error("owner_id"),
        ),
        _description(),
        columns=rx.breakpoints(initial="1", sm="2"),
        gap="1rem",
        width="100%",
    )


def _form() -> rx.Component:
    return new_record_form(
        F, _fields(), form_id=FORM_ID, submit="Create company", cancel_href=routes.ACCOUNTS
    )


@rx.page(route=routes.ACCOUNT_NEW, title="New company · CRM", on_load=F.load)
@protected_page("New company")
def new_account() -> rx.Component:
    """Create a company, warned first when its domain is already known."""
    return rx.cond(F.can_create, _form(), no_access("creating companies"))


# ---- /accounts/[id] ----------------------------------------------------------------------


def _header() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.box(
                rx.icon("building-2", size=28),
                padding="0.75rem",
                border_radius="var(--radius-3)",
                background=rx.color("accent", 3),
                color=rx.color("accent", 11),
            ),
            rx.vstack(
                rx.heading(P.name, size="6", as_="h2"),
                rx.cond(
                    P.domain != "",
                    rx.link(P.domain, href="https://" + P.domain, is_external=True, size="2"),
                ),
                rx.text("Owner: ", rx.cond(P.owner_name != "", P.owner_name, "—"), size="2"),
                spacing="1",
            ),
            align="start",
            spacing="4",
        ),
        rx.spacer(),
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


def _add_contact() -> rx.Component:
    return rx.cond(
        P.can_add_contact,
        rx.link(
            rx.hstack(rx.icon("plus", size=14), "Add contact", spacing="1", align="center"),
            href=P.new_contact_href,
            size="2",
        ),
    )


def _contacts_card() -> rx.Component:
    return related_card(
        "Contacts",
        P.contacts,
        P.contacts_total,
        P.more_contacts,
        _add_contact(),
        empty="No contacts yet.",
    )


def _company() -> rx.Component:
    return record_body(P, noun="company", header=_header(), first_related=_contacts_card())


@rx.page(route=f"{routes.ACCOUNTS}/[id]", title="Company · CRM", on_load=P.load)
@protected_page("Company")
def account_page() -> rx.Component:
    """A company: fields edited in place, tags, contacts, deals, activities and timeline."""
    return page_problem(P, _company())
