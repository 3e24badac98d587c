"""SQLModel tables and API schemas; importing this package registers every table."""

from crm_app.models.account import Account, AccountCreate, AccountPublic, AccountUpdate
from crm_app.models.activity import (
    Activity,
    ActivityCreate,
    ActivityKind,
    ActivityPublic,
    ActivityUpdate,
    Priority,
)
from crm_app.models.api_key import ApiKey
from crm_app.models.audit import AuditEvent
from crm_app.models.auth import AuthToken, LoginAttempt, TokenPurpose, UserSession
from crm_app.models.base import AuditedBase, PublicRecord, TimestampedBase, utcnow
from crm_app.models.contact import (
    Contact,
    ContactCreate,
    ContactPublic,
    ContactUpdate,
    LifecycleStage,
)
from crm_app.models.custom_field import CustomFieldDefinition, CustomFieldEntity, FieldType
from crm_app.models.deal import (
    Deal,
    DealContact,
    DealCreate,
    DealPublic,
    DealStageChange,
    DealUpdate,
)
from crm_app.models.email import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    EmailMessage,
    MessageStatus,
    RecipientStatus,
    Suppression,
)
from crm_app.models.email_template import EmailTemplate
from crm_app.models.import_job import ImportJob, ImportRecord, ImportStatus
from crm_app.models.job_queue import JobError
from crm_app.models.lead import Lead, LeadCreate, LeadPublic, LeadStatus, LeadUpdate
from crm_app.models.lead_form import LeadForm
from crm_app.models.lead_scoring import LeadScoringRule
from crm_app.models.lookup import LeadSource, LostReason
from crm_app.models.notification import Notification
from crm_app.models.oidc import OidcLogin, UserIdentity
from crm_app.models.permission import Permission
from crm_app.models.pipeline import (
    Pipeline,
    PipelineCreate,
    PipelinePublic,
    PipelineUpdate,
    Stage,
    StageCreate,
    StageKind,
    StagePublic,
    StageUpdate,
)
from crm_app.models.rate_limit import RateLimitCounter
from crm_app.models.saved_view import SavedView
from crm_app.models.setting import AppSetting
from crm_app.models.tag import Tag
from crm_app.models.team import Team, TeamCreate, TeamPublic, TeamUpdate
from crm_app.models.two_factor import RecoveryCode
from crm_app.models.user import Role, User, UserCreate, UserPublic, UserUpdate
from crm_app.models.webhook import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from crm_app.models.workflow import RunStatus, Workflow, WorkflowDateFire, WorkflowRun

__all__ = [
    "Account",
    "AccountCreate",
    "AccountPublic",
    "AccountUpdate",
    "Activity",
    "ActivityCreate",
    "ActivityKind",
    "ActivityPublic",
    "ActivityUpdate",
    "ApiKey",
    "AppSetting",
    "AuditEvent",
    "AuditedBase",
    "AuthToken",
    "Campaign",
    "CampaignRecipient",
    "CampaignStatus",
    "Contact",
    "ContactCreate",
    "ContactPublic",
    "ContactUpdate",
    "CustomFieldDefinition",
    "CustomFieldEntity",
    "Deal",
    "DealContact",
    "DealCreate",
    "DealPublic",
    "DealStageChange",
    "DealUpdate",
    "DeliveryStatus",
    "EmailMessage",
    "EmailTemplate",
    "FieldType",
    "ImportJob",
    "ImportRecord",
    "ImportStatus",
    "JobError",
    "Lead",
    "LeadCreate",
    "LeadForm",
    "LeadPublic",
    "LeadScoringRule",
    "LeadSource",
    "LeadStatus",
    "LeadUpdate",
    "LifecycleStage",
    "LoginAttempt",
    "LostReason",
    "MessageStatus",
    "Notification",
    "OidcLogin",
    "Permission",
    "Pipeline",
    "PipelineCreate",
    "PipelinePublic",
    "PipelineUpdate",
    "Priority",
    "PublicRecord",
    "RateLimitCounter",
    "RecipientStatus",
    "RecoveryCode",
    "Role",
    "RunStatus",
    "SavedView",
    "Stage",
    "StageCreate",
    "StageKind",
    "StagePublic",
    "StageUpdate",
    "Suppression",
    "Tag",
    "Team",
    "TeamCreate",
    "TeamPublic",
    "TeamUpdate",
    "TimestampedBase",
    "TokenPurpose",
    "User",
    "UserCreate",
    "UserIdentity",
    "UserPublic",
    "UserSession",
    "UserUpdate",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "Workflow",
    "WorkflowDateFire",
    "WorkflowRun",
    "utcnow",
]
