"""The organization's witnesses and its witness policy at the HTTP edge (``/api/v1/ledger/witnesses``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from api.schemas.wire_times import optional_rfc3339
from vault.models import Witness
from vault.witnessing.roster import MAX_POLICY, WitnessPolicy, WitnessRoster


class WitnessCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1, max_length=2048, description="The submission prefix: `<url>/add-checkpoint` is posted to."
    )
    vkey: str = Field(
        min_length=1, max_length=400, description="The witness's cosigner vkey: `name+<8 hex id>+base64(0x04 || key)`."
    )


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    required: int | Literal["all"] = Field(
        description=f"How many configured witnesses must cosign: 1 to {MAX_POLICY}, or `all`."
    )


class WitnessPublic(BaseModel):
    id: str
    name: str
    url: str
    vkey: str
    key_id: str
    status: str = Field(description="How the last submission ended: new, cosigned, rejected, unreachable, failed.")
    known_size: int = Field(description="The size of this log the witness last said it holds.")
    detail: str
    last_attempt_at: datetime | None

    @field_serializer("last_attempt_at")
    def _time(self, value: datetime | None) -> str | None:
        return optional_rfc3339(value)

    @classmethod
    def of(cls, row: Witness) -> WitnessPublic:
        return cls.model_validate(row, from_attributes=True)


class PolicyPublic(BaseModel):
    required: int = Field(description="Cosignatures a checkpoint needs; 0 when no witness is configured.")
    configured: int
    all: bool = Field(description="True when the policy is `all` (every configured witness).")
    summary: str

    @classmethod
    def of(cls, policy: WitnessPolicy) -> PolicyPublic:
        return cls(
            required=policy.required,
            configured=policy.configured,
            all=policy.all_of_them,
            summary=policy.describe(),
        )


class WitnessesPublic(BaseModel):
    witnesses: list[WitnessPublic]
    policy: PolicyPublic

    @classmethod
    def of(cls, roster: WitnessRoster) -> WitnessesPublic:
        return cls(witnesses=[WitnessPublic.of(w) for w in roster.witnesses], policy=PolicyPublic.of(roster.policy))
