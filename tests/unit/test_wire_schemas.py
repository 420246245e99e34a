"""The API's models of wire values are built from the values' own JSON: same fields, same order, same bytes."""

from __future__ import annotations

import json
from typing import Any, get_type_hints

import pytest
from pydantic import BaseModel

from api.schemas import ConsistencyProofOut, DetachedSignatureOut, InclusionProofOut
from signing.detached import DetachedSignature, ReceiptSignatureJSON
from signing.keys import generate_key
from vault.ledger.hashing import leaf_hash
from vault.ledger.proofs import ConsistencyProof, ConsistencyProofJSON, InclusionProof, InclusionProofJSON

KEY = generate_key("offboard.example/acme", random=lambda n: b"\x03" * n)
HASHES = (b"\x01" * 32, b"\x02" * 32)

CASES: list[tuple[type[BaseModel], Any, Any]] = [
    (InclusionProofOut, InclusionProofJSON, InclusionProof(2, 5, leaf_hash(b"entry 2"), HASHES).to_json()),
    (ConsistencyProofOut, ConsistencyProofJSON, ConsistencyProof(3, 5, HASHES).to_json()),
    (DetachedSignatureOut, ReceiptSignatureJSON, DetachedSignature.sign(KEY, b"{}").to_json()),
]


@pytest.mark.parametrize(("model", "shape", "value"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_model_has_the_fields_of_the_values_json_and_renders_it_byte_for_byte(
    model: type[BaseModel], shape: Any, value: Any
) -> None:
    assert list(model.model_fields) == list(get_type_hints(shape)) == list(value)
    assert model.model_validate(value).model_dump_json() == json.dumps(value, separators=(",", ":"))
