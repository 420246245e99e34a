"""Settings, read from ``OFFBOARD_*`` environment variables and the home's ``offboard.env`` (pydantic-settings).

One configuration for the CLI and the server: ``offboard init`` writes ``<home>/offboard.env`` and every
command and ``offboard serve`` read it, with environment variables winning over it. The home is found through
``OFFBOARD_HOME`` (or the default ``./offboard-data``) and made absolute once, when the settings are built.
Nothing is read at import time: ``get_settings()`` builds a fresh ``Settings`` and tests build their own.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from vault.errors import ConfigurationError, NotInitialized
from vault.home import DEFAULT_HOME as DEFAULT_HOME
from vault.home import ENV_FILE_NAME as ENV_FILE_NAME
from vault.home import ENV_PREFIX as ENV_PREFIX
from vault.home import database_url_problem, default_database_url
from vault.home import home_from_env as home_from_env

GIB = 1024**3


class Settings(BaseSettings):
    """Every knob of an Offboard deployment. Defaults give the embedded setup under ``home``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    home: Path = Field(default=DEFAULT_HOME, description="Data folder of the embedded default.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in home.")
    storage_url: str | None = Field(
        default=None, description="file:///path or s3://bucket/prefix; default a blob folder in home."
    )
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (MinIO, moto).")
    s3_object_lock_days: int | None = Field(
        default=None, ge=1, description="COMPLIANCE retention in days for every stored object."
    )
    s3_multipart_threshold: int = Field(default=16 * 1024 * 1024, ge=5 * 1024 * 1024)
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL; links are built from it.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535, description="Port of `offboard serve`; match base_url.")
    max_upload_bytes: int = Field(default=5 * GIB, ge=1)
    keys_dir: Path | None = Field(default=None, description="Folder of private signing keys; default home/keys.")
    tsa_url: str | None = Field(default=None, description="RFC 3161 timestamp authority for checkpoints.")
    tsa_interval_seconds: int = Field(default=3600, ge=1)
    tsa_roots_file: Path | None = Field(default=None, description="PEM roots that TSA responses must chain to.")
    smtp_url: str | None = Field(default=None, description="smtp://user:pass@host:port; unset = links shown once.")
    smtp_from: str = "offboard@localhost"
    mail_attachments_max_bytes: int = Field(
        default=10 * 1024**2, ge=0, description="Largest total of files one job-sent email attaches; above: a link."
    )
    trusted_proxies: list[str] = Field(default_factory=list)
    pdf_parse_timeout_seconds: float = Field(default=5.0, gt=0)
    pdf_parse_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    checkpoint_delay_seconds: float = Field(
        default=0.2, ge=0, description="How long the publisher waits to batch appends into one checkpoint."
    )
    # The job worker (docs/worker.md).
    worker: bool = Field(
        default=True, description="Run the job worker inside `offboard serve` (off: run `offboard worker` apart)."
    )
    worker_lease_seconds: int = Field(
        default=300, ge=5, le=86400, description="How long a worker holds claimed jobs before another may take them."
    )
    worker_poll_seconds: float = Field(default=5.0, gt=0, le=3600, description="How often a worker looks for due jobs.")
    # Witnesses (docs/ledger.md, "Witnesses").
    witness_timeout_seconds: float = Field(
        default=3.0, gt=0, le=60, description="How long one add-checkpoint request to a witness may take."
    )
    witness_retry_seconds: float = Field(
        default=10.0, gt=0, description="How long before a checkpoint is sent again to a witness that failed."
    )
    # Handover receipts and acknowledgment links (docs/receipts.md).
    ack_link_days: int = Field(default=14, ge=1, le=365, description="How long an acknowledgment link lives.")
    ack_rate_limit_failures: int = Field(
        default=20, ge=1, description="Unknown acknowledgment tokens one IP may try per window before 429."
    )
    ack_rate_limit_window_seconds: int = Field(default=900, ge=1)
    ack_link_rate_limit_failures: int = Field(
        default=10, ge=1, description="Refused answers one live link may get per window before 429 on that link."
    )
    ack_link_rate_limit_window_seconds: int = Field(default=900, ge=1)
    keys_rate_limit_requests: int = Field(
        default=120, ge=1, description="Requests for /.well-known/offboard/keys one IP may make per window before 429."
    )
    keys_rate_limit_window_seconds: int = Field(default=60, ge=1)
    receipt_terms: str = Field(
        default=(
            "The organization hands over the deliverables listed in this receipt, each identified by its "
            "SHA-256 hash, and states that the listed obligations were completed and the listed access was "
            "revoked. By acknowledging, the client confirms receipt of exactly these items."
        ),
        description="Default terms text of handover receipts.",
    )
    # Staff console sign-in and sessions (docs/console.md).
    console_session_idle_hours: float = Field(
        default=8, gt=0, description="A console session ends after this long without a request."
    )
    console_session_absolute_days: float = Field(
        default=7, gt=0, description="A console session ends this long after sign-in, however active."
    )
    signin_rate_limit_account_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins one email may have per window before 429."
    )
    signin_rate_limit_address_failures: int = Field(
        default=20, ge=1, description="Failed sign-ins one client address may have per window before 429."
    )
    signin_rate_limit_window_seconds: int = Field(default=900, ge=1)
    oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer URL for single sign-on; unset: passwords only."
    )
    oidc_client_id: str | None = Field(default=None, description="This deployment's client id at the issuer.")
    oidc_client_secret: str | None = Field(default=None, description="Its client secret (client_secret_basic).")
    pdf_cert_file: Path | None = Field(
        default=None, description="PEM certificate for PAdES receipt signatures (default: self-signed P-256)."
    )
    pdf_key_file: Path | None = Field(default=None, description="PEM private key matching pdf_cert_file.")
    pdf_ltv: bool = Field(
        default=False,
        description="Sign PDFs long-term (PAdES B-LTA) by the organization's issuing CA; needs tsa_url.",
    )
    pdf_retimestamp_days: int = Field(
        default=90,
        ge=0,
        description="The worker re-timestamps stored PDFs whose timestamp expires within this many days; 0: never.",
    )

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        # Made absolute once: a relative home would mean another folder for each working directory.
        return value.expanduser().resolve()

    @field_validator("database_url")
    @classmethod
    def _database_url_form(cls, value: str | None) -> str | None:
        problem = database_url_problem(value) if value else None
        if problem is not None:
            # A custom error, so the message is ours alone, as the CLI's fast read says it (vault/home.py).
            raise PydanticCustomError("database_url", problem)
        return value

    @property
    def env_file(self) -> Path:
        """``<home>/offboard.env``: the settings chosen at ``offboard init``."""
        return self.home / ENV_FILE_NAME

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return default_database_url(self.home)

    @property
    def resolved_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return (self.home / "blobs").resolve().as_uri()

    @property
    def resolved_keys_dir(self) -> Path:
        return (self.keys_dir or self.home / "keys").resolve()

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies carry ``Secure``: only when the public URL is https (plain http would drop them)."""
        return urlsplit(self.base_url).scheme == "https"

    @property
    def base_host(self) -> str:
        """Host (and port, if any) of ``base_url``: the default checkpoint origin prefix."""
        return urlsplit(self.base_url).netloc or "localhost"


def get_settings(**overrides: object) -> Settings:
    """Settings from explicit overrides, then the environment, then ``<home>/offboard.env``, then defaults.

    A value that does not parse is a ``ConfigurationError`` naming the variable, not a traceback.
    """
    home = home_from_env(overrides.pop("home", None))
    try:
        # The home is passed in, so an OFFBOARD_HOME line in the file cannot move the file it is read from.
        return Settings(_env_file=home / ENV_FILE_NAME, home=home, **overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"invalid settings ({problems})") from exc
    except OSError as exc:
        raise ConfigurationError(f"cannot read {home / ENV_FILE_NAME}: {exc.strerror or exc}") from exc


def initialized_settings() -> Settings:
    """The settings of an initialized home; ``NotInitialized`` (creating nothing) when init never ran there."""
    settings = get_settings()
    if not settings.env_file.is_file():
        raise NotInitialized(
            f"no initialized Offboard home at {settings.home} (no {ENV_FILE_NAME}): run `offboard init` "
            f"there first, or point {ENV_PREFIX}HOME at the home"
        )
    return settings
