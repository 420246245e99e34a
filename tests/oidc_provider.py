"""A small OpenID Connect provider for tests, served by uvicorn on loopback (never the network).

It implements just the code flow with PKCE (S256) and client_secret_basic: discovery, ``/authorize``
(which approves at once for the configured user), ``/token`` and ``/jwks``. ``Behaviour`` lets a test
make it misbehave the ways a relying party must refuse: another audience, another nonce or issuer, an
expired token, a signature by a key it does not publish, an unverified email.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Form, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.services import free_port

CLIENT_ID = "offboard-console"
CLIENT_SECRET = "test-client-secret-not-real"  # noqa: S105 - a fixture value on loopback


@dataclass
class Behaviour:
    email: str = "pm@agency.example"
    email_verified: Any = True
    #: One of "", "audience", "nonce", "issuer", "expired", "unknown-key", "no-id-token".
    tamper: str = ""
    authorize_error: str = ""
    seen: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Provider:
    issuer: str
    behaviour: Behaviour


def _app(issuer: str, behaviour: Behaviour) -> FastAPI:
    app = FastAPI()
    key = RSAKey.generate_key(2048, parameters={"kid": "published", "use": "sig", "alg": "RS256"})
    rogue = RSAKey.generate_key(2048, parameters={"kid": "published", "alg": "RS256"})
    codes: dict[str, dict[str, str]] = {}

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False)]}

    @app.get("/authorize")
    def authorize(request: Request) -> RedirectResponse:
        q = dict(request.query_params)
        behaviour.seen.append(q)
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code" and q["code_challenge_method"] == "S256"
        if behaviour.authorize_error:
            answer = urlencode({"error": behaviour.authorize_error, "state": q["state"]})
            return RedirectResponse(f"{q['redirect_uri']}?{answer}", 302)
        code = secrets.token_urlsafe(16)
        codes[code] = q
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

    @app.post("/token")
    def token(
        grant_type: str = Form(),
        code: str = Form(),
        redirect_uri: str = Form(),
        code_verifier: str = Form(),
        authorization: str = Header(default=""),
    ) -> JSONResponse:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if authorization != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, 401)
        request = codes.pop(code, None)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            grant_type != "authorization_code"
            or request is None
            or request["redirect_uri"] != redirect_uri
            or request["code_challenge"] != challenge
        ):
            return JSONResponse({"error": "invalid_grant"}, 400)
        if behaviour.tamper == "no-id-token":
            return JSONResponse({"access_token": "x", "token_type": "Bearer"})
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "https://elsewhere.example" if behaviour.tamper == "issuer" else issuer,
            "sub": "user-1",
            "aud": "someone-else" if behaviour.tamper == "audience" else CLIENT_ID,
            "iat": now - (7200 if behaviour.tamper == "expired" else 0),
            "exp": now + (-3600 if behaviour.tamper == "expired" else 300),
            "nonce": "another-nonce" if behaviour.tamper == "nonce" else request["nonce"],
            "email": behaviour.email,
            "email_verified": behaviour.email_verified,
        }
        signer = rogue if behaviour.tamper == "unknown-key" else key
        id_token = jwt.encode({"alg": "RS256", "kid": "published"}, claims, signer)
        return JSONResponse({"access_token": "x", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})

    return app


@contextmanager
def oidc_provider() -> Iterator[Provider]:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    behaviour = Behaviour()
    server = uvicorn.Server(uvicorn.Config(_app(issuer, behaviour), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the test OIDC provider did not start"
        time.sleep(0.02)
    try:
        yield Provider(issuer, behaviour)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
