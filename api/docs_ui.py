"""The API's documentation page, ``/docs`` (Swagger UI), served entirely from this package.

FastAPI's default page loads Swagger UI from a CDN, so it is blank without internet. Here the page
references only same-origin assets: the vendored files of ``swagger-ui-dist`` under
``templates/static/swagger/`` (version, licence and digests in its ``VERSION.md``), served below. ReDoc is
disabled (it too would come from a CDN). The validator badge is off: it would fetch an image from
``validator.swagger.io``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

import templates
from api.errors import responses
from vault.errors import NotFound

ASSETS = Path(templates.__file__).parent / "static" / "swagger"
PREFIX = "/static/swagger"
#: The assets change only with an upgrade of Offboard; a day of caching is harmless.
ASSET_CACHE = "public, max-age=86400"
#: The only files served, with their media types: nothing else of the folder is reachable.
MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


@cache
def _asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def docs_router(openapi_url: str, title: str) -> APIRouter:
    """The ``/docs`` page for the OpenAPI document at ``openapi_url`` and the assets it loads."""
    pages = APIRouter(include_in_schema=False)

    @pages.get("/docs")
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - API documentation",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @pages.get(PREFIX + "/{name}", responses=responses(404))
    def asset(name: str) -> Response:
        media_type = MEDIA_TYPES.get(name)
        if media_type is None:
            raise NotFound(f"no documentation asset {name!r}")
        headers = {"Cache-Control": ASSET_CACHE, "X-Content-Type-Options": "nosniff"}
        return Response(_asset(name), media_type=media_type, headers=headers)

    return pages
