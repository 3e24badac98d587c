"""The record list both `/contacts` and `/accounts` show: toolbar, filter bar, column chooser,
a table with sortable headers and row checkboxes, the bulk-action bar, the pager and the
saved-view dialogs. Every piece takes the list's state class (`ContactListState`, ...)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from crm_app.components.ui import VISUALLY_HIDDEN, field, no_access
from crm_app.state.record_list import ANY, PAGE_SIZES
from crm_app.state.saved_view import SavedViewState

LABEL_STYLE = {"font_weight": "500", "font_size": "0.875rem"}


# ---- toolbar -------------------------------------------------------------------------------


def _search(S, placeholder: str) -> rx.Component:
    return rx.debounce_input(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            type="search",
            placeholder=placeholder,
            aria_label=f"Search {S.LIST.plural}",
            value=S.query,
            on_change=S.search,
            width="100%",
        ),
        debounce_timeout=300,
    )


def _filters_button(S) -> rx.Component:
    return rx.button(
        rx.icon("list-filter", size=16),
        "Filters",
        rx.cond(S.active_filter_count > 0, rx.badge(S.active_filter_count, variant="solid")),
        variant=rx.cond(S.filters_open, "solid", "soft"),
        on_click=S.toggle_filters,
        aria_expanded=rx.cond(S.filters_open, "true", "false"),
        aria_controls="list-filters",
    )


def _chooser_row(S, column: rx.Var) -> rx.Component:
    label = column["label"]
    return rx.hstack(
        rx.checkbox(
            label,
            checked=column["shown"] == "yes",
            disabled=column["fixed"] == "yes",
            on_change=lambda shown: S.toggle_column(column["key"], shown),
        ),
        rx.spacer(),
        rx.icon_button(
            rx.icon("arrow-up", size=14),
            variant="ghost",
            size="1",
            aria_label="Move " + label + " left",
            disabled=column["can_up"] == "",
            on_click=S.move_column(column["key"], -1),
        ),
        rx.icon_button(
            rx.icon("arrow-down", size=14),
            variant="ghost",
            size="1",
            aria_label="Move " + label + " right",
            disabled=column["can_down"] == "",
            on_click=S.move_column(column["key"], 1),
        ),
        align="center",
        width="100%",
        spacing="2",
    )


def _column_chooser(S) -> rx.Component:
    return rx.popover.root(
        rx.popover.trigger(rx.button(rx.icon("columns-3", size=16), "Columns", variant="soft")),
        rx.popover.content(
            rx.vstack(
                rx.text("Shown columns, in order", weight="bold", size="2"),
                rx.vstack(rx.foreach(S.chooser, lambda c: _chooser_row(S, c)), spacing="1"),
                rx.button(
                    "Default columns",
                    variant="soft",
                    color_scheme="gray",
                    size="1",
                    on_click=S.reset_columns,
                ),
                spacing="3",
                width="16rem",
            ),
            aria_label="Columns",
            max_height="70vh",
            overflow_y="auto",
        ),
    )


def _views_menu(S, views: rx.Var, all_label: str, all_href: str) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("bookmark", size=16),
                "Views",
                rx.icon("chevron-down", size=14),
                variant="soft",
            )
        ),
        rx.menu.content(
            rx.menu.item("Save as new view…", on_click=S.open_save(True)),
            rx.cond(
                S.view_editable,
                rx.fragment(
                    rx.menu.item(
                        "Save changes to this view", on_click=S.save_changes, disabled=~S.view_dirty
                    ),
                    rx.menu.item("Rename or share…", on_click=S.open_edit(True)),
                    rx.menu.item("Delete view…", color_scheme="red", on_click=S.ask_delete_view),
                ),
            ),
            rx.menu.separator(),
            rx.menu.item(all_label, on_click=rx.redirect(all_href)),
            rx.foreach(views, lambda v: rx.menu.item(v["name"], on_click=rx.redirect(v["href"]))),
        ),
    )


def toolbar(S, *, placeholder: str, views: rx.Var, all_label: str, all_href: str) -> rx.Component:
    """Search, the filter toggle, the column chooser and the views menu."""
    return rx.flex(
        rx.box(_search(S, placeholder), flex="1", min_width="12rem", max_width="28rem"),
        rx.hstack(
            _filters_button(S),
            _column_chooser(S),
            _views_menu(S, views, all_label, all_href),
            rx.cond(
                S.can_export,
                rx.link(
                    rx.button(rx.icon("download", size=16), "Export CSV", variant="soft"),
                    href=S.export_href,
                    is_external=True,
                    download=True,
                ),
            ),
            spacing="2",
            wrap="wrap",
        ),
        gap="0.5rem",
        wrap="wrap",
        align="center",
        width="100%",
    )


# ---- filters -------------------------------------------------------------------------------


def _labelled(label, input_id, control: rx.Component, min_width: str = "10rem") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=input_id, style=LABEL_STYLE),
        control,
        spacing="1",
        min_width=min_width,
        max_width="18rem",
        flex="1",
    )


def select_filter(S, label: str, name: str, any_label: str, *items) -> rx.Component:
    """A filter picked from a list; `any_label` is the no-filter choice."""
    select_id = f"filter-{name}"
    value = S.filters[name]
    return _labelled(
        label,
        select_id,
        rx.select.root(
            rx.select.trigger(id=select_id, width="100%"),
            rx.select.content(rx.select.item(any_label, value=ANY), *items, position="popper"),
            value=rx.cond(value == "", ANY, value),
            on_change=lambda v: S.set_filter(name, v),
        ),
    )


def text_filter(S, label: str, name, *, type: str = "text", min_width: str = "10rem"):
    """A typed filter (text, number or date); text is sent once typing pauses."""
    input_id = "filter-" + name
    control = rx.input(
        id=input_id,
        type=type,
        value=S.filters[name],
        on_change=lambda v: S.set_filter(name, v),
        width="100%",
    )
    if type in ("text", "number"):
        control = rx.debounce_input(control, debounce_timeout=400)
    return _labelled(label, input_id, control, min_width)


def _custom_filter(S, f: rx.Var) -> rx.Component:
    select_id = "filter-" + f.name
    value = S.filters[f.name]
    return rx.match(
        f.kind,
        (
            "select",
            _labelled(
                f.label,
                select_id,
                rx.select.root(
                    rx.select.trigger(id=select_id, width="100%"),
                    rx.select.content(
                        rx.select.item("Any", value=ANY),
                        rx.foreach(f.options, lambda o: rx.select.item(o, value=o)),
                        position="popper",
                    ),
                    value=rx.cond(value == "", ANY, value),
                    on_change=lambda v: S.set_filter(f.name, v),
                ),
            ),
        ),
        (
            "checkbox",
            _labelled(
                f.label,
                select_id,
                rx.select.root(
                    rx.select.trigger(id=select_id, width="100%"),
                    rx.select.content(
                        rx.select.item("Any", value=ANY),
                        rx.select.item("Yes", value="yes"),
                        rx.select.item("No", value="no"),
                        position="popper",
                    ),
                    value=rx.cond(value == "", ANY, value),
                    on_change=lambda v: S.set_filter(f.name, v),
                ),
            ),
        ),
        ("date", text_filter(S, f.label, f.name, type="date", min_width="9rem")),
        ("number", text_filter(S, f.label, f.name, type="number")),
        text_filter(S, f.label, f.name),
    )


def owner_filter(S) -> rx.Component:
    """Anyone, me, no one, or one person."""
    return select_filter(
        S,
        "Owner",
        "owner_id",
        "Anyone",
        rx.select.item("Me", value="me"),
        rx.select.item("Unassigned", value="none"),
        rx.foreach(S.owners, lambda o: rx.select.item(o["name"], value=o["id"])),
    )


def picker_filter(
    label: str,
    picked: rx.Var,
    any_label: str,
    query: rx.Var,
    hits: rx.Var,
    *,
    on_search,
    on_pick,
    on_any,
) -> rx.Component:
    """A filter on one record found by name (e.g. the company of contacts)."""
    return _labelled(
        label,
        "filter-picker",
        rx.popover.root(
            rx.popover.trigger(
                rx.button(
                    rx.text(rx.cond(picked != "", picked, any_label), truncate=True),
                    rx.icon("chevron-down", size=14),
                    id="filter-picker",
                    variant="surface",
                    color_scheme="gray",
                    high_contrast=True,
                    justify_content="space-between",
                    font_weight="normal",
                    width="100%",
                )
            ),
            rx.popover.content(
                rx.vstack(
                    rx.debounce_input(
                        rx.input(
                            type="search",
                            placeholder="Type a name",
                            aria_label=f"Search {label.lower()}",
                            value=query,
                            on_change=on_search,
                            auto_focus=True,
                            width="100%",
                        ),
                        debounce_timeout=250,
                    ),
                    rx.popover.close(
                        rx.button(any_label, variant="ghost", on_click=on_any, width="100%")
                    ),
                    rx.foreach(
                        hits,
                        lambda h: rx.popover.close(
                            rx.button(
                                h["name"],
                                variant="ghost",
                                color_scheme="gray",
                                on_click=on_pick(h["id"]),
                                justify="start",
                                width="100%",
                            )
                        ),
                    ),
                    spacing="1",
                    width="16rem",
                ),
                aria_label=label,
            ),
        ),
        "12rem",
    )


def filter_bar(S, *entity_filters: rx.Component) -> rx.Component:
    """Owner, tag, the list's own filters, date ranges and custom fields (when opened)."""
    return rx.cond(
        S.filters_open,
        rx.el.fieldset(
            rx.el.legend("Filters", style=VISUALLY_HIDDEN),
            rx.flex(
                owner_filter(S),
                text_filter(S, "Tag", "tag"),
                *entity_filters,
                text_filter(S, "Created from", "created_from", type="date", min_width="9rem"),
                text_filter(S, "Created to", "created_to", type="date", min_width="9rem"),
                text_filter(S, "Updated from", "updated_from", type="date", min_width="9rem"),
                text_filter(S, "Updated to", "updated_to", type="date", min_width="9rem"),
                rx.foreach(S.custom_filters, lambda f: _custom_filter(S, f)),
                rx.button(
                    "Clear filters",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.clear_filters,
                    align_self="end",
                ),
                gap="0.75rem",
                wrap="wrap",
                align="end",
                width="100%",
            ),
            id="list-filters",
            border=f"1px solid {rx.color('gray', 5)}",
            border_radius="var(--radius-3)",
            padding="0.75rem",
            margin="0",
            width="100%",
        ),
    )


