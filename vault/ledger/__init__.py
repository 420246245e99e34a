"""The organization's append-only log: an RFC 9162 Merkle tree with C2SP signed checkpoints."""
