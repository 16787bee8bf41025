"""The manifest stays the one description of a tenant: export gives back what apply took, every change is a
version, a version can be applied again, and archive/restore close and reopen a site — from the CLI with the
real ini and through the site's hosts."""

import dataclasses
import tomllib

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli import main
from core.domain import DomainError
from core.tenancy import manifest, versions
from core.tenancy.models import Tenant, TenantVersion
from tenants.manifest import SHIPPED, shipped_manifests


@pytest.fixture
def ini(tmp_path, settings, engine):
    path = tmp_path / "test.ini"
    lines = ["[app:main]", "use = egg:lendstack"]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def same(first: manifest.Manifest, second: manifest.Manifest) -> None:
    a, b = dataclasses.asdict(first), dataclasses.asdict(second)
    a.pop("source"), b.pop("source")
    a["hosts"], b["hosts"] = sorted(a["hosts"]), sorted(b["hosts"])  # a set: the database keeps no order
    assert a == b


def version_count(db, slug) -> int:
    with db.transaction() as session:
        tenant = session.scalars(sa.select(Tenant).where(Tenant.slug == slug)).one()
        return session.scalar(sa.select(sa.func.count()).where(TenantVersion.tenant_id == tenant.id))


@pytest.mark.parametrize("path", shipped_manifests(), ids=lambda p: p.stem)
def test_apply_then_export_gives_back_an_equivalent_manifest(ini, tmp_path, plugins, db, path):
    assert run("tenant", "apply", "-c", ini, str(path)).exit_code == 0
    slug = tomllib.loads(path.read_text(encoding="utf-8"))["slug"]
    exported = tmp_path / "exported.toml"
    result = run("tenant", "export", slug, "-c", ini, "-o", str(exported))
    assert result.exit_code == 0, result.output
    text = exported.read_text(encoding="utf-8")
    assert text.startswith("# Tenant ")
    same(manifest.load(path, plugins), manifest.load(exported, plugins))
    assert version_count(db, slug) == 1
    # applying the export (or the original) again changes nothing and records no version
    assert run("tenant", "apply", "-c", ini, str(exported)).exit_code == 0
    assert run("tenant", "apply", "-c", ini, str(path)).exit_code == 0
    assert version_count(db, slug) == 1
    # stdout is the default
    assert run("tenant", "export", slug, "-c", ini).output == text


def test_export_of_an_unknown_tenant_is_bad_input(ini):
    result = run("tenant", "export", "nobody", "-c", ini)
    assert result.exit_code == 2 and "nobody" in result.output


def test_archive_closes_the_site_with_410_and_restore_reopens_it(ini, client, db):
    assert run("tenant", "apply", "-c", ini, str(SHIPPED / "acme.toml")).exit_code == 0
    assert client.get("acme.localhost", "/", status=200)
    assert run("tenant", "archive", "acme", "-c", ini).exit_code == 0
    gone = client.get("acme.localhost", "/", status=410)
    assert "Acme Lending" in gone.text
    client.get("acme.localhost", "/admin/login", status=410)
    assert run("tenant", "restore", "acme", "-c", ini).exit_code == 0
    client.get("acme.localhost", "/", status=200)
    assert run("tenant", "archive", "nobody", "-c", ini).exit_code == 2
    with db.transaction() as session:
        tenant = session.scalars(sa.select(Tenant).where(Tenant.slug == "acme")).one()
        actions = [v.action for v in versions.versions(session, tenant)]
    assert actions == ["tenant.restored", "tenant.archived", "tenant.apply"]


def demo(session):
    return session.scalars(sa.select(Tenant).where(Tenant.slug == "demo")).one()


