"""Credit rating through the back office and the API: the shipped models, a rating's math checked by hand,
overrides approved by a second person, the grade reaching the member, other tenants and permissions."""

import datetime as dt
from decimal import Decimal

import pyotp
import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent
from core.accounts.services import create_staff
from core.credit.customers.models import Customer, IndividualProfile
from core.credit.rating.models import ModelVersion, Rating, RatingModel
from core.members.models import Member
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import PASSWORD, staff_client, submit

DEMO, ACME = "demo.localhost", "acme.localhost"


def individual(db, slug="demo", *, number="C0000000001", member_id=None, **profile) -> int:
    """A walk-in (or member) individual customer with the profile given; its id."""
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        customer = Customer(
            tenant_id=tenant.id,
            number=number,
            kind="individual",
            name="陳大文",
            identifier=f"11010519800101{number[-3:]}X",
            member_id=member_id,
        )
        session.add(customer)
        session.flush()
        session.add(IndividualProfile(tenant_id=tenant.id, customer_id=customer.id, **profile))
        return customer.id


def good_profile(db, slug="demo") -> dict:
    """A 40-year-old earning 12,000.00 a month, 4,800.00 of it going to debts, 4 years with the employer,
    assets of 1,000,000.00 (a flat of 900,000.00 and deposits of 100,000.00) against 500,000.00 owed."""
    with db.transaction() as session:
        today = tenant_by_slug(session, slug).business_date
    return {
        "birth_date": dt.date(today.year - 40, 1, 1),
        "monthly_income": 1_200_000,
        "monthly_debt_payments": 480_000,
        "employment_years": 4,
        "property_count": 1,
        "property_value": 90_000_000,
        "deposits": 10_000_000,
        "total_liabilities": 50_000_000,
    }


# The shipped individual scorecard by hand (docs/credit/rating.md): value → band → points × weight.
BY_HAND = {
    "debt_to_income": ("40.00", 4, Decimal("2.5")),  # 4,800 / 12,000 = 40 % → [36, 43)
    "overdue_count": ("0", 10, Decimal("2")),  # a walk-in has no loans
    "employment_years": ("4", 8, Decimal("1.5")),  # [3, 5)
    "monthly_income": ("12000", 8, Decimal("1")),  # [8000, 20000)
    "assets_to_liabilities": ("2.00", 7, Decimal("1")),  # 1,000,000 / 500,000 → [1.5, 3)
    "has_property": ("1", 10, Decimal("1")),  # yes
    "age": ("40", 10, Decimal("1")),  # [35, 55)
}
SCORE_BY_HAND = sum(points * weight for _value, points, weight in BY_HAND.values())  # 10+20+12+8+7+10+10 = 77


def token(client, db, login, role, slug="demo", host=DEMO):
    with db.transaction() as session:
        staff = create_staff(session, tenant_by_slug(session, slug), login, PASSWORD, role)
        secret, needs_code = staff.totp_secret, staff.requires_2fa
    body = {"login": login, "password": PASSWORD, "as": "staff"}
    if needs_code:
        body["totp"] = pyotp.TOTP(secret).now()
    answer = client.post_json(host, "/api/v1/auth/token", body, status=200)
    return {"Authorization": f"Bearer {answer.json['token']}"}


def ratings_url(customer_id):
    return f"/api/v1/admin/customers/{customer_id}/ratings"


def test_every_tenant_gets_the_shipped_models_once(db, tenants, apply_manifest):
    from tenants.manifest import shipped_manifests

    apply_manifest(shipped_manifests()[0])  # applying again makes nothing twice
    with db.transaction() as session:
        rows = session.execute(
            sa.select(RatingModel.tenant_id, RatingModel.code, ModelVersion.number, ModelVersion.status).join(
                ModelVersion, ModelVersion.model_id == RatingModel.id
            )
        ).all()
    assert sorted((code, number, status) for _t, code, number, status in rows) == sorted(
        [("corporate", 1, "active"), ("individual", 1, "active")] * 2
    )
    assert len({tenant for tenant, *_ in rows}) == 2


