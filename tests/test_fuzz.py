"""Hostile input never answers 500: the JSON API under schemathesis, every GET page under a parameter fuzz.

Both fuzzes run on SQLite and on PostgreSQL (which is the stricter one: it
refuses NUL bytes in text and integers past a column's width). A case found
here and not yet fixed is marked ``xfail(strict=True)`` with the file that
owns the fix, so it shows in every run and turns red once it is fixed.
"""

from __future__ import annotations

import inspect
import os
import re
import time
import traceback
from urllib.parse import quote

import pyotp
import pytest
from pyramid.security import NO_PERMISSION_REQUIRED

from core.accounts.services import create_operator, create_staff
from core.tenancy import HostKindPredicate
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, PLACEHOLDER, fill_route, member_client

DEMO, OPERATOR = "demo.localhost", "operator.localhost"

HOSTILE = [
    "99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "-1",
    "0",
    "",
    "abc",
    "a\x00b",
    "%00",
    "1e999999999",
    "NaN",
    "-Infinity",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    "x" * 10_000,
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "a\r\nLocation: x",
    "１２３",
    "\x1b[31m",
    "\ud7ff\ufffe",
]
# The values that break a type, a column or a header: sent to every route with the common parameters.
BREAKING = [
    "99999999999999999999",
    "2147483648",
    "-1",
    "",
    "abc",
    "a\x00b",
    "1e999999999",
    "NaN",
    "9999-12-31",
    "0000-00-00",
    "x" * 10_000,
    "a\r\nLocation: x",
    "１２３",
]
# Query parameters the pages commonly read, sent together with one value; each parameter a view reads
# (found in its source) is also sent alone, so an early refusal of one does not hide another.
COMMON_PARAMS = [
    "id",
    "q",
    "status",
    "fund",
    "rate",
    "amount",
    "type",
    "sort",
    "term",
    "date",
    "month",
    "format",
    "code",
    "method",
    "verification",
    "kind",
    "year",
    "gateway",
    "_LOCALE_",
]
_READS = re.compile(r"""request\.(?:params|GET)(?:\.get|\.getall|\.getone)?[(\[]\s*["']([A-Za-z_][\w.-]*)["']""")
_PAGED = ("newest_first(", "page_number(", '"page"')
# The input layer checks these on every route alike: fuzzed once per area, not per route.
LAYER_PARAMS = {
    "portal": ("member.login", ["page", "next"]),
    "admin": ("admin.members", ["page", "next"]),
    "operator": ("operator.login", ["page", "next"]),
    "api": ("api.loans", ["page", "next"]),
}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _route_area(route) -> str:
    kinds = [p.value for p in route.predicates if isinstance(p, HostKindPredicate)]
    if kinds == ["operator"]:
        return "operator"
    if route.pattern.startswith("/api/"):
        return "api"
    if route.pattern.startswith("/admin"):
        return "admin"
    return "portal"


def _views(registry, route_name):
    for intr in registry.introspector.get_category("views"):
        view = intr["introspectable"]
        if view.get("route_name") == route_name and view.get("callable") is not None:
            yield view


def _view_params(registry, route_name) -> set[str]:
    """The query parameters a route's views read, found in their source (the layer's own ones aside)."""
    names = set()
    for view in _views(registry, route_name):
        try:
            names |= set(_READS.findall(inspect.getsource(view["callable"])))
        except (OSError, TypeError):
            continue
    return names - {"page", "next"}


def _is_public(registry, route_name) -> bool:
    return any(view.get("permission") in (None, NO_PERMISSION_REQUIRED) for view in _views(registry, route_name))


def _placeholder_regex(segment: str) -> re.Pattern:
    name, _, regex = segment.partition(":")
    return re.compile(regex or "[^/]+")


