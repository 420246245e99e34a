"""Pure pieces of the receipts feature: signatures over canonical JSON, link tokens, the failure limiter,
trusted-proxy addresses and SMTP configuration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from signing.keys import generate_key
from vault.config import Settings
from vault.errors import ConfigurationError, RateLimited, VerificationFailed
from vault.handover.links import TOKEN_LENGTH, hash_token, link_url, new_token, well_formed
from vault.handover.receipts import canonical, shown_digest, sign_document, verify_document
from vault.mail import Attachment, Mailer, Message, RenderedEmail, mailer_from_settings, parse_smtp_url
from vault.ratelimit import FailureLimiter, client_ip

DOC = {
    "type": "offboard.receipt/v1",
    "id": "r1",
    "terms": "T",
    "deliverables": [{"sha256": "ab", "size": 3}],
    "obligations": [],
    "access_revoked": [],
    "ünïcode": "é",
    "a": 1,
}


def test_signature_covers_exactly_the_canonical_bytes() -> None:
    signer = generate_key("agency.example/default", random=lambda n: bytes(range(n)))
    signed = sign_document(signer, DOC)
    assert signed.body == canonical(DOC) and signed.body.startswith(b'{"a":1,')
    assert verify_document(signed.body, signed.signature, signer.verifier) == DOC
    assert signed.detached.to_json()["key_id"] == signer.key_id.hex() == signed.key_id
    other = generate_key("agency.example/default")
    with pytest.raises(VerificationFailed, match="signature does not verify"):
        verify_document(signed.body, signed.signature, other.verifier)
    with pytest.raises(VerificationFailed, match="signature does not verify"):
        verify_document(signed.body, signed.signature[:-1] + bytes([signed.signature[-1] ^ 1]), signer.verifier)


def test_signed_bytes_must_be_canonical_json_objects() -> None:
    signer = generate_key("k")
    pretty = json.dumps(DOC, indent=2).encode()
    with pytest.raises(VerificationFailed, match="not an RFC 8785 canonical"):
        verify_document(pretty, signer.sign(pretty), signer.verifier)
    with pytest.raises(VerificationFailed, match="not JSON"):
        verify_document(b"\xff{", signer.sign(b"\xff{"), signer.verifier)
    with pytest.raises(VerificationFailed, match="not an RFC 8785 canonical"):
        verify_document(b"[1]", signer.sign(b"[1]"), signer.verifier)


def test_shown_digest_changes_with_any_shown_item_but_not_with_the_rest() -> None:
    base = shown_digest(DOC)
    assert len(base) == 64
    assert shown_digest({**DOC, "issued_at": "later"}) == base
    assert shown_digest({**DOC, "terms": "T."}) != base
    assert shown_digest({**DOC, "deliverables": [{"sha256": "ab", "size": 4}]}) != base


def test_tokens_are_256_bit_urlsafe_and_stored_hashed() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert len(token) == TOKEN_LENGTH and well_formed(token)
        assert hash_token(token) != token and len(hash_token(token)) == 64
    assert new_token(lambda n: b"\x00" * n) == "A" * 43
    for bad in ("", "A" * 42, "A" * 44, "A" * 42 + "=", "A" * 42 + "/", "A" * 42 + "é"):
        assert not well_formed(bad)
    settings = Settings(base_url="https://offboard.agency.example/")
    assert link_url(settings, "A" * 43) == "https://offboard.agency.example/ack/" + "A" * 43


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_limiter_counts_failures_per_key_in_a_sliding_window() -> None:
    clock = Clock()
    limiter = FailureLimiter(3, 60, clock=clock, refusal="too many guesses from this address")
    for _ in range(3):
        limiter.check("a")
        limiter.fail("a")
        clock.now += timedelta(seconds=10)
    with pytest.raises(RateLimited, match="^too many guesses from this address$") as caught:
        limiter.check("a")
    assert caught.value.details["retry_after"] == 30
    limiter.check("b")  # other addresses are unaffected
    clock.now += timedelta(seconds=30)  # the first failure ages out
    limiter.check("a")
    with pytest.raises(ConfigurationError, match="max_failures >= 1 and window_seconds > 0, found 0 and 60"):
        FailureLimiter(0, 60)


def test_client_ip_trusts_forwarded_for_only_from_configured_proxies() -> None:
    proxies = ["10.0.0.0/8", "2001:db8::1"]
    xff = "192.0.2.66, 198.51.100.7"
    assert client_ip("10.1.2.3", xff, proxies) == "198.51.100.7"
    assert client_ip("203.0.113.5", xff, proxies) == "203.0.113.5"
    assert client_ip("10.1.2.3", xff, []) == "10.1.2.3"
    assert client_ip("10.1.2.3", "198.51.100.7, 10.9.9.9", proxies) == "198.51.100.7"  # chained proxies
    assert client_ip("2001:db8::1", "2001:db8::42", proxies) == "2001:db8::42"
    assert client_ip("10.1.2.3", "not-an-ip", proxies) == "10.1.2.3"
    assert client_ip("10.1.2.3", None, proxies) == "10.1.2.3"
    assert client_ip(None, xff, proxies) == "unknown"


def test_smtp_urls() -> None:
    target = parse_smtp_url("smtp+starttls://user%40x:p%3Ass@mail.example:2525")
    assert (target.scheme, target.host, target.port, target.username, target.password) == (
        "smtp+starttls",
        "mail.example",
        2525,
        "user@x",
        "p:ss",
    )
    assert "p:ss" not in repr(target)
    assert parse_smtp_url("smtps://mail.example").port == 465
    assert parse_smtp_url("smtp://mail.example").port == 25
    for bad, message in [("http://x", "must start with"), ("smtp://", "no host"), ("smtp://h:99999", "invalid port")]:
        with pytest.raises(ConfigurationError, match=message):
            parse_smtp_url(bad)
    assert mailer_from_settings(Settings()) is None
    assert mailer_from_settings(Settings(smtp_url="smtp://127.0.0.1:2525")) is not None


def test_messages_have_text_html_and_attachments() -> None:
    mailer = Mailer(parse_smtp_url("smtp://127.0.0.1"), "offboard@agency.example")
    body = RenderedEmail("Subject ✓", "plain text", "<p>html</p>")
    built = mailer.build(Message("c@x.example", body, (Attachment("r.json", b"{}", "application/json"),)))
    assert built["To"] == "c@x.example" and built["Subject"] == "Subject ✓"
    assert built["Auto-Submitted"] == "auto-generated"
    plain, html = built.get_body(("plain",)), built.get_body(("html",))
    assert plain is not None and plain.get_content().strip() == "plain text"
    assert html is not None and "<p>html</p>" in html.get_content()
    [attachment] = list(built.iter_attachments())
    assert attachment.get_filename() == "r.json" and attachment.get_content() == b"{}"


def test_unreachable_smtp_server_fails_every_recipient() -> None:
    from tests.services import free_port

    mailer = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}"), "o@x.example")
    body = RenderedEmail("s", "t", "h")
    assert mailer.send([Message("a@x.example", body), Message("b@x.example", body)]) == ["a@x.example", "b@x.example"]
