"""The Reflex app: the pages, plus the REST API served by FastAPI on the same port."""

import reflex as rx

from crm_app.api.app import api
from crm_app.jobs.app import in_process_worker
from crm_app.observability import observe
from crm_app.pages import (  # noqa: F401  (pages register themselves)
    account,
    accounts,
    activities,
    auth,
    contact,
    contacts,
    deal,
    deal_board,
    deal_list,
    forecast,
    home,
    imports,
    lead,
    leads,
    merge,
    public_form,
    reports,
    settings_api_keys,
    settings_audit,
    settings_custom_fields,
    settings_forms,
    settings_index,
    settings_leads,
    settings_pipelines,
    settings_profile,
    settings_roles,
    settings_trash,
    settings_users,
)
from crm_app.security_headers import security_headers
from crm_app.settings import get_settings
from crm_app.web import fast_pages

# Fail at start-up, not at first use, when the secret is a known default.
get_settings().resolved_secret_key()

app = rx.App(
    api_transformer=[api, fast_pages, security_headers, observe],
    toaster=rx.toast.provider(position="bottom-right", close_button=True),
)
# Background jobs (imports) run inside the backend unless CRM_WORKER_IN_PROCESS=false.
app.register_lifespan_task(in_process_worker)