# ---- table ---------------------------------------------------------------------------------


def _sort_arrow(state: rx.Var) -> rx.Component:
    return rx.match(
        state,
        ("ascending", rx.icon("arrow-up", size=14)),
        ("descending", rx.icon("arrow-down", size=14)),
        rx.icon("chevrons-up-down", size=14, opacity="0.35"),
    )


def _header_cell(S, column: rx.Var) -> rx.Component:
    return rx.cond(
        column["sort"] != "",
        rx.table.column_header_cell(
            rx.button(
                column["label"],
                _sort_arrow(column["aria_sort"]),
                variant="ghost",
                color_scheme="gray",
                high_contrast=True,
                size="2",
                on_click=S.sort_by(column["key"]),
                white_space="nowrap",
                font_weight="bold",
                margin_x="-0.5rem",
            ),
            aria_sort=column["aria_sort"],
        ),
        rx.table.column_header_cell(column["label"], white_space="nowrap"),
    )


def plain_cell(row: rx.Var, key: rx.Var) -> rx.Component:
    """A list cell showing the row's text for the column."""
    return rx.el.td(row[key], class_name="rt-TableCell")


def _row(S, row: rx.Var, cell: Callable[[rx.Var, rx.Var], rx.Component]) -> rx.Component:
    """One record: plain elements with Radix's table classes. A list renders 50 to 100 of
    these at once, and Radix's components (a checkbox is a button, an indicator and a hidden
    input) cost several times more to render than the same look in plain HTML."""
    return rx.el.tr(
        rx.cond(
            S.can_select,
            rx.el.td(
                rx.el.input(
                    type="checkbox",
                    checked=S.selected.contains(row["id"]),
                    on_change=S.flip_row(row["id"]),
                    aria_label="Select " + row["name"],
                    class_name="crm-row-check",
                ),
                class_name="rt-TableCell",
            ),
        ),
        rx.el.th(
            rx.link(row["name"], href=row["href"], weight="medium"),
            scope="row",
            class_name="rt-TableCell rt-TableRowHeaderCell",
        ),
        rx.foreach(S.body_columns, lambda key: cell(row, key)),
        class_name="rt-TableRow",
    )


