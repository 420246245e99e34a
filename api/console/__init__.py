"""The staff console: server-rendered pages for the people who offboard clients (``docs/console.md``).

An adapter like the API routes and the acknowledgment pages: every page action calls the same domain
functions, writes go through ``services.transact`` and reads through a session on ``vault.db.reader``.
Only sign-in (password or OpenID Connect), sign-out and the start page exist so far.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.console import case_evidence, case_receipts, signin, sso

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)
router.include_router(sso.router)
router.include_router(case_evidence.router)
router.include_router(case_receipts.router)

__all__ = ["router"]
