"""What the domain and the adapters ask of the renderer: pages and emails from templates.

The jinja2 implementation lives in ``templates/render.py``; the domain never imports jinja2 (STYLE.md)
and sees it only through this Protocol. ``build_services`` receives one and keeps it on ``Services``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from vault.mail import RenderedEmail


class Renderer(Protocol):
    """Renders the acknowledgment pages and the emails."""

    @property
    def csp(self) -> str:
        """The Content-Security-Policy every rendered page needs (it allows exactly the inlined style)."""
        ...

    def csp_for(self, accent: str | None) -> str:
        """The Content-Security-Policy of a page rendered with ``brand`` of this accent: ``csp`` plus the
        hash of the small style block that sets the organization's colour."""
        ...

    def page(self, template: str, /, **context: Any) -> str:
        """The page ``template``; a ``brand`` (``vault.orgs.branding.ClientBrand``) in ``context`` adds the
        organization's logo and accent colour."""
        ...

    def email(self, name: str, context: Mapping[str, Any]) -> RenderedEmail: ...