ROWS_STYLE = {"& td, & th": {"white-space": "nowrap", "vertical-align": "middle"}}
TABLE_STYLE = {
    "& .crm-row-check": {
        "width": "1rem",
        "height": "1rem",
        "margin": 0,
        "accent-color": "var(--accent-9)",
        "cursor": "pointer",
    },
}


def record_table(
    S,
    caption: str,
    *,
    cell: Callable[[rx.Var, rx.Var], rx.Component] = plain_cell,
    style: dict | None = None,
) -> rx.Component:
    """One page of rows: a checkbox each, the name linking to the record, the shown columns."""
    return rx.table.root(
        rx.el.caption(caption, style=VISUALLY_HIDDEN),
        rx.table.header(
            rx.table.row(
                rx.cond(
                    S.can_select,
                    rx.table.column_header_cell(
                        rx.el.input(
                            type="checkbox",
                            checked=S.page_selected,
                            on_change=S.flip_page,
                            aria_label="Select all on this page",
                            class_name="crm-row-check",
                        ),
                        width="2.5rem",
                    ),
                ),
                rx.foreach(S.header_columns, lambda c: _header_cell(S, c)),
            )
        ),
        rx.table.body(rx.foreach(S.rows, lambda r: _row(S, r, cell)), style=ROWS_STYLE),
        variant="surface",
        size="2",
        width="100%",
        style={**TABLE_STYLE, **(style or {})},
    )


