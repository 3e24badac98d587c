"""Pieces shared by every table: UTC timestamps, the audited mixin, search-vector helpers."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, EmailStr
from sqlalchemy import Column, Computed, FetchedValue, Index, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlmodel import Field, SQLModel, UTCDateTime

# Named constraints let Alembic drop and alter them later; the "ix" pattern matches what
# SQLAlchemy already generates for `index=True`.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# E-mails are matched case-insensitively, so schemas hand them to services already lowercased.
LowerEmail = Annotated[EmailStr, AfterValidator(str.lower)]
# The largest id of an INTEGER key: a larger number names no row (PostgreSQL refuses it).
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class TimestampedBase(SQLModel):
    """Creation/update times, optimistic-lock version and soft delete (users carry these)."""

    # server defaults keep rows written by COPY (bulk import) consistent with ORM inserts
    created_at: datetime = Field(
        default_factory=utcnow,
        index=True,
        sa_type=UTCDateTime,
        sa_column_kwargs={"server_default": func.now()},
    )
    updated_at: datetime = Field(
        default_factory=utcnow,
        index=True,
        sa_type=UTCDateTime,
        sa_column_kwargs={"server_default": func.now(), "onupdate": utcnow},
    )
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    deleted_at: datetime | None = Field(default=None, index=True, sa_type=UTCDateTime)


class AuditedBase(TimestampedBase):
    """Bookkeeping columns of every business table: timestamps, author, version, trash."""

    created_by: int | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", index=True
    )


class PublicRecord(SQLModel):
    """Read-only fields every public schema of an audited table exposes."""

    id: int
    created_at: datetime
    updated_at: datetime
    version: int


def tsvector_sql(*parts: str) -> str:
    """SQL for an IMMUTABLE 'simple' tsvector over the given text expressions (NULLs skipped)."""
    joined = " || ' ' || ".join(f"coalesce({part}, '')" for part in parts)
    return f"to_tsvector('simple'::regconfig, {joined})"


def email_terms(column: str) -> list[str]:
    """The e-mail, its domain, and its words split on '@' and '.' so 'acme' finds jo@acme.com."""
    return [
        column,
        f"split_part({column}, '@', 2)",
        f"replace(replace({column}, '@', ' '), '.', ' ')",
    ]


def phone_terms(column: str) -> list[str]:
    """The phone as stored and as digits only, so '1415555' finds +14155550100."""
    return [column, rf"regexp_replace({column}, '\D', '', 'g')"]


def domain_terms(column: str) -> list[str]:
    """The domain and its labels, so 'acme' finds acme.com."""
    return [column, f"replace({column}, '.', ' ')"]


def string_list_field() -> Any:
    """A text[] column defaulting to an empty array, also for rows written by COPY."""
    return Field(
        default_factory=list, sa_type=ARRAY(String), sa_column_kwargs={"server_default": "{}"}
    )


def jsonb_field(default_factory: Callable[[], Any] = dict) -> Any:
    """A JSONB column defaulting to {} (or [] when default_factory is list)."""
    server_default = "[]" if default_factory is list else "{}"
    return Field(
        default_factory=default_factory,
        sa_type=JSONB,
        sa_column_kwargs={"server_default": server_default},
    )


def search_vector_field(*parts: str) -> Any:
    """A generated tsvector column over `parts`; PostgreSQL keeps it current on every write."""
    column = Column(TSVECTOR, Computed(tsvector_sql(*parts), persisted=True))
    return Field(default=None, sa_column=column, exclude=True, repr=False)


def trigger_kept_field(max_length: int) -> Any:
    """A read-only copy of a name in another table (a contact's company, a record's owner),
    so lists sort and search by it through an index; database triggers keep it current (see
    the migration `e5f6a7b8c9d0`), and the ORM re-reads it after every write."""
    return Field(
        default=None,
        max_length=max_length,
        sa_column_kwargs={"server_default": FetchedValue(), "server_onupdate": FetchedValue()},
    )


def live_sort_indexes(table: str, *columns: str) -> tuple[Index, ...]:
    """(column, id) over live rows for each column a list sorts by, so a sorted page (and
    its keyset cursor) reads an index instead of sorting the table."""
    return tuple(
        Index(
            f"ix_{table}_live_{column}", column, "id", postgresql_where=text("deleted_at IS NULL")
        )
        for column in columns
    )


def record_indexes(table: str) -> tuple[Index, ...]:
    """GIN on tags, custom values and search_vector, plus live rows by updated_at (keyset)."""
    return (
        Index(f"ix_{table}_tags", "tags", postgresql_using="gin"),
        Index(
            f"ix_{table}_custom",
            "custom",
            postgresql_using="gin",
            postgresql_ops={"custom": "jsonb_path_ops"},
        ),
        Index(f"ix_{table}_search_vector", "search_vector", postgresql_using="gin"),
        Index(
            f"ix_{table}_live_updated",
            "updated_at",
            "id",
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )
