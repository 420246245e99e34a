"""The staff console: server-rendered pages for the people who offboard clients (``docs/console.md``).

An adapter like the API routes and the acknowledgment pages: every page action calls the same domain
functions, writes go through ``services.transact`` and reads through a session on ``vault.db.reader``.
Sign-in (password or OpenID Connect), sign-out, the case list, opening a case and the ledger page.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.console import (
    case_access,
    case_certificate,
    case_evidence,
    case_page,
    case_receipts,
    case_timeline,
    cases,
    ledger_page,
    settings,
    settings_people,
    settings_webhooks,
    signin,
    sso,
)

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)
router.include_router(sso.router)
# The case list first: its /cases/new must win over the case page's /cases/{case_id}.
router.include_router(cases.router)
router.include_router(case_page.router)
router.include_router(case_access.router)
router.include_router(case_timeline.router)
router.include_router(ledger_page.router)
router.include_router(settings.router)
router.include_router(settings_people.router)
router.include_router(settings_webhooks.router)
router.include_router(case_evidence.router)
router.include_router(case_receipts.router)
router.include_router(case_certificate.router)

__all__ = ["router"]
