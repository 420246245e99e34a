"""The one composition of the worker: every job kind and sweep that exists, registered from its feature
module, each imported only when a worker is built (a command that runs no worker imports none of them).

A feature adds one line here: its module's ``register(registry)``.
"""

from __future__ import annotations

from functools import lru_cache, partial

from vault.jobs.registry import Registry


def build_registry() -> Registry:
    registry = Registry()
    from vault.certificates.certificate_downloads import CERTIFICATE_SOURCE, email_attachments
    from vault.jobs.mailing import MAIL_SEND, send_mail_jobs

    # The files a mail job may attach, by the ``source`` of its ``attach`` reference.
    sources = {CERTIFICATE_SOURCE: email_attachments}
    registry.register_batch_handler(MAIL_SEND, partial(send_mail_jobs, sources=sources))
    from vault.reminders.reminder_sweep import register as register_reminders

    register_reminders(registry)
    from vault.webhooks.delivery import WEBHOOKS_SWEEP, deliver_due

    registry.register_sweep(WEBHOOKS_SWEEP, deliver_due)
    from vault.certificates.issuing import register as register_certificates

    register_certificates(registry)
    from vault.ledger.anchoring import register as register_anchoring

    register_anchoring(registry)
    from vault.pdfs.retimestamps import register as register_pdf_retimestamps

    register_pdf_retimestamps(registry)
    from vault.evidence.md5_worker import register as register_evidence_md5

    register_evidence_md5(registry)
    return registry


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The registry every worker of this process uses (built on first use, never at import time)."""
    return build_registry()
