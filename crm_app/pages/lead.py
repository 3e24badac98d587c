"""`/leads/new` and `/leads/[id]`: create a lead; a lead's page, where it is converted."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.email import send_email_button, send_email_dialog
from crm_app.components.layout import protected_page
from crm_app.components.lead import became_card, convert_dialog, score_card
from crm_app.components.record import new_record_form, page_problem, record_body
from crm_app.components.ui import field, no_access, select_field
from crm_app.models import LeadStatus
from crm_app.state.lead import LeadFormState, LeadPageState
from crm_app.state.views import NONE

FORM_ID = "new-lead"
F = LeadFormState
P = LeadPageState


# ---- /leads/new --------------------------------------------------------------------------


def _error(name: str) -> rx.Var:
    return F.errors.get(name, "")


def _choices(options) -> list[rx.Component]:
    return [rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value))]


def _fields() -> rx.Component:
    return rx.grid(
        field("First name", "first_name", error=_error("first_name"), auto_focus=True),
        field("Last name", "last_name", error=_error("last_name")),
        field("E-mail", "email", type="email", error=_error("email")),
        field("Phone", "phone", type="tel", error=_error("phone")),
        field("Company", "company_name", error=_error("company_name")),
        field("Title", "title", error=_error("title")),
        select_field("Source", "source", _choices(F.sources), default=NONE, error=_error("source")),
        select_field(
            "Status",
            "status",
            _choices(F.statuses),
            default=LeadStatus.new.value,
            error=_error("status"),
        ),
        select_field(
            "Owner",
            "owner_id",
            _choices(F.owner_options),
            default=F.default_owner,
            error=_error("owner_id"),
        ),
        columns=rx.breakpoints(initial="1", sm="2"),
        gap="1rem",
        width="100%",
    )


@rx.page(route=routes.LEAD_NEW, title="New lead · CRM", on_load=F.load)
@protected_page("New lead")
def new_lead() -> rx.Component:
    """Create a lead, warned first when an open lead has the same e-mail or phone."""
    form = new_record_form(
        F, _fields(), form_id=FORM_ID, submit="Create lead", cancel_href=routes.LEADS
    )
    return rx.cond(F.can_create, form, no_access("creating leads"))


# ---- /leads/[id] -------------------------------------------------------------------------


def _badges() -> rx.Component:
    return rx.hstack(
        rx.badge(P.status_text, variant="soft", size="2", title="Status"),
        rx.badge("Score ", P.score.to_string(), variant="outline", size="2"),
        spacing="2",
        align="center",
    )


def _actions() -> rx.Component:
    return rx.hstack(
        send_email_button("lead", P.record_id, P.can_log),
        rx.cond(
            P.can_convert,
            rx.button(rx.icon("user-check", size=16), "Convert", on_click=P.open_convert),
        ),
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
        spacing="2",
    )


def _header() -> rx.Component:
    subtitle = rx.cond(
        (P.job_title != "") & (P.company != ""),
        rx.text(P.job_title, " at ", P.company, size="3"),
        rx.cond((P.job_title + P.company) != "", rx.text(P.job_title, P.company, size="3")),
    )
    return rx.flex(
        rx.hstack(
            rx.avatar(fallback=P.initials, size="5", radius="full"),
            rx.vstack(
                rx.heading(P.name, size="6", as_="h2"),
                subtitle,
                _badges(),
                rx.text("Owner: ", rx.cond(P.owner_name != "", P.owner_name, "—"), size="2"),
                spacing="1",
            ),
            align="start",
            spacing="4",
        ),
        rx.spacer(),
        _actions(),
        gap="1rem",
        wrap="wrap",
        width="100%",
    )


def _lead() -> rx.Component:
    side = rx.vstack(became_card(P), score_card(P), spacing="4", width="100%")
    return rx.fragment(
        record_body(P, noun="lead", header=_header(), first_related=side),
        convert_dialog(P),
        send_email_dialog(),
    )


@rx.page(route=f"{routes.LEADS}/[id]", title="Lead · CRM", on_load=P.load)
@protected_page("Lead")
def lead_page() -> rx.Component:
    """A lead: fields edited in place, tags, score, activities, timeline, and Convert."""
    return page_problem(P, _lead())
