"""Live help in a real browser: a visitor opens a chat, a staff member on duty accepts and answers in another
browser, and the answer appears on the visitor's page without a reload (chat.js's long-poll)."""

import re

from playwright.sync_api import expect

from core.accounts.services import create_staff
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD


def url(port, path, host="demo.localhost"):
    return f"http://{host}:{port}{path}"


def staff_on_duty(browser, port, db, login):
    with db.transaction() as session:
        create_staff(session, tenant_by_slug(session, "demo"), login, PASSWORD, "customer_service")
    page = browser.new_context(locale="zh-TW").new_page()
    page.goto(url(port, "/admin/login"))
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url(port, "/admin"))
    page.goto(url(port, "/admin/chat"))
    page.click("button[name=on_duty][value='1']")
    page.wait_for_url(url(port, "/admin/chat"))
    return page


def test_a_visitor_sees_the_staff_answer_without_reloading(browser, live_server, db, tenants, artifacts):
    staff = staff_on_duty(browser, live_server, db, "agent")
    visitor = browser.new_context(locale="zh-TW").new_page()
    visitor.goto(url(live_server, "/"))
    visitor.click("a[href='/chat']")  # "Live help" in the portal's menu
    visitor.fill("#name", "林小姐")
    visitor.fill("#body", "請問如何充值？")
    visitor.click("#chat-start button[type=submit]")
    visitor.wait_for_url(re.compile(r".*/chat/\d+$"))
    chat_path = visitor.url.split(str(live_server), 1)[1]
    visitor.evaluate("window.loadedOnce = true")  # gone if the page reloads

    staff.goto(url(live_server, "/admin/chat"))
    staff.click(f"a[href='/admin{chat_path}']")
    staff.click("form[action$='/accept'] button")
    staff.wait_for_selector("#chat-form")
    expect(visitor.locator("#chat-state [data-state=active]")).to_be_visible(timeout=5000)
    staff.fill("#body", "您好，<b>請到</b>「我的帳戶」充值。")
    staff.click("#chat-form button[type=submit]")

    answer = visitor.locator("#chat-log li.chat-staff .chat-text")
    expect(answer).to_have_text("您好，<b>請到</b>「我的帳戶」充值。", timeout=5000)  # text, never markup
    assert visitor.evaluate("window.loadedOnce") is True
    visitor.screenshot(path=str(artifacts / "visitor.png"), full_page=True)

    visitor.fill("#body", "謝謝！")
    visitor.click("#chat-form button[type=submit]")
    expect(staff.locator("#chat-log li.chat-visitor .chat-text").last).to_have_text("謝謝！", timeout=5000)
    expect(visitor.locator("#body")).to_have_value("")
    staff.screenshot(path=str(artifacts / "staff.png"), full_page=True)
    visitor.context.close()
    staff.context.close()
