"""Lending, funds, member and VIP parameters from the back office: blank means the default, bad input changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.loans.rules import bid_unit
from core.members.conduct import vip_levels
from core.tenancy.models import TenantVersion
from core.tenancy.services import tenant_by_slug
from tests.helpers import staff_client

HOST = "demo.localhost"


@pytest.fixture
def admin(wsgi_app, db, tenants):
    """A signed-in administrator reading in English (the choice is remembered in a cookie)."""
    client = staff_client(wsgi_app, db, "params-admin", "administrator")
    client.get(HOST, "/admin", params={"_LOCALE_": "en"})
    return client


def form_of(admin):
    page = admin.get(HOST, "/admin/settings/parameters")
    return page, next(f for f in page.forms.values() if "lending.bid_unit" in f.fields)


def save(admin, values, status=303):
    _page, form = form_of(admin)
    for name, value in values.items():
        form[name] = value
    return form.submit(extra_environ={"HTTP_HOST": HOST}, status=status)


def tenant_state(db):
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        return dict(tenant.lending), dict(tenant.funds), dict(tenant.vip), dict(tenant.members)


def test_the_page_shows_every_setting_with_its_value_default_and_bounds(admin):
    page, form = form_of(admin)
    assert form["lending.bid_unit"].value == "50"  # demo.toml
    assert form["lending.max_annual_rate_percent"].value == ""  # not set: the default applies
    row = page.html.find(id="lending.max_annual_rate_percent").find_parent("tr")
    cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
    assert "36" in cells[1] and "100" in cells[2]
    for name in (
        "lending.penalty_rate_percent_per_day",
        "lending.late_fee",
        "lending.borrower_fee_mode",
        "lending.collect_partial",
        "funds.withdrawal_fee_percent",
        "funds.payout_gateway",
        "members.email_sign_up",
        "vip.points_per_100",
        "vip.levels[0].name",
    ):
        assert name in form.fields, name


def test_saving_sets_and_clears_parameters_that_the_loans_then_follow(admin, db):
    save(
        admin,
        {
            "lending.bid_unit": "100",
            "lending.max_annual_rate_percent": "24",
            "lending.penalty_rate_percent_per_day": "0.04",
            "lending.borrower_fee_percent": "",  # cleared: the default (0) applies again
            "lending.collect_partial": "false",
            "lending.penalty_base": "principal_and_interest",
            "funds.withdrawal_fee_percent": "0.5",
            "members.email_sign_up": "true",
            "vip.points_per_100": "2",
        },
    )
    lending, funds, vip, members = tenant_state(db)
    assert lending["bid_unit"] == "100" and lending["max_annual_rate_percent"] == "24"
    assert lending["penalty_rate_percent_per_day"] == "0.04" and lending["collect_partial"] is False
    assert lending["penalty_base"] == "principal_and_interest"
    assert "borrower_fee_percent" not in lending
    assert funds["withdrawal_fee_percent"] == "0.5" and funds["withdrawal_min"] == "100"
    assert vip["points_per_100"] == 2 and members["email_sign_up"] is True
    with db.transaction() as session:
        assert bid_unit(tenant_by_slug(session, "demo")) == 100_00  # 100 yuan in fen


def test_vip_levels_are_edited_as_rows(admin, db):
    save(
        admin,
        {
            "vip.levels[3].name": "",
            "vip.levels[3].points": "",
            "vip.levels[4].name": "白金會員",
            "vip.levels[4].points": "50000",
        },
    )
    with db.transaction() as session:
        levels = [(level.name, level.points) for level in vip_levels(tenant_by_slug(session, "demo"))]
    assert levels == [("普通會員", 0), ("白銀會員", 1000), ("黃金會員", 5000), ("白金會員", 50000)]


def test_id_types_keep_the_default_first(admin, db):
    _page, form = form_of(admin)
    form.get("members.id_types", index=0).checked = True
    form.get("members.id_types", index=1).checked = True
    form["members.id_types.default"] = "passport"
    form.submit(extra_environ={"HTTP_HOST": HOST}, status=303)
    assert tenant_state(db)[3]["id_types"] == ["passport", "cn_resident"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("lending.bid_unit", "-1"),
        ("lending.bid_unit", "abc"),
        ("lending.max_annual_rate_percent", "150"),
        ("lending.borrower_fee_percent", "25"),
        ("funds.withdrawal_fee_percent", "11"),
        ("vip.points_per_100", "-5"),
    ],
)
def test_a_value_out_of_bounds_is_refused_by_its_field_and_changes_nothing(admin, db, field, value):
    before = tenant_state(db)
    with db.transaction() as session:
        versions = session.scalar(sa.select(sa.func.count()).select_from(TenantVersion))
    response = save(admin, {field: value, "lending.reminder_days": "5"}, status=400)
    assert response.html.find(id=f"{field}-error") is not None
    assert response.html.find(id=field)["aria-invalid"] == "true"
    assert response.html.find(id=field)["value"] == value  # what was typed stays in the form
    assert tenant_state(db) == before
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TenantVersion)) == versions


def test_a_bad_vip_level_is_refused_on_its_row(admin, db):
    before = tenant_state(db)
    response = save(admin, {"vip.levels[5].name": "黑卡", "vip.levels[5].points": "lots"}, status=400)
    assert response.html.find(id="vip.levels[5].name")["aria-invalid"] == "true"
    assert tenant_state(db) == before
