"""`/deals/new` and `/deals/[id]`: create a deal; a deal's page."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.activity import history_card
from crm_app.components.deal import (
    company_line,
    contact_line,
    form_company,
    form_contact,
    form_pipeline,
    form_stage,
    involved_contacts,
    lost_dialog,
    stage_history,
    stage_path,
    won_dialog,
)
from crm_app.components.email import send_email_button, send_email_dialog
from crm_app.components.inline_edit import field_list
from crm_app.components.layout import protected_page
from crm_app.components.record import (
    delete_dialog,
    new_record_form,
    page_problem,
    record_layout,
    related_card,
    section_card,
)
from crm_app.components.tags import tag_editor
from crm_app.components.ui import field, no_access, select_field
from crm_app.state.deal import DealFormState, DealPageState

FORM_ID = "new-deal"
F = DealFormState
P = DealPageState


# ---- /deals/new ----------------------------------------------------------------------------


def _error(name: str) -> rx.Var:
    return F.errors.get(name, "")


def _fields() -> rx.Component:
    return rx.grid(
        rx.box(
            field("Name", "name", error=_error("name"), auto_focus=True, max_length=200),
            grid_column=rx.breakpoints(initial="auto", sm="span 2"),
        ),
        form_pipeline(F),
        form_stage(F),
        field("Amount", "amount", error=_error("amount"), input_mode="decimal"),
        field(
            "Currency",
            "currency",
            error=_error("currency"),
            default_value=F.default_currency,
            max_length=3,
        ),
        field(
            "Expected close",
            "expected_close_date",
            type="date",
            error=_error("expected_close_date"),
        ),
        select_field(
            "Owner",
            "owner_id",
            [rx.foreach(F.owner_options, lambda o: rx.select.item(o.label, value=o.value))],
            default=F.default_owner,
            error=_error("owner_id"),
        ),
        form_company(F),
        form_contact(F),
        columns=rx.breakpoints(initial="1", sm="2"),
        gap="1rem",
        width="100%",
    )


@rx.page(route=routes.DEAL_NEW, title="New deal · CRM", on_load=F.load)
@protected_page("New deal")
def new_deal() -> rx.Component:
    """Create a deal in a pipeline and stage, with its amount, company and contact."""
    return rx.cond(
        F.can_create,
        new_record_form(
            F, _fields(), form_id=FORM_ID, submit="Create deal", cancel_href=routes.DEAL_LIST
        ),
        no_access("creating deals"),
    )


# ---- /deals/[id] ---------------------------------------------------------------------------


def _amounts() -> rx.Component:
    return rx.hstack(
        rx.text(
            rx.cond(P.amount_label != "", P.amount_label, "No amount"), size="5", weight="bold"
        ),
        rx.cond(
            P.weighted_label != "",
            rx.text("Weighted ", P.weighted_label, size="2", color_scheme="gray"),
        ),
        rx.badge(
            P.status_label,
            color_scheme=rx.match(P.status, ("won", "green"), ("lost", "red"), "indigo"),
            variant="soft",
            size="2",
        ),
        align="center",
        spacing="3",
        wrap="wrap",
    )


def _header() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.heading(P.name, size="6", as_="h2"),
                _amounts(),
                company_line(P, routes.ACCOUNTS + "/" + P.company_id.to_string()),
                contact_line(P, routes.CONTACTS + "/" + P.contact_id.to_string()),
                rx.text("Owner: ", rx.cond(P.owner_name != "", P.owner_name, "—"), size="2"),
                spacing="2",
            ),
            rx.spacer(),
            send_email_button("deal", P.record_id, P.can_log),
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
        ),
        stage_path(P),
        spacing="3",
        width="100%",
    )


def _deal() -> rx.Component:
    main = rx.vstack(
        section_card("Details", field_list(P, P.fields)),
        rx.cond(P.custom.length() > 0, section_card("More fields", field_list(P, P.custom))),
        stage_history(P),
        spacing="4",
        width="100%",
    )
    side = rx.vstack(
        involved_contacts(P),
        rx.cond(
            P.can_see_activities,
            related_card(
                "Activities",
                P.activities,
                P.activities_total,
                P.more_activities,
                empty="No activities yet.",
            ),
        ),
        spacing="4",
        width="100%",
    )
    return rx.vstack(
        _header(),
        tag_editor(P, P.can_edit),
        record_layout(main, side, history_card(P)),
        delete_dialog(P, "deal"),
        won_dialog(P),
        lost_dialog(P),
        send_email_dialog(),
        spacing="4",
        width="100%",
    )


@rx.page(route=f"{routes.DEALS}/[id]", title="Deal · CRM", on_load=P.load)
@protected_page("Deal")
def deal_page() -> rx.Component:
    """A deal: fields edited in place, its stage path and history, the contacts involved,
    activities and timeline."""
    return page_problem(P, _deal())
