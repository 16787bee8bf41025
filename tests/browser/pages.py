"""What the layout and contrast browser tests share: a tenant with something on every page, signed-in
browser pages for a member and an administrator, and the checks evaluated inside the page."""

import pyotp

from core.audit import record_cli
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import PASSWORD

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LOCALES = {"demo": "zh-TW", "acme": "en-US"}
PEOPLE = {  # slug: (lender phone, borrower phone, lender id number, borrower id number)
    "demo": ("13800138901", "13800138902", None, None),
    "acme": ("+12025550191", "+12025550192", "X2345678", "X2345679"),
}


def url(port, slug, path):
    return f"http://{slug}.localhost:{port}{path}"


def arrange(db, slug) -> dict:
    """A lender with funds, a borrower with a loan open for bids and one repaying, an administrator."""
    lender_phone, borrower_phone, lender_id, borrower_id = PEOPLE[slug]
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        hooks = db.registry["plugins"].for_tenant(tenant)
        lender = factories.member(
            session,
            tenant,
            lender_phone,
            name="陳大文" if slug == "demo" else "Dana Chen",
            id_number=lender_id,
            balance=5_000_000,
        )
        borrower = factories.member(
            session,
            tenant,
            borrower_phone,
            name="林小華" if slug == "demo" else "Lee Lin",
            id_number=borrower_id,
            credit_line=5_000_000,
        )
        open_loan = factories.loan(session, tenant, hooks, borrower, "bidding", title="小店週轉資金 · shop stock")
        repaying = factories.loan(
            session, tenant, hooks, borrower, "repaying", lenders=[lender], title="設備更新借款 · equipment"
        )
        secret = factories.staff(session, tenant, "layout-admin", "administrator")
        # an audit entry as long as real ones get: a loan's whole state before and after a decision
        state = {
            "status": "submitted",
            "amount": open_loan.amount,
            "title": open_loan.title,
            "annual_rate_percent": "12",
            "term_months": 12,
            "repayment_method": "equal_installment",
        }
        record_cli(
            session,
            "loan.review",
            "loan",
            open_loan.id,
            before=state,
            after={
                **state,
                "status": "bidding",
                "reason": "borrower verified, income documents checked, credit grade A",
            },
            tenant_id=tenant.id,
            actor="staff:1:layout-admin",
        )
        return {
            "lender_phone": lender_phone,
            "lender_id": lender.id,
            "open_number": open_loan.number,
            "open_id": open_loan.id,
            "repaying_id": repaying.id,
            "secret": secret,
        }


def member_page(browser, port, slug, phone):
    """A member signed in through the sign-in page, in the tenant's own language, at desktop size."""
    page = browser.new_context(locale=LOCALES[slug], viewport=VIEWPORTS["desktop"]).new_page()
    page.goto(url(port, slug, "/login"))
    page.fill("#login", phone)
    page.fill("#password", PASSWORD)
    page.click("form:has(#login) button[type=submit]")
    page.wait_for_url(url(port, slug, "/account"))
    return page


def admin_page(browser, port, slug, secret):
    """The administrator signed in with password and two-factor code, at desktop size."""
    page = browser.new_context(locale=LOCALES[slug], viewport=VIEWPORTS["desktop"]).new_page()
    page.goto(url(port, slug, "/admin/login"))
    page.fill("#login", "layout-admin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/login/verify")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(url(port, slug, "/admin"))
    return page


def visitor_page(browser, slug):
    return browser.new_context(locale=LOCALES[slug], viewport=VIEWPORTS["desktop"]).new_page()


def links(page, selector) -> list[str]:
    """The same-site paths the links matching ``selector`` lead to, in order, once each."""
    hrefs = page.eval_on_selector_all(selector, "els => els.map(a => a.pathname + a.search)")
    return list(dict.fromkeys(hrefs))


