"""The sign-in and reset forms tell a person who tried too often how long to wait."""

from __future__ import annotations

from contextlib import contextmanager

import reflex as rx

from crm_app.services import invitation
from crm_app.settings import get_settings
from crm_app.state import auth as auth_state
from crm_app.state.auth import ForgotPasswordState, LoginState
from tests.factories import PASSWORD


def form_state(cls, db, monkeypatch):
    @contextmanager
    def in_the_tests_transaction():
        yield db

    monkeypatch.setattr(auth_state, "session_scope", in_the_tests_transaction)
    root = rx.State(_reflex_internal_init=True)
    return root.get_substate(cls.get_full_name().split(".")[1:])


def test_the_sign_in_form_says_how_long_to_wait(db, people, monkeypatch):
    monkeypatch.setattr(get_settings(), "sign_in_email_limit", 1)
    login = form_state(LoginState, db, monkeypatch)
    login.submit({"email": "bob@example.com", "password": "wrong-password"})
    assert login.error == "Wrong e-mail or password."

    login.submit({"email": "bob@example.com", "password": PASSWORD})

    assert login.error.startswith("Too many attempts. Try again in ")
    assert login.is_submitting is False


def test_the_reset_form_says_how_long_to_wait_instead_of_sent(db, people, monkeypatch):
    monkeypatch.setattr(invitation, "RESET_EMAIL_LIMIT", 1)
    forgot = form_state(ForgotPasswordState, db, monkeypatch)
    forgot.submit({"email": "nobody@example.com"})
    assert forgot.sent and forgot.error == ""
    forgot.show_form()

    forgot.submit({"email": "nobody@example.com"})

    assert not forgot.sent
    assert forgot.error.startswith("Too many attempts. Try again in ")