def test_a_rating_shows_its_math_and_the_accepted_grade_becomes_the_customers(wsgi_app, db, tenants):
    customer_id = individual(db, **good_profile(db))
    analyst = staff_client(wsgi_app, db, "analyst", "relationship_manager")
    page = analyst.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new?_LOCALE_=en")
    assert SCORE_BY_HAND == Decimal("77")
    assert "77" in page.text and "/ 100" in page.text
    response = submit(analyst, DEMO, page, {}, action="accept", status=303)
    detail = analyst.get(DEMO, response.location)
    assert "A: 75 – 85" in detail.text
    with db.transaction() as session:
        rating = session.scalars(sa.select(Rating)).one()
        customer = session.get(Customer, customer_id)
        assert (rating.status, rating.grade, rating.proposed_grade) == ("approved", "A", "A")
        assert rating.score == SCORE_BY_HAND and rating.max_score == 100
        assert (customer.grade, customer.rated_at) == ("A", rating.decided_at)
        lines = {line["code"]: line for line in rating.lines}
        for code, (value, points, weight) in BY_HAND.items():
            assert Decimal(lines[code]["value"]) == Decimal(value), code
            assert (lines[code]["points"], Decimal(lines[code]["weight"])) == (points, weight), code
            assert Decimal(lines[code]["weighted"]) == points * weight, code
        assert rating.model_version.number == 1 and rating.model_version.model.code == "individual"
        assert session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "credit.rating.accept")) == 1


def test_a_text_band_is_shown_by_its_name_in_the_pages_language(wsgi_app, db, tenants):
    """has_property's band reads "Yes" (是 in Traditional Chinese), not the model's code "yes"."""
    from core.credit.customers.facts import FACTS
    from core.i18n import english

    customer_id = individual(db, **good_profile(db))
    analyst = staff_client(wsgi_app, db, "band-reader", "relationship_manager")
    bands = {}
    for locale in ("en", "zh_Hant"):
        page = analyst.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new?_LOCALE_={locale}")
        bands[locale] = [[td.text for td in tr.find_all("td")] for tr in page.html.find("tbody").find_all("tr")]
    row = next(n for n, cells in enumerate(bands["en"]) if cells[0] == english(FACTS["has_property"].label))
    assert (bands["en"][row][2], bands["zh_Hant"][row][2]) == ("Yes", "是")


def test_a_missing_fact_scores_the_factors_missing_points_and_says_so(wsgi_app, db, tenants):
    profile = good_profile(db)
    profile.update(monthly_income=0, total_liabilities=0)  # no income: no debt-to-income; no debts: no ratio
    customer_id = individual(db, **profile)
    analyst = staff_client(wsgi_app, db, "analyst", "relationship_manager")
    page = analyst.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new?_LOCALE_=en")
    assert page.text.count("missing: the factor") == 2
    submit(analyst, DEMO, page, {}, action="accept", status=303)
    with db.transaction() as session:
        rating = session.scalars(sa.select(Rating)).one()
    lines = {line["code"]: line for line in rating.lines}
    assert lines["debt_to_income"] == {
        "code": "debt_to_income",
        "value": None,
        "band": None,
        "points": 0,
        "weight": "2.5",
        "weighted": "0",
        "missing": True,
    }
    assert lines["assets_to_liabilities"]["missing"] and lines["assets_to_liabilities"]["points"] == 10
    assert lines["monthly_income"]["band"] == "… – 3000" and lines["monthly_income"]["points"] == 2
    # 77 − 10 (debt to income) − 8 + 2 (income 0: the lowest band) − 7 + 10 (missing ratio's points) = 64 → C
    assert rating.score == Decimal("64") and rating.proposed_grade == "C"


