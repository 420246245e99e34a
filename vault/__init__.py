"""Offboard's domain: organizations, cases, evidence, receipts, the ledger and bundles.

Dependencies point one way: ``api -> vault -> signing, storage``. Nothing here imports FastAPI.
"""

#: The product version (``pyproject.toml`` holds the same; tests/unit/test_cli_registry.py compares them).
__version__ = "0.1.0"
