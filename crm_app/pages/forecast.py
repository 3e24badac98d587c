"""`/deals/forecast`: open deals' weighted amounts by expected close month, per owner and in
total, with a chart of the totals."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.deal_forecast import forecast_chart, forecast_filters, forecast_table
from crm_app.components.layout import protected_page
from crm_app.components.ui import no_access
from crm_app.pages.deal_board import deal_views
from crm_app.state.forecast import ForecastState as S


def _body() -> rx.Component:
    return rx.vstack(
        rx.flex(
            forecast_filters(S),
            rx.spacer(),
            deal_views("Forecast"),
            gap="0.75rem",
            wrap="wrap",
            align="end",
            width="100%",
        ),
        rx.text(
            "Open deals, each weighted by its probability (else its stage's), by the month "
            "they are expected to close. Amounts in different currencies are not added up.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            S.loaded,
            rx.cond(
                S.months.length() > 0,
                rx.fragment(forecast_chart(S), forecast_table(S)),
                rx.callout(
                    "No open deals with an amount match these filters.",
                    icon="info",
                    color_scheme="gray",
                    role="status",
                    width="100%",
                ),
            ),
            rx.center(rx.spinner(size="3"), padding="2rem", width="100%", aria_label="Loading"),
        ),
        spacing="4",
        width="100%",
    )


@rx.page(route=routes.FORECAST, title="Forecast · CRM", on_load=S.load)
@protected_page("Forecast")
def forecast() -> rx.Component:
    """The forecast of open deals."""
    return rx.cond(S.can_read, _body(), no_access("deals"))