def test_an_override_needs_a_second_person_and_reaches_the_members_grade(client, wsgi_app, db, tenants):
    with db.transaction() as session:
        member_id = factories.member(session, tenant_by_slug(session, "demo"), "13800138001").id
    customer_id = individual(db, member_id=member_id, **good_profile(db))
    analyst = staff_client(wsgi_app, db, "analyst", "relationship_manager")
    page = analyst.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new?_LOCALE_=en")
    reason = "Income depends on one contract ending next year."
    response = submit(analyst, DEMO, page, {"override_grade": "B", "reason": reason}, action="override", status=303)
    page = analyst.get(DEMO, response.location + "?_LOCALE_=en")
    refused = submit(analyst, DEMO, page, {}, action="approve", status=400)
    assert "another person approves it" in refused.text
    with db.transaction() as session:
        rating = session.scalars(sa.select(Rating)).one()
        assert (rating.status, rating.proposed_grade, rating.override_grade, rating.grade) == (
            "pending",
            "A",
            "B",
            None,
        )
        assert session.get(Customer, customer_id).grade is None
        assert session.get(Member, member_id).credit_grade is None
    approver = staff_client(wsgi_app, db, "approver", "credit_approver")
    page = approver.get(DEMO, response.location + "?_LOCALE_=en")
    submit(approver, DEMO, page, {}, action="approve", status=303)
    with db.transaction() as session:
        assert session.get(Rating, rating.id).grade == "B"
        assert session.get(Customer, customer_id).grade == "B"
        grade = session.execute(sa.text("SELECT credit_grade FROM members WHERE id = :id"), {"id": member_id})
        assert grade.scalar_one() == "B"
    again = submit(approver, DEMO, page, {}, action="approve", status=400)  # approving twice
    assert "Only a rating waiting for approval" in again.text


def test_the_api_rates_and_lists(client, db, tenants):
    customer_id = individual(db, **good_profile(db))
    analyst = token(client, db, "analyst", "relationship_manager")
    body = {"override_grade": "B", "reason": "Income depends on one contract ending next year."}
    first = client.post_json(DEMO, ratings_url(customer_id), {}, headers=analyst, status=201).json
    assert (first["status"], first["grade"], first["score"], first["max_score"]) == ("approved", "A", "77", "100")
    assert first["grade_row"] == {"grade": "A", "low": "75", "high": "85"} and len(first["lines"]) == len(BY_HAND)
    second = client.post_json(DEMO, ratings_url(customer_id), body, headers=analyst, status=201).json
    assert (second["status"], second["proposed_grade"], second["override_grade"], second["grade"]) == (
        "pending",
        "A",
        "B",
        None,
    )
    listed = client.get(DEMO, ratings_url(customer_id), headers=analyst).json["ratings"]
    assert [(r["id"], r["status"]) for r in listed] == [(second["id"], "pending"), (first["id"], "approved")]
    with db.transaction() as session:
        assert session.get(Customer, customer_id).grade == "A"


def test_a_second_person_decides_over_the_api(client, db, tenants):
    customer_id = individual(db, **good_profile(db))
    analyst = token(client, db, "analyst", "relationship_manager")
    body = {"override_grade": "AA", "reason": "Long relationship."}
    rating = client.post_json(DEMO, ratings_url(customer_id), body, headers=analyst, status=201).json
    decision = f"/api/v1/admin/ratings/{rating['id']}/decision"
    own = client.post_json(DEMO, decision, {"decision": "approve"}, headers=analyst, status=422).json
    assert own["field"] == "decision"
    approver = token(client, db, "approver", "credit_approver")
    unexplained = client.post_json(DEMO, decision, {"decision": "reject"}, headers=approver, status=422).json
    assert unexplained["field"] == "reason"
    answer = client.post_json(DEMO, decision, {"decision": "approve"}, headers=approver, status=200).json
    assert (answer["status"], answer["grade"], answer["decided_by"].split(":")[0]) == ("approved", "AA", "staff")
    again = client.post_json(DEMO, decision, {"decision": "approve"}, headers=approver, status=422).json
    assert again["field"] == "decision"
    with db.transaction() as session:
        assert session.get(Customer, customer_id).grade == "AA"
    acme = token(client, db, "acme-approver", "credit_approver", slug="acme", host=ACME)
    client.post_json(ACME, decision, {"decision": "reject", "reason": "x"}, headers=acme, status=404)


