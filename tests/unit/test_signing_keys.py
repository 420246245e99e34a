"""signing.keys: key ids, vkeys, private key strings and key files (mode 0600, unsafe files refused)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from signing.errors import BadSignature, InvalidKey, KeyFileError, SigningError, UnsafeKeyFile
from signing.keys import (
    KeyId,
    Signer,
    Verifier,
    generate_key,
    key_id,
    load_private_key,
    parse_private_key,
    parse_vkey,
    save_private_key,
    vkey,
)

# golang.org/x/mod/sumdb/note's documented example key.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"


def fixed_random(size: int) -> bytes:
    return bytes(range(size))


@pytest.fixture
def signer() -> Signer:
    return generate_key("offboard.example/org-1", random=fixed_random)


def test_go_reference_key_round_trips() -> None:
    s = parse_private_key(GO_SKEY)
    assert s.name == "PeterNeumann"
    assert s.key_id.hex() == "c74f20a3"
    assert s.verifier.vkey() == GO_VKEY
    assert s.to_private_key_string() == GO_SKEY
    assert parse_vkey(GO_VKEY) == s.verifier


def test_key_id_is_the_c2sp_hash(signer: Signer) -> None:
    expected = hashlib.sha256(b"offboard.example/org-1\n\x01" + signer.public_key).digest()[:4]
    assert key_id(signer.name, signer.public_key) == expected == signer.key_id


def test_vkey_round_trip_with_plus_in_the_base64() -> None:
    # Find a deterministic key whose base64 contains '+', which must not confuse the split.
    for n in range(256):
        s = Signer(name="log", seed=bytes([n]) * 32)
        if "+" in s.verifier.vkey().split("+", 2)[2]:
            break
    else:
        pytest.fail("no key with '+' in its base64 found")
    text = vkey(s.name, s.public_key)
    assert parse_vkey(text) == s.verifier
    assert parse_vkey(text).vkey() == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("Peter+Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lowercase hex"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "8 lowercase hex"),
        ("PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "base64"),
        ("PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "0x01 followed by 32"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy", "0x01 followed by 32"),
        ("PeterNeumann+c74f20a3", "name\\+keyid\\+base64"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "non-empty key name"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "spaces"),
    ],
)
def test_bad_vkeys_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        parse_vkey(text)


def test_verifier_checks_its_key_id_and_key_size(signer: Signer) -> None:
    with pytest.raises(InvalidKey, match="does not match"):
        Verifier(name="other", key_id=signer.key_id, public_key=signer.public_key)
    with pytest.raises(InvalidKey, match="32-byte public key"):
        Verifier(name="x", key_id=KeyId(b"\0" * 4), public_key=b"\0" * 31)


def test_verify_accepts_a_good_signature_and_rejects_others(signer: Signer) -> None:
    signature = signer.sign(b"message")
    signer.verifier.verify(b"message", signature)
    with pytest.raises(BadSignature, match="does not verify"):
        signer.verifier.verify(b"messagf", signature)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    with pytest.raises(BadSignature, match="does not verify"):
        signer.verifier.verify(b"message", flipped)
    with pytest.raises(BadSignature, match="64-byte signature"):
        signer.verifier.verify(b"message", signature[:63])
    other = generate_key(signer.name, random=lambda size: b"\x07" * size)
    with pytest.raises(BadSignature):
        other.verifier.verify(b"message", signature)


def test_generated_keys_differ_and_hide_the_seed() -> None:
    a, b = generate_key("a"), generate_key("a")
    assert a.seed != b.seed
    assert a.seed.hex() not in repr(a) and "seed" not in repr(a)


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\there", "nbsp\u00a0here"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidKey):
        generate_key(name)


def test_seed_must_be_32_bytes() -> None:
    with pytest.raises(InvalidKey, match="32-byte Ed25519 seed"):
        Signer(name="x", seed=b"\0" * 31)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "starting with"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "does not match"),
        ("PRIVATE+KEY+PeterNeumann+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "8 lowercase hex"),
        ("PRIVATE+KEY+PeterNeumann", "PRIVATE\\+KEY\\+name"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "0x01 followed by 32"),
    ],
)
def test_bad_private_key_strings_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidKey, match=message):
        parse_private_key(text)


# --- key files -----------------------------------------------------------------------------------


def test_saved_key_has_mode_0600_and_loads_back(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "ledger.key"
    save_private_key(path, signer)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == signer.to_private_key_string() + "\n"
    assert load_private_key(path) == signer
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.key"]


def test_save_is_0600_even_with_a_permissive_umask(tmp_path: Path, signer: Signer) -> None:
    old = os.umask(0)
    try:
        save_private_key(tmp_path / "k", signer)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o600


def test_save_refuses_to_overwrite_unless_asked(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "k"
    save_private_key(path, signer)
    other = generate_key("other", random=lambda size: b"\x09" * size)
    with pytest.raises(KeyFileError, match="refusing to overwrite") as caught:
        save_private_key(path, other)
    assert caught.value.path == str(path)
    assert load_private_key(path) == signer
    save_private_key(path, other, overwrite=True)
    assert load_private_key(path) == other
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]


def test_save_into_a_missing_directory_fails_cleanly(tmp_path: Path, signer: Signer) -> None:
    with pytest.raises(KeyFileError, match="cannot create a key file"):
        save_private_key(tmp_path / "nope" / "k", signer)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602, 0o620, 0o666])
def test_group_or_world_accessible_key_is_refused(tmp_path: Path, signer: Signer, mode: int) -> None:
    path = tmp_path / "k"
    save_private_key(path, signer)
    path.chmod(mode)
    with pytest.raises(UnsafeKeyFile, match=f"mode {mode:04o}") as caught:
        load_private_key(path)
    assert caught.value.mode == mode
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)


def test_owner_only_read_is_accepted(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "k"
    save_private_key(path, signer)
    path.chmod(0o400)
    assert load_private_key(path) == signer


def test_missing_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no private key file at") as caught:
        load_private_key(tmp_path / "absent.key")
    assert caught.value.path == str(tmp_path / "absent.key")


def test_a_directory_is_not_a_key_file(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir(mode=0o700)
    with pytest.raises(KeyFileError, match="not a regular file"):
        load_private_key(folder)


def test_unreadable_key_file_is_refused(tmp_path: Path, signer: Signer, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k"
    save_private_key(path, signer)
    path.chmod(0o000)
    if os.geteuid() == 0:
        # root reads any file; stage the refusal the kernel would give anyone else.
        def denied(*args: object, **kwargs: object) -> int:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(os, "open", denied)
    with pytest.raises(KeyFileError, match="cannot open the private key file .*Permission denied"):
        load_private_key(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a key\n", "malformed"), (b"\xff\xfe\n", "malformed"), (b"x" * 5000, "larger than")],
)
def test_malformed_key_file_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "k"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(KeyFileError, match=message):
        load_private_key(path)


def test_every_signing_error_shares_one_root() -> None:
    for error in (InvalidKey, KeyFileError, UnsafeKeyFile, BadSignature):
        assert issubclass(error, SigningError)
