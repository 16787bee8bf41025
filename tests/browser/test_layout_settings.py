"""The operator console and the back office's settings, roles, groups and organisation pages look right in a real
browser, in English and in Traditional Chinese, at 1280×800 and 390×844: nothing wider than the screen or than its
card, checkboxes beside their labels, colour pickers beside their fields, wide tables scrolling in their
``.table-wrap``, and every text readable (WCAG AA). Screenshots of each page are kept under test-artifacts/."""

import re
from urllib.parse import urlsplit

import pyotp
import pytest

from core.accounts.services import create_operator
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.browser.pages import BOXES, CONTRAST, FORMS, OVERFLOW, READABLE, VIEWPORTS, url
from tests.helpers import PASSWORD

BROWSER_LOCALES = {"en": "en-US", "zh_Hant": "zh-TW"}
CONSOLE = "operator"  # operator.localhost
NEW_SITE = "nova"
PLUGIN_PAGES = ("payments.offline", "sms.sandbox_http", "loan_types.credit", "payments.alipay", "sms.aliyun")
SANDBOX_SMS = """
[plugins."sms.sandbox_http"]
endpoint = "https://sms.example/a/very/long/path/to/the/sending/endpoint"
secret = "a-secret-long-enough-to-be-accepted"
"""


class Pages:
    """Visits pages at both sizes, collecting what looks wrong and a screenshot of each."""

    def __init__(self, page, artifacts):
        self.page, self.artifacts, self.found, self.seen = page, artifacts, {}, 0

    def check(self, name: str) -> None:
        self.seen += 1
        for size, viewport in VIEWPORTS.items():
            self.page.set_viewport_size(viewport)
            problems = self.page.evaluate(OVERFLOW) + self.page.evaluate(FORMS)
            if size == "desktop":
                problems += self.page.evaluate(BOXES)
            problems += [
                f"{p['text']!r} is {p['colour']} on {p['background']} ({p['ratio']}:1)"
                for p in self.page.evaluate(CONTRAST, READABLE)
            ]
            if problems:
                self.found[f"{name} @ {size}"] = problems
            shot = re.sub(r"[^\w.-]+", "-", name).strip("-") or "home"
            self.page.screenshot(path=self.artifacts / f"{self.seen:02d}-{shot}-{size}.png", full_page=True)
        self.page.set_viewport_size(VIEWPORTS["desktop"])

    def visit(self, href: str, name: str | None = None) -> None:
        self.page.goto(href)
        self.check(name or urlsplit(href).path)


def report(found: dict) -> str:
    return "\n".join(f"{where}:\n  " + "\n  ".join(problems) for where, problems in found.items())


def new_context(browser, locale):
    context = browser.new_context(locale=BROWSER_LOCALES[locale], viewport=VIEWPORTS["desktop"])
    context.set_default_timeout(10_000)
    return context


@pytest.fixture(params=list(BROWSER_LOCALES))
def locale(request):
    return request.param


