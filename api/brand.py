"""``/brand/logo/<sha256>``: an organization's logo, for the console, the acknowledgment pages and emails.

Public, like the acknowledgment pages that show it (a client has no session, a mail client no cookie): the
address is the image's SHA-256, which only pages and emails of its organization carry, and the bytes never
change under it, so it is cached for a year. The type was sniffed at upload (PNG or JPEG only,
``vault/orgs/logo.py``); ``nosniff`` and a sandboxing Content-Security-Policy keep a browser from ever
treating it as anything but that image.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vault.orgs.logo import logo_image
from vault.services import Services

router = APIRouter(include_in_schema=False)


@router.get("/brand/logo/{sha256}")
def logo(sha256: str, request: Request) -> Response:
    svc: Services = request.app.state.services
    image = svc.read(lambda session: logo_image(session, sha256))
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Content-Disposition": "inline",
    }
    return Response(image.data, media_type=image.content_type, headers=headers)
