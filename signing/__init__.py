"""Keys, signatures and timestamps: Ed25519 keys and C2SP signed notes, PDF signing, RFC 3161 timestamps.

This package never imports ``vault``; its errors derive from ``signing.errors.SigningError``.
"""
