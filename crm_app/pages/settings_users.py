"""`/settings/users`: invite people, change roles, deactivate, and hand out reset links."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import protected_page
from crm_app.components.settings_nav import section_header, settings_page
from crm_app.components.ui import VISUALLY_HIDDEN, field, link_box, no_access, select_field
from crm_app.models.user import Role
from crm_app.state.base import AppState
from crm_app.state.user import NO_TEAM, InviteState, UserAdminState

ROLES = [r.value for r in Role]
SEND_IT_YOURSELF = (
    "Until e-mail sending is set up, send this link to the invitee yourself. "
    "It is also written to the server log."
)
SEND_IT_TO_THEM = (
    "Until e-mail sending is set up, send this link to them yourself. "
    "It is also written to the server log, and it works only once."
)


def _invite_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field(
                "E-mail",
                "email",
                type="email",
                required=True,
                auto_focus=True,
                error=InviteState.email_error,
            ),
            field("Name", "name", required=True, error=InviteState.name_error),
            select_field(
                "Role",
                "role",
                [rx.select.item(r.capitalize(), value=r) for r in ROLES],
                default=Role.rep.value,
                error=InviteState.role_error,
            ),
            select_field(
                "Team",
                "team_id",
                [
                    rx.select.item("No team", value=NO_TEAM),
                    rx.foreach(
                        UserAdminState.teams, lambda t: rx.select.item(t["name"], value=t["id"])
                    ),
                ],
                default=NO_TEAM,
                error=InviteState.team_error,
            ),
            rx.hstack(
                rx.dialog.close(
                    rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                ),
                rx.button("Invite", type="submit"),
                justify="end",
                width="100%",
            ),
            spacing="3",
        ),
        on_submit=InviteState.invite,
    )


def _invite_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("user-plus", size=16), "Invite user")),
        rx.dialog.content(
            rx.dialog.title("Invite user"),
            rx.cond(
                InviteState.invite_link != "",
                rx.vstack(
                    rx.text(
                        "The invitation is ready. It lets them set a password and sign in.",
                        size="2",
                    ),
                    link_box(InviteState.invite_link, SEND_IT_YOURSELF),
                    rx.hstack(
                        rx.button(
                            "Invite another", variant="soft", on_click=InviteState.open_dialog(True)
                        ),
                        rx.dialog.close(rx.button("Done")),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                _invite_form(),
            ),
            max_width="30rem",
        ),
        open=InviteState.is_open,
        on_open_change=InviteState.open_dialog,
    )


def _status(status: rx.Var) -> rx.Component:
    return rx.match(
        status,
        ("Active", rx.badge("Active", color_scheme="green")),
        ("Invited", rx.badge("Invited", color_scheme="amber")),
        ("Deactivated", rx.badge("Deactivated", color_scheme="gray")),
        rx.badge(status, color_scheme="orange"),
    )


def _role_select(row: rx.Var) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Role for " + row["name"]),
        rx.select.content(*[rx.select.item(r.capitalize(), value=r) for r in ROLES]),
        value=row["role"],
        on_change=lambda role: UserAdminState.change_role(row["id"], row["version"], role),
        size="1",
    )


def _actions(row: rx.Var) -> rx.Component:
    status = row["status"]
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                "Actions",
                rx.icon("chevron-down", size=14),
                variant="soft",
                size="1",
                aria_label="Actions for " + row["name"],
            )
        ),
        rx.menu.content(
            rx.cond(
                status == "Deactivated",
                rx.menu.item("Reactivate", on_click=UserAdminState.reactivate(row["id"])),
                rx.menu.item(
                    "Deactivate…",
                    color_scheme="red",
                    on_click=UserAdminState.ask("deactivate", row["id"]),
                ),
            ),
            rx.cond(
                (status == "Active") | (status == "No password"),
                rx.menu.item("Reset password…", on_click=UserAdminState.ask("reset", row["id"])),
            ),
            rx.cond(
                (status == "Invited") | (status == "No password"),
                rx.menu.item("Resend invitation", on_click=UserAdminState.resend(row["id"])),
            ),
            rx.cond(
                row["two_factor"] == "yes",
                rx.menu.item(
                    "Reset two-factor…", on_click=UserAdminState.ask("reset_2fa", row["id"])
                ),
            ),
        ),
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"]),
        rx.table.cell(row["email"]),
        rx.table.cell(_role_select(row)),
        rx.table.cell(row["team"]),
        rx.table.cell(_status(row["status"])),
        rx.table.cell(row["last_login"], white_space="nowrap"),
        rx.table.cell(
            rx.cond(
                row["is_me"] == "", _actions(row), rx.text("You", size="2", color_scheme="gray")
            )
        ),
        align="center",
    )


def _table() -> rx.Component:
    return rx.table.root(
        rx.el.caption("Users", style=VISUALLY_HIDDEN),
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(h)
                    for h in ("Name", "E-mail", "Role", "Team", "Status", "Last sign-in")
                ],
                rx.table.column_header_cell(rx.el.span("Actions", style=VISUALLY_HIDDEN)),
            )
        ),
        rx.table.body(rx.foreach(UserAdminState.rows, _row)),
        variant="surface",
        width="100%",
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text(UserAdminState.page_label, size="2", color_scheme="gray", aria_live="polite"),
        rx.spacer(),
        rx.button(
            "Previous",
            variant="soft",
            disabled=~UserAdminState.has_previous,
            on_click=UserAdminState.previous_page,
        ),
        rx.button(
            "Next",
            variant="soft",
            disabled=~UserAdminState.has_next,
            on_click=UserAdminState.next_page,
        ),
        align="center",
        width="100%",
    )


def _confirm_dialog() -> rx.Component:
    kind = UserAdminState.confirm_kind
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(
                rx.match(
                    kind,
                    ("deactivate", "Deactivate "),
                    ("reset_2fa", "Reset two-factor of "),
                    "Reset the password of ",
                ),
                UserAdminState.confirm_name,
                "?",
            ),
            rx.alert_dialog.description(
                rx.match(
                    kind,
                    (
                        "deactivate",
                        "They can no longer sign in. Their open sessions end at once. "
                        "Their records stay.",
                    ),
                    (
                        "reset_2fa",
                        "For someone who lost their phone and recovery codes: two-factor "
                        "turns off and their open sessions end. If their role requires it, "
                        "they set it up again at their next sign-in.",
                    ),
                    "Their open sessions end at once, and you get a link to send them "
                    "to pick a new password.",
                )
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.button(
                    rx.match(
                        kind,
                        ("deactivate", "Deactivate"),
                        ("reset_2fa", "Reset two-factor"),
                        "Reset password",
                    ),
                    color_scheme="red",
                    on_click=UserAdminState.confirm,
                ),
                justify="end",
                spacing="3",
                margin_top="1rem",
            ),
        ),
        open=UserAdminState.confirm_kind != "",
        on_open_change=UserAdminState.close_confirm,
    )


def _link_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(UserAdminState.link_title),
            rx.vstack(
                link_box(UserAdminState.link_url, SEND_IT_TO_THEM),
                rx.hstack(rx.dialog.close(rx.button("Done")), justify="end", width="100%"),
                spacing="3",
            ),
            max_width="30rem",
        ),
        open=UserAdminState.link_url != "",
        on_open_change=UserAdminState.close_link,
    )


def _content() -> rx.Component:
    return rx.vstack(
        section_header(
            "Users",
            "Invite your team, set their roles, and deactivate those who leave.",
            _invite_dialog(),
        ),
        rx.debounce_input(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                type="search",
                placeholder="Search by name or e-mail",
                aria_label="Search users",
                value=UserAdminState.query,
                on_change=UserAdminState.search,
                max_width="24rem",
                width="100%",
            ),
            debounce_timeout=300,
        ),
        _table(),
        _pager(),
        _confirm_dialog(),
        _link_dialog(),
        spacing="4",
        width="100%",
    )


@rx.page(route=routes.SETTINGS_USERS, title="Users · CRM", on_load=UserAdminState.load)
@protected_page("Settings")
def users() -> rx.Component:
    """The users of the workspace (user managers only)."""
    return settings_page(
        rx.cond(AppState.can_manage_users, _content(), no_access("user management"))
    )
