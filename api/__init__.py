"""The HTTP interface: FastAPI app, routes, auth. It calls the domain (``vault``) and adds nothing to it."""
