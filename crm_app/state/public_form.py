"""`/f/[key]`: a web-to-lead form as the public sees it. No sign-in: this state derives from
`rx.State`, not `AppState`, and every submission goes through `lead_form.submit_form`, which
finds the form by its key, rate-limits the address, catches bots and validates the fields."""

from __future__ import annotations

from urllib.parse import unquote

import reflex as rx

from crm_app.db import session_scope
from crm_app.services import lead_form
from crm_app.services.errors import NotFound, ValidationFailed
from crm_app.services.lead_form import RateLimited
from crm_app.state.base import client_ip_of

INPUT_TYPES = {"email": "email", "phone": "tel"}
KEY_LIMIT = 64


class PublicFormState(rx.State):
    """The form on screen, what became of the last submission, and its errors."""

    name: str = ""
    fields: list[dict[str, str]] = []  # name, label, required ("yes"/""), type
    phase: str = "loading"  # loading, ready, missing, sent
    errors: dict[str, str] = {}
    problem: str = ""  # the form-wide message: rate limit, "please correct"
    _key: str = ""

    @rx.event
    def load(self):
        """on_load: the form behind the address, or "not found" when unknown or switched off."""
        # the [key] of /f/[key]: the last segment of the address
        self._key = unquote(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])[:KEY_LIMIT]
        self.errors, self.problem, self.phase = {}, "", "loading"
        try:
            with session_scope() as session:
                form = lead_form.get_public_form(session, self._key)
        except NotFound:
            self.name, self.fields, self.phase = "", [], "missing"
            return
        self.name = form.name
        self.fields = [
            {
                "name": f.name,
                "label": f.label,
                "required": "yes" if f.required else "",
                "type": INPUT_TYPES.get(f.name, "text"),
            }
            for f in form.fields
        ]
        self.phase = "ready"

    @rx.event
    def submit(self, form: dict):
        """Send the form; on success only the thank-you remains."""
        self.errors, self.problem = {}, ""
        wanted = {f["name"] for f in self.fields} | {lead_form.HONEYPOT_FIELD}
        data = {k: str(v)[: lead_form.VALUE_LIMIT + 1] for k, v in form.items() if k in wanted}
        try:
            with session_scope() as session:
                lead_form.submit_form(session, self._key, data, client_ip_of(self))
        except NotFound:
            self.phase = "missing"
            return
        except RateLimited as error:
            self.problem = error.message
            return
        except ValidationFailed as error:
            self.errors = {e.field: e.message for e in error.errors}
            self.problem = error.message
            return
        self.phase = "sent"
