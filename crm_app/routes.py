"""URL constants and builders: no URL literals scattered through pages."""

from __future__ import annotations

from urllib.parse import quote

LOGIN = "/login"
FORGOT_PASSWORD = "/forgot-password"  # noqa: S105 - a URL, not a secret
RESET_PASSWORD = "/reset-password/[token]"  # noqa: S105
INVITATION = "/invite/[token]"
DASHBOARD = "/"
CONTACTS = "/contacts"
CONTACT_NEW = "/contacts/new"
ACCOUNTS = "/accounts"
ACCOUNT_NEW = "/accounts/new"
LEADS = "/leads"
LEAD_NEW = "/leads/new"
DEALS = "/deals"  # the board of a pipeline
DEAL_LIST = "/deals/list"
DEAL_NEW = "/deals/new"
FORECAST = "/deals/forecast"
PUBLIC_FORM = "/f/[key]"  # web-to-lead: anyone with the link, no sign-in
ACTIVITIES = "/activities"  # My work
ACTIVITY_CALENDAR = "/activities/calendar"
REPORTS = "/reports"
SETTINGS = "/settings"
SETTINGS_PROFILE = "/settings/profile"
SETTINGS_USERS = "/settings/users"
SETTINGS_ROLES = "/settings/roles"
SETTINGS_API_KEYS = "/settings/api-keys"
SETTINGS_CUSTOM_FIELDS = "/settings/custom-fields"
SETTINGS_AUDIT = "/settings/audit-log"
SETTINGS_IMPORT = "/settings/import"
SETTINGS_TRASH = "/settings/trash"
SETTINGS_PIPELINES = "/settings/pipelines"  # and lost reasons
SETTINGS_LEADS = "/settings/leads"  # sources, scoring rules, assignment team
SETTINGS_FORMS = "/settings/forms"  # web-to-lead forms
SETTINGS_AUTOMATION = "/settings/automation"  # workflow rules and their run logs
SETTINGS_JOBS = "/settings/jobs"  # the background-job queue
SETTINGS_EMAIL_TEMPLATES = "/settings/email-templates"
SETTINGS_OUTBOX = "/settings/outbox"  # outgoing e-mail, and the suppression list
MASS_MAIL = "/settings/mass-mail"  # mass mail to a saved view of contacts or leads
UNSUBSCRIBE = "/unsubscribe/[token]"  # public: GET a confirmation page, POST one click
SETTINGS_WEBHOOKS = "/settings/webhooks"
SETTINGS_SECURITY = "/settings/security"  # single sign-on
CONTACTS_MERGE = "/contacts/merge"
ACCOUNTS_MERGE = "/accounts/merge"

# Served by FastAPI on the same port.
AUTH_SESSION = "/auth/session"
AUTH_SIGN_OUT = "/auth/sign-out"
AUTH_OIDC_START = "/auth/oidc/start"
AUTH_OIDC_CALLBACK = "/auth/oidc/callback"
AUTH_OIDC_CONNECT = "/auth/oidc/connect"  # a signed-in user connects their provider account
API_PREFIX = "/api/v1"
API_DOCS = "/api/v1/docs"
EXPORT = "/exports/{entity}.csv"  # entity: contacts | accounts; a list's query string
IMPORT_REJECTED = "/imports/{job_id}/rejected.csv"

SESSION_COOKIE = "crm_session"


def invitation(token: str) -> str:
    """The page where an invitee sets a password."""
    return f"/invite/{quote(token)}"


def unsubscribe(token: str) -> str:
    """The public one-click unsubscribe page (and RFC 8058 POST target) of a token."""
    return f"/unsubscribe/{quote(token)}"


def password_reset(token: str) -> str:
    """The page where a user picks a new password."""
    return f"/reset-password/{quote(token)}"


def login(next_path: str | None = None) -> str:
    """The sign-in page, returning to `next_path` afterwards."""
    if next_path and next_path.startswith("/") and not next_path.startswith("//"):
        return f"{LOGIN}?next={quote(next_path)}"
    return LOGIN


def oidc_start(next_path: str | None = None) -> str:
    """Where the single sign-on button goes: on to the provider, back to `next_path`."""
    if next_path and next_path.startswith("/") and not next_path.startswith("//"):
        return f"{AUTH_OIDC_START}?next={quote(next_path)}"
    return AUTH_OIDC_START


def login_sso_error(reason: str) -> str:
    """The sign-in page showing why a single sign-on failed (a code, not free text)."""
    return f"{LOGIN}?sso_error={quote(reason)}"


def profile_sso(*, error: str | None = None) -> str:
    """The profile page after connecting single sign-on: done, or why not (a code)."""
    return (
        f"{SETTINGS_PROFILE}?sso_error={quote(error)}"
        if error
        else f"{SETTINGS_PROFILE}?sso=connected"
    )


def safe_next(next_path: str | None) -> str:
    """A same-site path to go to after sign-in (never an external URL; browsers read a
    backslash as a slash, so "/\\evil.example" would be one)."""
    if (
        next_path
        and next_path.startswith("/")
        and not next_path.startswith("//")
        and "\\" not in next_path
    ):
        return next_path
    return DASHBOARD


def contact_detail(contact_id: int) -> str:
    """A contact's page."""
    return f"{CONTACTS}/{contact_id}"


def contact_new(account_id: int | None = None) -> str:
    """The new-contact form, with a company filled in when given."""
    return f"{CONTACT_NEW}?account={int(account_id)}" if account_id else CONTACT_NEW


def account_detail(account_id: int) -> str:
    """A company's page."""
    return f"{ACCOUNTS}/{account_id}"


def lead_detail(lead_id: int) -> str:
    """A lead's page."""
    return f"{LEADS}/{lead_id}"


def deal_detail(deal_id: int) -> str:
    """A deal's page."""
    return f"{DEALS}/{deal_id}"


def board(pipeline_id: int | None = None) -> str:
    """The deals board, of a given pipeline or the default one."""
    return f"{DEALS}?pipeline={int(pipeline_id)}" if pipeline_id else DEALS


def public_form(key: str) -> str:
    """The public page of a web-to-lead form."""
    return f"/f/{quote(key)}"


def merge(entity: str, survivor_id: int, other_id: int) -> str:
    """The merge screen for two contacts or two companies."""
    base = CONTACTS_MERGE if entity == "contact" else ACCOUNTS_MERGE
    return f"{base}?a={survivor_id}&b={other_id}"


def export_csv(entity: str, query: str = "") -> str:
    """The CSV download of a list view: `entity` "contacts" or "accounts", `query` the list's
    search, filters and sort as a query string, plus `columns=a,b` for the shown columns."""
    path = EXPORT.format(entity=entity)
    return f"{path}?{query.lstrip('?')}" if query.strip("?") else path


def import_rejected(job_id: int) -> str:
    """The CSV of the rows an import rejected, with the reasons."""
    return IMPORT_REJECTED.format(job_id=int(job_id))
