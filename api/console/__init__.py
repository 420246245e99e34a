"""The staff console: server-rendered pages for the people who offboard clients (``docs/console.md``).

An adapter like the API routes and the acknowledgment pages: every page action calls the same domain
functions, writes go through ``services.transact`` and reads through a session on ``vault.db.reader``.
Only sign-in, sign-out and the start page exist so far.
"""

from __future__ import annotations

from api.console.signin import router

__all__ = ["router"]