def test_the_operator_console_looks_right(browser, live_server, db, tenants, artifacts, locale):
    port = live_server
    with db.transaction() as session:
        create_operator(session, "layout-operator", PASSWORD, enrol_at_sign_in=True)
    console = new_context(browser, locale).new_page()
    pages = Pages(console, artifacts)

    # Signing in: the password, then enrolling the authenticator from the QR code.
    pages.visit(url(port, CONSOLE, "/operator/login"))
    console.fill("#login", "layout-operator")
    console.fill("#password", PASSWORD)
    console.click("form:has(#login) button[type=submit]")
    console.wait_for_url("**/operator/login/verify")
    pages.check("/operator/login/verify")
    secret = console.inner_text("code.secret").replace(" ", "")
    console.fill("#code", pyotp.TOTP(secret).now())
    console.click("form:has(#code) button[type=submit]")
    console.wait_for_url(url(port, CONSOLE, "/operator"))
    pages.check("/operator")

    # The new-tenant form empty, refused (every mistake marked), filled, and the page it leads to.
    pages.visit(url(port, CONSOLE, "/operator/tenants/new"))
    console.click("form:has(#slug) button[type=submit]")
    console.wait_for_selector("[aria-invalid=true]")
    pages.check("/operator/tenants/new#refused")
    console.fill("#slug", NEW_SITE)
    for box in console.query_selector_all("input[name=locales]"):
        box.set_checked(box.get_attribute("value") in ("en", "zh_Hant"))
    console.select_option("#default_locale", locale)
    console.fill("#site_title_en", "Nova Lending")
    console.fill("#site_title_zh_Hant", "新星借貸")
    console.fill("#hosts", f"{NEW_SITE}.localhost\nwww.nova-lending-with-a-long-host-name.example")
    console.fill("#currency", "USD")
    console.fill("#timezone", "America/New_York")
    for box in console.query_selector_all("input[name=plugins]"):
        box.set_checked(box.get_attribute("value") in ("payments.sandbox", "sms.outbox", "loan_types.credit"))
    console.fill("#admin_login", "nova-admin")
    console.fill("#admin_email", "admin@nova.example")
    pages.check("/operator/tenants/new#filled")
    console.click("form:has(#slug) button[type=submit]")
    console.wait_for_selector("a.welcome-link")
    pages.check("/operator/tenants/new#created")
    welcome = console.get_attribute("a.welcome-link", "href")

    # The new administrator's welcome page, on the new site.
    newcomer = Pages(new_context(browser, locale).new_page(), artifacts)
    newcomer.visit(url(port, NEW_SITE, urlsplit(welcome).path), "/admin/welcome")
    pages.found.update(newcomer.found)
    newcomer.page.context.close()

    for path in ("/operator", "/operator/tenants/demo", "/operator/tenants/demo/edit", "/operator/upload"):
        pages.visit(url(port, CONSOLE, path))
    # A manifest's changes, shown before they are applied.
    console.goto(url(port, CONSOLE, "/operator/upload"))
    manifest = console.evaluate("fetch('/operator/tenants/acme/manifest.toml').then(r => r.text())")
    changed = manifest.replace('currency = "USD"', 'currency = "EUR"')
    changed = re.sub(r'(primary_color = )"[^"]*"', r'\1"#0b5394"', changed)
    console.fill("#text", changed + SANDBOX_SMS)
    console.click("form:has(#text) button[type=submit]")
    console.wait_for_selector("table.changes")
    pages.check("/operator/upload#preview")

    # Archiving: the confirmation refused, then the archived site's page and the list.
    console.goto(url(port, CONSOLE, f"/operator/tenants/{NEW_SITE}"))
    console.fill("#confirm", "not the name")
    console.click("form:has(#confirm) button[type=submit]")
    console.wait_for_selector("#confirm[aria-invalid=true]")
    pages.check(f"/operator/tenants/{NEW_SITE}#archive-refused")
    console.fill("#confirm", NEW_SITE)
    console.click("form:has(#confirm) button[type=submit]")
    console.wait_for_load_state()
    pages.visit(url(port, CONSOLE, f"/operator/tenants/{NEW_SITE}"), f"/operator/tenants/{NEW_SITE}#archived")
    pages.visit(url(port, CONSOLE, "/operator"), "/operator#with-an-archived-site")
    pages.visit(url(port, CONSOLE, "/operator/audit"))

    assert pages.seen >= 15
    assert pages.found == {}, report(pages.found)


def staff_page(browser, port, locale, secret):
    """The demo site's administrator signed in with password and two-factor code."""
    page = new_context(browser, locale).new_page()
    page.goto(url(port, "demo", "/admin/login"))
    page.fill("#login", "settings-admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/login/verify")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(url(port, "demo", "/admin"))
    return page


