"""Handover: signed receipts, acknowledgment links, the client's acknowledgments and disputes, communications."""
