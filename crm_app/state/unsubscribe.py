"""`/unsubscribe/[token]`: the public page behind a mass mail's unsubscribe link. No sign-in:
this state derives from `rx.State`; the signed token is checked on load and on confirm."""

from __future__ import annotations

from urllib.parse import unquote

import reflex as rx

from crm_app.db import session_scope
from crm_app.services import suppression
from crm_app.services.errors import NotFound
from crm_app.state.base import client_ip_of

TOKEN_LIMIT = 500


class UnsubscribeState(rx.State):
    """Whose address the link is for, and whether it is unsubscribed yet."""

    email: str = ""
    phase: str = "loading"  # loading, ready, done, invalid
    problem: str = ""

    def _token(self) -> str:
        return unquote(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])[:TOKEN_LIMIT]

    @rx.event
    def load(self):
        """on_load: check the link and show the address it unsubscribes."""
        try:
            self.email = suppression.read_token(self._token()).email
        except NotFound as error:
            self.email, self.problem, self.phase = "", error.message, "invalid"
            return
        self.problem, self.phase = "", "ready"

    @rx.event
    def confirm(self):
        """Unsubscribe the link's address."""
        try:
            with session_scope() as session:
                self.email = suppression.unsubscribe(
                    session, token=self._token(), ip=client_ip_of(self)
                )
        except NotFound as error:
            self.problem, self.phase = error.message, "invalid"
            return
        self.phase = "done"
