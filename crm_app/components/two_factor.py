"""Two-factor authentication: the code step of sign-in, the profile section, the admin's
"Require two-factor for" control."""

from __future__ import annotations

import reflex as rx

from crm_app.components.ui import download_link, field
from crm_app.state.auth import LoginState
from crm_app.state.two_factor import ROLE_CHOICES, TwoFactorPolicyState, TwoFactorState


def _alert(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
    )


def sign_in_code_form() -> rx.Component:
    """The second step of sign-in: a code from the authenticator app, or a recovery code."""
    return rx.form(
        rx.vstack(
            rx.cond(
                LoginState.use_recovery,
                rx.vstack(
                    rx.text(
                        "Enter one of the recovery codes you saved when you set up two-factor "
                        "authentication. Each works once.",
                        size="2",
                    ),
                    field(
                        "Recovery code",
                        "code",
                        auto_complete="off",
                        spell_check=False,
                        required=True,
                        auto_focus=True,
                        placeholder="xxxx-xxxx-xxxx",
                    ),
                    spacing="3",
                    width="100%",
                ),
                rx.vstack(
                    rx.text("Open your authenticator app and enter the code for CRM.", size="2"),
                    field(
                        "Authentication code",
                        "code",
                        auto_complete="one-time-code",
                        input_mode="numeric",
                        pattern="[0-9]{6}",
                        max_length=6,
                        required=True,
                        auto_focus=True,
                        placeholder="6-digit code",
                    ),
                    spacing="3",
                    width="100%",
                ),
            ),
            _alert(LoginState.error),
            rx.button(
                "Verify", type="submit", size="3", width="100%", loading=LoginState.is_submitting
            ),
            rx.hstack(
                rx.button(
                    rx.cond(
                        LoginState.use_recovery, "Use your authenticator app", "Use a recovery code"
                    ),
                    type="button",
                    variant="ghost",
                    size="2",
                    on_click=LoginState.toggle_recovery,
                ),
                rx.spacer(),
                rx.button(
                    "Start over",
                    type="button",
                    variant="ghost",
                    color_scheme="gray",
                    size="2",
                    on_click=LoginState.start_over,
                ),
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=LoginState.submit_code,
        reset_on_submit=True,
        width="100%",
    )


# --- Settings -> Profile ----------------------------------------------------------------------


def _recovery_codes() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "Save these recovery codes somewhere safe: they are shown only this once. Each "
            "signs you in once if you lose your phone.",
            icon="info",
            color_scheme="amber",
            width="100%",
        ),
        rx.el.ul(
            rx.foreach(
                TwoFactorState.recovery_codes,
                lambda code: rx.el.li(rx.code(code, size="3", variant="ghost")),
            ),
            aria_label="Recovery codes",
            style={"columns": "2", "list_style": "none", "padding": "0", "margin": "0"},
        ),
        rx.hstack(
            rx.button(
                rx.icon("copy", size=16),
                "Copy codes",
                variant="soft",
                on_click=[
                    rx.set_clipboard(TwoFactorState.codes_text),
                    rx.toast.info("Recovery codes copied."),
                ],
            ),
            download_link("Download codes", TwoFactorState.codes_download),
            rx.button("I have saved them", on_click=TwoFactorState.hide_codes),
            wrap="wrap",
            align="center",
        ),
        spacing="3",
        width="100%",
    )


