"""The console's security bars over EVERY console route (issue 13, "Security tests"), on both backend pairs.

The routes are read from the app (each ``APIRoute`` whose endpoint lives in ``api.console.*``), so a route
added later is covered without touching this file; its kind comes from the dependency it takes (``PageDep``,
``FormDep``, ``DataDep`` of ``api/console/page.py``). A route that takes none of them fails the build unless
it is in ``EXCLUDED`` with its reason. Path parameters are filled from ``console_world`` (real ids of a case,
an evidence item, a receipt, ... of either organization); a parameter with no value there fails loudly, so
whoever adds it also says what it names.

- without a session: a page (and a form post) answers 303 to ``/login``, a data route 401;
- a viewer posting each state-changing route with a valid CSRF token: 403;
- a session of organization A on every URL holding organization B's ids: 404;
- a form posted without its CSRF token: 403;
- the session cookie's flags, and after sign-out the old cookie opens nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.console.page import console_data, console_form, console_page
from tests.integration.console_support import console_client, form_token, set_cookie_headers, sign_in
from tests.integration.console_world import ADMIN, MEMBER, VIEWER, Org, World, build_world, cheap_passwords

__all__ = ["cheap_passwords"]

#: Console routes outside these checks, each with why (they are the ways in and out of a session).
EXCLUDED = {
    "/login": "the sign-in form itself: reached without a session by design; its own double-submit CSRF "
    "and rate limits are tested in test_console_signin.py",
    "/logout": "ends a session: without one it is a harmless redirect; its CSRF check and the dead cookie "
    "are tested here (test_after_sign_out_the_old_cookie_is_dead) and in test_console_signin.py",
    "/login/oidc": "starts single sign-on without a session by design (test_console_sso.py)",
    "/login/oidc/callback": "ends single sign-on without a session by design; its state cookie is the "
    "check (test_console_sso.py)",
}
#: POST routes that change nothing, so a viewer may use them (they still need the CSRF token).
READ_ONLY_POSTS = {
    "/ledger/check-file": "hashes an uploaded file to look it up in the log; nothing is stored",
    "/cases/{case_id}/receipts/{receipt_id}/preview": "where the preview's buttons post: it changes nothing "
    "and answers that it is a preview (409)",
    "/cases/{case_id}/bundle": "exports the evidence bundle, which a viewer may do (issue 13: a viewer sees "
    "and exports but changes nothing); the export is recorded in the ledger as the API's is",
}
#: Path parameters that are not ids of a row of the organization, so another organization's value means
#: nothing in this one: a ledger index is a position in the session's own log, a playbook key a name.
NOT_IDS = {"index": "a position in the session organization's own log", "key": "a playbook name",
           "step_key": "a step name within a case", "version": "a playbook version number"}  # fmt: skip
KINDS = {console_page: "page", console_form: "form", console_data: "data"}
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


@dataclass(frozen=True)
class Route:
    path: str
    method: str
    kind: str
    params: tuple[str, ...]

    def url(self, org: Org) -> str:
        missing = [p for p in self.params if p not in org.ids]
        assert not missing, f"{self.method} {self.path}: add a value for {missing} to console_world.py"
        return PARAM.sub(lambda m: org.ids[m.group(1)], self.path)

    @property
    def changes_state(self) -> bool:
        return self.method != "GET" and self.path not in READ_ONLY_POSTS

    @property
    def holds_an_id(self) -> bool:
        return any(p not in NOT_IDS for p in self.params)


def _kind(route: APIRoute) -> str | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call in KINDS:
            return KINDS[dep.call]
        stack.extend(dep.dependencies)
    return None


def api_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every ``APIRoute`` with its full path; this FastAPI keeps included routers as nested nodes."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes, prefix + route.include_context.prefix)


def console_routes(app: Any) -> list[Route]:
    found = []
    for path, route in api_routes(app.routes):
        if not route.endpoint.__module__.startswith("api.console."):
            continue
        if path in EXCLUDED:
            continue
        kind = _kind(route)
        assert kind is not None, f"{path} takes none of PageDep, FormDep, DataDep: add one (or to EXCLUDED)"
        for method in sorted(route.methods - {"HEAD"}):
            found.append(Route(path, method, kind, tuple(m.group(1) for m in PARAM.finditer(path))))
    return found


def form_fields(app: Any, route: Route) -> dict[str, str]:
    """A value for each required form field, so a route's own validation is not what answers."""
    (api_route,) = [r for p, r in api_routes(app.routes) if p == route.path and route.method in r.methods]
    fields = {}
    for param in api_route.dependant.body_params:
        if param.field_info.is_required() and param.alias != "csrf":
            fields[param.alias] = "x"
    return fields


