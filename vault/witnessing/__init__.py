"""The witness client: an organization's witnesses, submitting checkpoints to them, and their cosignatures."""
