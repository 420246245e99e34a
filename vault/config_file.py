"""``<home>/offboard.env``: the settings chosen at ``offboard init``, one ``OFFBOARD_NAME='value'`` a line.

pydantic-settings reads the file through python-dotenv (``vault/config.py``); this module writes it the way
that parser reads it back, and atomically with mode 0600, because it may hold secrets (an SMTP password, a
database password). Rewriting keeps the lines already there and replaces only the settings given.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

from vault.config import ENV_PREFIX, Settings
from vault.errors import ConfigurationError, InvalidInput

HEADER = (
    "# Offboard settings written by `offboard init` (mode 0600: it may hold secrets).\n"
    "# Environment variables of the same name win over these lines; `offboard config show` says which applies.\n"
)


def read_env_file(path: Path) -> dict[str, str]:
    """The file's settings by field name (``base_url``), ignoring lines that are not ``OFFBOARD_*``."""
    if not path.is_file():
        return {}
    values = dotenv_values(path, encoding="utf-8")
    return {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in values.items()
        if key.upper().startswith(ENV_PREFIX) and value is not None
    }


def _quoted(name: str, value: str) -> str:
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise InvalidInput(f"the setting {name} must be one line without control characters")
    # python-dotenv's single quotes take every character literally except an escaped quote or backslash.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render_env_file(values: Mapping[str, str]) -> str:
    """The file's text for ``values`` (field name -> text), in the order of the ``Settings`` fields."""
    unknown = sorted((set(values) - set(Settings.model_fields)) | ({"home"} & set(values)))
    if unknown:
        raise InvalidInput(f"not settings that offboard.env can hold: {', '.join(unknown)}")
    names = [name for name in Settings.model_fields if name in values]
    return HEADER + "".join(f"{ENV_PREFIX}{name.upper()}={_quoted(name, values[name])}\n" for name in names)


def write_env_file(path: Path, values: Mapping[str, str]) -> dict[str, str]:
    """Write ``path`` with its current settings updated by ``values``; returns what the file now holds.

    A temp file of mode 0600 in the same folder, fsynced, then renamed over the old one: a reader sees the
    old file or the new one, never half of one, and never a moment with the secrets readable by others.
    """
    merged = {**read_env_file(path), **values}
    text = render_env_file(merged)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".offboard.env.", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return merged
