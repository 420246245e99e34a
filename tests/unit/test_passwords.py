"""The password policy (length floor, common passwords) and Argon2id hashing."""

from __future__ import annotations

import pytest

from vault.errors import InvalidInput
from vault.orgs import passwords


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "at least 12 characters; it has 0"),
        ("short-but-ok", None),
        ("elevenchars", "at least 12 characters; it has 11"),
        ("x" * 1025, "at most 1024 characters; it has 1025"),
        ("123456789012", "most commonly used"),
        ("Password1234", "most commonly used"),
        ("PASSWORDPASSWORD", "most commonly used"),
        ("!!password2026!!", "most commonly used"),
        ("  Qwerty 2026  ", "most commonly used"),
        ("aaaaaaaaaaaaaaaa", "most commonly used"),
        ("correct horse battery staple", None),
        ("paper-lamp-orbit-71", None),
    ],
)
def test_policy(password: str, message: str | None) -> None:
    if message is None:
        passwords.check_policy(password)
        return
    with pytest.raises(InvalidInput) as caught:
        passwords.check_policy(password)
    assert message in caught.value.message


def test_policy_refuses_the_email_local_part() -> None:
    with pytest.raises(InvalidInput, match="must not contain the email address"):
        passwords.check_policy("jsmith-rocks-2026", email="JSmith@agency.example")
    passwords.check_policy("paper-lamp-orbit-71", email="jsmith@agency.example")


def test_hash_is_argon2id_salted_and_verifies() -> None:
    first = passwords.hash_password("paper-lamp-orbit-71")
    second = passwords.hash_password("paper-lamp-orbit-71")
    assert first.startswith("$argon2id$v=19$") and first != second
    assert passwords.verify_password(first, "paper-lamp-orbit-71")
    assert not passwords.verify_password(first, "paper-lamp-orbit-72")
    assert not passwords.needs_rehash(first)


@pytest.mark.parametrize("stored", ["", "plain", "$argon2id$v=19$m=65536,t=3,p=4$broken"])
def test_malformed_hash_matches_nothing(stored: str) -> None:
    assert not passwords.verify_password(stored, "paper-lamp-orbit-71")


def test_at_most_four_hashes_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    running, peak, lock = 0, 0, threading.Lock()

    class SlowHasher:
        def verify(self, _hash: str, _password: str) -> bool:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            return True

    monkeypatch.setattr(passwords, "_hasher", SlowHasher)
    threads = [threading.Thread(target=passwords.verify_password, args=("h", "p")) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 4