def _enrol_form() -> rx.Component:
    return rx.vstack(
        rx.text(
            "1. Scan this QR code with an authenticator app (Google Authenticator, Microsoft "
            "Authenticator, 1Password, Aegis...), or type the secret key into it.",
            size="2",
        ),
        rx.image(
            src=TwoFactorState.qr_data_uri,
            alt="QR code to add CRM to your authenticator app",
            width="12rem",
            height="12rem",
            style={"image_rendering": "pixelated", "background": "white"},
        ),
        rx.el.label(
            "Secret key", html_for="two-factor-secret", font_weight="500", font_size="0.875rem"
        ),
        rx.input(
            id="two-factor-secret",
            value=TwoFactorState.secret,
            read_only=True,
            font_family="monospace",
            width="100%",
        ),
        rx.form(
            rx.vstack(
                rx.text("2. Enter the 6-digit code the app shows.", size="2"),
                field(
                    "Code from your app",
                    "code",
                    auto_complete="one-time-code",
                    input_mode="numeric",
                    pattern="[0-9]{6}",
                    max_length=6,
                    required=True,
                    error=TwoFactorState.code_error,
                ),
                rx.hstack(
                    rx.button("Confirm", type="submit"),
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        on_click=TwoFactorState.cancel,
                    ),
                ),
                spacing="3",
                width="100%",
            ),
            on_submit=TwoFactorState.confirm,
            key=TwoFactorState.form_key,
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _turn_off_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            field(
                "Password or code from your app",
                "proof",
                type="password",
                auto_complete="current-password",
                required=True,
                error=TwoFactorState.proof_error,
            ),
            rx.button("Turn off two-factor", type="submit", color_scheme="red", variant="soft"),
            spacing="3",
            width="100%",
        ),
        on_submit=TwoFactorState.turn_off,
        key=TwoFactorState.form_key,
        width="100%",
    )


def _when_on() -> rx.Component:
    return rx.vstack(
        rx.callout(
            rx.text(
                "Two-factor authentication is on. Recovery codes left: ",
                rx.text.strong(TwoFactorState.codes_left),
                ".",
            ),
            icon="shield_check",
            color_scheme="green",
            width="100%",
        ),
        rx.button(
            "Regenerate recovery codes",
            variant="soft",
            color_scheme="gray",
            on_click=TwoFactorState.regenerate,
        ),
        rx.cond(
            TwoFactorState.required,
            rx.text(
                "Your role requires two-factor authentication, so it cannot be turned off.",
                size="2",
                color_scheme="gray",
            ),
            _turn_off_form(),
        ),
        spacing="3",
        width="100%",
    )


def _when_off() -> rx.Component:
    return rx.vstack(
        rx.cond(
            TwoFactorState.required,
            rx.callout(
                "Your role requires two-factor authentication: set it up to continue.",
                icon="shield_alert",
                color_scheme="amber",
                role="alert",
                width="100%",
            ),
        ),
        rx.cond(
            TwoFactorState.enrolling,
            _enrol_form(),
            rx.button("Set up two-factor authentication", on_click=TwoFactorState.start),
        ),
        spacing="3",
        width="100%",
    )


def two_factor_section() -> rx.Component:
    """Settings -> Profile: turn two-factor on or off, and the recovery codes."""
    return rx.card(
        rx.vstack(
            rx.heading("Two-factor authentication", size="4", as_="h2"),
            rx.text(
                "After your password, sign-in asks for a code from an authenticator app on "
                "your phone. API keys are not affected.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                TwoFactorState.recovery_codes.length() > 0,
                _recovery_codes(),
                rx.cond(TwoFactorState.enabled, _when_on(), _when_off()),
            ),
            spacing="3",
            width="100%",
        ),
        id="two-factor",
        on_mount=TwoFactorState.load,
        width="100%",
        max_width="36rem",
    )


# --- Settings -> Security (admins) ------------------------------------------------------------


def required_roles_section() -> rx.Component:
    """Settings -> Security, admins: the roles whose users must turn two-factor on before
    using the CRM."""
    return rx.card(
        rx.cond(
            TwoFactorPolicyState.is_admin,
            rx.vstack(
                rx.heading("Two-factor authentication", size="3", as_="h3"),
                rx.text(
                    "Users of these roles must set up two-factor authentication: until they "
                    "do, every page takes them to their profile to set it up, and they cannot "
                    "turn it off.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.el.fieldset(
                    rx.el.legend("Require two-factor for", font_weight="500"),
                    rx.hstack(
                        *[
                            rx.checkbox(
                                label,
                                checked=TwoFactorPolicyState.policy_roles.contains(role),
                                on_change=lambda checked, role=role: TwoFactorPolicyState.toggle(
                                    role, checked
                                ),
                            )
                            for role, label in ROLE_CHOICES
                        ],
                        spacing="4",
                        wrap="wrap",
                        padding_top="0.5rem",
                    ),
                    style={"border": "none", "padding": "0", "margin": "0"},
                ),
                rx.button("Save", on_click=TwoFactorPolicyState.save),
                spacing="3",
                width="100%",
            ),
        ),
        on_mount=TwoFactorPolicyState.load,
        width="100%",
    )
