"""Staff passwords: the policy a new password must meet, and Argon2id hashing (RFC 9106).

Hashes are PHC strings (``$argon2id$v=19$m=65536,t=3,p=4$...``) from argon2-cffi with its defaults, the
RFC 9106 section 4 "second recommended option" (64 MiB, 3 passes, 4 lanes). A hash records its own
parameters, so raising them later still verifies old hashes; ``needs_rehash`` says when to replace one.

The policy follows NIST SP 800-63B section 5.1.1.2: a length floor and a check against passwords known to
be common, no composition rules. The list here is short on purpose (a few hundred bytes); its entries are
the common passwords that pass the length floor, and common words padded with digits or symbols.
"""

from __future__ import annotations

import secrets
import string
import threading
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from vault.errors import InvalidInput

MIN_LENGTH = 12
#: Far above any passphrase; it bounds the work one form post can ask of the hasher.
MAX_LENGTH = 1024

#: Common passwords of 12 characters or more (lower-cased), as seen at the top of published breach lists.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789123",
        "123123123123",
        "111111111111",
        "000000000000",
        "121212121212",
        "987654321098",
        "1q2w3e4r5t6y",
        "q1w2e3r4t5y6",
        "1qaz2wsx3edc",
        "qwertyuiop12",
        "qwertyuiopas",
        "qwertyuiopasdfghjkl",
        "qwerty123456",
        "asdfghjkl123",
        "zxcvbnm12345",
        "abcdefghijkl",
        "abc123abc123",
        "passwordpassword",
        "password1234",
        "password12345",
        "password123456",
        "password123!",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "administrator",
        "trustno11234",
        "football1234",
        "baseball1234",
        "princess1234",
        "sunshine1234",
        "correcthorsebatterystaple",
        "thequickbrownfox",
        "monkey123456",
        "dragon123456",
        "starwars1234",
        "superman1234",
        "michael12345",
        "jennifer1234",
        "whatever1234",
    }
)

#: Words that no amount of digits or symbols around them makes a good password.
COMMON_WORDS = frozenset(
    {
        "password",
        "passw0rd",
        "p@ssw0rd",
        "p@ssword",
        "qwerty",
        "qwertyuiop",
        "letmein",
        "welcome",
        "iloveyou",
        "admin",
        "administrator",
        "changeme",
        "secret",
        "offboard",
        "football",
        "baseball",
        "princess",
        "sunshine",
        "monkey",
        "dragon",
        "master",
        "login",
        "abc",
        "abcdef",
        "test",
        "default",
    }
)

_PADDING = string.digits + string.punctuation + " "

#: Hashes computed at once. Each takes 64 MiB, so a burst of sign-ins (from many addresses, each under
#: its rate limit) queues here instead of exhausting memory.
_CONCURRENT_HASHES = threading.BoundedSemaphore(4)


def check_policy(password: str, *, email: str | None = None) -> None:
    """Raise ``InvalidInput`` saying why ``password`` may not be used; return if it may."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"the password must be at least {MIN_LENGTH} characters; it has {len(password)}")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"the password must be at most {MAX_LENGTH} characters; it has {len(password)}")
    lowered = password.lower()
    core = lowered.strip(_PADDING)
    if lowered in COMMON_PASSWORDS or core in COMMON_WORDS or len(set(lowered)) == 1:
        raise InvalidInput("the password is one of the most commonly used passwords; choose another")
    local = email.split("@", 1)[0].lower() if email else ""
    if len(local) >= 4 and local in lowered:
        raise InvalidInput("the password must not contain the email address it belongs to")


def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the RFC 9106 parameters (module docstring)


def hash_password(password: str) -> str:
    """The Argon2id PHC string of ``password`` with a fresh random salt."""
    with _CONCURRENT_HASHES:
        return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``. A malformed hash matches nothing."""
    try:
        with _CONCURRENT_HASHES:
            return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(32))


def burn_verification(password: str) -> None:
    """Spend the time of one verification for an email that has no password, so the answer's timing does
    not tell an unknown email from a wrong password."""
    verify_password(_dummy_hash(), password)
