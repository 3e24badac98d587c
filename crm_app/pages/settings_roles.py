"""`/settings/roles`: who may do what, one row per permission and one column per role."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.auth.permissions import RESOURCE_LABELS, Scope, all_pairs, allowed_scopes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.ui import VISUALLY_HIDDEN
from crm_app.models.user import Role
from crm_app.state.base import AppState
from crm_app.state.permission import RoleMatrixState, cell_key

SCOPE_LABELS = {
    Scope.NONE: "None",
    Scope.OWN: "Own records",
    Scope.TEAM: "Team's records",
    Scope.ALL: "All",
}
SCOPE_COLORS = {Scope.NONE: "gray", Scope.OWN: "amber", Scope.TEAM: "blue", Scope.ALL: "green"}
EDITABLE_ROLES = [r.value for r in Role if r is not Role.admin]


def _badge(scope: rx.Var | Scope) -> rx.Component:
    if isinstance(scope, Scope):
        return rx.badge(SCOPE_LABELS[scope], color_scheme=SCOPE_COLORS[scope], variant="soft")
    return rx.match(
        scope,
        *[(s.value, _badge(s)) for s in Scope],
        rx.badge(scope, variant="soft"),
    )


def _cell(role: str, resource: str, action: str) -> rx.Component:
    value = RoleMatrixState.scopes[cell_key(role, resource, action)].to(str)
    editor = rx.select.root(
        rx.select.trigger(aria_label=f"{role}: {RESOURCE_LABELS[resource]} {action}", width="100%"),
        rx.select.content(
            *[
                rx.select.item(SCOPE_LABELS[s], value=s.value)
                for s in allowed_scopes(resource, action)
            ]
        ),
        value=value,
        on_change=lambda scope: RoleMatrixState.set_scope(role, resource, action, scope),
        size="1",
    )
    return rx.table.cell(rx.cond(AppState.can_manage_settings, editor, _badge(value)))


def _group(resource: str, actions: list[str]) -> rx.Component:
    """One resource: a heading row, then a row per action (a tbody per group)."""
    label = RESOURCE_LABELS[resource]
    return rx.table.body(
        rx.table.row(
            rx.table.column_header_cell(label, col_span=5, scope="rowgroup"),
            background=rx.color("gray", 3),
        ),
        *[
            rx.table.row(
                rx.table.row_header_cell(
                    rx.el.span(label + " ", style=VISUALLY_HIDDEN),
                    action.capitalize(),
                    font_weight="normal",
                ),
                rx.table.cell(_badge(Scope.ALL)),
                *[_cell(role, resource, action) for role in EDITABLE_ROLES],
            )
            for action in actions
        ],
    )


def _groups() -> list[rx.Component]:
    by_resource: dict[str, list[str]] = {}
    for resource, action in all_pairs():
        by_resource.setdefault(resource, []).append(action)
    return [_group(resource, actions) for resource, actions in by_resource.items()]


def _legend() -> rx.Component:
    meanings = [
        (Scope.NONE, "not allowed."),
        (Scope.OWN, "only records they own."),
        (Scope.TEAM, "records owned by anyone on their team."),
        (Scope.ALL, "every record."),
    ]
    return rx.flex(
        *[
            rx.hstack(_badge(s), rx.text(text, size="2"), align="center", spacing="2")
            for s, text in meanings
        ],
        gap="0.5rem 1.25rem",
        wrap="wrap",
    )


@rx.page(route=routes.SETTINGS_ROLES, title="Roles · CRM", on_load=RoleMatrixState.load)
@protected_page("Settings")
def roles() -> rx.Component:
    """The permission matrix; admins edit it, everyone else reads it."""
    return settings_page(
        section_header(
            "Roles and permissions",
            rx.text(
                rx.cond(
                    AppState.can_manage_settings,
                    "Pick how far each role may go. Changes apply at once.",
                    "What each role may do. Only admins can change this.",
                )
            ),
        ),
        _legend(),
        rx.table.root(
            rx.el.caption(
                rx.el.span("Permissions by role. ", style=VISUALLY_HIDDEN),
                "Admins can always do everything.",
                caption_side="bottom",
                text_align="left",
                padding_top="0.5rem",
                color=rx.color("gray", 11),
                font_size="0.875rem",
            ),
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Permission"),
                    *[rx.table.column_header_cell(r.value.capitalize(), width="19%") for r in Role],
                )
            ),
            *_groups(),
            variant="surface",
            size="1",
            width="100%",
        ),
    )
