"""`/`: the dashboard: the greeting, KPI cards against the previous period, and six charts,
each with a table view and a CSV download."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app.components.layout import protected_page
from crm_app.components.report import report_filters, report_table
from crm_app.state.dashboard import DashboardState as D

PALETTE = ["#3e63dd", "#30a46c", "#f76b15", "#e5484d", "#8e4ec6", "#12a594", "#ffc53d"]
CHART_HEIGHT = 240


def _kpi(kpi: Any) -> rx.Component:
    return rx.card(
        rx.el.section(
            rx.vstack(
                rx.text(kpi.label, size="2", color_scheme="gray", weight="medium"),
                rx.heading(kpi.value, size="6", as_="p"),
                rx.hstack(
                    rx.cond(
                        kpi.change != "",
                        rx.badge(kpi.change, color_scheme=kpi.tone, variant="soft"),
                    ),
                    rx.text("was ", kpi.previous, size="1", color_scheme="gray"),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(kpi.team != "", rx.text("Team: ", kpi.team, size="1", color_scheme="gray")),
                spacing="1",
            ),
            aria_label=kpi.label,
        ),
        min_width="13rem",
        flex="1",
    )


def _axes(*series: rx.Component) -> list[rx.Component]:
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="label", tick_size=4, font_size=12),
        rx.recharts.y_axis(width=64, font_size=12),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
        *series,
    ]


def _bars(name: str, keys: list[str], stacked: bool = False) -> list[rx.Component]:
    return [
        rx.recharts.bar(
            data_key=key, fill=PALETTE[i % len(PALETTE)], stack_id="a" if stacked else None
        )
        for i, key in enumerate(keys)
    ]


def _chart(name: str) -> rx.Component:
    data = D.charts[name]
    size = {"data": data, "width": "100%", "height": CHART_HEIGHT}
    if name == "mrr":
        return rx.recharts.composed_chart(
            *_axes(
                *_bars(name, ["New", "Expansion", "Contraction", "Churned"], stacked=True),
                rx.recharts.line(data_key="MRR", stroke="#1c2024", stroke_width=2, dot=False),
            ),
            # losses stack below the axis, gains above (recharts' "sign", which Reflex's
            # stack_offset does not list)
            custom_attrs={"stackOffset": "sign"},
            **size,
        )
    if name == "conversion-funnel":
        return rx.recharts.bar_chart(
            rx.recharts.x_axis(type_="number", font_size=12),
            rx.recharts.y_axis(data_key="label", type_="category", width=96, font_size=12),
            rx.recharts.graphing_tooltip(),
            rx.recharts.bar(data_key="Leads", fill=PALETTE[0]),
            layout="vertical",
            **size,
        )
    if name == "activities-per-week":
        return rx.recharts.line_chart(
            *_axes(
                rx.foreach(
                    D.series[name],
                    lambda key, i: rx.recharts.line(
                        data_key=key, stroke=rx.Var.create(PALETTE)[i % len(PALETTE)], dot=False
                    ),
                )
            ),
            **size,
        )
    keys = {
        "pipeline-by-stage": ["Amount", "Weighted"],
        "won-revenue-by-month": ["Won"],
        "leads-by-source": ["Leads", "Converted"],
    }[name]
    return rx.recharts.bar_chart(*_axes(*_bars(name, keys)), **size)


def _chart_card(name: str, title: str) -> rx.Component:
    heading_id = f"chart-{name}"
    view = D.tables[name]
    return rx.card(
        rx.el.section(
            rx.flex(
                rx.heading(title, size="3", as_="h3", id=heading_id),
                rx.button(
                    rx.icon("download", size=14),
                    "CSV",
                    size="1",
                    variant="soft",
                    aria_label=f"Download {title} as CSV",
                    on_click=D.download(name),
                ),
                justify="between",
                align="center",
                width="100%",
            ),
            rx.tabs.root(
                rx.tabs.list(
                    rx.tabs.trigger("Chart", value="chart"),
                    rx.tabs.trigger("Table", value="table"),
                    size="1",
                ),
                rx.tabs.content(_chart(name), value="chart", padding_top="0.5rem"),
                rx.tabs.content(
                    rx.box(report_table(view, title), overflow_x="auto", max_height="20rem"),
                    value="table",
                    padding_top="0.5rem",
                ),
                default_value="chart",
            ),
            aria_labelledby=heading_id,
        ),
        width="100%",
        min_width="0",
    )


CHARTS = [
    ("pipeline-by-stage", "Pipeline value by stage"),
    ("won-revenue-by-month", "Won revenue by month"),
    ("mrr", "MRR over 12 months"),
    ("leads-by-source", "Leads by source"),
    ("conversion-funnel", "Lead to won funnel"),
    ("activities-per-week", "Activities per rep per week"),
]


def _dashboard() -> rx.Component:
    return rx.vstack(
        report_filters(D),
        rx.text(D.previous_label, size="1", color_scheme="gray"),
        rx.flex(rx.foreach(D.kpis, _kpi), gap="1rem", wrap="wrap", width="100%"),
        rx.grid(
            *[_chart_card(name, title) for name, title in CHARTS],
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


@rx.page(route="/", title="Home · CRM", on_load=[D.load, D.figures])
@protected_page("Home")
def home() -> rx.Component:
    """The greeting, then the dashboard for those who may see reports."""
    return rx.vstack(
        rx.heading("Welcome, ", D.me_name, size="6", as_="h2"),
        rx.cond(D.can_report, _dashboard()),
        spacing="5",
        width="100%",
    )
