"""Ed25519 keys for C2SP signed notes: key ids, verifier keys (vkeys) and private key files.

Key id and vkey follow C2SP signed-note (section "Ed25519 signatures"):
``key_id = SHA-256(name || 0x0A || 0x01 || public key)[:4]`` and ``vkey = name+<8 hex id>+base64(0x01 || pk)``.

Private keys are stored in the signer key string of golang.org/x/mod/sumdb/note, one line:
``PRIVATE+KEY+<name>+<8 hex id>+base64(0x01 || 32-byte seed)``. It is text, carries its own name and
check value, and Go tooling (note.NewSigner) reads it directly. Files are written atomically with mode
0600 and refused on load when group or others may read or write them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NewType

import nacl.exceptions
import nacl.signing

from signing.errors import BadSignature, InvalidKey, KeyFileError, UnsafeKeyFile

#: The 4-byte C2SP key id.
KeyId = NewType("KeyId", bytes)

ED25519 = 0x01
PUBLIC_KEY_SIZE = 32
SEED_SIZE = 32
SIGNATURE_SIZE = 64
PRIVATE_KEY_PREFIX = "PRIVATE+KEY+"
#: Longer than any key line we write; refuses to slurp a wrong, huge file.
MAX_KEY_FILE_SIZE = 4096


def b64decode_strict(text: str, what: str) -> bytes:
    """Standard padded base64 (RFC 4648 section 4), canonical only: one text for each byte string."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidKey(f"expected {what} in standard base64, found {text!r}") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise InvalidKey(f"expected {what} in canonical standard base64, found {text!r}")
    return raw


def check_key_name(name: str) -> str:
    """C2SP signed-note: key names are non-empty, with no Unicode space, no '+' and no control character."""
    if not name:
        raise InvalidKey("expected a non-empty key name")
    bad = [ch for ch in name if ch.isspace() or ch == "+" or ord(ch) < 0x20 or ord(ch) == 0x7F]
    if bad:
        raise InvalidKey(f"key names may not contain spaces, '+' or control characters, found {name!r}")
    return name


def key_id(name: str, public_key: bytes) -> KeyId:
    """SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return KeyId(hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()[:4])


def vkey(name: str, public_key: bytes) -> str:
    """The verifier key string ``name+<8 hex key id>+base64(0x01 || public key)``."""
    check_key_name(name)
    encoded = base64.b64encode(bytes([ED25519]) + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def _parse_key_id(text: str) -> KeyId:
    if len(text) != 8 or any(ch not in "0123456789abcdef" for ch in text):
        raise InvalidKey(f"expected a key id of 8 lowercase hex digits, found {text!r}")
    return KeyId(bytes.fromhex(text))


def _typed_key(encoded: str, size: int, what: str) -> bytes:
    raw = b64decode_strict(encoded, what)
    if len(raw) != 1 + size or raw[0] != ED25519:
        raise InvalidKey(f"expected {what} as 0x01 followed by {size} bytes, found {len(raw)} bytes")
    return raw[1:]


@dataclass(frozen=True, slots=True)
class Verifier:
    """A known signer of notes: who (name), which key (key id), and the Ed25519 public key."""

    #: The key name that appears on signature lines.
    name: str
    #: SHA-256(name || 0x0A || 0x01 || public_key)[:4]; checked on construction.
    key_id: KeyId
    #: The 32-byte Ed25519 public key.
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != PUBLIC_KEY_SIZE:
            raise InvalidKey(f"expected a {PUBLIC_KEY_SIZE}-byte public key, found {len(self.public_key)} bytes")
        expected = key_id(self.name, self.public_key)
        if self.key_id != expected:
            raise InvalidKey(
                f"key id {bytes(self.key_id).hex()} does not match name {self.name!r} and its public key "
                f"(expected {expected.hex()})"
            )

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> Verifier:
        return cls(name=name, key_id=key_id(name, public_key), public_key=bytes(public_key))

    def vkey(self) -> str:
        """This verifier as a key string ``name+<hex id>+base64(0x01 || pk)``."""
        return vkey(self.name, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> None:
        """Raise ``BadSignature`` unless ``signature`` is this key's Ed25519 signature of ``message``."""
        if len(signature) != SIGNATURE_SIZE:
            raise BadSignature(
                f"expected a {SIGNATURE_SIZE}-byte signature from {self.name!r}, found {len(signature)} bytes"
            )
        try:
            nacl.signing.VerifyKey(self.public_key).verify(message, signature)
        except nacl.exceptions.CryptoError as exc:
            raise BadSignature(f"signature by {self.name!r} ({bytes(self.key_id).hex()}) does not verify") from exc


