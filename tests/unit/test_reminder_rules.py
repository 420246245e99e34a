"""The reminder rules in isolation: the policy's parsing, local days and the 48-hour window, and the
sealed link tokens (a seal opens only with its key and its row)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from signing.errors import SealBroken
from signing.keys import generate_key
from signing.sealing import seal, sealing_key, unseal
from vault.errors import InvalidInput
from vault.reminders.policy import ReminderPolicy, client_schedule, digest_hour, escalation_days, time_zone
from vault.reminders.rules import DUE_SOON, end_of_day, local_day


def test_client_schedule_parses_increasing_days_and_refuses_the_rest() -> None:
    assert client_schedule("3,7") == (3, 7)
    assert client_schedule(" 1 , 2,30 ") == (1, 2, 30)
    assert client_schedule("") == ()
    for bad, words in [("7,3", "must increase"), ("3,3", "must increase"), ("a", "commas"), ("0", "1 to 365")]:
        with pytest.raises(InvalidInput, match=words):
            client_schedule(bad)
    with pytest.raises(InvalidInput, match="at most 10"):
        client_schedule(",".join(str(d) for d in range(1, 12)))


def test_time_zone_hour_and_escalation_are_bounded() -> None:
    assert time_zone(" Europe/Berlin ") == "Europe/Berlin"
    for bad in ("Mars/Olympus", "", "../etc/passwd"):
        with pytest.raises(InvalidInput, match="IANA"):
            time_zone(bad)
    assert digest_hour(0) == 0 and digest_hour(23) == 23
    with pytest.raises(InvalidInput):
        digest_hour(24)
    with pytest.raises(InvalidInput):
        escalation_days(0)


def test_local_day_and_due_window_follow_the_time_zone() -> None:
    auckland = ReminderPolicy(timezone="Pacific/Auckland")
    utc = ReminderPolicy()
    instant = datetime(2027, 3, 1, 19, 0, tzinfo=UTC)  # 08:00 on the 2nd in Auckland (NZDT, +13)
    assert local_day(instant, auckland) == date(2027, 3, 2)
    assert local_day(instant, utc) == date(2027, 3, 1)
    # a step due on the 3rd is due within 48 hours once its local day's end is 48 hours away
    assert end_of_day(date(2027, 3, 3), auckland) <= instant + DUE_SOON
    assert end_of_day(date(2027, 3, 3), utc) > instant + DUE_SOON


def test_a_sealed_token_opens_only_with_its_key_and_its_link() -> None:
    signer = generate_key("agency.example/default", random=lambda n: b"\x05" * n)
    other = generate_key("agency.example/default", random=lambda n: b"\x06" * n)
    key = sealing_key(signer, b"offboard/receipt-link-token/v1")
    sealed = seal(key, b"token-bytes", b"link-1")
    assert b"token-bytes" not in sealed
    assert unseal(key, sealed, b"link-1") == b"token-bytes"
    assert seal(key, b"token-bytes", b"link-1") != sealed  # a fresh nonce each time
    for wrong_key, aad, data in [
        (sealing_key(other, b"offboard/receipt-link-token/v1"), b"link-1", sealed),
        (sealing_key(signer, b"another purpose"), b"link-1", sealed),
        (key, b"link-2", sealed),
        (key, b"link-1", sealed[:-1] + bytes([sealed[-1] ^ 1])),
        (key, b"link-1", sealed[:10]),
    ]:
        with pytest.raises(SealBroken):
            unseal(wrong_key, data, aad)
