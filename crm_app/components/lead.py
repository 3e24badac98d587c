"""Pieces of the lead page: the score card, what a converted lead became, and the convert
dialog. Each takes the page's state class (`LeadPageState`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app.state.lead_conversion import AUTO, MATCH, NEW

LABEL_STYLE = {"font_weight": "500", "font_size": "0.875rem"}


def _error(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def score_bar(score: rx.Var) -> rx.Component:
    """A bar as long as the score (out of 100), for the eye; the number is said beside it."""
    return rx.box(
        rx.box(width=score.to_string() + "%", height="100%", background=rx.color("accent", 9)),
        aria_hidden="true",
        width="100%",
        height="0.5rem",
        border_radius="9999px",
        background=rx.color("gray", 4),
        overflow="hidden",
    )


def _rule(rule: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.vstack(
                rx.text(rule["name"], weight="medium", size="2"),
                rx.text(rule["description"], size="1", color_scheme="gray"),
                spacing="0",
                min_width="0",
            ),
            rx.spacer(),
            rx.badge(rule["points"], variant="soft", title="Points"),
            gap="0.5rem",
            align="start",
            width="100%",
        ),
        padding_y="0.375rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def score_card(S) -> rx.Component:
    """The lead's score and the scoring rules it matches."""
    return rx.card(
        rx.el.section(
            rx.vstack(
                rx.hstack(
                    rx.heading("Score", size="3", as_="h3", id="section-score"),
                    rx.spacer(),
                    rx.text(S.score.to_string(), " / 100", weight="bold", size="4"),
                    align="center",
                    width="100%",
                ),
                score_bar(S.score),
                rx.cond(
                    S.score_rules.length() > 0,
                    rx.el.ul(
                        rx.foreach(S.score_rules, _rule),
                        aria_label="Matching scoring rules",
                        list_style="none",
                        margin="0",
                        padding="0",
                        width="100%",
                    ),
                    rx.text("No scoring rule matches this lead.", size="2", color_scheme="gray"),
                ),
                spacing="2",
                width="100%",
            ),
            aria_labelledby="section-score",
        ),
        width="100%",
    )


def _became_row(row: Any) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.text(row.subtitle, size="1", color_scheme="gray", min_width="4.5rem"),
            rx.link(row.title, href=row.href, weight="medium", size="2"),
            align="center",
            spacing="2",
        ),
        padding_y="0.25rem",
    )


def became_card(S) -> rx.Component:
    """What a converted lead became, each linked to its page."""
    return rx.cond(
        S.converted,
        rx.card(
            rx.el.section(
                rx.vstack(
                    rx.hstack(
                        rx.icon("circle-check", size=16, color=rx.color("grass", 10)),
                        rx.heading("Converted", size="3", as_="h3", id="section-converted"),
                        align="center",
                        spacing="2",
                    ),
                    rx.cond(
                        S.became.length() > 0,
                        rx.el.ul(
                            rx.foreach(S.became, _became_row),
                            list_style="none",
                            margin="0",
                            padding="0",
                        ),
                        rx.text("What it became is in the trash.", size="2", color_scheme="gray"),
                    ),
                    spacing="2",
                    width="100%",
                ),
                aria_labelledby="section-converted",
            ),
            width="100%",
        ),
    )


# ---- the convert dialog --------------------------------------------------------------------


def _choice(value: str, *label: Any) -> rx.Component:
    return rx.text(
        rx.flex(rx.radio_group.item(value=value), rx.text.span(*label), gap="0.5rem"),
        as_="label",
        size="2",
    )


def _contact_choices(S) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Contact", style=LABEL_STYLE),
        rx.radio_group.root(
            rx.vstack(
                rx.cond(
                    S.contact_match_id != "",
                    _choice(MATCH, "Link the existing contact ", rx.text.strong(S.contact_match)),
                ),
                _choice(NEW, "Create a new contact from the lead"),
                spacing="2",
            ),
            value=S.contact_choice,
            on_change=S.choose_contact,
        ),
        rx.cond(
            S.contact_hidden,
            rx.text(
                "A contact with this e-mail exists, but you may not open it.",
                size="1",
                color_scheme="gray",
            ),
        ),
        _error(S.convert_errors.get("contact_id", "")),
        style={"border": "none", "padding": "0", "margin": "0"},
    )


