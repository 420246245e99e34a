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

    def page(self, template: str, /, **context: Any) -> str: ...

    def email(self, name: str, context: Mapping[str, Any]) -> RenderedEmail: ...
