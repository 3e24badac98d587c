"""Settings -> Pipelines: the tables of pipelines, stages and lost reasons, and their dialogs.
Every piece takes `PipelineSettingsState` as `S`."""

from __future__ import annotations

from typing import Any

import reflex as rx

from crm_app.components.table import data_table
from crm_app.components.ui import field

LABEL_STYLE = {"font_weight": "500", "font_size": "0.875rem"}
KINDS = (("open", "Open"), ("won", "Won"), ("lost", "Lost"))


def _error(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def _arrows(row: rx.Var, on_move: Any, before: str, after: str) -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            rx.icon("arrow-up", size=16),
            variant="ghost",
            aria_label="Move " + row["name"] + f" {before}",
            disabled=row["first"] == "yes",
            on_click=on_move(row["id"], -1),
        ),
        rx.icon_button(
            rx.icon("arrow-down", size=16),
            variant="ghost",
            aria_label="Move " + row["name"] + f" {after}",
            disabled=row["last"] == "yes",
            on_click=on_move(row["id"], 1),
        ),
        spacing="1",
    )


def _small(label: str, aria: rx.Var, on_click: Any, **props) -> rx.Component:
    return rx.button(label, variant="soft", size="1", aria_label=aria, on_click=on_click, **props)


# ---- pipelines -----------------------------------------------------------------------------


def _pipeline_row(S: Any, row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            rx.hstack(
                rx.text(row["name"]),
                rx.cond(row["default"] == "yes", rx.badge("Default", variant="soft")),
                align="center",
                spacing="2",
            )
        ),
        rx.table.cell(
            rx.hstack(
                _arrows(row, S.move_pipeline, "up", "down"),
                _small("Stages", "Show the stages of " + row["name"], S.choose_pipeline(row["id"])),
                _small("Rename", "Rename " + row["name"], S.open_pipeline(row["id"])),
                rx.cond(
                    row["default"] != "yes",
                    rx.fragment(
                        _small(
                            "Make default",
                            "Make " + row["name"] + " the default",
                            S.make_default(row["id"]),
                        ),
                        _small(
                            "Delete",
                            "Delete " + row["name"],
                            S.ask_delete_pipeline(row["id"]),
                            color_scheme="red",
                        ),
                    ),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            )
        ),
        align="center",
    )


def pipelines_table(S: Any) -> rx.Component:
    """Every pipeline in order, the default one marked."""
    return data_table(
        "Pipelines",
        ["Pipeline", "Actions"],
        rx.table.body(rx.foreach(S.pipelines, lambda row: _pipeline_row(S, row))),
    )


