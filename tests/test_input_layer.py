"""The input layer (core.inputs) and the catch-all error answer (core.errors), through the HTTP door."""

from __future__ import annotations

import json
import logging

import pytest
from pyramid.response import Response

from core.headers import HEADERS
from core.inputs import MAX_JSON_DEPTH, json_depth, safe_next
from tests.conftest import Client, count
from tests.helpers import PASSWORD, member_client, staff_client

DEMO, OPERATOR = "demo.localhost", "operator.localhost"


def problem(response, status, field):
    assert response.status_int == status
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["field"] == field and body["errors"][0]["field"] == field
    return body


def secured(response):
    for name, value in HEADERS.items():
        assert response.headers[name] == value, name
    return response


# -- addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, field",
    [
        ("/invest/a%00b", "path"),
        ("/invest?q=a%00b", "q"),
        ("/invest?q=%1b%5b31m", "q"),
        ("/login?next=/account%0d%0aLocation:%20https://evil.example", "next"),
        ("/login?next=/account%09", "next"),
        ("/invest?page=0", "page"),
        ("/invest?page=-1", "page"),
        ("/invest?page=abc", "page"),
        ("/invest?page=99999999999999999999", "page"),
        ("/invest?page=%EF%BC%92", "page"),  # a full-width 2
    ],
)
def test_a_hostile_address_is_a_themed_400_naming_the_field(client, tenants, path, field):
    response = secured(client.get(DEMO, path, status=400))
    assert response.content_type == "text/html"
    assert f'data-field="{field}"' in response.text
    assert 'class="site-header"' in response.text  # the tenant's layout, like the 404 page


@pytest.mark.parametrize(
    "path, field",
    [("/invest?q=%ff", "query"), ("/%ff", "path"), ("/invest?q=%ed%a0%80", "query"), ("/invest/%c0%af", "path")],
)
def test_an_address_not_in_utf8_is_a_plain_400(client, tenants, path, field):
    response = secured(client.get(DEMO, path, status=400))
    assert response.text.startswith(f"{field}:")
    problem(client.get(DEMO, "/api/v1/loans" + path.removeprefix("/invest"), status=400), 400, field)


def test_a_long_page_number_and_an_empty_one_are_told_apart(client, tenants):
    client.get(DEMO, "/invest?page=1000000000", status=200)
    client.get(DEMO, "/invest?page=1000000001", status=400)
    client.get(DEMO, "/invest?page=", status=200)
    client.get(DEMO, "/invest?page=" + "0" * 5000 + "1", status=200)  # page one, read without int() of it all
    client.get(DEMO, "/invest?page=" + "9" * 5000, status=400)


@pytest.mark.parametrize("loan_id", ["99999999999999999999", "2147483648", "%EF%BC%91%EF%BC%92", "9" * 5000])
def test_an_id_no_row_can_have_is_404(client, tenants, loan_id):
    response = secured(client.get(DEMO, f"/api/v1/loans/{loan_id}", status=404))
    assert response.content_type == "application/problem+json"
    secured(client.get(DEMO, f"/news/{loan_id}", status=404))


def test_an_admin_id_past_the_column_is_404_for_signed_in_staff(wsgi_app, db, tenants):
    staff = staff_client(wsgi_app, db, "fuzz-cashier", "administrator")
    staff.get(DEMO, "/admin/members/2147483647", status=404)
    staff.get(DEMO, "/admin/members/2147483648", status=404)
    staff.get(DEMO, "/admin/members/1/documents/99999999999999999999", status=404)
    staff.get(DEMO, "/admin/funds/reconciliation?date=9999-12-31", status=400)
    staff.get(DEMO, "/admin/funds/reconciliation?date=2027-02-30", status=400)
    staff.get(DEMO, "/admin/funds/reconciliation?date=2027-02-28", status=200)