def test_a_company_without_a_statement_scores_only_its_registration(client, db, tenants):
    from core.credit.customers.models import CorporateProfile

    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        company = Customer(
            tenant_id=tenant.id,
            number="C0000000009",
            kind="corporate",
            name="華興貿易有限公司",
            identifier="91350100M000100Y43",
        )
        session.add(company)
        session.flush()
        established = tenant.business_date.replace(year=tenant.business_date.year - 12, month=1, day=1)
        session.add(
            CorporateProfile(
                tenant_id=tenant.id, customer_id=company.id, registered_capital=500_000_000, established_on=established
            )
        )
        company_id = company.id
    analyst = token(client, db, "analyst", "relationship_manager")
    rating = client.post_json(DEMO, ratings_url(company_id), {}, headers=analyst, status=201).json
    lines = {line["code"]: line for line in rating["lines"]}
    # 12 years in business: [10, ∞) → 10 × 1; capital 5,000,000.00: [5 m, 20 m) → 8 × 0.5 = 4; no statement:
    # the six statement ratios are missing (0 points each). 10 + 4 = 14 of 100 → HR (0–35).
    assert (lines["years_in_business"]["weighted"], lines["registered_capital"]["weighted"]) == ("10", "4")
    missing = sorted(code for code, line in lines.items() if line["missing"])
    assert missing == sorted(
        ["current_ratio", "quick_ratio", "debt_to_assets", "roe", "net_margin", "interest_coverage"]
    )
    assert (rating["model"]["code"], rating["score"], rating["grade"]) == ("corporate", "14", "HR")


def test_a_new_rating_closes_the_one_waiting(client, wsgi_app, db, tenants):
    customer_id = individual(db, **good_profile(db))
    analyst = token(client, db, "analyst", "relationship_manager")
    body = {"override_grade": "AA", "reason": "Long relationship."}
    waiting = client.post_json(DEMO, ratings_url(customer_id), body, headers=analyst, status=201).json
    web = staff_client(wsgi_app, db, "analyst-web", "relationship_manager")
    page = web.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new?_LOCALE_=en")
    assert "waits for approval: a new rating closes it" in page.text
    submit(web, DEMO, page, {}, action="accept", status=303)
    approver = token(client, db, "approver", "credit_approver")
    decision = f"/api/v1/admin/ratings/{waiting['id']}/decision"
    late = client.post_json(DEMO, decision, {"decision": "approve"}, headers=approver, status=422).json
    assert late["field"] == "decision"
    listed = client.get(DEMO, ratings_url(customer_id), headers=analyst).json["ratings"]
    assert [(r["status"], r["grade"]) for r in listed] == [("approved", "A"), ("superseded", None)]
    with db.transaction() as session:
        assert session.get(Customer, customer_id).grade == "A"


def test_a_rejected_override_is_closed_and_the_grade_stays(client, wsgi_app, db, tenants):
    customer_id = individual(db, **good_profile(db))
    analyst = token(client, db, "analyst", "relationship_manager")
    client.post_json(DEMO, ratings_url(customer_id), {}, headers=analyst, status=201)  # accepted: A
    body = {"override_grade": "AA", "reason": "Long relationship."}
    rating = client.post_json(DEMO, ratings_url(customer_id), body, headers=analyst, status=201).json
    approver = staff_client(wsgi_app, db, "approver", "credit_approver")
    page = approver.get(DEMO, f"/admin/credit/ratings/{rating['id']}?_LOCALE_=en")
    assert "Say why" in submit(approver, DEMO, page, {"note": ""}, action="reject", status=400).text
    submit(approver, DEMO, page, {"note": "Not supported by the figures."}, action="reject", status=303)
    with db.transaction() as session:
        assert session.get(Rating, rating["id"]).status == "rejected"
        assert session.get(Customer, customer_id).grade == "A"
    page = approver.get(DEMO, f"/admin/credit/ratings/{rating['id']}?_LOCALE_=en")
    assert 'value="approve"' not in page.text


