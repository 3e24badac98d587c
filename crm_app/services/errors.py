"""Domain errors. Each carries a code; the API and the UI map codes in one table each."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    """What went wrong, independent of how an edge reports it."""

    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    VALIDATION = "validation"
    CONFLICT = "conflict"
    STALE = "stale"
    LOCKED = "locked"
    RATE_LIMITED = "rate_limited"


@dataclass
class FieldError:
    """One invalid input field and why."""

    field: str
    message: str


@dataclass
class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    message: str
    code: ErrorCode = ErrorCode.VALIDATION
    errors: list[FieldError] = field(default_factory=list)
    retry_after_seconds: int | None = None

    def __str__(self) -> str:
        return self.message


class Unauthenticated(DomainError):
    """No valid session or key."""

    def __init__(self, message: str = "Sign in to continue.") -> None:
        super().__init__(message, ErrorCode.UNAUTHENTICATED)


class Forbidden(DomainError):
    """The actor may not do this."""

    def __init__(self, message: str = "You are not allowed to do that.") -> None:
        super().__init__(message, ErrorCode.FORBIDDEN)


class NotFound(DomainError):
    """The record does not exist (or is in the trash)."""

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message, ErrorCode.NOT_FOUND)


class ValidationFailed(DomainError):
    """Input was rejected; `errors` says which field and why."""

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message, ErrorCode.VALIDATION, errors or [])

    @classmethod
    def for_field(cls, field_name: str, message: str) -> ValidationFailed:
        """A validation error about one field."""
        return cls(message, [FieldError(field_name, message)])


class Conflict(DomainError):
    """The change clashes with existing data (e.g. a duplicate e-mail)."""

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message, ErrorCode.CONFLICT, errors or [])


@dataclass
class Match:
    """An existing record that looks like the one being saved."""

    id: int
    label: str
    detail: str


class DuplicateFound(Conflict):
    """The record being saved matches existing ones (same e-mail, phone or domain)."""

    def __init__(self, message: str, matches: list[Match], errors: list[FieldError]) -> None:
        super().__init__(message, errors)
        self.matches = matches

    @classmethod
    def by_email_or_phone(
        cls, record: str, matches: list[Match], email: str | None
    ) -> DuplicateFound:
        """People (contacts, leads) found by their e-mail or phone: the error names the field
        that matched ("A contact with this e-mail already exists.")."""
        field = "email" if email and any(m.detail == email for m in matches) else "phone"
        what = "e-mail" if field == "email" else "phone number"
        return cls(
            f"{record} with this {what} already exists.",
            matches,
            [FieldError(field, f"Already used by {matches[0].label}.")],
        )


class StaleVersion(DomainError):
    """Someone else saved the record since it was read."""

    def __init__(
        self, message: str = "This record was changed by someone else. Reload and try again."
    ) -> None:
        super().__init__(message, ErrorCode.STALE)


class Locked(DomainError):
    """Sign-in for this account is temporarily refused."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, ErrorCode.LOCKED, retry_after_seconds=retry_after_seconds)


class RateLimited(DomainError):
    """Too many requests or attempts from one client or key; retry after
    `retry_after_seconds` (HTTP 429 with Retry-After)."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, ErrorCode.RATE_LIMITED, retry_after_seconds=retry_after_seconds)
