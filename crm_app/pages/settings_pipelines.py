"""`/settings/pipelines`: the pipelines deals move through, their stages, and the reasons a
lost deal picks from (admins)."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.deal_pipelines import (
    delete_dialog,
    lost_reasons,
    pipeline_dialog,
    pipelines_table,
    stage_dialog,
    stages_table,
)
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.ui import no_access
from crm_app.state.pipeline_settings import PipelineSettingsState as S


def _stages() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Stages of ", S.selected_name, size="3", as_="h3"),
            rx.spacer(),
            rx.button(rx.icon("plus", size=16), "Add stage", on_click=S.open_stage("")),
            width="100%",
            align="center",
        ),
        rx.text(
            "In board order. Deals in won and lost stages leave the board's columns; a deal "
            "idle in a stage past its limit is highlighted.",
            size="2",
            color_scheme="gray",
        ),
        stages_table(S),
        spacing="2",
        width="100%",
    )


def _lost_reasons() -> rx.Component:
    return rx.vstack(
        rx.heading("Lost reasons", size="3", as_="h3"),
        rx.text(
            "A deal moved to a lost stage needs one of these. A deactivated reason stays on "
            "the deals that have it but is no longer offered.",
            size="2",
            color_scheme="gray",
        ),
        lost_reasons(S),
        spacing="2",
        width="100%",
    )


def _body() -> rx.Component:
    return rx.vstack(
        section_header(
            "Pipelines",
            "The sales processes deals move through. New deals go to the default one.",
            rx.button(rx.icon("plus", size=16), "Add pipeline", on_click=S.open_pipeline("")),
        ),
        pipelines_table(S),
        rx.cond(S.selected_id != "", _stages()),
        rx.divider(),
        _lost_reasons(),
        pipeline_dialog(S),
        stage_dialog(S),
        delete_dialog(S),
        spacing="5",
        width="100%",
    )


@rx.page(route=routes.SETTINGS_PIPELINES, title="Pipelines · CRM", on_load=S.load)
@protected_page("Settings")
def settings_pipelines() -> rx.Component:
    """Pipelines, stages and lost reasons (admins only)."""
    return settings_page(rx.cond(S.can_manage, _body(), no_access("the pipeline settings")))
