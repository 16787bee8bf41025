"""Every portal page: labelled inputs, images with alt text, a language, and nothing loaded from elsewhere."""

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from core.community.boards import boards
from core.community.posting import start_topic
from core.content import review, services
from core.content.models import ContentItem
from core.content.sections import sections
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import member_client

PAGE_SLUGS = ("about", "security", "guide", "contact", "terms", "privacy", "loan-agreement", "lender-risk")
"""The built-in pages (core.content.defaults.PAGE_TEMPLATES); drafts (404) until a reviewer publishes them."""
PUBLISHED_PAGES = ("about", "security", "guide", "contact")
"""The built-in pages :func:`arrange` publishes (not the agreements: a new one asks members to accept it again)."""

CONTENT_LISTS = ("/news", "/media", "/industry", "/pages")
"""The built-in sections' lists (core.content.defaults.DEFAULT_SECTIONS)."""

PAGES = [
    "/",
    "/invest",
    "/borrow",
    "/borrow?type=credit",
    "/tools/equal_installment?principal=10000&annual_rate_percent=12&term_months=12",
    "/login",
    "/register",
    "/forgot",
    "/account",
    "/account/recharge",
    "/account/withdraw",
    "/account/cards",
    "/account/verification",
    "/account/funds",
    "/account/bids",
    "/account/calendar",
    "/account/loans",
    "/account/autoinvest",
    "/account/messages",
    "/account/security",
    "/account/password",
    "/account/profile",
    "/account/points",
    "/chat",
    "/account/chats",
    "/help",
    "/help/search?q=x",
    "/help/contact",
    "/community",
    "/community/search?q=x",
    "/account/posts",
    *CONTENT_LISTS,
    *(f"/pages/{slug}" for slug in PAGE_SLUGS),
]
"""Fixed addresses; the pages of what :func:`arrange` publishes are added per tenant. A 404 is a module the
tenant does not offer (or a built-in page it has not published), except for what :func:`arrange` made."""
REFERENCES = {"canonical", "alternate"}
"""``<link rel>`` values that name an address without the browser loading it."""
SIGNED_IN_TOO = ("/community",)
"""Pages checked signed out and again signed in as a member (who also sees forms: post, reply, report)."""


