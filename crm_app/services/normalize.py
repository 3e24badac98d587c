"""Normalising what people type, so matching works: e-mails, phones, domains, tags."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DEFAULT_REGION = "US"  # for numbers typed without a country code


def email(raw: str | None) -> str | None:
    """A valid, lowercased e-mail, None for blank; ValueError with a message otherwise."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("Enter a valid e-mail address, like name@example.com.") from None
    return text.lower()


def phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164 (+14155550100), None for blank; ValueError when it is not a number."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a phone number, like +1 415 555 0100.") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("This phone number has the wrong number of digits.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_display(stored: str | None) -> str:
    """A stored E.164 number as people read it ("+1 415-555-0100"); as stored when unparsable."""
    if not stored:
        return ""
    try:
        parsed = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def domain(raw: str | None) -> str | None:
    """A bare lowercase domain ("https://www.Acme.com/x" -> "acme.com"), None for blank."""
    text = (raw or "").strip().lower()
    if not text:
        return None
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    host = host.removeprefix("www.")
    if not _DOMAIN.match(host):
        raise ValueError("Enter a domain, like acme.com.")
    return host


def email_domain(address: str | None) -> str | None:
    """The domain part of an e-mail address."""
    return address.rsplit("@", 1)[1] if address and "@" in address else None


def tag(raw: str) -> str:
    """A tag as stored: trimmed, inner spaces collapsed, at most 50 characters."""
    text = " ".join(str(raw).split())[:50]
    if not text:
        raise ValueError("A tag cannot be empty.")
    return text


def tags(raw: list[str] | None) -> list[str]:
    """Distinct tags, in the order given, ignoring case for duplicates."""
    seen: dict[str, str] = {}
    for item in raw or []:
        value = tag(item)
        seen.setdefault(value.lower(), value)
    return list(seen.values())