def test_a_change_is_validated_whole_versioned_and_can_be_undone(db, plugins, tenants):
    def colour(value):
        return lambda data: data["branding"].update(primary_color=value)

    with db.transaction() as session:
        changes = manifest.change(session, demo(session), plugins, colour("#0b5394"), actor="test", action="t")
    assert changes == [{"path": "branding.primary_color", "before": "#b3261e", "after": "#0b5394"}]
    # the same edit again changes nothing and records nothing
    with db.transaction() as session:
        assert manifest.change(session, demo(session), plugins, colour("#0b5394"), actor="test", action="t") == []
    # white text on a pale yellow is unreadable: refused, nothing changed
    with pytest.raises(DomainError) as refused:
        with db.transaction() as session:
            manifest.change(session, demo(session), plugins, colour("#f5e663"), actor="test", action="t")
    assert refused.value.field == "branding.primary_color" and "4.5:1" in str(refused.value.message)
    with db.transaction() as session:
        tenant = demo(session)
        assert tenant.brand("primary_color") == "#0b5394"
        numbers = [v.number for v in versions.versions(session, tenant)]
    assert numbers == [2, 1]  # the apply that created it, then the one change
    with db.transaction() as session:
        undone = versions.restore(session, demo(session), 1, plugins, actor="test")
    assert undone == [{"path": "branding.primary_color", "before": "#0b5394", "after": "#b3261e"}]
    with db.transaction() as session:
        tenant = demo(session)
        assert tenant.brand("primary_color") == "#b3261e"
        assert versions.versions(session, tenant)[0].action == "settings.restore.1"


def test_branding_texts_per_language_fall_back_to_the_default_language(db, plugins, tenants):
    def edit(data):
        data["branding"]["site_title"] = {"zh_Hant": "鼎信網貸", "en": "Dingxin Lending"}
        data["branding"]["company_hotline"] = "+86 21 5555 0100"

    with db.transaction() as session:
        manifest.change(session, demo(session), plugins, edit, actor="test", action="t")
    with db.transaction() as session:
        tenant = demo(session)
        assert tenant.brand("site_title", locale="en") == "Dingxin Lending"
        assert tenant.brand("site_title", locale="zh_Hans") == "鼎信網貸"  # not given: the default language's
        assert tenant.brand("site_title") == "鼎信網貸"
        assert tenant.brand("company_hotline") == "+86 21 5555 0100"


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d["branding"].update(site_title={"fr": "Bonjour"}), "branding.site_title.fr"),
        (lambda d: d["branding"].update(company_email="not an email"), "branding.company_email"),
        (lambda d: d["branding"].update(logo="//evil.example/logo.png"), "branding.logo"),
        (lambda d: d["lending"].update(bid_unit="-1"), "lending.bid_unit"),
        (
            lambda d: d.update(
                menus={
                    "portal": [
                        {"key": "about", "label": {"en": "About"}, "url": "/about", "parent": "faq"},
                        {"key": "faq", "label": {"en": "FAQ"}, "url": "/faq", "parent": "about"},
                    ]
                }
            ),
            "menus.portal[0].parent",
        ),
        (lambda d: d.update(menus={"portal": [{"key": "nothing-here"}]}), "menus.portal[0].key"),
        (lambda d: d.update(menus={"footer": [{"key": "x", "label": {"en": "X"}, "url": "javascript:1"}]}), None),
        (
            lambda d: d.update(roles={"clerk": {"name": "Clerk", "permissions": ["loan.fly"]}}),
            "roles.clerk.permissions",
        ),
        (lambda d: d.update(roles={"auditor": {"name": "Mine", "permissions": []}}), "roles.auditor"),
        (lambda d: d.update(hosts=["acme.localhost"]), "hosts"),
        (lambda d: d.update(slug="other"), "slug"),
    ],
)
def test_a_refused_change_names_its_field_and_changes_nothing(db, plugins, tenants, edit, field):
    nav = {"portal": {"portal.home", "invest", "borrow", "tools", "account"}, "admin": {"admin.members"}}
    with db.transaction() as session:
        before = manifest.export(demo(session), plugins)
    with pytest.raises(DomainError) as refused:
        with db.transaction() as session:
            manifest.change(session, demo(session), plugins, edit, actor="t", action="t", nav_keys=nav)
    if field:
        assert refused.value.field == field
    else:
        assert refused.value.field.startswith("menus.footer[0]")
    with db.transaction() as session:
        assert manifest.export(demo(session), plugins) == before