def parse_vkey(text: str) -> Verifier:
    """Parse ``name+<hex id>+<base64>``, splitting on the first two '+' only (base64 uses '+')."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise InvalidKey(f"expected a verifier key 'name+keyid+base64', found {text!r}")
    name, id_text, encoded = parts
    check_key_name(name)
    claimed = _parse_key_id(id_text)
    public_key = _typed_key(encoded, PUBLIC_KEY_SIZE, "a public key")
    return Verifier(name=name, key_id=claimed, public_key=public_key)


@dataclass(frozen=True, slots=True)
class Signer:
    """An Ed25519 private key with its note key name. The seed never appears in ``repr``."""

    #: The key name written on signature lines; C2SP recommends a schema-less URL.
    name: str
    #: The 32-byte Ed25519 seed (RFC 8032 private key).
    seed: bytes = field(repr=False)
    #: The matching verifier, derived from the seed.
    verifier: Verifier = field(init=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.seed) != SEED_SIZE:
            raise InvalidKey(f"expected a {SEED_SIZE}-byte Ed25519 seed, found {len(self.seed)} bytes")
        public_key = bytes(nacl.signing.SigningKey(self.seed).verify_key)
        object.__setattr__(self, "verifier", Verifier.from_public_key(self.name, public_key))

    @property
    def key_id(self) -> KeyId:
        return self.verifier.key_id

    @property
    def public_key(self) -> bytes:
        return self.verifier.public_key

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return bytes(nacl.signing.SigningKey(self.seed).sign(message).signature)

    def to_private_key_string(self) -> str:
        """``PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed)``."""
        encoded = base64.b64encode(bytes([ED25519]) + self.seed).decode("ascii")
        return f"{PRIVATE_KEY_PREFIX}{self.name}+{self.key_id.hex()}+{encoded}"


def generate_key(name: str, *, random: Callable[[int], bytes] = secrets.token_bytes) -> Signer:
    """A new Ed25519 key named ``name``; ``random`` is injectable so tests are deterministic."""
    return Signer(name=name, seed=random(SEED_SIZE))


def parse_private_key(text: str) -> Signer:
    """Parse a signer key string, checking the key id against the name and the derived public key."""
    if not text.startswith(PRIVATE_KEY_PREFIX):
        raise InvalidKey(f"expected a private key string starting with {PRIVATE_KEY_PREFIX!r}")
    parts = text[len(PRIVATE_KEY_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise InvalidKey("expected a private key string 'PRIVATE+KEY+name+keyid+base64'")
    name, id_text, encoded = parts
    claimed = _parse_key_id(id_text)
    signer = Signer(name=check_key_name(name), seed=_typed_key(encoded, SEED_SIZE, "a private key"))
    if signer.key_id != claimed:
        raise InvalidKey(f"private key id {claimed.hex()} does not match its key (expected {signer.key_id.hex()})")
    return signer


def save_private_key(path: Path | str, signer: Signer, *, overwrite: bool = False) -> None:
    """Write ``signer`` to ``path`` atomically, mode 0600 from the first byte, fsynced, then renamed.

    The temporary file is created with O_EXCL and mode 0600 so the key is never readable by others,
    even briefly. Without ``overwrite`` an existing file is refused: replacing a signing key by
    accident loses the ability to sign as that key forever.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    data = (signer.to_private_key_string() + "\n").encode("utf-8")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise KeyFileError(f"cannot create a key file in {target.parent}: {exc.strerror}", path=str(target)) from exc
    try:
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(temporary, target)
        else:
            # link() fails if the target exists, so two writers cannot both win.
            os.link(temporary, target)
            os.unlink(temporary)
        _fsync_directory(target.parent)
    except FileExistsError as exc:
        raise KeyFileError(f"refusing to overwrite the existing key file {target}", path=str(target)) from exc
    except OSError as exc:
        raise KeyFileError(f"cannot write the key file {target}: {exc.strerror}", path=str(target)) from exc
    finally:
        temporary.unlink(missing_ok=True)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_private_key(path: Path | str) -> Signer:
    """Read a key written by ``save_private_key``; refuse missing, unreadable, unsafe or malformed files."""
    target = Path(path)
    try:
        fd = os.open(target, os.O_RDONLY)
    except FileNotFoundError as exc:
        raise KeyFileError(f"no private key file at {target}", path=str(target)) from exc
    except OSError as exc:
        raise KeyFileError(f"cannot open the private key file {target}: {exc.strerror}", path=str(target)) from exc
    try:
        # fstat on the open descriptor: the mode checked is the mode of the bytes read.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"the private key path {target} is not a regular file", path=str(target))
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise UnsafeKeyFile(
                f"the private key file {target} has mode {mode:04o}; expected 0600 (no group or other access)",
                path=str(target),
                mode=mode,
            )
        raw = os.read(fd, MAX_KEY_FILE_SIZE + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read the private key file {target}: {exc.strerror}", path=str(target)) from exc
    finally:
        os.close(fd)
    if len(raw) > MAX_KEY_FILE_SIZE:
        raise KeyFileError(f"the private key file {target} is larger than {MAX_KEY_FILE_SIZE} bytes", path=str(target))
    try:
        return parse_private_key(raw.decode("utf-8").removesuffix("\n"))
    except (UnicodeDecodeError, InvalidKey) as exc:
        raise KeyFileError(f"the private key file {target} is malformed: {exc}", path=str(target)) from exc