def pipeline_dialog(S: Any) -> rx.Component:
    """Add a pipeline (it starts with the usual stages) or rename one."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.pipeline_editing != "", "Rename pipeline", "Add pipeline")),
            rx.cond(
                S.pipeline_editing == "",
                rx.dialog.description(
                    "It starts with the usual stages, which you can then change.",
                    size="2",
                    margin_bottom="0.75rem",
                ),
            ),
            rx.form(
                rx.vstack(
                    field(
                        "Name",
                        "name",
                        default_value=S.pipeline_name,
                        error=S.pipeline_error,
                        max_length=100,
                        auto_focus=True,
                    ),
                    _dialog_buttons(rx.cond(S.pipeline_editing != "", "Save", "Add pipeline")),
                    spacing="3",
                ),
                on_submit=S.save_pipeline,
                reset_on_submit=False,
                no_validate=True,
            ),
            max_width="28rem",
        ),
        open=S.pipeline_dialog,
        on_open_change=S.close_pipeline,
    )


def _dialog_buttons(submit: rx.Var | str, color: str = "indigo") -> rx.Component:
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
        rx.button(submit, type="submit", color_scheme=color),
        justify="end",
        width="100%",
    )


# ---- stages --------------------------------------------------------------------------------


def _stage_row(S: Any, row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"]),
        rx.table.cell(
            rx.badge(
                row["kind_label"],
                color_scheme=rx.match(row["kind"], ("won", "green"), ("lost", "red"), "gray"),
                variant="soft",
            )
        ),
        rx.table.cell(row["probability"] + "%"),
        rx.table.cell(row["rotting_label"]),
        rx.table.cell(row["deals"]),
        rx.table.cell(
            rx.hstack(
                _arrows(row, S.move_stage, "left", "right"),
                _small("Edit", "Edit " + row["name"], S.open_stage(row["id"])),
                _small(
                    "Delete",
                    "Delete " + row["name"],
                    S.ask_delete_stage(row["id"]),
                    color_scheme="red",
                ),
                spacing="2",
                align="center",
            )
        ),
        align="center",
    )


def stages_table(S: Any) -> rx.Component:
    """The stages of the pipeline shown, in board order."""
    return data_table(
        "Stages of " + S.selected_name,
        ["Stage", "Kind", "Win probability", "Idle after", "Deals", "Actions"],
        rx.table.body(rx.foreach(S.stages, lambda row: _stage_row(S, row))),
    )


def _stage_error(S: Any, name: str) -> rx.Var:
    return S.stage_errors.get(name, "")


def stage_dialog(S: Any) -> rx.Component:
    """Add a stage or change one: name, kind, win probability, and the days after which an
    idle deal is highlighted on the board."""
    values = S.stage_values
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.stage_editing != "", "Edit stage", "Add stage")),
            rx.form(
                rx.vstack(
                    field(
                        "Name",
                        "name",
                        default_value=values["name"],
                        error=_stage_error(S, "name"),
                        max_length=100,
                        auto_focus=True,
                    ),
                    rx.vstack(
                        rx.el.label("Kind", html_for="field-kind", style=LABEL_STYLE),
                        rx.select.root(
                            rx.select.trigger(id="field-kind", width="100%"),
                            rx.select.content(
                                *[rx.select.item(label, value=v) for v, label in KINDS],
                                position="popper",
                            ),
                            name="kind",
                            default_value=values["kind"],
                            size="3",
                        ),
                        _error(_stage_error(S, "kind")),
                        spacing="1",
                        width="100%",
                    ),
                    field(
                        "Win probability (%)",
                        "probability",
                        type="number",
                        min=0,
                        max=100,
                        default_value=values["probability"],
                        error=_stage_error(S, "probability"),
                    ),
                    field(
                        "Highlight deals idle for (days)",
                        "rotting_days",
                        type="number",
                        min=1,
                        default_value=values["rotting"],
                        error=_stage_error(S, "rotting_days"),
                    ),
                    _dialog_buttons(rx.cond(S.stage_editing != "", "Save", "Add stage")),
                    spacing="3",
                ),
                on_submit=S.save_stage,
                reset_on_submit=False,
                no_validate=True,
            ),
            max_width="28rem",
        ),
        open=S.stage_dialog,
        on_open_change=S.close_stage,
    )


def delete_dialog(S: Any) -> rx.Component:
    """Delete a pipeline or a stage; its deals first move to the stage picked."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Delete ", S.delete_name, "?"),
            rx.dialog.description(
                rx.cond(
                    S.delete_kind == "pipeline",
                    "Its stages go too. Open deals move to the stage you pick; won and lost "
                    "ones to that pipeline's won or lost stage.",
                    "Its deals, those in the trash too, move to the stage you pick.",
                ),
                size="2",
                margin_bottom="0.75rem",
            ),
            rx.form(
                rx.vstack(
                    rx.vstack(
                        rx.el.label(
                            "Move its deals to", html_for="field-move_to", style=LABEL_STYLE
                        ),
                        rx.select.root(
                            rx.select.trigger(
                                id="field-move_to", width="100%", placeholder="Pick a stage"
                            ),
                            rx.select.content(
                                rx.foreach(
                                    S.delete_targets,
                                    lambda t: rx.select.item(t["label"], value=t["id"]),
                                ),
                                position="popper",
                            ),
                            name="move_to",
                            size="3",
                        ),
                        rx.text(
                            "Not needed when it holds no deals.", size="1", color_scheme="gray"
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    _error(S.delete_error),
                    _dialog_buttons("Delete", "red"),
                    spacing="3",
                ),
                on_submit=S.confirm_delete,
                reset_on_submit=False,
            ),
            max_width="30rem",
        ),
        open=S.delete_kind != "",
        on_open_change=S.close_delete,
    )


# ---- lost reasons --------------------------------------------------------------------------


def _reason_name(S: Any, row: rx.Var) -> rx.Component:
    return rx.cond(
        S.reason_editing == row["id"],
        rx.form(
            rx.hstack(
                rx.input(
                    name="name",
                    default_value=row["name"],
                    aria_label="New name of " + row["name"],
                    max_length=100,
                    auto_focus=True,
                    size="1",
                ),
                rx.button("Save", type="submit", size="1"),
                rx.button(
                    "Cancel",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    size="1",
                    on_click=S.cancel_reason,
                ),
                spacing="2",
            ),
            on_submit=S.save_reason,
            reset_on_submit=False,
        ),
        rx.text(row["name"]),
    )


def _reason_row(S: Any, row: rx.Var) -> rx.Component:
    active = row["active"] == "yes"
    return rx.table.row(
        rx.table.row_header_cell(_reason_name(S, row)),
        rx.table.cell(
            rx.badge(
                rx.cond(active, "Offered", "Not offered"),
                color_scheme=rx.cond(active, "green", "gray"),
                variant="soft",
            )
        ),
        rx.table.cell(
            rx.hstack(
                _arrows(row, S.move_reason, "up", "down"),
                _small("Rename", "Rename " + row["name"], S.start_reason(row["id"])),
                _small(
                    rx.cond(active, "Deactivate", "Reactivate"),
                    rx.cond(active, "Deactivate ", "Reactivate ") + row["name"],
                    S.toggle_reason(row["id"]),
                ),
                spacing="2",
                align="center",
            )
        ),
        align="center",
    )


def lost_reasons(S: Any) -> rx.Component:
    """The reasons a lost deal picks from, in order, and a form adding one."""
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.box(field("New lost reason", "reason", max_length=100), min_width="16rem"),
                rx.button("Add reason", type="submit", size="3"),
                align="end",
                spacing="2",
            ),
            on_submit=S.add_reason,
            reset_on_submit=True,
        ),
        _error(S.reason_error),
        data_table(
            "Lost reasons",
            ["Reason", "Status", "Actions"],
            rx.table.body(rx.foreach(S.reasons, lambda row: _reason_row(S, row))),
        ),
        spacing="3",
        width="100%",
    )
