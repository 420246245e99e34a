"""jinja2 rendering of the acknowledgment pages and the emails, from this ``templates/`` folder.

The domain never imports jinja2 (STYLE.md): it sees a ``Renderer`` only through the Protocol
``vault.rendering.Renderer`` (and ``Renderer.email`` as an ``EmailRenderer`` callable). One is built by
``create_app`` and one by the CLI's services builder, and handed to ``build_services``.
The pages' stylesheet is inlined and allowed by its SHA-256 in the Content-Security-Policy, so the
pages need no other request and no ``unsafe-inline``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from templates.humanize import FILTERS
from vault.mail import RenderedEmail
from vault.orgs.branding import ClientBrand
from vault.states import LinkState, ReceiptStatus

TEMPLATES = Path(__file__).resolve().parent


def brand_style(accent: str | None) -> str:
    """The style block that gives a page the organization's accent colour (empty without one)."""
    return f":root {{ --accent: {accent}; }}" if accent else ""


def _hash(css: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii") + "'"


class Renderer:
    """One jinja2 environment over ``templates/``; HTML templates are autoescaped, text ones are not."""

    def __init__(self, folder: Path = TEMPLATES) -> None:
        self.env = Environment(
            loader=FileSystemLoader(str(folder)),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        # Templates compare states with these members, never with string literals.
        self.env.globals.update(LinkState=LinkState, ReceiptStatus=ReceiptStatus)
        self.env.filters.update(FILTERS)
        self.css = (folder / "static" / "ack.css").read_text(encoding="utf-8")
        #: The Content-Security-Policy of every acknowledgment page: nothing but this stylesheet and forms
        #: posting back to this origin.
        self.csp = self.csp_for(None)

    def csp_for(self, accent: str | None) -> str:
        # An organization's colour is a second <style> block, allowed by its own hash: still no unsafe-inline.
        styles = " ".join(_hash(css) for css in (self.css, brand_style(accent)) if css)
        return (
            f"default-src 'none'; style-src {styles}; img-src 'self'; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'"
        )

    def page(self, template: str, /, **context: Any) -> str:
        brand: ClientBrand | None = context.pop("brand", None)
        # Markup: the stylesheets are ours (the accent is validated as #rrggbb) and go into raw-text <style>
        # elements, where entities are not decoded; escaped quotes would no longer match their CSP hashes.
        return self.env.get_template(f"ack/{template}.html").render(
            css=Markup(self.css),  # noqa: S704
            brand=brand,
            brand_css=Markup(brand_style(brand.accent if brand else None)),  # noqa: S704
            **context,
        )

    def email(self, name: str, context: Mapping[str, Any]) -> RenderedEmail:
        subject = self.env.get_template(f"email/{name}.subject.txt").render(**context)
        return RenderedEmail(
            subject=" ".join(subject.split()),
            text=self.env.get_template(f"email/{name}.txt").render(**context),
            html=self.env.get_template(f"email/{name}.html").render(**context),
        )