def empty_state(S) -> rx.Component:
    """Said when nothing matches."""
    plural = S.LIST.plural
    return rx.cond(
        S.loaded & S.counted & (S.total == 0),
        rx.callout(
            rx.cond(
                (S.active_filter_count > 0) | (S.query != ""),
                f"No {plural} match the search and filters.",
                f"No {plural} yet.",
            ),
            icon="info",
            color_scheme="gray",
            role="status",
            width="100%",
        ),
    )


def pager(S) -> rx.Component:
    """Which rows are shown, rows per page, Previous and Next."""
    return rx.flex(
        rx.text(S.page_label, size="2", color_scheme="gray", aria_live="polite"),
        rx.spacer(),
        rx.hstack(
            rx.el.label("Rows per page", html_for="page-size", style=LABEL_STYLE),
            rx.select.root(
                rx.select.trigger(id="page-size"),
                rx.select.content(*[rx.select.item(str(n), value=str(n)) for n in PAGE_SIZES]),
                value=S.page_size.to_string(),
                on_change=S.set_page_size,
                size="2",
            ),
            align="center",
            spacing="2",
        ),
        rx.hstack(
            rx.button(
                "Previous", variant="soft", disabled=~S.has_previous, on_click=S.previous_page
            ),
            rx.button("Next", variant="soft", disabled=~S.has_next, on_click=S.next_page),
            spacing="2",
        ),
        gap="0.75rem",
        wrap="wrap",
        align="center",
        width="100%",
    )


# ---- bulk actions --------------------------------------------------------------------------


def _tag_popover(S, kind: str, title: str, handler, submit: str) -> rx.Component:
    name = f"{kind}_tag"
    return rx.popover.root(
        rx.popover.trigger(rx.button(title, variant="soft", size="2")),
        rx.popover.content(
            rx.form(
                rx.vstack(
                    field("Tag", name, required=True, auto_focus=True, max_length=50),
                    rx.button(submit, type="submit", width="100%"),
                    spacing="2",
                    width="14rem",
                ),
                on_submit=handler,
            ),
            aria_label=title,
        ),
        open=S.tag_form == kind,
        on_open_change=lambda is_open: S.open_tag_form(kind, is_open),
    )


