"""Signed webhooks: endpoints, the ledger sweep that turns entries into deliveries, and delivery with retries.

See ``docs/webhooks.md``. The room is domain only; the API, CLI and console are adapters over it.
"""