def _paths(pattern: str, value: str) -> list[str]:
    """``pattern`` with every placeholder set to an example, and with each one in turn set to ``value``."""
    holders = [holder[1:-1] for holder in PLACEHOLDER.findall(pattern)]
    paths = []
    for index, holder in enumerate(holders):
        if not _placeholder_regex(holder).fullmatch(value):
            continue  # the route cannot match this value: Pyramid answers 404 before any of our code
        path, n = pattern, 0

        def fill(match):
            nonlocal n
            n += 1
            return quote(value, safe="") if n - 1 == index else "1"

        path = PLACEHOLDER.sub(fill, pattern)
        paths.append(path)
    return paths


def _targets(wsgi_app):
    """(area, route, example path, parameters to fuzz alone, public?) for every route."""
    registry = wsgi_app.registry
    for route in wsgi_app.routes_mapper.get_routes():
        if route.name in ("static", "api.spec.yaml"):
            continue
        area = _route_area(route)
        example = fill_route(route.pattern, "1")
        params = _view_params(registry, route.name)
        if LAYER_PARAMS[area][0] == route.name:
            params |= set(LAYER_PARAMS[area][1])
        yield area, route, example, sorted(params), _is_public(registry, route.name)


@pytest.fixture
def visitors(wsgi_app, db, tenants, client):
    """A client per area: anonymous, a signed-in member, an administrator (two-factor), an operator."""
    from tests.conftest import Client

    with db.transaction() as session:
        operator_secret = create_operator(session, "fuzz-root", PASSWORD).totp_secret
        secret = create_staff(
            session, tenant_by_slug(session, "demo"), "fuzz-admin", PASSWORD, "administrator"
        ).totp_secret
    member, _ = member_client(wsgi_app, db, "13800138777")
    staff = Client(wsgi_app)
    _sign_in(staff, DEMO, "/admin/login", "fuzz-admin", secret)
    operator = Client(wsgi_app)
    _sign_in(operator, OPERATOR, "/operator/login", "fuzz-root", operator_secret)
    return {"anonymous": client, "member": member, "admin": staff, "operator": operator}


def _sign_in(client, host, path, login, secret=None):
    form = client.get(host, path).form
    form["login"], form["password"] = login, PASSWORD
    response = form.submit(extra_environ={"HTTP_HOST": host}, status=303)
    if response.location.endswith("/verify"):
        form = client.get(host, response.location.split(host, 1)[-1]).form
        form["code"] = pyotp.TOTP(secret).now()
        form.submit(extra_environ={"HTTP_HOST": host}, status=303)


AREA_VISITORS = {
    "portal": ("anonymous", "member"),
    "admin": ("admin",),
    "operator": ("operator",),
    "api": ("anonymous",),
}  # the API with a token: schemathesis below


def _get(client, host, path, params):
    """GET ``path`` with ``params`` quoted as they are (a NUL becomes ``%00``): (status or escaped error, url)."""
    query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params.items())
    url = path + ("?" + query if query else "")
    try:
        response = client.app.get(url, headers={"Host": host}, expect_errors=True)
    except Exception as error:  # escaped every exception view: the server would answer a bare 500
        frames = traceback.extract_tb(error.__traceback__)[-3:]
        return f"{type(error).__name__}: {str(error)[:120]} at " + " < ".join(
            f"{os.path.relpath(f.filename, ROOT)}:{f.lineno}" for f in reversed(frames)
        ), url
    return response.status_int, url


ENGINE_SENSITIVE = {"99999999999999999999", "9223372036854775808", "2147483648", "a\x00b", "%00", "1e999999999", "NaN"}
"""Values an engine may take differently (integer ranges, NUL bytes, numbers): every run sends them."""


def hostile_for(backend: str) -> list[str]:
    """The values this engine's run sends: the engine-sensitive ones, and half of the others each (every value
    still reaches every route in one of the two runs)."""
    from tests.conftest import PG_URL

    if not PG_URL:
        return list(HOSTILE)  # one run only: it sends everything
    others = [value for value in HOSTILE if value not in ENGINE_SENSITIVE]
    share = others[0::2] if backend == "sqlite" else others[1::2]
    return [value for value in HOSTILE if value in ENGINE_SENSITIVE or value in share]


