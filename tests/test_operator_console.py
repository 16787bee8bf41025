"""The operator console launches and runs tenants from the browser: create one from one form with its first
administrator, edit, archive and restore it, download and upload its manifest, read its usage and the
operators' audit log. Every refusal names its field and changes nothing."""

import hashlib
import re
import tomllib
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa
from webtest import Upload

from core.accounts.models import AuditEvent, Role, StaffUser
from core.accounts.welcome import WelcomeToken
from core.db import scope_to_tenant
from core.ledger import Ledger, Wallet
from core.loans.models import Loan
from core.members.models import Member, MemberDocument
from core.tenancy.models import Tenant, TenantVersion
from core.tenancy.services import tenant_by_slug
from core.uploads import TenantFile
from tests.helpers import PASSWORD
from tests.test_operator_2fa import operator_client
from tests.test_readable_backoffice import problems, visible_text

OPERATOR = "operator.localhost"
NOVA = {
    "slug": "nova",
    "site_title_en": "Nova Lending",
    "site_title_zh_Hans": "新星借贷",
    "site_title_zh_Hant": "not one of its languages",
    "hosts": "nova.localhost\nwww.nova.localhost",
    "currency": "USD",
    "locales": ["en", "zh_Hans"],
    "default_locale": "en",
    "timezone": "America/New_York",
    "theme": "classic",
    "plugins": ["payments.sandbox", "loan_types.credit", "loan_types.guaranteed", "tools.equal_installment"],
    "business_date": "2027-01-04",
    "admin_login": "nova-admin",
    "admin_email": "admin@nova.example",
}


@pytest.fixture
def console(wsgi_app, db, tenants):
    return operator_client(wsgi_app, db)[0]


def post_form(client, path, values, status="*", button=None):
    """Fill the console form at ``path`` (the one with a CSRF token and these fields) and send it."""
    page = client.get(OPERATOR, path)
    form = next(f for f in page.forms.values() if "csrf_token" in f.fields and all(name in f.fields for name in values))
    for name, value in values.items():
        form[name] = value
    return form.submit(button, extra_environ={"HTTP_HOST": OPERATOR}, status=status)


def create(client, status=200, **changes):
    return post_form(client, "/operator/tenants/new", {**NOVA, **changes}, status=status)


def counts(db) -> dict:
    with db.transaction() as session:
        return {
            model.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Tenant, StaffUser, WelcomeToken, TenantVersion, Role)
        }


def marked(page, name) -> bool:
    """Whether the form's input ``name`` is flagged invalid with a message beside it."""
    field = page.html.find(attrs={"name": name})
    return field is not None and field.get("aria-invalid") == "true"


# -- creating a tenant -----------------------------------------------------------------------------------------------