def test_the_operator_console_answers_plainly(client, tenants):
    response = secured(client.get(OPERATOR, "/operator/login?next=%0d%0a", status=400))
    assert response.text.startswith("next:")


# -- bodies ------------------------------------------------------------------------------------


def test_a_form_field_with_a_control_character_is_refused_and_signs_nobody_in(wsgi_app, db, tenants, client):
    member_client(wsgi_app, db, "13800138790")
    csrf = client.get(DEMO, "/login").form["csrf_token"].value
    for values, field in (({"next": "/account\r\nSet-Cookie: x=1"}, "next"), ({"login": "1380013\x00790"}, "login")):
        form = {"login": "13800138790", "password": PASSWORD, "csrf_token": csrf, **values}
        response = secured(client.post(DEMO, "/login", form, status=400))
        assert f'data-field="{field}"' in response.text
        assert "lendstack_auth" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"login": "a\\u0000b", "password": "x"}', "login"),
        ('{"login": "\\ud800", "password": "x"}', "login"),
        ('{"login": "a", "password": "x", "as": "member\\u0007"}', "as"),
        ('{"method": "equal_installment", "principal": "1", "annual_rate_percent": NaN}', "annual_rate_percent"),
        (
            '{"method": "equal_installment", "principal": "1", "annual_rate_percent": 1e999999999}',
            "annual_rate_percent",
        ),
        (
            '{"method": "equal_installment", "principal": "1", "annual_rate_percent": "12", "term_months": '
            + "9" * 30
            + "}",
            "term_months",
        ),
        (
            '{"method": "equal_installment", "principal": "1", "annual_rate_percent": "12", '
            '"start_date": "9999-12-31"}',
            "start_date",
        ),
        ('{"login": "a", "password": ' + "1" * 5000 + "}", "body"),
        ('{"login": ', "body"),
    ],
)
def test_a_hostile_json_body_is_a_problem_naming_the_field(client, tenants, body, field):
    path = "/api/v1/tools/schedule" if "method" in body else "/api/v1/auth/token"
    response = secured(client.post_json(DEMO, path, body, status=400))
    problem(response, 400, field)


def test_json_nested_100000_deep_is_refused_before_anything_parses_it(client, tenants):
    deep = "[" * 100_000 + "]" * 100_000
    problem(client.post_json(DEMO, "/api/v1/auth/token", deep, status=400), 400, "body")
    nested = '{"login": "a", "password": "x", "as": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"
    assert client.post_json(DEMO, "/api/v1/auth/token", nested, status="*").status_int != 500


def test_json_depth_is_read_from_the_raw_bytes():
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(b"[" * 10_000, limit=64) == 65


def test_a_body_over_the_limit_is_413(client, tenants):
    body = json.dumps({"login": "a", "password": "x" * (1024 * 1024)})
    problem(client.post_json(DEMO, "/api/v1/auth/token", body, status=413), 413, "body")


# -- next --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/account/funds?tab=1", "/account/funds?tab=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/account\r\nLocation: x", "/"),
        ("/account\x00", "/"),
        ("", "/"),
        (None, "/"),
        ("account", "/"),
    ],
)
def test_safe_next_keeps_local_paths_only(target, expected):
    assert safe_next(None, target, "/") == expected


# -- the catch-all -----------------------------------------------------------------------------


class Attempts:
    calls = 0


def _explode(request):
    from core.members.models import Member

    request.dbsession.add(
        Member(tenant_id=request.tenant.id, phone="13800138999", password_hash="x", legal_name="", id_number="")
    )
    request.dbsession.flush()
    raise RuntimeError("boom\r\nforged log line")


def _conflict_once(request):
    from transaction.interfaces import TransientError

    Attempts.calls += 1
    if Attempts.calls == 1:
        raise TransientError("conflict")  # the transaction calls this retryable; nothing marked it yet
    return Response("second attempt")


def _conflict_always(request):
    from transaction.interfaces import TransientError

    Attempts.calls += 1
    raise TransientError("conflict")


