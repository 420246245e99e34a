"""Outgoing email over SMTP (RFC 5321 via ``smtplib``), configured by ``OFFBOARD_SMTP_URL``.

URL forms: ``smtp://[user:pass@]host[:port]`` (plain, port 25), ``smtp+starttls://...`` (STARTTLS, port
587) and ``smtps://...`` (implicit TLS, port 465). Bodies are rendered by an injected ``EmailRenderer``:
the domain never imports jinja2; ``templates/render.py`` provides the jinja2 one.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from vault.config import Settings
from vault.errors import ConfigurationError

logger = logging.getLogger("offboard.mail")

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    #: ``maintype/subtype``.
    media_type: str


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


#: ``render(template_name, context)``: the subject and both bodies of one email.
EmailRenderer = Callable[[str, Mapping[str, Any]], RenderedEmail]


@dataclass(frozen=True, slots=True)
class Message:
    to: str
    body: RenderedEmail
    attachments: tuple[Attachment, ...] = ()
    #: The organization's Reply-To for client emails (its branding); ``None``: replies go to the sender.
    reply_to: str | None = None
    #: A deterministic ``Message-ID`` (``<...@...>``), so a message sent twice is one message to the receiver
    #: (the worker's ``mail.send`` jobs); ``None``: a fresh one.
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """A parsed ``OFFBOARD_SMTP_URL``. The password never appears in ``repr``."""

    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None

    def __repr__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"SmtpTarget({self.scheme}://{user}{self.host}:{self.port})"


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ConfigurationError(
            f"OFFBOARD_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://; found {scheme or 'none'}://"
        )
    if not parts.hostname:
        raise ConfigurationError("OFFBOARD_SMTP_URL has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise ConfigurationError(f"OFFBOARD_SMTP_URL has an invalid port: {exc}") from exc
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return SmtpTarget(scheme, parts.hostname, port, username, password)


class Mailer:
    """Sends ``Message``s from ``sender`` through one SMTP server, one connection per batch."""

    def __init__(self, target: SmtpTarget, sender: str) -> None:
        self.target = target
        self.sender = sender

    def build(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        if message.reply_to:
            mail["Reply-To"] = message.reply_to
        mail["Subject"] = message.body.subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = message.message_id or make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.body.text)
        mail.add_alternative(message.body.html, subtype="html")
        for item in message.attachments:
            maintype, _, subtype = item.media_type.partition("/")
            mail.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
        return mail

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if t.scheme == "smtps":
            client = smtplib.SMTP_SSL(t.host, t.port, timeout=TIMEOUT_SECONDS, context=context)
        else:
            client = smtplib.SMTP(t.host, t.port, timeout=TIMEOUT_SECONDS)
            if t.scheme == "smtp+starttls":
                client.starttls(context=context)
        if t.username:
            client.login(t.username, t.password or "")
        return client

    def send(self, messages: list[Message]) -> list[str]:
        """Send each message; returns the recipients that failed (empty when all were accepted).

        Refusals of one recipient do not stop the others; a connection failure fails all of them.
        """
        return [m.to for m, error in zip(messages, self.deliver(messages), strict=True) if error is not None]

    def deliver(self, messages: list[Message]) -> list[str | None]:
        """Send each message over one connection; per message, ``None`` when the server accepted it, else why
        not (a connection failure fails all of them)."""
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("cannot reach SMTP server %r: %s", self.target, exc)
            return [f"cannot reach the SMTP server: {exc}"] * len(messages)
        outcomes: list[str | None] = []
        try:
            for message in messages:
                try:
                    client.send_message(self.build(message))
                    outcomes.append(None)
                except smtplib.SMTPException as exc:
                    logger.warning("SMTP refused a message to %s: %s", message.to, exc)
                    outcomes.append(f"the SMTP server refused it: {exc}")
                except OSError as exc:  # the connection dropped: this and every later message is not sent
                    outcomes.extend([f"the SMTP connection failed: {exc}"] * (len(messages) - len(outcomes)))
                    break
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        return outcomes


def mailer_from_settings(settings: Settings) -> Mailer | None:
    """The configured mailer, or ``None`` when ``OFFBOARD_SMTP_URL`` is unset (links are then shown once)."""
    if not settings.smtp_url:
        return None
    return Mailer(parse_smtp_url(settings.smtp_url), settings.smtp_from)