def test_one_form_makes_a_live_site_with_its_first_administrator(console, db, client):
    before = counts(db)
    page = create(console)
    link = page.html.select_one("a.welcome-link")["href"]
    assert re.fullmatch(r"http://nova\.localhost/admin/welcome/[\w-]{40,}", link)
    assert "<svg" in page.text and page.html.select_one("code.secret").text.strip()
    assert "password" not in visible_text(page.text)[0].lower()
    after = counts(db)
    assert after["tenants"] == before["tenants"] + 1 and after["staff_users"] == before["staff_users"] + 1
    assert after["tenant_versions"] == before["tenant_versions"] + 1
    with db.transaction() as session:
        nova = tenant_by_slug(session, "nova")
        assert (nova.name, nova.currency, nova.theme, nova.timezone) == (
            "Nova Lending",
            "USD",
            "classic",
            "America/New_York",
        )
        assert (nova.locales, nova.default_locale) == (["en", "zh_Hans"], "en")
        assert nova.branding["site_title"] == {"en": "Nova Lending", "zh_Hans": "新星借贷"}
        assert sorted(h.host for h in nova.hosts) == ["nova.localhost", "www.nova.localhost"]
        assert set(NOVA["plugins"]) <= nova.enabled_plugin_ids
        assert len(nova.plugin_settings("payments.sandbox")["secret"]) >= 16  # made up: left blank in the form
        assert nova.business_date.isoformat() == "2027-01-04"
        admin = session.scalars(sa.select(StaffUser).where(StaffUser.tenant_id == nova.id)).one()
        assert admin.login == "nova-admin" and [r.code for r in admin.roles] == ["administrator"]
        assert admin.totp_secret == page.html.select_one("code.secret").text.strip()
        welcome = session.scalars(sa.select(WelcomeToken).where(WelcomeToken.staff_id == admin.id)).one()
        token = link.rsplit("/", 1)[1]
        assert welcome.token_hash == hashlib.sha256(token.encode()).hexdigest() and welcome.used_at is None
        assert welcome.email == "admin@nova.example"
        assert (welcome.expires_at - welcome.created_at).total_seconds() == 72 * 3600
        assert {r.code for r in session.scalars(sa.select(Role).where(Role.tenant_id == nova.id))} >= {
            "administrator",
            "cashier",
        }
        actions = session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.tenant_id == nova.id)
            .order_by(AuditEvent.id)
        ).all()
        assert [a for a, _ in actions] == ["tenant.create", "staff.create"]
        assert all(actor.startswith("operator:") and actor.endswith(":root") for _, actor in actions)
    # live at once, on every host, in its own language
    assert "Nova Lending" in client.get("nova.localhost", "/").text
    assert "新星借贷" in client.get("www.nova.localhost", "/?_LOCALE_=zh_Hans").text


REFUSALS = [
    ({"hosts": "nova.localhost\ndemo.localhost"}, "hosts", "already serves"),
    ({"hosts": "nova.localhost:8080"}, "hosts", "not a host name"),
    ({"hosts": "operator.localhost"}, "hosts", "operator console"),
    ({"hosts": "nova.localhost\nnova.localhost"}, "hosts", "twice"),
    ({"slug": "demo"}, "slug", None),
    ({"slug": "Nova Lending"}, "slug", None),
    ({"currency": "XYZ"}, "currency", "unknown currency"),
    ({"locales": [], "default_locale": "en"}, "locales", None),
    ({"site_title_en": ""}, "site_title_en", None),
    ({"timezone": "Mars/Olympus"}, "timezone", "time zone"),
    ({"admin_login": "A"}, "admin_login", None),
    ({"admin_email": "not an address"}, "admin_email", None),
    ({"settings:payments.sandbox": "secret = short"}, "settings:payments.sandbox", "short"),
    ({"settings:payments.sandbox": "no equals sign here"}, "settings:payments.sandbox", None),
]


@pytest.mark.parametrize(("changes", "field", "said"), REFUSALS, ids=[f"{r[1]}-{i}" for i, r in enumerate(REFUSALS)])
def test_a_refused_form_names_the_field_and_creates_nothing(console, db, client, changes, field, said):
    before = counts(db)
    page = create(console, status=400, **changes)
    assert marked(page, field), page.text
    if said:
        assert said in page.text
    assert page.html.find(attrs={"name": "slug"})["value"] == changes.get("slug", "nova")  # typed values kept
    assert counts(db) == before
    client.get("nova.localhost", "/", status=404)


def test_an_administrator_refused_after_the_tenant_was_applied_leaves_no_tenant(console, db):
    """The manifest applied, then the login was refused: the one transaction takes the tenant back too."""
    before = counts(db)
    create(console, status=400, admin_login="-bad-")
    assert counts(db) == before


# -- editing, archiving, restoring ---------------------------------------------------------------------------------


