"""``create_app(settings)``: the FastAPI application of one deployment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api import ack_proof, brand, console, errors, pages
from api.docs_ui import docs_router
from api.routes import (
    bundles,
    cases,
    certificates,
    evidence,
    ledger,
    orgs,
    playbooks,
    receipts,
    staff,
    tlog,
    webhooks,
    witnesses,
)
from templates.render import Renderer
from vault.config import Settings
from vault.db import read_session
from vault.evidence import orphans
from vault.jobs.loop import Worker
from vault.ledger import keyring
from vault.ledger.autopublish import Publisher
from vault.services import Services, build_services


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """Build the app; ``services`` may be passed in by tests that share them with the domain."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc: Services = app.state.services
        with read_session(svc.engine) as session:
            # Refuse to serve with a missing, unreadable or exposed signing key; never make a new one.
            keyring.check_keys(session, svc.settings)
        # Uploads that died mid-write left temp files that nothing else removes (vault/evidence/orphans.py).
        orphans.remove_temp_files_at_start(svc.store, now=svc.clock())
        publisher = Publisher(svc.read, svc.settings, transact=svc.transact, clock=svc.clock)
        publisher.start()
        # The job worker runs beside the publisher unless OFFBOARD_WORKER=off (then `offboard worker` runs it).
        worker = Worker(svc) if svc.settings.worker else None
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            publisher.stop()
            if owned:
                svc.close()

    owned = services is None
    app = FastAPI(
        title="Offboard",
        version="0.1.0",
        summary="Client offboarding cases, hashed evidence, signed receipts and a verifiable ledger.",
        lifespan=lifespan,
        # /docs comes from api/docs_ui.py (assets served from the package, not a CDN); no ReDoc.
        docs_url=None,
        redoc_url=None,
    )
    # The one renderer of this deployment, handed to the services (emails) and, through them, the pages.
    if services is None:
        services = build_services(settings, renderer=Renderer())
    elif services.renderer is None:
        services.renderer = Renderer()
    app.state.services = services
    errors.install(app)
    routers: tuple[APIRouter, ...] = (cases.router, evidence.router, playbooks.router, staff.router, orgs.router)
    routers += (ledger.router, ledger.well_known, tlog.router, bundles.router, receipts.router, webhooks.router)
    routers += (witnesses.router, pages.router, certificates.router)
    for router in (*routers, ack_proof.router, brand.router, console.router):
        app.include_router(router)
    app.include_router(docs_router(app.openapi_url or "/openapi.json", app.title))

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` and ``offboard serve``: settings from ``OFFBOARD_*`` variables."""
    from vault.config import get_settings

    return create_app(get_settings())