OVERFLOW = """() => {
  // What sticks out at this viewport: the page itself, any card or panel, and any element outside a scroller.
  const width = document.documentElement.clientWidth;
  const found = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  if (document.documentElement.scrollWidth > width) {
    found.push('page is ' + document.documentElement.scrollWidth + 'px wide');
  }
  const scrolls = el => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (p !== document.body && p !== document.documentElement && x !== 'visible') { return p; }
    }
    return null;
  };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || el.closest('details:not([open]) > :not(summary)')) { continue; }
    const card = el.matches('.card, .panel, form.stacked, form.calculator, .confirm, .hero');
    const scroller = scrolls(el);
    if (card && (r.right > width + 1 || r.left < -1)) {
      found.push(name(el) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right));
    } else if (!scroller && r.right > width + 1 && el.matches('table, img, pre, form, input, select, textarea, dl, ul, section, div, p')) {
      found.push(name(el) + ' reaches ' + Math.round(r.right));
    } else if (scroller && el.tagName === 'TABLE' && !scroller.closest('.table-wrap') && r.right > scroller.getBoundingClientRect().right + 1) {
      found.push(name(el) + ' is cut off in ' + name(scroller));
    }
    if (found.length > 8) { break; }
  }
  return found;
}"""


CONTRAST = """(selector) => {
  // WCAG 2 contrast of each visible link and button against the background actually behind it.
  const rgba = text => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) { return null; }
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => {
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]);
  };
  const background = el => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const style = getComputedStyle(n);
      if (style.backgroundImage !== 'none' && !style.backgroundImage.startsWith('url(')) { return null; }
      const colour = rgba(style.backgroundColor);
      if (colour && colour[3] > 0) { layers.push(colour); if (colour[3] >= 1) { break; } }
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
  };
  const luminance = c => {
    const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const found = [];
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!r.width || !r.height || style.visibility === 'hidden' || !el.innerText.trim()) { continue; }
    const behind = background(el);
    if (!behind) { found.push({element: el.outerHTML.slice(0, 80), problem: 'background image'}); continue; }
    const text = over(rgba(style.color), behind);
    const [hi, lo] = [luminance(text), luminance(behind)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && parseInt(style.fontWeight, 10) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      found.push({element: el.outerHTML.slice(0, 100), text: el.innerText.trim().slice(0, 30),
                  colour: style.color, background: 'rgb(' + behind.slice(0, 3).map(Math.round).join(',') + ')',
                  ratio: Math.round(ratio * 100) / 100});
    }
  }
  return found;
}"""


BOXES = """() => {
  // Cards inside cards inside cards, and a lone card using half the width beside empty space (desktop).
  const boxed = el => { const s = getComputedStyle(el); return parseFloat(s.borderTopWidth) > 0 &&
    parseFloat(s.borderLeftWidth) > 0 && s.borderTopStyle !== 'none'; };
  const boxes = [...document.querySelectorAll('main *')].filter(el => el.getBoundingClientRect().height > 40 &&
    !el.matches('input, select, textarea, button, a, img, table, thead, tbody, tr, td, th, li, progress') && boxed(el));
  const found = [];
  const header = document.querySelector('.site-header');
  if (header && header.getBoundingClientRect().height > 90) {
    found.push('the header wraps to ' + Math.round(header.getBoundingClientRect().height) + 'px');
  }
  for (const el of boxes) {
    let depth = 1;
    for (let p = el.parentElement; p && p.tagName !== 'MAIN'; p = p.parentElement) { if (boxes.includes(p)) { depth++; } }
    if (depth > 2) { found.push(el.tagName.toLowerCase() + '.' + el.className + ' is a card in a card in a card'); }
  }
  for (const el of document.querySelectorAll('main .panel')) {
    const parent = el.parentElement.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    const beside = [...el.parentElement.children].some(s => s !== el && s.getBoundingClientRect().height &&
      s.getBoundingClientRect().top < r.bottom && s.getBoundingClientRect().bottom > r.top);
    if (r.width < parent.width * 0.6 && !beside) {
      found.push(el.tagName.toLowerCase() + '.' + el.className + ' uses ' + Math.round(r.width) + ' of ' +
                 Math.round(parent.width) + 'px with nothing beside it');
    }
  }
  return found;
}"""


