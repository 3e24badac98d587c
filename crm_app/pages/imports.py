"""`/settings/import`: import contacts or companies from CSV, and download them as CSV."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.table import data_table
from crm_app.components.ui import download_link, no_access
from crm_app.state.importer import (
    DUPLICATE_CHOICES,
    SKIP,
    ColumnChoice,
    ImportState,
    JobView,
    PreviewCell,
    PreviewLine,
)

UPLOAD_ID = "import-csv"
ACCEPT = {"text/csv": [".csv"], "text/plain": [".csv", ".txt", ".tsv"]}


def _status(job: JobView, **props) -> rx.Component:
    color = rx.match(
        job.status,
        ("succeeded", "green"),
        ("failed", "red"),
        ("undone", "gray"),
        "blue",
    )
    return rx.badge(job.status, color_scheme=color, **props)


def _step(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="3", as_="h3"), *children, spacing="3", width="100%"),
        width="100%",
    )


def _alert(message: rx.Var) -> rx.Component:
    return rx.cond(message != "", rx.text(message, color_scheme="red", size="2", role="alert"))


def _entity_choice() -> rx.Component:
    return rx.hstack(
        rx.text("The file holds", id="import-entity-label", weight="medium", size="2"),
        rx.radio_group.root(
            rx.hstack(
                rx.foreach(
                    ImportState.entities,
                    lambda e: rx.radio_group.item(
                        rx.cond(e == "contact", "Contacts", "Companies"), value=e
                    ),
                ),
                spacing="4",
            ),
            value=ImportState.entity,
            on_change=ImportState.choose_entity,
            aria_labelledby="import-entity-label",
        ),
        spacing="4",
        align="center",
    )


def _upload_step() -> rx.Component:
    return _step(
        "1. Choose a CSV file",
        _entity_choice(),
        rx.upload(
            rx.vstack(
                rx.icon("upload", size=22, color=rx.color("gray", 10)),
                rx.text("Drop a CSV file here, or"),
                rx.button("Choose a CSV file", type="button", variant="soft"),
                rx.text(
                    "The first row names the columns. UTF-8 or Windows-1252; "
                    "commas, semicolons or tabs.",
                    size="1",
                    color_scheme="gray",
                ),
                align="center",
                spacing="2",
            ),
            id=UPLOAD_ID,
            accept=ACCEPT,
            max_files=1,
            multiple=False,
            on_drop=ImportState.receive_upload(rx.upload_files_chunk(upload_id=UPLOAD_ID)),
            border=f"2px dashed {rx.color('gray', 6)}",
            border_radius="var(--radius-3)",
            padding="1.5rem",
            width="100%",
            cursor="pointer",
        ),
        rx.cond(
            ImportState.uploading,
            rx.hstack(rx.spinner(), rx.text("Uploading and reading the file…"), role="status"),
        ),
        _alert(ImportState.upload_error),
    )


def _field_select(choice: ColumnChoice) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Field for column " + choice.column, width="100%"),
        rx.select.content(
            rx.select.item("Don't import", value=SKIP),
            rx.foreach(
                ImportState.field_options, lambda option: rx.select.item(option[1], value=option[0])
            ),
            position="popper",
        ),
        value=choice.field,
        on_change=lambda key: ImportState.choose_field(choice.column, key),
    )


def _mapping_table() -> rx.Component:
    return data_table(
        "Columns of the file",
        ["Column in the file", "First value", "Import into"],
        rx.table.body(
            rx.foreach(
                ImportState.columns,
                lambda c: rx.table.row(
                    rx.table.row_header_cell(c.column),
                    rx.table.cell(rx.text(c.sample, trim="both", max_width="16rem")),
                    rx.table.cell(_field_select(c), min_width="14rem"),
                ),
            )
        ),
    )


def _preview_cell(cell: PreviewCell) -> rx.Component:
    has_error = cell.error != ""
    return rx.table.cell(
        rx.text(cell.text),
        rx.cond(has_error, rx.text(cell.error, color_scheme="red", size="1")),
        background=rx.cond(has_error, rx.color("red", 3), "transparent"),
        aria_invalid=rx.cond(has_error, "true", "false"),
    )


def _preview_row(line: PreviewLine) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(line.number),
        rx.foreach(line.cells, _preview_cell),
        rx.table.cell(rx.text(line.problems, color_scheme="red", size="1")),
    )


def _preview_table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.el.caption("First rows of the file", style={"caption_side": "top"}),
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Row"),
                    rx.foreach(
                        ImportState.columns, lambda c: rx.table.column_header_cell(c.column)
                    ),
                    rx.table.column_header_cell("Problems"),
                )
            ),
            rx.table.body(rx.foreach(ImportState.preview, _preview_row)),
            variant="surface",
            size="1",
        ),
        overflow_x="auto",
        width="100%",
    )


def _duplicates_choice() -> rx.Component:
    return rx.radio_group.root(
        rx.vstack(
            *[rx.radio_group.item(label, value=key) for key, label in DUPLICATE_CHOICES.items()],
            spacing="2",
        ),
        value=ImportState.on_duplicate,
        on_change=ImportState.choose_on_duplicate,
        aria_label="Rows that match existing records",
    )


def _mapping_step() -> rx.Component:
    return rx.vstack(
        _step(
            "2. Match the columns to fields",
            _entity_choice(),
            rx.text(
                rx.text.strong(ImportState.filename),
                " · about ",
                ImportState.estimated_rows,
                " rows. Columns are matched by their names; change any that are wrong.",
            ),
            rx.cond(
                ImportState.entity == "contact",
                rx.text(
                    "A Company column links each contact to the company with that name or "
                    "domain; a company that does not exist yet is created.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            _mapping_table(),
        ),
        _step(
            "3. Check the first rows",
            rx.cond(
                ImportState.errors_in_preview > 0,
                rx.callout(
                    "Rows with errors: "
                    + ImportState.errors_in_preview.to_string()
                    + ". They will not be imported. Fix the mapping or the file, or import "
                    "the rest and download the rejected rows with their reasons afterwards.",
                    icon="triangle-alert",
                    color_scheme="amber",
                ),
                rx.text("These rows look fine.", color_scheme="green", size="2"),
            ),
            _preview_table(),
        ),
        _step(
            "4. Rows that match existing records",
            rx.text(
                "Contacts match by e-mail, then phone; companies by domain, or by name "
                "when there is no domain.",
                size="2",
                color_scheme="gray",
            ),
            _duplicates_choice(),
            _alert(ImportState.mapping_error),
            rx.hstack(
                rx.button(rx.icon("play", size=16), "Start import", on_click=ImportState.start),
                rx.button(
                    "Choose another file",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ImportState.cancel_upload,
                ),
                spacing="3",
            ),
        ),
        spacing="4",
        width="100%",
    )


def _undo_button(job: JobView) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                "Undo import",
                variant="soft",
                color_scheme="red",
                size="1",
                aria_label="Undo import of " + job.filename,
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Undo this import?"),
            rx.alert_dialog.description(
                "The ",
                job.created,
                " records it created go to the trash, and the ",
                job.updated,
                " it updated get their previous values back (fields edited since are kept).",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Undo import", color_scheme="red", on_click=ImportState.undo(job.id))
                ),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
    )


def _report_link(job: JobView) -> rx.Component:
    return rx.cond(job.report_url != "", download_link("Download rejected rows", job.report_url))


def _counts(job: JobView) -> rx.Component:
    return rx.hstack(
        *[
            rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, weight="bold"))
            for label, value in (
                ("Rows read", job.processed),
                ("Created", job.created),
                ("Updated", job.updated),
                ("Skipped", job.skipped),
                ("Rejected", job.rejected),
            )
        ],
        spacing="6",
        wrap="wrap",
        role="group",
        aria_label="Import counts",
    )


def _job_panel() -> rx.Component:
    job = ImportState.job
    return rx.cond(
        job.id != 0,
        _step(
            "Import of " + job.filename,
            rx.hstack(
                _status(job, aria_label="Import status"),
                rx.text(job.percent.to_string() + "%", size="2"),
                align="center",
            ),
            rx.progress(value=job.percent, max=100, aria_label="Import progress", width="100%"),
            _counts(job),
            rx.cond(job.message != "", rx.text(job.message, color_scheme="red", role="alert")),
            rx.hstack(
                _report_link(job),
                rx.cond(job.can_undo, _undo_button(job)),
                rx.cond(
                    (job.status == "succeeded") | (job.status == "failed") | job.undone,
                    rx.button(
                        "Import another file",
                        variant="soft",
                        size="1",
                        on_click=ImportState.dismiss_job,
                    ),
                ),
                spacing="4",
                align="center",
            ),
        ),
    )


def _recent_row(job: JobView) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(job.filename),
        rx.table.cell(job.entity),
        rx.table.cell(_status(job)),
        rx.table.cell(job.started),
        rx.table.cell(job.created),
        rx.table.cell(job.updated),
        rx.table.cell(job.skipped),
        rx.table.cell(job.rejected),
        rx.table.cell(rx.hstack(_report_link(job), rx.cond(job.can_undo, _undo_button(job)))),
    )


def _recent() -> rx.Component:
    return rx.vstack(
        rx.heading("Recent imports", size="3", as_="h3"),
        rx.cond(
            ImportState.jobs.length() > 0,
            data_table(
                "Recent imports",
                [
                    "File",
                    "Records",
                    "Status",
                    "Started",
                    "Created",
                    "Updated",
                    "Skipped",
                    "Rejected",
                    "",
                ],
                rx.table.body(rx.foreach(ImportState.jobs, _recent_row)),
            ),
            rx.text("No imports yet.", color_scheme="gray"),
        ),
        width="100%",
        spacing="2",
    )


def _exports() -> rx.Component:
    return rx.cond(
        ImportState.exports.length() > 0,
        rx.vstack(
            rx.heading("Export", size="3", as_="h3"),
            rx.text(
                "Download every record as CSV. To export a filtered list, use Export on the "
                "Contacts or Companies page.",
                size="2",
                color_scheme="gray",
            ),
            rx.hstack(
                rx.foreach(ImportState.export_links, lambda link: download_link(link[0], link[1])),
                spacing="4",
            ),
            width="100%",
            spacing="2",
        ),
    )


@rx.page(route=routes.SETTINGS_IMPORT, title="Import / export · CRM", on_load=ImportState.load)
@protected_page("Settings")
def imports() -> rx.Component:
    """Import from CSV (upload, map, preview, run, undo) and export to CSV."""
    return settings_page(
        section_header(
            "Import / export",
            "Bring contacts or companies in from a CSV file, or download them as CSV.",
        ),
        rx.cond(
            ImportState.may_import,
            rx.vstack(
                _job_panel(),
                rx.cond(
                    ImportState.job.id == 0,
                    rx.cond(ImportState.columns.length() > 0, _mapping_step(), _upload_step()),
                ),
                _recent(),
                spacing="4",
                width="100%",
            ),
            rx.cond(
                ImportState.exports.length() == 0,
                no_access("import and export"),
            ),
        ),
        _exports(),
    )
