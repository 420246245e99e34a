"""Certificates of completion: the signed statement, issued at *fully offboarded*, of every obligation,
revocation, deliverable and acknowledgment of a case, read from its ledger entries (``docs/certificate.md``)."""
