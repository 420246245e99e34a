"""Offboard's domain: organizations, cases, evidence, receipts, the ledger and bundles.

Dependencies point one way: ``api -> vault -> signing, storage``. Nothing here imports FastAPI.
"""