def test_editing_hosts_languages_theme_and_plugins_goes_through_the_manifest(console, db, client):
    create(console)
    done = post_form(
        console,
        "/operator/tenants/nova/edit",
        {
            "hosts": "nova.localhost\nloans.nova.localhost",
            "locales": ["en"],
            "default_locale": "en",
            "theme": "default",
            "plugins": ["payments.sandbox", "loan_types.credit", "tools.equal_installment"],
        },
        status=303,
    )
    assert done.location.endswith("/operator/tenants/nova?saved=6") or "/operator/tenants/nova?saved=" in done.location
    with db.transaction() as session:
        nova = tenant_by_slug(session, "nova")
        assert sorted(h.host for h in nova.hosts) == ["loans.nova.localhost", "nova.localhost"]
        assert nova.locales == ["en"] and nova.theme == "default"
        assert nova.branding["site_title"] == {"en": "Nova Lending"}  # the dropped language's text went with it
        assert "loan_types.guaranteed" not in nova.enabled_plugin_ids
        edit = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "tenant.edit")).one()
        assert edit.before["theme"] == "classic" and edit.after["theme"] == "default"
        assert edit.before["locales"] == ["en", "zh_Hans"] and edit.after["locales"] == ["en"]
        assert session.scalar(sa.select(sa.func.count()).where(TenantVersion.tenant_id == nova.id)) == 2
    client.get("loans.nova.localhost", "/", status=200)
    client.get("www.nova.localhost", "/", status=404)
    page = console.get(OPERATOR, "/operator/tenants/nova/edit")
    assert not page.html.find("input", attrs={"value": "loan_types.guaranteed"}).has_attr("checked")


def test_an_edit_taking_another_sites_host_is_refused_and_changes_nothing(console, db, client):
    create(console)
    page = post_form(console, "/operator/tenants/nova/edit", {"hosts": "nova.localhost\ndemo.localhost"}, status=400)
    assert marked(page, "hosts") and "already serves" in page.text
    with db.transaction() as session:
        assert sorted(h.host for h in tenant_by_slug(session, "nova").hosts) == ["nova.localhost", "www.nova.localhost"]
        assert session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "tenant.edit")) == 0
    assert "Nova" in client.get("www.nova.localhost", "/").text
    client.get(OPERATOR, "/operator/tenants/nova/edit", status=302)  # and nobody else may even look


def test_archive_needs_the_typed_slug_then_the_site_answers_410_until_restored(console, db, client):
    create(console)
    wrong = post_form(console, "/operator/tenants/nova", {"confirm": "demo"}, status=400)
    assert marked(wrong, "confirm")
    client.get("nova.localhost", "/", status=200)
    post_form(console, "/operator/tenants/nova", {"confirm": "nova"}, status=303)
    client.get("nova.localhost", "/", status=410)
    client.get("nova.localhost", "/admin/login", status=410)
    listing = console.get(OPERATOR, "/operator?_LOCALE_=en")
    row = listing.html.find("tr", attrs={"data-tenant": "nova"})
    assert "Archived" in row.text and row.find("form") is None  # no suspend or resume: restore it first
    refused = console.post(
        OPERATOR,
        "/operator/tenants/nova/status",
        {"csrf_token": csrf(console), "status": "active"},
        status=400,
    )
    assert "restore it first" in refused.text
    page = console.get(OPERATOR, "/operator/tenants/nova")
    restore = next(f for f in page.forms.values() if f.action.endswith("/restore"))
    restore.submit(extra_environ={"HTTP_HOST": OPERATOR}, status=303)
    client.get("nova.localhost", "/", status=200)
    with db.transaction() as session:
        rows = session.execute(
            sa.select(AuditEvent.action, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.action.in_(("tenant.archived", "tenant.restored")))
            .order_by(AuditEvent.id)
        ).all()
    assert rows == [
        ("tenant.archived", {"status": "active"}, {"status": "archived"}),
        ("tenant.restored", {"status": "archived"}, {"status": "active"}),
    ]


def csrf(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(OPERATOR, "/operator").text).group(1)


# -- the manifest round trip -----------------------------------------------------------------------------------------


def test_a_downloaded_manifest_holds_the_secrets_and_uploads_back_as_no_change(console, db):
    create(console)
    download = console.get(OPERATOR, "/operator/tenants/nova/manifest.toml")
    assert download.headers["Content-Disposition"] == 'attachment; filename="nova.toml"'
    data = tomllib.loads(download.text)
    with db.transaction() as session:
        secret = tenant_by_slug(session, "nova").plugin_settings("payments.sandbox")["secret"]
        assert session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "tenant.export")) == 1
    assert data["slug"] == "nova" and data["plugins"]["payments.sandbox"]["secret"] == secret
    preview = upload(console, download.text)
    assert "changes nothing" in preview.text