FORMS = """() => {
  // Forms as a newcomer expects them: a checkbox small and beside its label's text (in normal weight), every
  // control and text inside its card (or scrolling inside a .table-wrap), no text running out of its box, a
  // term beside or above its value, and a colour picker beside its text field.
  const found = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
    !el.closest('details:not([open]) > :not(summary)') && getComputedStyle(el).visibility !== 'hidden'; };
  const words = el => (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
  const scrollerBetween = (el, top) => {
    for (let p = el.parentElement; p && p !== top; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') { return p; }
    }
    return null;
  };
  for (const box of document.querySelectorAll('main input[type=checkbox], main input[type=radio]')) {
    if (!shown(box)) { continue; }
    const b = box.getBoundingClientRect();
    if (b.width > 32) { found.push(name(box) + ' is stretched to ' + Math.round(b.width) + 'px'); }
    const label = box.closest('label') || (box.id ? document.querySelector('label[for="' + CSS.escape(box.id) + '"]') : null);
    if (!label) { continue; }
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT,
      {acceptNode: n => n.textContent.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT});
    const text = walker.nextNode();
    if (!text) { continue; }
    const range = document.createRange();
    range.selectNodeContents(text);
    const t = [...range.getClientRects()].find(r => r.width > 0);
    if (!t) { continue; }
    const middle = (t.top + t.bottom) / 2;
    if (middle < b.top - 3 || middle > b.bottom + 3 || t.left < b.right - 1 || t.left > b.right + 24) {
      found.push('the box of "' + words(label) + '" is not beside its text');
    }
    if (parseInt(getComputedStyle(label).fontWeight, 10) >= 600) { found.push('"' + words(label) + '" is bold'); }
  }
  const cards = '.panel, .card, form.stacked, form.calculator, fieldset, .confirm, .settings-links li';
  const reported = new Set();
  for (const el of document.querySelectorAll('main *')) {
    if (found.length > 12) { break; }
    if (reported.has(el.parentElement)) { reported.add(el); continue; }
    if (!shown(el) || (el.closest('svg') && el.tagName.toLowerCase() !== 'svg')) { continue; }
    const card = el.parentElement && el.parentElement.closest(cards);
    if (card && card.closest('main') && !scrollerBetween(el, card)) {
      const r = el.getBoundingClientRect(), c = card.getBoundingClientRect();
      if (r.right > c.right + 1 || r.left < c.left - 1) {
        found.push(name(el) + ' "' + words(el) + '" sticks out of ' + name(card) + ' by ' +
                   Math.round(Math.max(r.right - c.right, c.left - r.left)) + 'px');
        reported.add(el);
        continue;
      }
    }
    const s = getComputedStyle(el);
    if (s.overflowX === 'visible' && !scrollerBetween(el, document.querySelector('main')) &&
        ['block', 'list-item', 'flex', 'grid', 'inline-block', 'table-cell'].includes(s.display) &&
        el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      found.push(name(el) + ' "' + words(el) + '" runs ' + (el.scrollWidth - el.clientWidth) + 'px out of its box');
      reported.add(el);
    }
  }
  for (const term of document.querySelectorAll('main dt')) {
    const value = term.nextElementSibling;
    if (!value || value.tagName !== 'DD' || !shown(term) || !shown(value)) { continue; }
    const a = term.getBoundingClientRect(), b = value.getBoundingClientRect();
    const beside = b.top < a.bottom && b.bottom > a.top && b.left >= a.right - 1;
    const under = b.top >= a.bottom - 1 && b.left < a.right && b.right > a.left;
    if (!beside && !under) { found.push('"' + words(term) + '" is apart from its value "' + words(value) + '"'); }
  }
  for (const picker of document.querySelectorAll('main input[type=color]')) {
    const field = picker.parentElement.querySelector('input:not([type=color]):not([type=hidden])');
    if (!field || !shown(picker)) { continue; }
    const a = picker.getBoundingClientRect(), b = field.getBoundingClientRect();
    if (a.bottom <= b.top || b.bottom <= a.top) { found.push('the colour picker of ' + name(field) + ' is not beside it'); }
  }
  return found;
}"""

# Everything a person reads on a back-office or console page, for the contrast check.
READABLE = (
    ".sidebar a, .sidebar h2, .topbar h1, .topbar span, .topbar button, main a, main button, main .button, "
    "main summary, main label, main legend, main th, main td, main p, main li, main dt, main dd, main small, "
    "main strong, main span, main h2, main h3, main code"
)
