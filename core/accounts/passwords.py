"""Password hashing with argon2id (``lendstack.argon2 = cheapest`` in tests only)."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10

_hasher = PasswordHasher()


class WeakPassword(ValueError):
    field = "password"


def use_cheapest_profile() -> None:
    """Fast hashing for test suites; never in production."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


def check_strength(password: str) -> None:
    if len(password or "") < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