@pytest.fixture
def world(app: Any, services: Any, initialized: Any, cheap_passwords: None) -> World:
    return build_world(app, services, initialized)


@pytest.fixture
def routes(app: Any) -> list[Route]:
    found = console_routes(app)
    # The pages this branch builds must be among them, or the enumeration itself is broken.
    assert {("/", "GET"), ("/cases/new", "POST"), ("/ledger", "GET")} <= {(r.path, r.method) for r in found}
    return found


@pytest.fixture
def signed_in(services: Any, world: World) -> Iterator[Any]:
    """``signed_in(email)``: a client with that staff member's session (closed at the end of the test)."""
    clients: list[Any] = []

    def make(email: str) -> TestClient:
        context = console_client(services)
        client = context.__enter__()
        clients.append(context)
        assert sign_in(client, email).status_code == 303
        return client

    yield make
    for context in clients:
        context.__exit__(None, None, None)


def send(client: TestClient, route: Route, url: str, data: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
    if route.method == "GET":
        return client.get(url, **kw)
    return client.request(route.method, url, data=data or {}, **kw)


def test_without_a_session_pages_redirect_to_login_and_data_routes_answer_401(
    services: Any, world: World, routes: list[Route]
) -> None:
    with console_client(services) as client:
        for route in routes:
            answer = send(client, route, route.url(world.a))
            if route.kind == "data":
                assert answer.status_code == 401, (route, answer.text[:300])
                assert answer.headers["content-type"].startswith("application/problem+json"), route
            else:
                where = (answer.status_code, answer.headers.get("location"))
                assert where == (303, "/login"), (route, answer.text[:300])


def test_a_viewer_is_refused_every_state_change(app: Any, signed_in: Any, world: World, routes: list[Route]) -> None:
    viewer = signed_in(VIEWER)
    token = form_token(viewer.get("/").text)
    changes = [r for r in routes if r.changes_state]
    assert changes, "no state-changing console route found"
    for route in changes:
        data = {"csrf": token, **form_fields(app, route)}
        answer = send(viewer, route, route.url(world.a), data, headers={"X-CSRF-Token": token})
        assert answer.status_code == 403, (route, answer.status_code, answer.text[:300])


def test_organization_a_gets_404_on_every_url_of_organization_b(
    app: Any, signed_in: Any, world: World, routes: list[Route]
) -> None:
    admin = signed_in(ADMIN)
    token = form_token(admin.get("/").text)
    checked = [r for r in routes if r.holds_an_id]
    for route in checked:
        own = send(admin, route, route.url(world.a)) if route.method == "GET" else None
        assert own is None or own.status_code != 404, (route, "its own organization's URL must exist")
        data = {"csrf": token, **form_fields(app, route)}
        answer = send(admin, route, route.url(world.b), data, headers={"X-CSRF-Token": token})
        assert answer.status_code == 404, (route, answer.status_code, answer.text[:300])
        assert "Rival" not in answer.text, route


def test_a_form_without_its_csrf_token_is_refused(app: Any, signed_in: Any, world: World, routes: list[Route]) -> None:
    member = signed_in(MEMBER)
    posts = [r for r in routes if r.method != "GET" and r.kind != "data"]
    assert posts, "no console form found"
    for route in posts:
        answer = send(member, route, route.url(world.a), form_fields(app, route))
        assert answer.status_code == 403, (route, answer.status_code, answer.text[:300])
        wrong = send(member, route, route.url(world.a), {"csrf": "0" * 64, **form_fields(app, route)})
        assert wrong.status_code == 403, (route, wrong.status_code)


@pytest.mark.parametrize("url", ["http://testserver", "https://vault.example"])
def test_the_session_cookie_is_httponly_lax_and_secure_under_https(services: Any, world: World, url: str) -> None:
    with console_client(services, url=url, base_url=url) as client:
        response = sign_in(client, MEMBER)
        assert response.status_code == 303
        name = "__Host-offboard_session" if url.startswith("https") else "offboard_session"
        (cookie,) = set_cookie_headers(response, name)
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert ("Secure" in cookie) is url.startswith("https")


def test_after_sign_out_the_old_cookie_is_dead(services: Any, world: World, routes: list[Route]) -> None:
    with console_client(services) as client:
        sign_in(client, MEMBER)
        cookie = client.cookies.get("offboard_session")
        assert cookie and client.get("/").status_code == 200
        out = client.post("/logout", data={"csrf": form_token(client.get("/").text)})
        assert out.status_code == 303
    with console_client(services) as replay:
        replay.cookies.set("offboard_session", cookie)
        for route in routes:
            if route.method != "GET":
                continue
            answer = replay.get(route.url(world.a))
            expected = 401 if route.kind == "data" else 303
            assert answer.status_code == expected, (route, answer.status_code)
