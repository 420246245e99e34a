"""Organizations (tenants), their staff, API tokens, passwords and console sign-in sessions."""