def upload(client, text, status=200):
    page = client.get(OPERATOR, "/operator/upload")
    form = next(f for f in page.forms.values() if "text" in f.fields)
    form["text"] = text
    return form.submit(extra_environ={"HTTP_HOST": OPERATOR}, status=status)


def test_an_upload_shows_its_changes_then_applies_them_when_confirmed(console, db, client):
    create(console)
    text = console.get(OPERATOR, "/operator/tenants/nova/manifest.toml").text
    changed = text.replace('en = "Nova Lending"', 'en = "Nova Loans"').replace('"www.nova.localhost"', '"n.localhost"')
    preview = upload(console, changed)
    rows = {row["data-path"]: [td.text for td in row.find_all("td")] for row in preview.html.select("tr[data-path]")}
    assert rows["branding.site_title.en"][1:] == ["Nova Lending", "Nova Loans"]
    assert rows["hosts"][1:] == ["nova.localhost, www.nova.localhost", "n.localhost, nova.localhost"]
    with db.transaction() as session:
        assert tenant_by_slug(session, "nova").brand("site_title", locale="en") == "Nova Lending"  # not yet
    confirm = next(f for f in preview.forms.values() if "confirm" in f.fields)
    confirm.submit("confirm", extra_environ={"HTTP_HOST": OPERATOR}, status=303)
    with db.transaction() as session:
        assert tenant_by_slug(session, "nova").brand("site_title", locale="en") == "Nova Loans"
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "tenant.upload")).one()
        assert event.after["branding.site_title.en"] == "Nova Loans"
    client.get("n.localhost", "/", status=200)


def test_an_uploaded_file_can_create_a_tenant(console, db, client):
    text = console.get(OPERATOR, "/operator/tenants/acme/manifest.toml").text
    text = text.replace('slug = "acme"', 'slug = "acme-two"').replace("acme.localhost", "acme2.localhost")
    text = re.sub(r"hosts = \[[^\]]*\]", 'hosts = ["acme2.localhost"]', text)
    before = counts(db)["tenants"]
    page = console.get(OPERATOR, "/operator/upload")
    form = next(f for f in page.forms.values() if "file" in f.fields)
    form["file"] = Upload("acme-two.toml", text.encode(), "application/toml")
    preview = form.submit(extra_environ={"HTTP_HOST": OPERATOR}, status=200)
    assert "A new site" in preview.text
    confirm = next(f for f in preview.forms.values() if "confirm" in f.fields)
    confirm.submit("confirm", extra_environ={"HTTP_HOST": OPERATOR}, status=303)
    assert counts(db)["tenants"] == before + 1
    client.get("acme2.localhost", "/", status=200)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('slug = "nova"\nname = [unclosed', "not valid TOML"),
        ("", "Choose a manifest file"),
        ('slug = "x2"\nname = "X"\nlocales = ["en"]\ncurrency = "USD"\nhosts = ["demo.localhost"]\n', "already serves"),
        ('slug = "x2"\nname = "X"\nlocales = ["en"]\ncurrency = "XYZ"\nhosts = ["x2.localhost"]\n', "currency"),
    ],
    ids=["bad-toml", "empty", "taken-host", "unknown-currency"],
)
def test_a_bad_upload_is_refused_and_changes_nothing(console, db, text, said):
    before = counts(db)
    page = upload(console, text, status=400)
    assert said in page.text
    assert counts(db) == before
    # and confirming it anyway (the hidden text sent by hand) is refused the same way
    console.post(OPERATOR, "/operator/upload", {"csrf_token": csrf(console), "text": text, "confirm": "1"}, status=400)
    assert counts(db) == before


# -- usage and the audit log -----------------------------------------------------------------------------------------