def test_an_override_without_a_reason_or_off_the_scale_is_refused(client, db, tenants):
    customer_id = individual(db, **good_profile(db))
    analyst = token(client, db, "analyst", "relationship_manager")
    answer = client.post_json(DEMO, ratings_url(customer_id), {"override_grade": "B"}, headers=analyst, status=422)
    assert answer.json["field"] == "reason"
    body = {"override_grade": "Z", "reason": "x"}
    answer = client.post_json(DEMO, ratings_url(customer_id), body, headers=analyst, status=422)
    assert answer.json["field"] == "override_grade"
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 0


def test_another_tenants_customer_is_not_found(client, wsgi_app, db, tenants):
    theirs = individual(db, "acme", **good_profile(db, "acme"))
    analyst = token(client, db, "analyst", "relationship_manager")
    client.post_json(DEMO, ratings_url(theirs), {}, headers=analyst, status=404)
    client.get(DEMO, ratings_url(theirs), headers=analyst, status=404)
    web = staff_client(wsgi_app, db, "analyst-web", "relationship_manager")
    web.get(DEMO, f"/admin/credit/customers/{theirs}/ratings/new", status=404)
    web.get(DEMO, f"/admin/credit/customers/{theirs}/ratings", status=404)
    with db.transaction() as session:
        acme = tenant_by_slug(session, "acme")
        acme_model = session.scalars(sa.select(RatingModel.id).where(RatingModel.tenant_id == acme.id)).first()
    modeller = staff_client(wsgi_app, db, "modeller", "risk_officer")
    modeller.get(DEMO, f"/admin/credit/models/{acme_model}", status=404)
    modeller.get(DEMO, f"/admin/credit/models/{acme_model}/versions/1", status=404)


def test_without_the_permission_is_forbidden(client, wsgi_app, db, tenants):
    customer_id = individual(db, **good_profile(db))
    editor = token(client, db, "editor", "content_editor")
    client.post_json(DEMO, ratings_url(customer_id), {}, headers=editor, status=403)
    client.get(DEMO, ratings_url(customer_id), headers=editor, status=403)
    web = staff_client(wsgi_app, db, "editor-web", "content_editor")
    web.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new", status=403)
    web.get(DEMO, "/admin/credit/ratings", status=403)
    analyst = staff_client(wsgi_app, db, "analyst", "relationship_manager")  # rates, but keeps no models
    analyst.get(DEMO, "/admin/credit/models", status=403)
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 0


@pytest.mark.parametrize("locale", ["en", "zh_Hant"])
def test_the_rating_pages_are_accessible(wsgi_app, db, tenants, locale):
    """Every rating page (a draft's edit form and a pending rating's decision too): a label for each field,
    table headers, nothing loaded from elsewhere."""
    from tests.test_accessibility import problems

    customer_id = individual(db, **good_profile(db))
    analyst = staff_client(wsgi_app, db, "analyst", "relationship_manager")
    page = analyst.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new")
    body = {"override_grade": "B", "reason": "Seasonal income."}
    rating_path = submit(analyst, DEMO, page, body, action="override", status=303).location
    modeller = staff_client(wsgi_app, db, "modeller", "risk_officer")
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        model_id = session.scalars(
            sa.select(RatingModel.id).where(RatingModel.tenant_id == demo.id, RatingModel.code == "individual")
        ).one()
    page = modeller.get(DEMO, f"/admin/credit/models/{model_id}/versions/1")
    draft_path = submit(modeller, DEMO, page, {}, action="draft", status=303).location
    for path in (
        "/admin/credit/models",
        f"/admin/credit/models/{model_id}",
        f"/admin/credit/models/{model_id}/versions/1",
        draft_path,
        f"/admin/credit/customers/{customer_id}/ratings",
        f"/admin/credit/customers/{customer_id}/ratings/new",
        "/admin/credit/ratings",
        rating_path,
    ):
        page = modeller.get(DEMO, f"{path}?_LOCALE_={locale}")
        assert page.status_int == 200 and problems(page.text) == [], path