def bulk_bar(S) -> rx.Component:
    """What is selected, "select all matching", and the actions on the selection."""
    return rx.cond(
        S.selection_count > 0,
        rx.flex(
            rx.text(S.selection_label, weight="medium", size="2", aria_live="polite"),
            rx.cond(
                S.can_select_all_matching,
                rx.button(S.select_all_label, variant="ghost", on_click=S.select_all_matching),
            ),
            rx.button(
                "Clear selection", variant="ghost", color_scheme="gray", on_click=S.clear_selection
            ),
            rx.spacer(),
            rx.cond(
                S.merge_href != "",
                rx.link(rx.button("Merge the two", variant="soft"), href=S.merge_href),
            ),
            rx.cond(S.can_edit, _edit_actions(S)),
            rx.cond(
                S.can_delete,
                rx.button("Delete", color_scheme="red", variant="soft", on_click=S.ask_bulk_delete),
            ),
            role="region",
            aria_label="Bulk actions",
            gap="0.5rem",
            wrap="wrap",
            align="center",
            width="100%",
            padding="0.5rem 0.75rem",
            border_radius="var(--radius-3)",
            background=rx.color("accent", 3),
        ),
    )


def _edit_actions(S) -> rx.Component:
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(placeholder="Assign owner", aria_label="Assign owner"),
            rx.select.content(
                rx.select.item("Unassigned", value="none"),
                rx.foreach(
                    S.owners,
                    lambda o: rx.cond(
                        o["active"] == "yes", rx.select.item(o["name"], value=o["id"])
                    ),
                ),
                position="popper",
            ),
            value="",
            on_change=S.bulk_assign,
        ),
        _tag_popover(S, "add", "Add tag", S.bulk_add_tag, "Add to selected"),
        _tag_popover(S, "remove", "Remove tag", S.bulk_remove_tag, "Remove from selected"),
        spacing="2",
        wrap="wrap",
    )


def _bulk_delete_dialog(S) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Move to the trash?"),
            rx.alert_dialog.description(
                S.selection_label,
                ". You can restore them from the trash for 30 days.",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button("Move to trash", color_scheme="red", on_click=S.confirm_bulk_delete),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
        open=S.bulk_delete_open,
        on_open_change=S.close_bulk_delete,
    )


# ---- saved views ---------------------------------------------------------------------------


def _view_form(S, handler, submit: str, name: rx.Var | str, shared: rx.Var | bool):
    return rx.form(
        rx.vstack(
            field(
                "Name",
                "name",
                required=True,
                auto_focus=True,
                max_length=80,
                default_value=name,
                error=S.name_error,
            ),
            rx.checkbox("Share with the team", name="shared", default_checked=shared),
            rx.hstack(
                rx.dialog.close(
                    rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                ),
                rx.button(submit, type="submit"),
                justify="end",
                width="100%",
            ),
            spacing="3",
        ),
        on_submit=handler,
    )


def _view_dialogs(S) -> rx.Component:
    return rx.fragment(
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Save view"),
                rx.dialog.description(
                    "Keeps the filters, sort and columns as they are now (not the search).",
                    size="2",
                    margin_bottom="0.75rem",
                ),
                _view_form(S, S.save_view, "Save", "", False),
                max_width="28rem",
            ),
            open=S.save_open,
            on_open_change=S.open_save,
        ),
        rx.dialog.root(
            rx.dialog.content(
                rx.dialog.title("Rename or share view"),
                _view_form(S, S.edit_view, "Save", S.view_name, S.view_shared),
                max_width="28rem",
            ),
            open=S.edit_open,
            on_open_change=S.open_edit,
        ),
        rx.alert_dialog.root(
            rx.alert_dialog.content(
                rx.alert_dialog.title("Delete the view “", S.view_name, "”?"),
                rx.alert_dialog.description(
                    rx.cond(
                        S.view_shared,
                        "It disappears for everyone on the team. The records stay.",
                        "The records stay; only the saved filters, sort and columns go.",
                    )
                ),
                rx.hstack(
                    rx.alert_dialog.cancel(
                        rx.button("Cancel", variant="soft", color_scheme="gray")
                    ),
                    rx.button("Delete view", color_scheme="red", on_click=S.delete_view),
                    justify="end",
                    spacing="3",
                    margin_top="1rem",
                ),
            ),
            open=S.delete_view_open,
            on_open_change=S.close_delete_view,
        ),
    )


