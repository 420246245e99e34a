"""OpenID Connect relying party for console single sign-on: the authorization code flow with PKCE.

OpenID Connect Core 1.0 section 3.1 (code flow), 3.1.3.7 (ID token validation) and Discovery 1.0
section 4 (provider metadata; its ``issuer`` must equal the configured one), with RFC 7636 PKCE (S256).
authlib builds the authorization URL and the code challenge; its JOSE library (joserfc) verifies the ID
token's signature against the provider's JWKS and its claims. The two back-channel calls (metadata and
keys, code for tokens) use the standard library: authlib's HTTP clients want requests or httpx, and
neither is a runtime dependency of Offboard.

The browser carries the flow's ``state``, ``nonce`` and PKCE verifier in a short-lived ``HttpOnly``
cookie; the callback must present the same ``state``, and the ID token the same ``nonce``.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from vault.clock import Clock, system_clock
from vault.errors import Forbidden, Unauthorized

ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA"]
#: Seconds of clock difference with the provider that ``exp`` and ``iat`` tolerate.
LEEWAY = 60
TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Pending:
    """One sign-in under way: what the callback must match. Serialized into the flow's cookie."""

    state: str
    nonce: str
    verifier: str

    def to_cookie(self) -> str:
        return f"{self.state}.{self.nonce}.{self.verifier}"

    @classmethod
    def from_cookie(cls, value: str | None) -> Pending | None:
        parts = (value or "").split(".")
        if len(parts) != 3 or not all(0 < len(p) <= 128 for p in parts):
            return None
        return cls(*parts)

    def check_state(self, presented: str | None) -> None:
        if not presented or not hmac.compare_digest(self.state.encode(), presented.encode()):
            raise Forbidden("the single sign-on answer does not belong to this browser's sign-in; start again")


@dataclass(frozen=True, slots=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class OidcClient:
    """One configured provider. Its metadata is fetched on first use and kept; its keys are fetched again
    when an ID token names a key the kept set lacks (the provider rotated)."""

    def __init__(
        self, *, issuer: str, client_id: str, client_secret: str, redirect_uri: str, clock: Clock = system_clock
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._clock = clock
        self._metadata: Metadata | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def metadata(self) -> Metadata:
        with self._lock:
            if self._metadata is None:
                doc = _get_json(f"{self.issuer}/.well-known/openid-configuration")
                try:
                    found = Metadata(
                        issuer=str(doc["issuer"]),
                        authorization_endpoint=str(doc["authorization_endpoint"]),
                        token_endpoint=str(doc["token_endpoint"]),
                        jwks_uri=str(doc["jwks_uri"]),
                    )
                except KeyError as exc:
                    raise Unauthorized(f"single sign-on: the provider's metadata lacks {exc.args[0]}") from None
                if found.issuer.rstrip("/") != self.issuer:
                    raise Unauthorized(
                        f"single sign-on: the provider says its issuer is {found.issuer!r}, expected {self.issuer!r}"
                    )
                self._metadata = found
            return self._metadata

    def start(self) -> tuple[str, Pending]:
        """The provider URL to send the browser to, and what its answer must match."""
        pending = Pending(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48))
        url = prepare_grant_uri(
            self.metadata().authorization_endpoint,
            client_id=self.client_id,
            response_type="code",
            redirect_uri=self.redirect_uri,
            scope="openid email",
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.verifier),
            code_challenge_method="S256",
        )
        return str(url), pending

    def finish(self, *, code: str, pending: Pending) -> str:
        """Exchange ``code`` and return the verified email its ID token asserts; ``Unauthorized`` for
        anything not exactly right."""
        meta = self.metadata()
        basic = base64.b64encode(
            f"{urllib.parse.quote(self.client_id)}:{urllib.parse.quote(self.client_secret)}".encode()
        ).decode("ascii")
        body = urllib.parse.urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": pending.verifier,
            }
        ).encode("ascii")
        tokens = _post_form(meta.token_endpoint, body, {"Authorization": f"Basic {basic}"})
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise Unauthorized("single sign-on: the provider's token response has no ID token")
        claims = self._verify(id_token, pending.nonce)
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            raise Unauthorized("single sign-on: the ID token carries no email address (scope email)")
        if claims.get("email_verified") is not True:
            raise Unauthorized(f"single sign-on: the provider has not verified the email address {email}")
        return email

    def _verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            token = jwt.decode(id_token, self._key_set(refresh=False), algorithms=ALGORITHMS)
        except JoseError:
            # An unknown key id may mean the provider rotated its keys: fetch them once more.
            try:
                token = jwt.decode(id_token, self._key_set(refresh=True), algorithms=ALGORITHMS)
            except (JoseError, ValueError) as exc:
                raise Unauthorized(f"single sign-on: the ID token's signature does not verify ({exc})") from None
        except ValueError as exc:
            raise Unauthorized(f"single sign-on: the ID token is malformed ({exc})") from None
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock().timestamp()),
            leeway=LEEWAY,
            iss={"essential": True, "value": self.metadata().issuer},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(token.claims)
        except JoseError as exc:
            raise Unauthorized(f"single sign-on: the ID token was refused ({exc.error}: {exc.description})") from None
        audience = token.claims.get("aud")
        # Core 3.1.3.7 item 4-5: with several audiences, the authorized party must be this client.
        if isinstance(audience, list) and len(audience) > 1 and token.claims.get("azp") != self.client_id:
            raise Unauthorized("single sign-on: the ID token names other audiences and is not issued to us")
        return dict(token.claims)

    def _key_set(self, *, refresh: bool) -> KeySet:
        jwks_uri = self.metadata().jwks_uri  # outside the lock, which metadata() takes itself
        with self._lock:
            if self._keys is None or refresh:
                self._keys = KeySet.import_key_set(_get_json(jwks_uri))  # type: ignore[arg-type]
            return self._keys


def _open(request: urllib.request.Request) -> dict[str, Any]:
    if urllib.parse.urlsplit(request.full_url).scheme not in ("https", "http"):
        raise Unauthorized(f"single sign-on: {request.full_url!r} is not an http(s) URL")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - scheme checked above
            value = json.loads(response.read(1024 * 1024))
    except urllib.error.HTTPError as exc:
        raise Unauthorized(f"single sign-on: the provider answered {exc.code} at {request.full_url}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise Unauthorized(f"single sign-on: the provider could not be reached at {request.full_url} ({exc})") from None
    if not isinstance(value, dict):
        raise Unauthorized(f"single sign-on: the provider's answer at {request.full_url} is not a JSON object")
    return value


def _get_json(url: str) -> dict[str, Any]:
    return _open(urllib.request.Request(url, headers={"Accept": "application/json"}))  # noqa: S310


def _post_form(url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked in _open
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json", **headers},
    )
    return _open(request)
