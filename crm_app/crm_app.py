"""The Reflex app: the pages, plus the REST API served by FastAPI on the same port."""

import reflex as rx

from crm_app.api.app import api
from crm_app.pages import auth, home, settings_api_keys  # noqa: F401  (pages register themselves)

app = rx.App(
    api_transformer=api,
    toaster=rx.toast.provider(position="bottom-right", close_button=True),
)
