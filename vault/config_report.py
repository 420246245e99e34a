"""``offboard config show``: the effective settings, where each came from, with secrets masked.

A setting comes from the environment (an ``OFFBOARD_*`` variable, which wins), from ``<home>/offboard.env``
or from the default. Secrets are never shown: a setting named for one (a client secret, a password, a
token) is masked whole, and any URL is shown without its password or its secret-looking query parameters.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from vault.config import ENV_FILE_NAME, ENV_PREFIX, Settings
from vault.config_file import read_env_file

MASK = "***"
_SECRET_WORDS = ("secret", "password", "passwd", "token", "key", "credential", "signature")
#: Settings shown by their effective value rather than "unset" when left to the default.
_RESOLVED = {
    "database_url": "resolved_database_url",
    "storage_url": "resolved_storage_url",
    "keys_dir": "resolved_keys_dir",
}


class Source(StrEnum):
    ENVIRONMENT = "environment"
    ENV_FILE = ENV_FILE_NAME
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class ShownSetting:
    """One setting as ``offboard config show`` prints it."""

    #: The field name (``smtp_url``).
    name: str
    #: The variable that sets it (``OFFBOARD_SMTP_URL``), in the environment or in offboard.env.
    variable: str
    #: The effective value as text with secrets masked; ``None`` when unset.
    value: str | None
    source: Source


def _secret_name(name: str) -> bool:
    return any(word in name.lower() for word in _SECRET_WORDS)


def mask_url(text: str) -> str:
    """``text`` without the password of its userinfo or the values of secret-looking query parameters."""
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc:
        return text
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(key, MASK if _secret_name(key) else value) for key, value in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def masked(name: str, value: object) -> str | None:
    """How the setting ``name`` with ``value`` may be shown."""
    if value is None:
        return None
    text = json.dumps([str(item) for item in value]) if isinstance(value, list) else str(value)
    if _secret_name(name) and not name.endswith(("_file", "_dir")):
        return MASK if text else ""
    return mask_url(text)


def effective_settings(settings: Settings) -> list[ShownSetting]:
    """Every setting of ``settings`` in field order, with its source, masked for printing."""
    in_environment = {key.lower() for key in os.environ}
    in_file = read_env_file(settings.env_file)
    shown = []
    for name in Settings.model_fields:
        variable = f"{ENV_PREFIX}{name.upper()}"
        if variable.lower() in in_environment:
            source = Source.ENVIRONMENT
        elif name in in_file and name != "home":
            source = Source.ENV_FILE
        else:
            source = Source.DEFAULT
        value = getattr(settings, name)
        if value is None and name in _RESOLVED:
            value = getattr(settings, _RESOLVED[name])
        shown.append(ShownSetting(name=name, variable=variable, value=masked(name, value), source=source))
    return shown
