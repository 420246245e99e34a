"""Issue 14 item 13: every integer path and query parameter is bounded in the schema (0 <= n < 2**63).

Past the bound (or below it) the answer is a 422 problem, never the driver's ``OverflowError`` as a 500;
the largest allowed value reaches the domain and gets its ordinary answer (400 or 404).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

TOO_BIG = 2**63
LARGEST = 2**63 - 1


def _playbook(client: TestClient) -> str:
    listed = client.get("/api/v1/playbooks")
    assert listed.status_code == 200, listed.text
    return str(listed.json()[0]["key"])


def _get(client: TestClient, path: str, params: dict[str, Any]) -> Any:
    path = path.replace("{playbook}", _playbook(client))
    return client.get(path, params=params)


OUT_OF_RANGE = [
    ("/api/v1/ledger/entries/9223372036854775808", {}),
    ("/api/v1/ledger/entries/-1", {}),
    ("/api/v1/ledger/proof/inclusion", {"index": TOO_BIG}),
    ("/api/v1/ledger/proof/inclusion", {"index": -1}),
    ("/api/v1/ledger/proof/inclusion", {"index": 0, "tree_size": TOO_BIG}),
    ("/api/v1/ledger/proof/inclusion", {"index": 0, "tree_size": -3}),
    ("/api/v1/ledger/proof/consistency", {"first": TOO_BIG, "second": 1}),
    ("/api/v1/ledger/proof/consistency", {"first": 1, "second": TOO_BIG}),
    ("/api/v1/ledger/proof/consistency", {"first": -1, "second": 1}),
    ("/api/v1/playbooks/{playbook}", {"version": TOO_BIG}),
    ("/api/v1/playbooks/{playbook}", {"version": 0}),
]


@pytest.mark.parametrize(("path", "params"), OUT_OF_RANGE)
def test_out_of_range_integers_are_422_problems(client: TestClient, path: str, params: dict[str, Any]) -> None:
    response = _get(client, path, params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/validation")
    assert "greater than" in problem["detail"] or "less than" in problem["detail"], problem["detail"]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (f"/api/v1/ledger/entries/{LARGEST}", {}, 400),
        ("/api/v1/ledger/proof/inclusion", {"index": LARGEST}, 400),
        ("/api/v1/ledger/proof/inclusion", {"index": 0, "tree_size": LARGEST}, 400),
        ("/api/v1/ledger/proof/consistency", {"first": 1, "second": LARGEST}, 400),
        ("/api/v1/playbooks/{playbook}", {"version": LARGEST}, 404),
    ],
)
def test_the_largest_allowed_integer_gets_the_domain_answer(
    client: TestClient, path: str, params: dict[str, Any], status: int
) -> None:
    response = _get(client, path, params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_openapi_document_states_every_bound(client: TestClient) -> None:
    """Every integer parameter of every operation carries the bound, so none is left unbounded."""
    document = client.get("/openapi.json").json()
    seen = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                choices = schema.get("anyOf", [schema])
                for choice in choices:
                    if choice.get("type") == "integer":
                        seen += 1
                        where = f"{method.upper()} {path} {parameter['name']}"
                        assert choice.get("minimum", -1) >= 0, where
                        assert choice.get("exclusiveMaximum") == TOO_BIG, where
    assert seen >= 6
