"""Time to launch: an operator creates a branded site in the console, its administrator brands it and turns a
calculator on, and a visitor registers and sees the brand — all in a real browser. The wall time of the path is
written to the test's report (test-artifacts/…/launch.json) and measured by bench/launch.py; no timing is
asserted here."""

import json

import pytest
import sqlalchemy as sa

from core.accounts.services import create_operator
from core.tenancy.models import Tenant
from tests.browser import launch
from tests.dev_outbox import OUTBOX


@pytest.fixture
def operator(db):
    with db.transaction() as session:
        made = create_operator(session, "launcher", launch.PASSWORD)
        return ("launcher", launch.PASSWORD, made.totp_secret)


def test_an_operator_launches_a_branded_site_a_visitor_registers_on(browser, live_server, db, operator, artifacts):
    OUTBOX.clear()
    times = launch.launch(browser, live_server, operator, OUTBOX.code_for, shots=artifacts)
    (artifacts / "launch.json").write_text(json.dumps({k: round(v, 2) for k, v in times.items()}, indent=2))

    with db.transaction() as session:
        nova = session.scalars(sa.select(Tenant).where(Tenant.slug == launch.SLUG)).one()
        assert (nova.currency, nova.default_locale, nova.theme) == ("USD", "en", "classic")
        assert sorted(nova.locales) == ["en", "zh_Hans"]
        assert [h.host for h in nova.hosts] == [launch.HOST]
        enabled = nova.enabled_plugin_ids
        assert set(launch.PLUGINS) | {launch.CALCULATOR} <= enabled
        assert nova.brand("primary_color") == launch.PRIMARY
        assert nova.brand("footer_text", locale="en") == launch.FOOTER
        logo = nova.brand("logo")
    assert logo.startswith("/media/") and logo.endswith(".png")

    # What the visitor sees: the brand on the new host, the uploaded logo served from it.
    page = browser.new_context(locale="en-US").new_page()
    page.goto(f"http://{launch.HOST}:{live_server}/")
    assert launch.SITE_TITLE in page.title()
    assert launch.FOOTER in page.inner_text("footer")
    assert page.get_attribute("img.brand-logo", "src") == logo
    primary = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand-primary')")
    assert primary.strip() == launch.PRIMARY
    assert page.evaluate("document.querySelector('img.brand-logo').naturalWidth") == 96  # the upload, served
    served = page.evaluate(f"fetch('{logo}').then(r => [r.status, r.headers.get('content-type')])")
    assert served == [200, "image/png"]
    assert page.query_selector("a[href='/tools']") is not None  # the calculator the administrator turned on
    page.context.close()
