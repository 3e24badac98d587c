"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# RFC 9106's second recommended profile (64 MiB, t=3, p=4) exceeds OWASP's floor
# (19 MiB, t=2, p=1); argon2-cffi's defaults are that profile.
_hasher = PasswordHasher()

MIN_LENGTH = 10
MAX_LENGTH = 128

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
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if password.lower() in _COMMON_PASSWORDS:
        return "This password is too common; choose another."
    return None


_COMMON_PASSWORDS = frozenset(
    """
        password123 password1234 1234567890 12345678910 qwertyuiop 0123456789
        1q2w3e4r5t iloveyou123 password12 passw0rd123 qwerty1234 qwerty12345
        abcdefghij abc1234567 letmein123 welcome123 administrator admin12345
        changeme123 football123 baseball123 monkey1234 dragon1234 sunshine123
        princess123 1111111111 0000000000 9876543210
    """.split()  # noqa: SIM905 - a word list reads better than a literal
)
