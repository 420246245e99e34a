"""Reminders: owners' daily digests, escalations to admins, client reminders and expiry notices."""
