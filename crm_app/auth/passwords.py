"""Password hashing with argon2id, and the rules a new password must pass."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# RFC 9106's second recommended profile; OWASP's floor is m=19 MiB, t=2, p=1. Raising any of
# these makes every older hash "need rehash", and sign-in then upgrades it.
ARGON2_MEMORY_KIB = 64 * 1024
ARGON2_TIME_COST = 3
ARGON2_PARALLELISM = 4

_hasher = PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)

MIN_LENGTH = 10
MAX_LENGTH = 128

_COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

# A dummy hash to verify against when the e-mail is unknown, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("not-a-real-password-used-for-timing")


def hash_password(password: str) -> str:
    """The argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; spends the same time when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The lowercased list shipped in `common_passwords.txt` (read once, on first use)."""
    lines = _COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _letters_and_digits(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _personal_words(email: str | None, name: str | None) -> set[str]:
    """The e-mail, its local part and the name, as letters and digits only."""
    words = set()
    if email:
        words |= {_letters_and_digits(email), _letters_and_digits(email.split("@")[0])}
    if name:
        words.add(_letters_and_digits(name))
    return {word for word in words if word}


def check_password_rules(
    password: str, *, email: str | None = None, name: str | None = None
) -> list[str]:
    """Why `password` may not be set, one message per broken rule; empty when it is fine.

    Compared case-insensitively, and for the e-mail and name ignoring spaces and punctuation,
    so "Alice.Example" counts as the name "Alice Example".
    """
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    if len(password) > MAX_LENGTH:
        return [f"Use at most {MAX_LENGTH} characters."]
    problems = []
    if password.lower() in common_passwords() or password.strip().lower() in common_passwords():
        problems.append("This password is too common; choose another.")
    if _letters_and_digits(password) in _personal_words(email, name):
        problems.append("Do not use your e-mail address or name as your password.")
    return problems


def password_problem(
    password: str, *, email: str | None = None, name: str | None = None
) -> str | None:
    """The broken rules as one message next to the password field, or None."""
    return " ".join(check_password_rules(password, email=email, name=name)) or None