def problems(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    found = []
    if not soup.html or not soup.html.get("lang"):
        found.append("<html> without lang")
    labelled = {label.get("for") for label in soup.find_all("label") if label.get("for")}
    for field in soup.find_all(["input", "select", "textarea"]):
        if field.name == "input" and field.get("type") in ("hidden", "submit", "button"):
            continue
        if (
            field.get("id") in labelled
            or field.get("aria-label")
            or field.get("aria-labelledby")
            or field.find_parent("label") is not None
        ):
            continue
        found.append(f"unlabelled <{field.name} name={field.get('name')!r}>")
    for image in soup.find_all("img"):
        if image.get("alt") is None:
            found.append(f"<img src={image.get('src')!r}> without alt")
    for tag, attribute in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
        for element in soup.find_all(tag):
            if tag == "link" and set(element.get("rel") or ()) & REFERENCES:
                continue  # names an address (an item's canonical URL, a feed), loads nothing
            value = element.get(attribute) or ""
            if value.startswith(("http:", "https:", "//")):
                found.append(f"<{tag}> loads {value} from elsewhere")
    return found


def _published(item: ContentItem) -> None:
    for action in ("submit", "approve", "publish"):
        review.act(item, action, reviewer_id=None)


def publish_pages(session, tenant, slugs) -> None:
    """Publish the built-in pages ``slugs`` in the tenant's default language."""
    pages = session.scalars(
        sa.select(ContentItem).where(
            ContentItem.kind == "page", ContentItem.slug.in_(slugs), ContentItem.locale == tenant.default_locale
        )
    ).all()
    assert sorted(page.slug for page in pages) == sorted(slugs)
    for page in pages:
        _published(page)


def arrange(db, slug: str, author_phone: str) -> list[str]:
    """A published news and media item, the non-agreement built-in pages published, and a topic by another
    member than the one who reads the pages: their addresses."""
    with db.transaction() as session:
        tenant_id = tenant_by_slug(session, slug).id
    with db.transaction(tenant_id) as session:
        tenant = tenant_by_slug(session, slug)
        by_code = {section.code: section for section in sections(session, tenant)}
        editor = services.Editor(staff_id=None, actor="test")
        made = {}
        for code, form in (
            (
                "news",
                {"title": "平台三週年 · three years", "summary": "感謝 · thanks", "body": "## 回顧\n\n**三年**。"},
            ),
            (
                "media",
                {
                    "title": "媒體報道 · coverage",
                    "body": "報道摘要 · summary",
                    "link_url": "https://news.example.com/a",
                    "source": "財經日報",
                },
            ),
        ):
            item = services.save(session, tenant, db.registry.settings_obj, form, editor=editor, section=by_code[code])
            _published(item)
            made[code] = item.id
        publish_pages(session, tenant, PUBLISHED_PAGES)
        author = factories.member(
            session, tenant, author_phone, name="陳大文", id_number=None if slug == "demo" else "X7654300"
        )
        board = next(b for b in boards(session, tenant) if not b.staff_only)
        topic = start_topic(session, tenant, board, author, title="出借心得 · first loan", body="分散**小額**。")
        session.flush()
        return [
            f"/news/{made['news']}",
            f"/media/{made['media']}",
            *(f"/pages/{slug}" for slug in PUBLISHED_PAGES),
            f"/community/boards/{board.id}",
            f"/community/topics/{topic.id}",
        ]


@pytest.mark.parametrize("host", ["demo.localhost", "acme.localhost"])
def test_portal_pages_are_accessible_and_self_contained(wsgi_app, db, tenants, client, host):
    slug = host.split(".")[0]
    phone = "13800138900" if slug == "demo" else "+12025550177"
    member, _ = member_client(
        wsgi_app,
        db,
        phone,
        slug=slug,
        host=host,
        credit_line=1_000_000,
        id_number=None if slug == "demo" else "X1234567",
    )
    made = arrange(db, slug, "13800138903" if slug == "demo" else "+12025550178")
    visits = [(path, path.startswith("/account")) for path in dict.fromkeys([*PAGES, *made])]
    visits += [(path, True) for path, signed_in in list(visits) if not signed_in and path.startswith(SIGNED_IN_TOO)]
    checked = set()
    for path, signed_in in visits:
        reader = member if signed_in else client
        page = reader.app.get(path, headers={"Host": host}, expect_errors=True)
        if page.status_int == 404 and path not in made:
            continue  # a module the tenant does not offer, or a page it has not published
        assert page.status_int == 200, (path, page.status)
        assert problems(page.text) == [], (path, signed_in)
        checked.add(path)
    assert {*made, *CONTENT_LISTS, "/community", "/account/posts"} <= checked  # every tenant has these
    assert len(checked) >= 30
    # The agreements last: a newly published one asks members to accept it before going on; visitors just read it.
    with db.transaction() as session:
        tenant_id = tenant_by_slug(session, slug).id
    with db.transaction(tenant_id) as session:
        agreements = [page for page in PAGE_SLUGS if page not in PUBLISHED_PAGES]
        publish_pages(session, tenant_by_slug(session, slug), agreements)
    for page_slug in agreements:
        page = client.app.get(f"/pages/{page_slug}", headers={"Host": host})
        assert problems(page.text) == [], page_slug


def test_back_office_and_console_pages_are_accessible_and_self_contained(wsgi_app, db, tenants):
    """Every back-office page an administrator opens (settings, content, community, inbox, chat included) and every
    page of the operator console: a language, a label for each field, alt text, nothing loaded from elsewhere."""
    import pyotp

    from core.accounts.services import create_operator
    from tests.conftest import Client
    from tests.helpers import PASSWORD, staff_client, submit

    admin = staff_client(wsgi_app, db, "a11y-admin", "administrator")
    with db.transaction() as session:
        secret = create_operator(session, "a11y-operator", PASSWORD).totp_secret
    console = Client(wsgi_app)
    submit(
        console,
        "operator.localhost",
        console.get("operator.localhost", "/operator/login"),
        {"login": "a11y-operator", "password": PASSWORD},
        status=303,
    )
    page = console.get("operator.localhost", "/operator/login/verify")
    submit(console, "operator.localhost", page, {"code": pyotp.TOTP(secret).now()}, status=303)
    checked = []
    for route in wsgi_app.routes_mapper.get_routes():
        if "{" in route.pattern or not route.name.startswith(("admin.", "operator.")):
            continue
        host, reader = (
            ("operator.localhost", console) if route.name.startswith("operator.") else ("demo.localhost", admin)
        )
        page = reader.get(host, route.pattern, status="*")
        if page.status_int != 200 or page.content_type != "text/html":
            continue  # a POST-only address, a download, a sign-in page that sends a signed-in reader on
        assert problems(page.text) == [], route.pattern
        checked.append(route.pattern)
    assert {"/admin/settings/branding", "/admin/settings/plugins", "/admin/roles", "/operator/tenants/new"} <= set(
        checked
    )
    assert len(checked) >= 40
