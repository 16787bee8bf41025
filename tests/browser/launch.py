"""Launching a branded site from the browser, as an operator and the new site's administrator do it.

The operator signs in to the console (two-factor), creates tenant "nova" on
nova.localhost (English and Simplified Chinese, USD, the classic theme, the
sandbox gateway, the SMS outbox and two loan types) and hands over the welcome
link and the enrolment key; the new administrator chooses a password with a
code from the authenticator, uploads a logo, sets the colours and the footer and
turns a calculator on; a visitor then registers on nova.localhost and sees the
brand. :func:`launch` walks that path in a browser and returns how long each
step took; ``tests/browser/test_launch.py`` checks what it leaves and
``bench/launch.py`` reports the time (BENCHMARKS.md).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import pyotp

SLUG, HOST = "nova", "nova.localhost"
SITE_TITLE = "Nova Lending"
FOOTER = "Nova Lending LLC · Loans are not deposits and may lose value."
PRIMARY, ACCENT = "#0b5394", "#f2c14e"
PLUGINS = ("payments.sandbox", "sms.outbox", "loan_types.credit", "loan_types.instant")
CALCULATOR = "tools.equal_installment"
VISITOR_PHONE = "+12025550147"
PASSWORD = "nova-launch-password-1"


def logo_png() -> bytes:
    """A 96×96 logo in the new brand's colour."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (96, 96), PRIMARY).save(buffer, format="PNG")
    return buffer.getvalue()


def by_id(element_id: str) -> str:
    """A selector for an id holding dots (the settings pages name fields by their manifest path)."""
    return f'[id="{element_id}"]'


class Steps:
    """Times each step of the path; screenshots go to ``shots`` when given."""

    def __init__(self, shots: Path | None):
        self.shots, self.times, self._last = shots, {}, time.perf_counter()

    def done(self, name: str, page=None) -> None:
        now = time.perf_counter()
        self.times[name] = now - self._last
        if self.shots is not None and page is not None:
            page.screenshot(path=self.shots / f"launch-{len(self.times)}-{name}.png", full_page=True)
        self._last = time.perf_counter()  # screenshots are for the docs, not part of the measured path


def launch(
    browser,
    port: int,
    operator: tuple[str, str, str],
    code_for: Callable[[str], str],
    shots: Path | None = None,
) -> dict[str, float]:
    """Walk the launch path; ``operator`` is (login, password, TOTP secret), ``code_for(phone)`` the SMS code a
    phone received. Returns seconds per step (and ``total``)."""
    steps = Steps(shots)
    start = time.perf_counter()
    console = f"http://operator.localhost:{port}"
    site = f"http://{HOST}:{port}"

    # The operator signs in with a second factor.
    desk = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    login, password, secret = operator
    desk.goto(f"{console}/operator/login")
    desk.fill("#login", login)
    desk.fill("#password", password)
    desk.click("form:has(#login) button[type=submit]")
    desk.wait_for_url("**/operator/login/verify")
    desk.fill("#code", pyotp.TOTP(secret).now())
    desk.click("form:has(#code) button[type=submit]")
    desk.wait_for_url(f"{console}/operator")
    steps.done("operator-signs-in", desk)

    # One form creates the site.
    desk.goto(f"{console}/operator/tenants/new")
    desk.fill("#slug", SLUG)
    for box in desk.query_selector_all("input[name=locales]"):
        box.set_checked(box.get_attribute("value") in ("en", "zh_Hans"))
    desk.select_option("#default_locale", "en")
    desk.fill("#site_title_en", SITE_TITLE)
    if desk.query_selector("#site_title_zh_Hans"):
        desk.fill("#site_title_zh_Hans", "新星借贷")
    desk.fill("#hosts", HOST)
    desk.fill("#currency", "USD")
    desk.fill("#timezone", "America/New_York")
    desk.select_option("#theme", "classic")
    for box in desk.query_selector_all("input[name=plugins]"):
        box.set_checked(box.get_attribute("value") in PLUGINS)
    desk.fill("#admin_login", "nova-admin")
    desk.fill("#admin_email", "admin@nova.example")
    steps.done("operator-fills-the-form", desk)
    desk.click("form:has(#slug) button[type=submit]")
    desk.wait_for_selector("a.welcome-link")
    welcome = desk.get_attribute("a.welcome-link", "href")
    admin_secret = desk.inner_text("code.secret").replace(" ", "")
    steps.done("the-site-is-live", desk)

    # The new administrator chooses a password, proving the authenticator with a code.
    admin = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}).new_page()
    admin.goto(welcome)
    admin.fill("#password", PASSWORD)
    admin.fill("#confirm", PASSWORD)
    admin.fill("#code", pyotp.TOTP(admin_secret).now())
    admin.click("form:has(#confirm) button[type=submit]")
    admin.wait_for_url(f"{site}/admin")
    steps.done("administrator-signs-in", admin)

    # Branding: a logo, the colours, the footer.
    admin.goto(f"{site}/admin/settings/branding")
    admin.set_input_files(
        by_id("branding.logo"), files=[{"name": "logo.png", "mimeType": "image/png", "buffer": logo_png()}]
    )
    admin.fill(by_id("branding.primary_color"), PRIMARY)
    admin.fill(by_id("branding.accent_color"), ACCENT)
    admin.fill(by_id("branding.footer_text.en"), FOOTER)
    admin.fill(by_id("branding.company_name.en"), "Nova Lending LLC")
    admin.click(f"form:has({by_id('branding.primary_color')}) button[type=submit]")
    admin.wait_for_load_state()
    steps.done("administrator-sets-the-brand", admin)

    # A calculator for the visitors.
    admin.goto(f"{site}/admin/settings/plugins")
    admin.click(f"tr[data-plugin='{CALCULATOR}'] button[value=enable]")
    admin.wait_for_selector(f"tr[data-plugin='{CALCULATOR}'] button[value=disable]")
    steps.done("administrator-turns-a-calculator-on", admin)

    # A visitor registers and sees the brand.
    visitor = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}).new_page()
    visitor.goto(f"{site}/register")
    visitor.fill("#phone", VISITOR_PHONE)
    visitor.click("button[value=send_code]")
    visitor.fill("#code", code_for(VISITOR_PHONE))
    visitor.fill("#password", PASSWORD)
    visitor.fill("#confirm", PASSWORD)
    visitor.click("button[value=register]")
    visitor.wait_for_url(f"{site}/account")
    visitor.goto(f"{site}/")
    steps.done("a-visitor-registers", visitor)
    steps.times["total"] = time.perf_counter() - start
    for context in (desk.context, admin.context, visitor.context):
        context.close()
    return steps.times
