"""Rate-limit failures kept in the database, so every process of a deployment counts the same attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from vault.models.core import new_id


class RateLimitFailure(SQLModel, table=True):
    """One counted failure (a guessed token, a refused answer) of one key of one limit; deleted once it
    has aged out of the limit's window."""

    __tablename__ = "rate_limit_failure"
    __table_args__ = (
        Index("ix_rate_limit_failure_scope_key_at", "scope", "key", "at"),
        Index("ix_rate_limit_failure_scope_at", "scope", "at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    #: Which limit counts it (``ack-address``, ``ack-link``).
    scope: str = Field(max_length=32)
    #: What it counts against: a client address or a link id.
    key: str = Field(max_length=200)
    at: datetime
