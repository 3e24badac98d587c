"""The app shell (sidebar, top bar with search and user menu) and the sign-in card layout."""

from __future__ import annotations

import functools
from collections.abc import Callable

import reflex as rx

from crm_app import routes
from crm_app.components.notifications import notification_bell
from crm_app.components.record_list import saved_views_nav
from crm_app.components.search import global_search
from crm_app.state.base import AppState

# The sections that exist; later sections are added here as they ship.
NAV_ITEMS: list[tuple[str, str, str]] = [
    ("Home", routes.DASHBOARD, "house"),
    ("Contacts", routes.CONTACTS, "users"),
    ("Companies", routes.ACCOUNTS, "building-2"),
    ("Leads", routes.LEADS, "user-plus"),
    ("Deals", routes.DEALS, "kanban"),
    ("Activities", routes.ACTIVITIES, "square-check"),
    ("Reports", routes.REPORTS, "chart-column"),
    ("Settings", routes.SETTINGS, "settings"),
]

SIDEBAR_WIDTH = "15rem"


def _nav_link(label: str, href: str, icon: str) -> rx.Component:
    path = rx.State.router.page.path
    active = (path == href) | ((href != "/") & path.startswith(href))
    return rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(label, size="3"), align="center", spacing="3"),
        href=href,
        underline="none",
        padding_x="0.75rem",
        padding_y="0.5rem",
        border_radius="var(--radius-3)",
        width="100%",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 12)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        _hover={"background": rx.color("gray", 3)},
        aria_current=rx.cond(active, "page", None),
    )


def _nav() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            *[_nav_link(label, href, icon) for label, href, icon in NAV_ITEMS],
            spacing="1",
            width="100%",
        ),
        saved_views_nav(),
        spacing="4",
        width="100%",
    )


def _brand() -> rx.Component:
    return rx.hstack(
        rx.icon("handshake", size=22, color=rx.color("accent", 10)),
        rx.text("CRM", size="5", weight="bold"),
        align="center",
        spacing="2",
        padding_x="0.75rem",
        padding_y="0.5rem",
    )


def sidebar() -> rx.Component:
    """The fixed navigation column on wide screens."""
    return rx.el.nav(
        rx.vstack(_brand(), _nav(), spacing="4", padding="0.75rem", width="100%"),
        aria_label="Main",
        display=["none", "none", "block"],
        width=SIDEBAR_WIDTH,
        min_width=SIDEBAR_WIDTH,
        height="100vh",
        position="sticky",
        top="0",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
    )


def _mobile_menu() -> rx.Component:
    return rx.drawer.root(
        rx.drawer.trigger(
            rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Open menu"),
            display=["flex", "flex", "none"],
        ),
        rx.drawer.overlay(z_index="5"),
        rx.drawer.portal(
            rx.drawer.content(
                rx.el.nav(
                    rx.vstack(
                        rx.hstack(
                            _brand(),
                            rx.spacer(),
                            rx.drawer.close(
                                rx.icon_button(
                                    rx.icon("x"), variant="ghost", aria_label="Close menu"
                                )
                            ),
                            width="100%",
                        ),
                        _nav(),
                        spacing="4",
                        padding="0.75rem",
                    ),
                    aria_label="Main",
                ),
                height="100%",
                width="16rem",
                background=rx.color("gray", 1),
            )
        ),
        direction="left",
    )


def user_menu() -> rx.Component:
    """The signed-in user's avatar with profile and sign-out."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.avatar(fallback=AppState.me_initials, size="2", radius="full"),
                rx.text(AppState.me_name, display=["none", "none", "inline"]),
                rx.icon("chevron-down", size=14),
                variant="ghost",
                aria_label="User menu",
            )
        ),
        rx.menu.content(
            rx.box(
                rx.text(AppState.me_name, weight="bold", size="2"),
                rx.text(AppState.me_email, size="1", color_scheme="gray"),
                padding_x="0.75rem",
                padding_y="0.25rem",
            ),
            rx.menu.separator(),
            rx.menu.item(
                rx.icon("user", size=14), "Profile", on_click=rx.redirect(routes.SETTINGS_PROFILE)
            ),
            rx.menu.item(
                rx.icon("key-round", size=14),
                "API keys",
                on_click=rx.redirect(routes.SETTINGS_API_KEYS),
            ),
            rx.menu.separator(),
            rx.menu.item(rx.icon("log-out", size=14), "Sign out", on_click=AppState.sign_out),
        ),
    )


def top_bar(title: str) -> rx.Component:
    """Page title, the global search box and the user menu."""
    return rx.hstack(
        _mobile_menu(),
        rx.heading(title, size="5", as_="h1", white_space="nowrap"),
        rx.spacer(),
        global_search(),
        notification_bell(),
        user_menu(),
        align="center",
        spacing="3",
        padding_x=["0.75rem", "1rem", "1.5rem"],
        padding_y="0.75rem",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        width="100%",
        position="sticky",
        top="0",
        z_index="3",
        background=rx.color("gray", 1),
    )


def app_shell(title: str, content: rx.Component) -> rx.Component:
    """A signed-in page: nothing is shown until the session has been checked."""
    return rx.cond(
        AppState.checked,
        rx.hstack(
            sidebar(),
            rx.box(
                top_bar(title),
                rx.el.main(
                    content,
                    padding=["0.75rem", "1rem", "1.5rem"],
                    width="100%",
                    max_width="80rem",
                ),
                flex="1",
                min_width="0",
            ),
            spacing="0",
            align="start",
            width="100%",
            min_height="100vh",
        ),
        rx.center(rx.spinner(size="3"), height="100vh", aria_label="Loading"),
    )


def protected_page(
    title: str,
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Decorator: wrap a page body in the app shell."""

    def decorate(body: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        # wraps: the page takes the body's module, and Reflex writes a page's compiled parts
        # to a file per module; without it every page's parts landed in layout's one file,
        # which every page then downloaded.
        @functools.wraps(body)
        def page() -> rx.Component:
            return app_shell(title, body())

        return page

    return decorate


def auth_card(title: str, *children: rx.Component) -> rx.Component:
    """The centred card of the sign-in, reset and invitation pages."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("handshake", size=26, color=rx.color("accent", 10)),
                    rx.text("CRM", size="6", weight="bold"),
                    align="center",
                ),
                rx.heading(title, size="5", as_="h1"),
                *children,
                spacing="4",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="26rem",
        ),
        min_height="100vh",
        padding="1rem",
        background=rx.color("gray", 2),
    )
