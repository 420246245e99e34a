"""The ledger's and the signatures' wire values at the HTTP edge: RFC 9162 section 2.1.3 inclusion and
section 2.1.4 consistency proofs, and detached signatures.

They are not restated here: ``model_of`` builds their models from the value type's own JSON TypedDict, so
the API's JSON and the value's ``to_json()`` cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import BaseModel, create_model

from signing.detached import ReceiptSignatureJSON
from vault.ledger.proofs import ConsistencyProofJSON, InclusionProofJSON


def model_of(shape: type, name: str) -> type[BaseModel]:
    """A pydantic model with exactly the fields, types and order of the TypedDict ``shape``."""
    fields: dict[str, Any] = {key: (kind, ...) for key, kind in get_type_hints(shape).items()}
    model: type[BaseModel] = create_model(name, __module__=__name__, **fields)
    return model


#: ``GET /api/v1/ledger/proof/inclusion``: ``InclusionProof.to_json()``.
InclusionProofOut = model_of(InclusionProofJSON, "InclusionProofOut")
#: ``GET /api/v1/ledger/proof/consistency``: ``ConsistencyProof.to_json()``.
ConsistencyProofOut = model_of(ConsistencyProofJSON, "ConsistencyProofOut")

if TYPE_CHECKING:
    # mypy cannot see the fields of a model built at run time; to it, this is a model of unknown fields.
    class DetachedSignatureOut(BaseModel):
        """A receipt's or acknowledgment's signature: ``DetachedSignature.to_json()``."""

else:
    DetachedSignatureOut = model_of(ReceiptSignatureJSON, "DetachedSignatureOut")