def _account_choices(S) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Company", style=LABEL_STYLE),
        rx.cond(
            S.account_choice == AUTO,
            rx.text(
                "The lead names no company: the contact keeps the company it has, if any.",
                size="2",
                color_scheme="gray",
            ),
            rx.radio_group.root(
                rx.vstack(
                    rx.cond(
                        S.account_match_id != "",
                        _choice(
                            MATCH, "Link the existing company ", rx.text.strong(S.account_match)
                        ),
                    ),
                    rx.cond(
                        S.lead_company != "",
                        _choice(NEW, "Create a new company ", rx.text.strong(S.lead_company)),
                    ),
                    spacing="2",
                ),
                value=S.account_choice,
                on_change=S.choose_account,
            ),
        ),
        _error(S.convert_errors.get("account_id", "")),
        style={"border": "none", "padding": "0", "margin": "0"},
    )


def _labelled(label: str, input_id: str, control: rx.Component, error: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=input_id, style=LABEL_STYLE),
        control,
        _error(error),
        spacing="1",
        width="100%",
    )


def _select(S, input_id: str, options: rx.Var, value: rx.Var, on_change) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=input_id, width="100%"),
        rx.select.content(
            rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value)),
            position="popper",
        ),
        value=value,
        on_change=on_change,
    )


def _deal_fields(S) -> rx.Component:
    errors = S.convert_errors
    return rx.grid(
        _labelled(
            "Deal name",
            "convert-deal-name",
            rx.input(
                id="convert-deal-name",
                name="deal_name",
                default_value=S.deal_name,
                max_length=200,
                width="100%",
            ),
            errors.get("deal.name", ""),
        ),
        _labelled(
            "Amount",
            "convert-deal-amount",
            rx.input(
                id="convert-deal-amount",
                name="deal_amount",
                input_mode="decimal",
                placeholder="0.00",
                width="100%",
            ),
            errors.get("deal.amount", ""),
        ),
        _labelled(
            "Pipeline",
            "convert-deal-pipeline",
            _select(S, "convert-deal-pipeline", S.pipelines, S.deal_pipeline, S.choose_pipeline),
            errors.get("deal.pipeline_id", ""),
        ),
        _labelled(
            "Stage",
            "convert-deal-stage",
            _select(S, "convert-deal-stage", S.stages, S.deal_stage, S.choose_stage),
            errors.get("deal.stage_id", ""),
        ),
        columns=rx.breakpoints(initial="1", sm="2"),
        gap="0.75rem",
        width="100%",
    )


def convert_dialog(S) -> rx.Component:
    """Pick the contact and company the lead becomes and, optionally, a deal; then convert."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Convert ", S.name),
            rx.dialog.description(
                "The lead becomes a contact and a company, and a deal if you ask for one. "
                "It then links to them and can no longer be converted.",
                size="2",
                margin_bottom="0.75rem",
            ),
            rx.form(
                rx.vstack(
                    rx.cond(
                        S.convert_error != "",
                        rx.callout(
                            S.convert_error, icon="circle_alert", color_scheme="red", width="100%"
                        ),
                    ),
                    _contact_choices(S),
                    _account_choices(S),
                    rx.cond(
                        S.pipelines.length() > 0,
                        rx.checkbox("Create a deal", checked=S.with_deal, on_change=S.toggle_deal),
                    ),
                    rx.cond(S.with_deal, _deal_fields(S)),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Convert lead", type="submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=S.convert,
                reset_on_submit=False,
            ),
            max_width="34rem",
        ),
        open=S.convert_open,
        on_open_change=S.close_convert,
    )
