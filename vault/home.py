"""Where the deployment's home is and which database it names, without building ``Settings``.

``vault/config.py`` (pydantic-settings) builds every setting; the CLI's fast read path
(``vault/cases/direct_listing.py``) needs only the home and the database URL and cannot afford pydantic's
import. Both take them from here, so the two agree: the home from ``OFFBOARD_HOME`` (default
``./offboard-data``) made absolute, the database URL from ``OFFBOARD_DATABASE_URL`` in the environment,
else from ``<home>/offboard.env`` (read with python-dotenv, as pydantic-settings reads it), else SQLite in
the home. Environment variable names match case-insensitively, as pydantic-settings matches them.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_PREFIX = "OFFBOARD_"
ENV_FILE_NAME = "offboard.env"
DEFAULT_HOME = Path("offboard-data")


def home_from_env(override: object = None) -> Path:
    """The home folder, absolute: ``override``, else ``OFFBOARD_HOME``, else ``./offboard-data``."""
    raw = override if override is not None else os.environ.get(f"{ENV_PREFIX}HOME") or DEFAULT_HOME
    return Path(str(raw)).expanduser().resolve()


def default_database_url(home: Path) -> str:
    """The embedded default: SQLite in the home."""
    return f"sqlite:///{(home / 'offboard.db').resolve()}"


def configured_database_url(home: Path) -> str:
    """The database URL that ``Settings(home=home).resolved_database_url`` gives, read without pydantic."""
    name = f"{ENV_PREFIX}DATABASE_URL"
    from_env = [value for key, value in os.environ.items() if key.upper() == name]
    if from_env:
        return from_env[-1] or default_database_url(home)
    env_file = home / ENV_FILE_NAME
    if env_file.is_file():
        from dotenv import dotenv_values

        in_file = [v for k, v in dotenv_values(env_file, encoding="utf-8").items() if k.upper() == name]
        if in_file and in_file[-1]:
            return in_file[-1]
    return default_database_url(home)
