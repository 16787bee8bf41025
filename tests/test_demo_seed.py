"""``lendstack demo seed``: a believable site on both demo tenants, seeded once, seen through the pages."""

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli import main
from tests.conftest import Database
from tests.helpers import staff_client, submit
from tests.test_cli_documented import fresh_database_url, ini, restore_jobs  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "a long enough password"
SITES = {"demo": ("demo.localhost", "¥"), "acme": ("acme.localhost", "$")}
TITLES = {  # per invest tab, a loan the seed made there
    "demo": {
        "bidding": "咖啡門市擴點資金",
        "review": "民宿客房翻新借款",
        "repaying": "貨車維修週轉金",
        "settled": "網店年貨備貨週轉",
    },
    "acme": {
        "bidding": "Florist spring stock",
        "review": "Guest house room refresh",
        "repaying": "Restaurant kitchen refit",
        "settled": "Holiday stock for an online shop",
    },
}
NEWS = {"demo": "示範站上線：歡迎體驗鼎信網貸", "acme": "Welcome to the Acme Lending demo"}


def lendstack(*args, expect=0):
    result = CliRunner().invoke(main, list(args), env={"LENDSTACK_PASSWORD": PASSWORD}, catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result.output


def counts(ini_path) -> dict:
    """Rows per table across the whole database: what a second seed must leave alone."""
    from pyramid.paster import get_appsettings

    from core.db import Base, make_engine

    engine = make_engine(get_appsettings(ini_path)["sqlalchemy.url"])
    try:
        with engine.connect() as conn:
            return {t.name: conn.scalar(sa.select(sa.func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


@pytest.fixture
def seeded(ini):  # noqa: F811 - the fixture imported above
    lendstack("db", "upgrade", "-c", ini)
    lendstack("tenant", "apply", "-c", ini, *sorted(str(p) for p in (ROOT / "tenants").glob("*.toml")))
    for slug in SITES:
        assert "business date now 2027-02-09" in lendstack("demo", "seed", "-c", ini, "--tenant", slug)
    return ini


def test_seeding_twice_changes_nothing_and_an_unknown_tenant_is_refused(seeded):
    before = counts(seeded)
    for slug in SITES:
        assert "already seeded" in lendstack("demo", "seed", "-c", seeded, "--tenant", slug)
    assert counts(seeded) == before
    assert "no tenant 'ghost'" in lendstack("demo", "seed", "-c", seeded, "--tenant", "ghost", expect=2)
    assert "ledger ok" in lendstack("ledger", "verify", "-c", seeded)
    # 9 demo members (7 borrowers and lenders, the README's member, one waiting for verification), 8 at acme;
    # content: the seeded items and the default pages, among them a loan-contract template per language
    assert before["members"] == 17 and before["loans"] == 18 and before["content_items"] == 55
    # the credit back office: two borrowing members and a company per site, each rated; a member's application
    assert before["credit_customers"] == 6 and before["credit_ratings"] == 6 and before["credit_applications"] == 2


def test_a_tenant_the_demo_has_no_story_for_is_refused(ini):  # noqa: F811
    lendstack("db", "upgrade", "-c", ini)
    custom = Path(ini).parent / "shop.toml"
    custom.write_text(
        (ROOT / "tenants" / "demo.toml")
        .read_text(encoding="utf-8")
        .replace('slug = "demo"', 'slug = "shop"')
        .replace('hosts = ["demo.localhost", "localhost", "127.0.0.1"]', 'hosts = ["shop.localhost"]'),
        encoding="utf-8",
    )
    lendstack("tenant", "apply", "-c", ini, str(custom))
    output = lendstack("demo", "seed", "-c", ini, "--tenant", "shop", expect=2)
    assert "no demo story for tenant 'shop'" in output
    assert counts(ini)["members"] == 0


def test_the_seeded_sites_show_something_everywhere_on_first_look(seeded):
    from pyramid.paster import get_app

    from tests.conftest import Client

    app = get_app(seeded)
    db = Database(app.registry)
    try:
        for slug, (host, symbol) in SITES.items():
            visitor = Client(app)
            for tab, title in TITLES[slug].items():
                assert title in visitor.get(host, f"/invest?tab={tab}").text, (slug, tab)
            home = visitor.get(host, "/").text
            # lent: 30,000 + 6,000 + 8,000 disbursed on the first day
            assert f"{symbol}44,000.00" in home
            # repaid to lenders: the one-month loan whole (6,000 at 8.4%: 42.00 interest) and the first
            # equal installment of 30,000 at 9.6% over 12 months
            r = Decimal("0.096") / 12
            first = Decimal(30000) * r / (1 - (1 + r) ** -12)
            assert f"{symbol}{money(Decimal(6042) + first.quantize(Decimal('0.01'), ROUND_HALF_UP))}" in home
            picture = re.search(r'<li class="banner">.*?<img src="([^"]+)"', home, re.DOTALL).group(1)
            assert visitor.get(host, picture).body.startswith(b"\x89PNG\r\n\x1a\n")  # the banner's picture
            assert NEWS[slug] in home

            staff = staff_client(app, db, "looker", "auditor", slug=slug, host=host)
            dashboard = staff.get(host, "/admin").text
            for queue in ("queue=first_review", "status=full", "/admin/loans/overdue", "verification=pending"):
                assert f'{queue}">1<' in dashboard, queue
            assert "/admin/funds/withdrawals" in staff.get(host, "/admin/funds/withdrawals?status=requested").text

        member = Client(app)
        page = member.get("demo.localhost", "/login")
        submit(member, "demo.localhost", page, {"login": "13800138000", "password": PASSWORD}, status=303)
        account = member.get("demo.localhost", "/account").text
        assert "¥18,000.00" in account  # recharged 20,000.00, 2,000.00 of it bid on a loan still raising money
        assert "¥2,000.00" in account
    finally:
        app.registry["db_engine"].dispose()
