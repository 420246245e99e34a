"""Where the deployment's home is and which database it names, without building ``Settings``.

``vault/config.py`` (pydantic-settings) builds every setting; the CLI's fast read path
(``vault/cases/direct_listing.py``) needs only the home and the database URL and cannot afford pydantic's
import. Both take them from here, so the two agree: the home from ``OFFBOARD_HOME`` (default
``./offboard-data``) made absolute, the database URL from ``OFFBOARD_DATABASE_URL`` in the environment,
else from ``<home>/offboard.env`` (read with python-dotenv, as pydantic-settings reads it), else SQLite in
the home. Environment variable names match case-insensitively, as pydantic-settings matches them.
``database_url_problem`` is the one check of a database URL's form, which ``Settings`` runs too, so a bad
URL is the same one line (``invalid settings (OFFBOARD_DATABASE_URL: ...)``) on either path.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from vault.errors import ConfigurationError

ENV_PREFIX = "OFFBOARD_"
ENV_FILE_NAME = "offboard.env"
DEFAULT_HOME = Path("offboard-data")
#: The SQLAlchemy dialects (and drivers) Offboard runs on: SQLite, and PostgreSQL through psycopg 3.
DATABASE_SCHEMES = frozenset({"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def home_from_env(override: object = None) -> Path:
    """The home folder, absolute: ``override``, else ``OFFBOARD_HOME``, else ``./offboard-data``."""
    raw = override if override is not None else os.environ.get(f"{ENV_PREFIX}HOME") or DEFAULT_HOME
    return Path(str(raw)).expanduser().resolve()


def default_database_url(home: Path) -> str:
    """The embedded default: SQLite in the home."""
    return f"sqlite:///{(home / 'offboard.db').resolve()}"


def database_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as Offboard's database URL, or ``None``. Names the scheme, never the URL:
    it may carry a password."""
    found = _SCHEME.match(url)
    if found is not None and found.group(1).lower() in DATABASE_SCHEMES:
        return None
    what = f"the scheme {found.group(1)!r}" if found else "no scheme"
    return f"expected sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB, found {what}"


def configured_database_url(home: Path) -> str:
    """The database URL that ``Settings(home=home).resolved_database_url`` gives, read without pydantic.

    A URL of the wrong form is the ``ConfigurationError`` that building ``Settings`` raises for it.
    """
    name = f"{ENV_PREFIX}DATABASE_URL"
    from_env = [value for key, value in os.environ.items() if key.upper() == name]
    url = from_env[-1] if from_env else _in_env_file(home / ENV_FILE_NAME, name)
    if not url:
        return default_database_url(home)
    problem = database_url_problem(url)
    if problem is not None:
        raise ConfigurationError(f"invalid settings ({name}: {problem})")
    return url


def _in_env_file(env_file: Path, name: str) -> str | None:
    if not env_file.is_file():
        return None
    from dotenv import dotenv_values

    try:
        values = dotenv_values(env_file, encoding="utf-8")
    except OSError as exc:  # what building ``Settings`` says of a file it cannot read
        raise ConfigurationError(f"cannot read {env_file}: {exc.strerror or exc}") from exc
    in_file = [value for key, value in values.items() if key.upper() == name]
    return in_file[-1] if in_file else None
