"""Admin-editable pick lists: lead sources and lost reasons."""

from sqlmodel import Field

from crm_app.models.base import AuditedBase


class LeadSource(AuditedBase, table=True):
    """A choice for Lead.source, e.g. "Website" or "Referral"."""

    __tablename__ = "lead_sources"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    position: int = 0
    is_active: bool = True


class LostReason(AuditedBase, table=True):
    """A choice for Deal.lost_reason, e.g. "Price" or "Went with a competitor"."""

    __tablename__ = "lost_reasons"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    position: int = 0
    is_active: bool = True
