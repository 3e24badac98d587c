"""Public pages: sign in, forgotten password, and the invitation / reset links."""

from __future__ import annotations

import reflex as rx

from crm_app import routes
from crm_app.components.layout import auth_card
from crm_app.components.two_factor import sign_in_code_form
from crm_app.components.ui import field
from crm_app.state.auth import ForgotPasswordState, LoginState, SetPasswordState


@rx.page(route=routes.LOGIN, title="Sign in · CRM", on_load=LoginState.redirect_if_signed_in)
def login() -> rx.Component:
    """E-mail and password; errors show next to the form."""
    return auth_card(
        "Sign in",
        rx.cond(LoginState.awaiting_code, sign_in_code_form()),
        rx.form(
            rx.vstack(
                field(
                    "E-mail",
                    "email",
                    type="email",
                    auto_complete="username",
                    required=True,
                    auto_focus=True,
                ),
                field(
                    "Password",
                    "password",
                    type="password",
                    auto_complete="current-password",
                    required=True,
                ),
                rx.cond(
                    LoginState.error != "",
                    rx.callout(
                        LoginState.error,
                        icon="triangle_alert",
                        color_scheme="red",
                        role="alert",
                        width="100%",
                    ),
                ),
                rx.button(
                    "Sign in",
                    type="submit",
                    size="3",
                    width="100%",
                    loading=LoginState.is_submitting,
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=LoginState.submit,
            width="100%",
            display=rx.cond(LoginState.sso_required | LoginState.awaiting_code, "none", "block"),
        ),
        _single_sign_on(),
        rx.cond(
            ~LoginState.sso_required,
            rx.link("Forgot your password?", href=routes.FORGOT_PASSWORD, size="2"),
        ),
    )


def _single_sign_on() -> rx.Component:
    """The SSO button (when configured), why the last SSO failed, and when it is the only way
    in, a word on why the password form is gone."""
    return rx.vstack(
        rx.cond(
            LoginState.sso_error != "",
            rx.callout(
                LoginState.sso_error,
                icon="triangle_alert",
                color_scheme="red",
                role="alert",
                width="100%",
            ),
        ),
        rx.cond(
            LoginState.sso_label != "",
            rx.vstack(
                rx.cond(
                    LoginState.sso_required,
                    rx.text("This workspace signs in with single sign-on.", size="2"),
                    rx.text("or", size="2", color_scheme="gray", align="center", width="100%"),
                ),
                rx.button(
                    rx.el.a(LoginState.sso_label, href=LoginState.sso_href, reload_document=True),
                    as_child=True,
                    variant="outline",
                    size="3",
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
    )


@rx.page(
    route=routes.FORGOT_PASSWORD,
    title="Reset password · CRM",
    on_load=ForgotPasswordState.show_form,
)
def forgot_password() -> rx.Component:
    """Ask for a reset link."""
    return auth_card(
        "Reset your password",
        rx.cond(
            ForgotPasswordState.sent,
            rx.callout(
                "If an account exists for that e-mail, a reset link is on its way. "
                "It works once and expires within an hour.",
                icon="mail",
                role="status",
            ),
            rx.form(
                rx.vstack(
                    rx.text(
                        "Enter your e-mail and we will send you a link to set a new password.",
                        size="2",
                        color_scheme="gray",
                    ),
                    field("E-mail", "email", type="email", required=True, auto_focus=True),
                    rx.cond(
                        ForgotPasswordState.error != "",
                        rx.callout(
                            ForgotPasswordState.error,
                            icon="triangle_alert",
                            color_scheme="red",
                            role="alert",
                            width="100%",
                        ),
                    ),
                    rx.button("Send reset link", type="submit", size="3", width="100%"),
                    spacing="4",
                    width="100%",
                ),
                on_submit=ForgotPasswordState.submit,
                reset_on_submit=True,
                width="100%",
            ),
        ),
        rx.link("Back to sign in", href=routes.LOGIN, size="2"),
    )


def _set_password_form(intro: rx.Component, button: str) -> rx.Component:
    return rx.cond(
        SetPasswordState.checked,
        rx.cond(
            SetPasswordState.valid,
            rx.form(
                rx.vstack(
                    intro,
                    field(
                        "New password",
                        "password",
                        type="password",
                        required=True,
                        auto_complete="new-password",
                        auto_focus=True,
                        error=SetPasswordState.password_error,
                    ),
                    field(
                        "Repeat the password",
                        "confirm",
                        type="password",
                        required=True,
                        auto_complete="new-password",
                    ),
                    rx.text("At least 10 characters.", size="1", color_scheme="gray"),
                    rx.button(button, type="submit", size="3", width="100%"),
                    spacing="4",
                    width="100%",
                ),
                on_submit=SetPasswordState.submit,
                width="100%",
            ),
            rx.vstack(
                rx.callout(
                    SetPasswordState.problem,
                    icon="triangle_alert",
                    color_scheme="red",
                    role="alert",
                ),
                rx.link("Back to sign in", href=routes.LOGIN, size="2"),
            ),
        ),
        rx.spinner(),
    )


@rx.page(
    route=routes.INVITATION,
    title="Accept invitation · CRM",
    on_load=SetPasswordState.load_invitation,
)
def accept_invitation() -> rx.Component:
    """An invitee picks a password and is signed in."""
    return auth_card(
        "Welcome aboard",
        _set_password_form(
            rx.text(
                "Hi ",
                SetPasswordState.greeting_name,
                ", choose a password for ",
                rx.text.strong(SetPasswordState.email),
                ".",
                size="2",
            ),
            "Set password and sign in",
        ),
    )


@rx.page(
    route=routes.RESET_PASSWORD,
    title="Choose a new password · CRM",
    on_load=SetPasswordState.load_reset,
)
def reset_password() -> rx.Component:
    """A user with a reset link picks a new password."""
    return auth_card(
        "Choose a new password",
        _set_password_form(
            rx.text(
                "Choose a new password for ", rx.text.strong(SetPasswordState.email), ".", size="2"
            ),
            "Save password and sign in",
        ),
    )