def first_link(page, prefix: str) -> str:
    return page.eval_on_selector(f"main a[href^='{prefix}']", "a => a.pathname")


def test_the_settings_and_organisation_pages_look_right(browser, live_server, db, tenants, artifacts, locale):
    port = live_server
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        secret = factories.staff(session, demo, "settings-admin", "administrator")
        for login in ("wendy-the-cashier-with-a-long-login", "kai"):
            factories.staff(session, demo, login, "cashier")
    admin = staff_page(browser, port, locale, secret)
    pages = Pages(admin, artifacts)
    site = lambda path: url(port, "demo", path)  # noqa: E731

    # Something on every page: a custom role, a group, units in a tree, a saved setting (a version with changes).
    admin.goto(site("/admin/roles"))
    admin.fill("#code", "night_shift_reviewer")
    admin.fill("#name", "Night-shift reviewer")
    for box in admin.query_selector_all("input[name=permissions]")[:4]:
        box.check()
    admin.click("button[value=create]")
    admin.wait_for_load_state()
    admin.goto(site("/admin/groups"))
    admin.fill("#name", "Front desk and cashiers")
    for box in admin.query_selector_all("input[name=roles]")[:2]:
        box.check()
    admin.click("form:has(#name) button[type=submit]")
    admin.wait_for_load_state()
    for name in ("Head office", "Risk management department"):
        admin.goto(site("/admin/org"))
        admin.fill("#name", name)
        if admin.query_selector("#parent option:nth-child(2)"):
            admin.select_option("#parent", index=1)
        admin.click("form:has(#name) button[type=submit]")
        admin.wait_for_load_state()
    admin.goto(site("/admin/settings/plugins/payments.offline"))
    admin.fill("#setting-account_number", "6222 0000 1111 2222 3333")
    admin.click("button[value=save]")
    admin.wait_for_load_state()

    for path in (
        "/admin/settings",
        "/admin/settings/branding",
        "/admin/settings/parameters",
        "/admin/settings/menus",
        "/admin/settings/plugins",
        *(f"/admin/settings/plugins/{code}" for code in PLUGIN_PAGES),
        "/admin/settings/versions",
        "/admin/roles",
        "/admin/groups",
        "/admin/org",
    ):
        pages.visit(site(path), path)
    admin.goto(site("/admin/settings/versions"))
    newest = admin.eval_on_selector("main table a", "a => a.pathname")
    pages.visit(site(newest), "/admin/settings/versions#newest")
    admin.goto(site("/admin/roles"))
    built_in = admin.eval_on_selector("table.matrix thead a", "a => a.pathname")
    custom = admin.eval_on_selector("table.matrix thead a:has-text('Night-shift reviewer')", "a => a.pathname")
    pages.visit(site(built_in), "/admin/roles#built-in")
    pages.visit(site(custom), "/admin/roles#custom")
    admin.goto(site("/admin/groups"))
    pages.visit(site(first_link(admin, "/admin/groups/")), "/admin/groups#one")
    admin.goto(site("/admin/org"))
    pages.visit(site(first_link(admin, "/admin/org/")), "/admin/org#unit")

    # Refusals shown in place: a colour below the contrast floor, a plugin setting that is not a web address.
    admin.goto(site("/admin/settings/branding"))
    admin.fill('[id="branding.primary_color"]', "#ffff00")
    admin.click("main form button[type=submit]")
    admin.wait_for_selector("[aria-invalid=true]")
    pages.check("/admin/settings/branding#refused")
    admin.goto(site("/admin/settings/plugins/sms.sandbox_http"))
    admin.fill("#setting-endpoint", "not a web address at all, and rather long too")
    admin.click("button[value=save]")
    admin.wait_for_selector("[aria-invalid=true]")
    pages.check("/admin/settings/plugins/sms.sandbox_http#refused")

    assert pages.seen >= 20
    assert pages.found == {}, report(pages.found)