def test_the_usage_page_counts_what_the_tenant_holds(console, db, wsgi_app, plugins):
    from tenants.demo_seed import seed

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        seed(session, demo, plugins, wsgi_app.registry.settings_obj, password=PASSWORD)
        seeded = sum(  # the demo's own files (content covers …) before this test's
            session.scalar(sa.select(sa.func.coalesce(sa.func.sum(model.size), 0)).where(model.tenant_id == demo.id))
            for model in (MemberDocument, TenantFile)
        )
        member_id = session.scalars(sa.select(Member.id)).first()
        session.add_all(
            MemberDocument(
                tenant_id=demo.id,
                member_id=member_id,
                kind="other",
                filename=f"scan{i}.png",
                content_type="image/png",
                size=786_432,
                storage_key=f"usage-test-{i}",
            )
            for i in range(2)
        )
        session.add(
            TenantFile(
                tenant_id=demo.id, key="f" * 32, ext="png", content_type="image/png", size=524_288, purpose="logo"
            )
        )
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        members = session.scalars(sa.select(Member)).all()
        ledger = Ledger(session, demo.id)
        held = sum((lambda f: f.available + f.frozen)(Wallet(ledger, m.id, "CNY").funds()) for m in members)
        statuses = {}
        for loan in session.scalars(sa.select(Loan)):
            statuses[loan.status] = statuses.get(loan.status, 0) + 1
        staff = session.scalar(sa.select(sa.func.count()).select_from(StaffUser).where(StaffUser.active))
    page = console.get(OPERATOR, "/operator/tenants/demo?_LOCALE_=en")
    usage = {dd["data-usage"]: dd.text.strip() for dd in page.html.select("dd[data-usage]")}
    assert usage["members"] == f"{len(members):,}" and usage["staff"] == f"{staff:,}"
    assert held > 0 and usage["funds"] == f"¥{held // 100:,}.{held % 100:02d}".replace("¥", "CN¥")
    # two documents of 768 KB and a logo of 512 KB beside the demo's files, in MB to a tenth, half up
    tenths = (Decimal(seeded + 2 * 786_432 + 524_288) / 1024**2).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert usage["storage"] == f"{tenths.normalize():f} MB"
    assert usage["last-close"] != "Not run yet"
    rows = {tr["data-status"]: tr.find_all("td") for tr in page.html.select("tr[data-status]")}
    assert {status: int(cells[1].text.replace(",", "")) for status, cells in rows.items()} == statuses
    assert rows["repaying"][0].text == "Repaying"  # a label, not the code
    assert problems(visible_text(page.text), "en") == []


def test_the_audit_log_tells_what_operators_did_newest_first(console, db):
    create(console)
    post_form(console, "/operator/tenants/nova", {"confirm": "nova"}, status=303)
    page = console.get(OPERATOR, "/operator/audit?_LOCALE_=en")
    rows = page.html.select("tr[data-action]")
    actions = [row["data-action"] for row in rows]
    assert actions[:4] == ["tenant.archived", "staff.create", "tenant.create", "sign_in"]
    archived = rows[0].find_all("td")
    assert archived[1].text.strip() == "Nova Lending"
    assert archived[2].text.strip() == "root (Operator) archived site Nova Lending (nova)"
    assert archived[3].text.strip() == "Status: Open → Archived"
    created = rows[2].find_all("td")[3].text
    assert "Hosts: nova.localhost, www.nova.localhost" in created and "Languages: English, 简体中文" in created
    assert problems(visible_text(page.text), "en") == []


def test_the_console_pages_name_things_in_words(console, db):
    create(console)
    for path in ("/operator", "/operator/tenants/new", "/operator/upload", "/operator/audit", "/operator/tenants/nova"):
        page = console.get(OPERATOR, path + "?_LOCALE_=en")
        assert problems(visible_text(page.text), "en") == [], path
    preview = upload(console, console.get(OPERATOR, "/operator/tenants/nova/manifest.toml").text.replace("USD", "EUR"))
    assert problems(visible_text(preview.text), "en") == []