def exploding_tween_factory(handler, registry):
    def tween(request):
        if request.path_info == "/explode-above":
            raise RuntimeError("above the exception views")
        return handler(request)

    return tween


@pytest.fixture(scope="module")
def exploding_app(settings, plugins, wsgi_app):
    """The app with views that fail on purpose (one also above the exception views)."""
    from pyramid.tweens import EXCVIEW

    from core import make_config

    config = make_config(settings, plugins)
    for name, view in (("explode", _explode), ("conflict_once", _conflict_once), ("conflict_always", _conflict_always)):
        config.add_route(f"test.{name}", f"/{name.replace('_', '-')}", host_kind="tenant")
        config.add_route(f"test.api.{name}", f"/api/v1/test/{name.replace('_', '-')}", host_kind="tenant")
        config.add_view(view, route_name=f"test.{name}")
        config.add_view(view, route_name=f"test.api.{name}")
    config.add_tween(
        "tests.test_input_layer.exploding_tween_factory", under="core.tenancy.tenancy_tween_factory", over=EXCVIEW
    )
    app = config.make_wsgi_app()
    yield app
    app.registry["db_engine"].dispose()


@pytest.fixture
def exploding(exploding_app, engine, tenants):
    Attempts.calls = 0
    return Client(exploding_app)


def _errors(caplog):
    return [r for r in caplog.records if r.name == "core.errors" and r.levelno >= logging.ERROR]


def test_an_uncaught_error_is_a_themed_500_with_the_headers_logged_once(exploding, db, caplog):
    caplog.set_level(logging.ERROR, logger="core.errors")
    response = secured(exploding.get(DEMO, "/explode?x=%0d%0a", status=500))
    assert 'class="site-header"' in response.text and "boom" not in response.text
    assert len(_errors(caplog)) == 1
    message = _errors(caplog)[0].getMessage()
    assert "RuntimeError" in message and "\r" not in message and "'/explode?x=%0d%0a'" in message
    from core.members.models import Member

    with db.transaction() as session:
        assert count(session, Member) == 0  # pyramid_tm aborted


def test_an_uncaught_api_error_is_a_problem_with_the_headers(exploding, caplog):
    caplog.set_level(logging.ERROR, logger="core.errors")
    response = secured(exploding.get(DEMO, "/api/v1/test/explode", status=500))
    assert response.content_type == "application/problem+json" and response.json["status"] == 500
    assert "boom" not in response.text and len(_errors(caplog)) == 1


def test_an_error_above_the_exception_views_still_gets_the_headers(exploding, exploding_app, caplog):
    caplog.set_level(logging.ERROR, logger="core.errors")
    response = secured(exploding.get(DEMO, "/explode-above", status=500))
    assert "above the exception views" not in response.text and len(_errors(caplog)) == 1
    # Drawing the page read the database in a transaction that ended with the answer: no connection is left
    # holding one (on SQLite, the write lock every other writer then waits for)
    assert exploding_app.registry["db_engine"].pool.checkedout() == 0


def test_a_retryable_error_is_retried_not_answered(exploding, caplog):
    caplog.set_level(logging.ERROR, logger="core.errors")
    assert exploding.get(DEMO, "/conflict-once", status=200).text == "second attempt"
    assert Attempts.calls == 2 and _errors(caplog) == []


def test_a_conflict_on_every_attempt_is_one_500_after_the_last(exploding, caplog):
    caplog.set_level(logging.ERROR, logger="core.errors")
    secured(exploding.get(DEMO, "/conflict-always", status=500))
    assert Attempts.calls == 3 and len(_errors(caplog)) == 1


def test_http_exceptions_still_answer_as_themselves(client, tenants):
    assert client.get(DEMO, "/account", status=302).location.endswith("/login?next=%2Faccount")
    secured(client.get(DEMO, "/no-such-page", status=404))