SHARDS = {"admin": 3, "portal": 2}
"""How many tests an area's routes are shared between (the back office and the portal have most), for the
workers to share out."""
PARTS = [f"{area}-{shard}" for area in sorted(AREA_VISITORS) for shard in range(SHARDS.get(area, 1))]


@pytest.mark.parametrize("part", PARTS)
def test_no_get_route_answers_500_to_hostile_parameters(wsgi_app, visitors, backend, part):
    started, crashes, sent = time.monotonic(), [], 0
    targets = sorted(_targets(wsgi_app), key=lambda target: target[1].name)
    for n, (area, route, example, params, public) in enumerate(t for t in targets if t[0] == part.split("-")[0]):
        if n % SHARDS.get(area, 1) != int(part.split("-")[1]):
            continue
        host = OPERATOR if area == "operator" else DEMO
        for who in AREA_VISITORS[area]:
            if who == "anonymous" and not public:
                continue  # refused before its view runs (tests/test_route_security.py)
            client = visitors[who]
            for value in hostile_for(backend):
                requests = [(path, {}) for path in _paths(route.pattern, value)]
                requests += [(example, {name: value}) for name in params]
                if value in BREAKING:
                    requests.append((example, {name: value for name in COMMON_PARAMS}))
                for path, query in requests:
                    status, url = _get(client, host, path, query)
                    sent += 1
                    if not isinstance(status, int) or status >= 500:
                        crashes.append(f"{who} GET {host}{url[:200]!r} ({route.name}) -> {status}")
    print(f"{sent} requests in {time.monotonic() - started:.1f}s")
    assert not crashes, "\n".join(crashes[:60])


# -- the JSON API under schemathesis ------------------------------------------------------------

API_EXAMPLES = 12  # per operation and generation mode: enough to hit every parameter with hostile values, quickly


def _api_schema(wsgi_app):
    import schemathesis

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app, headers={"Host": DEMO})


def _exercise(schema, headers) -> tuple[list[str], dict[str, int]]:
    """Run every operation, positive and negative cases; (server errors, conformance failures by check name)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis.generation import GenerationMode

    errors, conformance = [], {}
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @settings(
            max_examples=API_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case):
            try:
                response = case.call(headers={**(case.headers or {}), **headers, "Host": DEMO})
            except Exception as error:  # escaped every exception view
                errors.append(f"{case.method} {case.formatted_path}: {type(error).__name__}: {error}")
                return
            if response.status_code >= 500:
                errors.append(
                    f"{case.method} {case.formatted_path} {case.path_parameters} {case.query} "
                    f"{str(case.body)[:200]!r} -> {response.status_code}"
                )
            try:
                case.validate_response(response)
            except BaseExceptionGroup as failures:  # conformance: reported, not asserted
                for failure in failures.exceptions:
                    name = f"{operation.label}: {getattr(failure, 'title', type(failure).__name__)}"
                    conformance[name] = conformance.get(name, 0) + 1
            except AssertionError as failure:
                name = f"{operation.label}: {getattr(failure, 'title', type(failure).__name__)}"
                conformance[name] = conformance.get(name, 0) + 1

        call()
    return errors, conformance


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "member-token"])
def test_no_api_operation_answers_500(wsgi_app, db, tenants, client, signed_in):
    headers = {}
    if signed_in:
        member_client(wsgi_app, db, "13800138778")
        body = {"login": "13800138778", "password": PASSWORD}
        token = client.post_json(DEMO, "/api/v1/auth/token", body).json["token"]
        headers["Authorization"] = f"Bearer {token}"
    errors, conformance = _exercise(_api_schema(wsgi_app), headers)
    for name, times in sorted(conformance.items()):
        print(f"conformance: {name} x{times}")
    assert not errors, "\n".join(errors[:40])
