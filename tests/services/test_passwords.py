"""Password rules and argon2id parameters."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from crm_app.auth import passwords
from crm_app.auth.passwords import check_password_rules, hash_password


def test_a_long_uncommon_password_passes():
    assert check_password_rules("correct-horse-battery") == []


def test_nine_characters_are_too_few_and_ten_are_enough():
    assert check_password_rules("x7#kq9!vz") == ["Use at least 10 characters."]
    assert check_password_rules("x7#kq9!vzw") == []


def test_more_than_128_characters_are_refused():
    assert check_password_rules("a-b" * 42 + "cd") == []  # 128
    assert check_password_rules("a-b" * 43) == ["Use at most 128 characters."]


@pytest.mark.parametrize("common", ["1234567890", "qwertyuiop", "Password123", "BASKETBALL"])
def test_common_passwords_are_refused_whatever_their_case(common):
    assert check_password_rules(common) == ["This password is too common; choose another."]


def test_the_shipped_list_holds_thousands_of_passwords_in_lower_case():
    words = passwords.common_passwords()
    assert len(words) > 10_000
    assert all(word == word.lower() for word in words)
    assert "password" in words
    assert not any(word.startswith("#") for word in words)


@pytest.mark.parametrize(
    "candidate", ["alice.example@example.com", "ALICE.EXAMPLE", "alice example", "AliceExample"]
)
def test_the_users_email_or_name_is_refused(candidate):
    problems = check_password_rules(
        candidate, email="alice.example@example.com", name="Alice Example"
    )
    assert problems == ["Do not use your e-mail address or name as your password."]


def test_a_password_containing_the_name_among_other_words_is_allowed():
    assert check_password_rules("alice-likes-green-tea", name="Alice") == []


def test_hashes_use_argon2id_with_at_least_owasps_parameters():
    params = extract_parameters(hash_password("correct-horse-battery"))
    assert params.type is Type.ID
    assert params.memory_cost >= 19 * 1024
    assert params.time_cost >= 2
    assert params.parallelism >= 1
    assert (params.memory_cost, params.time_cost, params.parallelism) == (
        passwords.ARGON2_MEMORY_KIB,
        passwords.ARGON2_TIME_COST,
        passwords.ARGON2_PARALLELISM,
    )


def test_a_hash_with_weaker_parameters_needs_rehash_and_todays_does_not():
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw-1234567")
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(hash_password("pw-1234567"))
    assert passwords.verify_password(weak, "pw-1234567")


def test_an_unreadable_hash_never_verifies():
    assert not passwords.verify_password("not-a-hash", "anything-at-all")
    assert not passwords.verify_password(None, "anything-at-all")
    assert passwords.needs_rehash("not-a-hash")