def list_heading(S, all_label: str, *actions: rx.Component) -> rx.Component:
    """The open view's name (or "All contacts") and, on the right, the page's buttons."""
    return rx.flex(
        rx.hstack(
            rx.heading(rx.cond(S.view_id != "", S.view_name, all_label), size="4", as_="h2"),
            rx.cond(S.view_shared, rx.badge("Shared", variant="soft")),
            rx.cond(
                S.view_dirty,
                rx.text("(changed)", size="2", color_scheme="gray"),
            ),
            align="center",
            spacing="2",
        ),
        rx.spacer(),
        rx.hstack(
            rx.cond(
                S.view_dirty & S.view_editable,
                rx.button("Save changes", variant="soft", on_click=S.save_changes),
            ),
            *actions,
            spacing="2",
            align="center",
        ),
        gap="0.75rem",
        wrap="wrap",
        align="center",
        width="100%",
    )


def record_list(
    S,
    *,
    all_label: str,
    all_href: str,
    placeholder: str,
    header_actions: list[rx.Component],
    entity_filters: list[rx.Component],
    views: rx.Var,
    summary: rx.Component | None = None,
) -> rx.Component:
    """A whole list page body (a notice instead for those who may not read the list);
    `summary` (e.g. the totals of the view) shows between the filters and the table."""
    return rx.cond(
        S.can_read,
        _record_list(
            S, all_label, all_href, placeholder, header_actions, entity_filters, views, summary
        ),
        no_access(S.LIST.plural),
    )


def _record_list(
    S, all_label, all_href, placeholder, header_actions, entity_filters, views, summary
):
    return rx.vstack(
        list_heading(S, all_label, *header_actions),
        rx.cond(
            S.view_missing,
            rx.callout(
                "That saved view no longer exists, or is not shared with you.",
                icon="triangle_alert",
                color_scheme="amber",
                role="alert",
                width="100%",
            ),
        ),
        toolbar(S, placeholder=placeholder, views=views, all_label=all_label, all_href=all_href),
        filter_bar(S, *entity_filters),
        *([summary] if summary is not None else []),
        bulk_bar(S),
        rx.cond(
            S.loaded,
            rx.fragment(
                record_table(S, S.LIST.plural.capitalize()),
                empty_state(S),
                pager(S),
            ),
            rx.center(rx.spinner(size="3"), padding="2rem", width="100%", aria_label="Loading"),
        ),
        _bulk_delete_dialog(S),
        _view_dialogs(S),
        spacing="3",
        width="100%",
    )


def saved_views_nav() -> rx.Component:
    """The sidebar's saved views, a list per record kind (read on mount)."""
    return rx.box(
        rx.cond(
            SavedViewState.views.length() > 0,
            rx.vstack(
                rx.text(
                    "Saved views",
                    size="1",
                    weight="bold",
                    color_scheme="gray",
                    padding_x="0.75rem",
                ),
                _saved_view_list(SavedViewState.contact_views, "Saved contact views", "users"),
                _saved_view_list(SavedViewState.account_views, "Saved company views", "building-2"),
                _saved_view_list(SavedViewState.lead_views, "Saved lead views", "user-plus"),
                _saved_view_list(SavedViewState.deal_views, "Saved deal views", "handshake"),
                spacing="1",
                width="100%",
            ),
        ),
        on_mount=SavedViewState.refresh,
        width="100%",
    )


def _saved_view_list(views: rx.Var, name: str, icon: str) -> rx.Component:
    return rx.el.ul(
        rx.foreach(views, lambda view: _saved_view_link(view, icon)),
        aria_label=name,
        style={"list_style": "none", "margin": "0", "padding": "0", "width": "100%"},
    )


def _saved_view_link(view: rx.Var, icon: str) -> rx.Component:
    return rx.el.li(
        rx.link(
            rx.hstack(
                rx.icon(icon, size=14),
                rx.text(view["name"], size="2", truncate=True),
                rx.cond(
                    view["shared"] == "yes",
                    rx.fragment(
                        rx.icon("share-2", size=12, opacity="0.5"),
                        rx.el.span(" (shared)", style=VISUALLY_HIDDEN),
                    ),
                ),
                align="center",
                spacing="2",
            ),
            href=view["href"],
            underline="none",
            padding_x="0.75rem",
            padding_y="0.25rem",
            border_radius="var(--radius-3)",
            display="block",
            color=rx.color("gray", 12),
            _hover={"background": rx.color("gray", 3)},
        ),
    )