def test_custom_roles_and_menus_round_trip_through_the_manifest(db, plugins, tenants):
    from core.accounts.models import Role

    def edit(data):
        data["roles"] = {"clerk": {"name": "Loan clerk", "permissions": ["member.view", "loan.review"]}}
        data["menus"] = {
            "portal": [
                {"key": "borrow"},
                {"key": "invest", "label": {"en": "Lend", "zh_Hant": "出借"}},
                {"key": "about", "label": {"en": "About us"}, "url": "/news"},
                {"key": "team", "label": {"en": "Team"}, "url": "/news", "parent": "about"},
            ],
            "footer": [{"key": "terms", "label": {"en": "Terms"}, "url": "https://example.com/terms"}],
        }

    with db.transaction() as session:
        manifest.change(session, demo(session), plugins, edit, actor="t", action="t")
    with db.transaction() as session:
        tenant = demo(session)
        clerk = session.scalars(sa.select(Role).where(Role.tenant_id == tenant.id, Role.code == "clerk")).one()
        assert (clerk.name, clerk.permissions, clerk.active, clerk.requires_2fa) == (
            "Loan clerk",
            ["loan.review", "member.view"],
            True,
            False,
        )
        exported = manifest.export(tenant, plugins)
        text = manifest.dumps(exported)
    again = manifest.parse_text(text, "<export>", plugins)
    assert again.roles == {
        "clerk": {"name": "Loan clerk", "permissions": ["loan.review", "member.view"], "active": True}
    }
    assert [e["key"] for e in again.menus["portal"]] == ["borrow", "invest", "about", "team"]
    # a role left out of the manifest is deactivated, never deleted (staff may hold it)
    with db.transaction() as session:
        manifest.change(session, demo(session), plugins, lambda d: d.pop("roles"), actor="t", action="t")
    with db.transaction() as session:
        clerk = session.scalars(sa.select(Role).where(Role.code == "clerk")).one()
        assert clerk.active is False


def test_preview_shows_the_diff_and_applies_nothing(db, plugins, tenants):
    data = tomllib.loads((SHIPPED / "acme.toml").read_text(encoding="utf-8"))
    data["branding"]["tagline"] = "Loans by people, for people"
    with db.transaction() as session:
        created, changes = manifest.preview(session, data, "<upload>", plugins, operator_hosts=("operator.localhost",))
    assert created is False
    assert changes == [
        {"path": "branding.tagline", "before": "Fair loans, funded by people", "after": "Loans by people, for people"}
    ]
    data["slug"] = "nova"
    data["hosts"] = ["nova.localhost"]
    with db.transaction() as session:
        created, changes = manifest.preview(session, data, "<upload>", plugins)
        assert created is True and {"path": "slug", "before": None, "after": "nova"} in changes
        assert session.scalar(sa.select(sa.func.count()).select_from(Tenant)) == 2


def test_a_new_tenant_starts_with_default_roles_and_its_platform_accounts(db, plugins, apply_manifest):
    from core.accounts.models import Role
    from core.ledger import ACCOUNT_CODES, PLATFORM, LedgerAccount

    data = tomllib.loads((SHIPPED / "acme.toml").read_text(encoding="utf-8"))
    data.update(slug="nova", hosts=["nova.localhost"], name="Nova")
    with db.transaction() as session:
        tenant, created, changes = manifest.apply_data(
            session, data, "<console>", plugins, actor="operator:1:op", action="tenant.create"
        )
        assert created and changes
        tenant_id = tenant.id
    with db.transaction() as session:
        roles = session.scalars(sa.select(Role.code).where(Role.tenant_id == tenant_id)).all()
        assert {"administrator", "auditor", "cashier"} <= set(roles)
        accounts = session.scalars(
            sa.select(LedgerAccount).where(LedgerAccount.tenant_id == tenant_id, LedgerAccount.owner_kind == PLATFORM)
        ).all()
        assert sorted(a.code for a in accounts) == sorted(ACCOUNT_CODES[PLATFORM])
        assert all(a.balance == 0 and a.currency == "USD" for a in accounts)
        assert versions.versions(session, session.get(Tenant, tenant_id))[0].actor == "operator:1:op"
