"""The access log: one INFO line per request on ``lendstack.access`` when ``lendstack.access_log`` is on."""

import logging
import re
from pathlib import Path

import plaster
import pytest
from webtest import TestApp

from core import make_config
from core.settings import AppSettings

ROOT = Path(__file__).resolve().parents[1]
DEMO = "demo.localhost"
LINE = re.compile(r"^(GET|POST|HEAD) (\S+) (\d{3}) tenant=(\S+) host=(\S+) (\d+\.\d)ms(?: id=(\S+))?$")


@pytest.fixture(scope="module")
def logged_app(settings, plugins, wsgi_app):
    """The app again, on the same database, with the access log on."""
    config = make_config({**settings, "lendstack.access_log": "true"}, plugins)
    yield TestApp(config.make_wsgi_app())
    config.registry["db_engine"].dispose()


def access_lines(caplog) -> list[re.Match]:
    return [LINE.match(r.getMessage()) for r in caplog.records if r.name == "lendstack.access"]


def test_each_request_is_one_line_with_the_tenant_status_and_time(logged_app, db, tenants, caplog):
    caplog.set_level(logging.INFO, logger="lendstack.access")
    logged_app.get("/invest", headers={"Host": DEMO, "X-Request-ID": "req-42"})
    logged_app.get("/no-such-page", headers={"Host": DEMO}, status=404)
    logged_app.get("/", headers={"Host": "nobody.localhost"}, status=404)
    first, missing, unknown = access_lines(caplog)
    assert first is not None and first.groups()[:5] == ("GET", "/invest", "200", "demo", DEMO)
    assert float(first.group(6)) >= 0 and first.group(7) == "req-42"
    assert missing.groups()[:4] == ("GET", "/no-such-page", "404", "demo") and missing.group(7) is None
    assert unknown.groups()[:5] == ("GET", "/", "404", "-", "nobody.localhost")
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "lendstack.access")


def test_a_line_cannot_be_forged_and_keeps_no_query(logged_app, db, tenants, caplog):
    caplog.set_level(logging.INFO, logger="lendstack.access")
    logged_app.get(
        "/x?token=secret-reset-token",
        headers={"Host": DEMO, "X-Request-ID": "bad id\r\nforged"},
        extra_environ={"PATH_INFO": "/x\r\nGET /admin 200"},
        status="*",
    )
    (record,) = [r for r in caplog.records if r.name == "lendstack.access"]
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message and "secret-reset-token" not in message
    assert re.match(r"GET /x%0D%0AGET%20/admin%20200 4\d\d tenant=demo ", message), message
    assert "id=" not in message  # an id that is not one is left out


def test_the_log_is_off_unless_the_ini_turns_it_on(wsgi_app, db, tenants, client, caplog):
    caplog.set_level(logging.INFO, logger="lendstack.access")
    client.get(DEMO, "/invest")
    assert access_lines(caplog) == []


@pytest.mark.parametrize("name, on", [("development.ini", True), ("production.ini", False)])
def test_the_shipped_ini_files_say_whether_requests_are_logged(name, on):
    settings = dict(plaster.get_loader(str(ROOT / name), protocols=["wsgi"]).get_settings("app:main"))
    settings["lendstack.secret"] = "an-own-secret-for-this-check-" + "x" * 30  # production refuses the example
    assert AppSettings.from_ini(settings).access_log is on
