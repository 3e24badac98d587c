"""The Reflex app: the pages, plus the REST API served by FastAPI on the same port."""

import reflex as rx

from crm_app.api.app import api
from crm_app.event_guard import PayloadGuard
from crm_app.jobs.app import in_process_worker
from crm_app.observability import observe, time_event_handlers
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
    mass_mail,
    merge,
    outbox,
    public_form,
    reports,
    settings_api_keys,
    settings_audit,
    settings_automation,
    settings_custom_fields,
    settings_email_templates,
    settings_forms,
    settings_index,
    settings_jobs,
    settings_leads,
    settings_pipelines,
    settings_profile,
    settings_roles,
    settings_security,
    settings_trash,
    settings_users,
    settings_webhooks,
    unsubscribe,
)
from crm_app.security_headers import security_headers
from crm_app.settings import get_settings
from crm_app.state.session_watch import watch_sessions
from crm_app.web import fast_pages

# Fail at start-up, not at first use, when the secret is a known default.
get_settings().resolved_secret_key()

app = rx.App(
    api_transformer=[api, fast_pages, security_headers, observe],
    toaster=rx.toast.provider(position="bottom-right", close_button=True),
)
# Background jobs (imports) run inside the backend unless CRM_WORKER_IN_PROCESS=false.
app.register_lifespan_task(in_process_worker)
# Open tabs whose session ended (revoked, expired, user deactivated) go to sign-in in seconds.
app.register_lifespan_task(watch_sessions)
# Arguments of the wrong type get a message, never the handler.
app.add_middleware(PayloadGuard())
# Times each event handler into the Prometheus histogram on /metrics.
app.register_lifespan_task(time_event_handlers)
