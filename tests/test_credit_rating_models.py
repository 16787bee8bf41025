"""Maintaining rating models through the back office: drafts, refusals naming the rows at fault, four-eyes
activation, and ratings keeping the version they used."""

import sqlalchemy as sa

from core.credit.rating.models import ModelVersion, Rating, RatingModel
from tests.helpers import staff_client, submit
from tests.test_credit_rating import DEMO, good_profile, individual


def _individual_model(db):
    with db.transaction() as session:
        from core.tenancy.services import tenant_by_slug

        tenant = tenant_by_slug(session, "demo")
        return session.scalars(
            sa.select(RatingModel.id).where(RatingModel.tenant_id == tenant.id, RatingModel.code == "individual")
        ).one()


def _versions(db, model_id):
    with db.transaction() as session:
        rows = session.execute(
            sa.select(ModelVersion.number, ModelVersion.status, ModelVersion.grades, ModelVersion.factors)
            .where(ModelVersion.model_id == model_id)
            .order_by(ModelVersion.number)
        ).all()
    return [tuple(row) for row in rows]


def _grades(page) -> str:
    """The draft's grade table as its edit form holds it."""
    return next(form for form in page.forms.values() if "grades" in form.fields)["grades"].value


def _new_draft(client, model_id):
    page = client.get(DEMO, f"/admin/credit/models/{model_id}/versions/1?_LOCALE_=en")
    response = submit(client, DEMO, page, {}, action="draft", status=303)
    assert response.location.endswith(f"/admin/credit/models/{model_id}/versions/2")
    return client.get(DEMO, response.location + "?_LOCALE_=en")


def test_a_grade_table_with_a_gap_or_overlapping_bands_is_refused_naming_the_rows(wsgi_app, db, tenants):
    model_id = _individual_model(db)
    modeller = staff_client(wsgi_app, db, "modeller", "risk_officer")
    page = _new_draft(modeller, model_id)
    saved = _versions(db, model_id)
    assert [(n, s) for n, s, *_ in saved] == [(1, "active"), (2, "draft")]
    grades = _grades(page)  # (submitting changes the page's form: keep what it held)
    assert grades.splitlines()[1] == "A, 75, 85"

    gap = grades.replace("B, 65, 75", "B, 65, 70")
    refused = submit(modeller, DEMO, page, {"grades": gap}, action="save", status=400)
    assert "Nothing covers 70 to 75 (between the rows B 65–70 and A 75–85)." in refused.text
    short = grades.replace("AA, 85, 100", "AA, 85, 90")
    refused = submit(modeller, DEMO, page, {"grades": short}, action="save", status=400)
    assert "The grade table ends at 90 (row AA 85–90) but scores reach 100." in refused.text
    twice = grades.replace("C, 55, 65", "C, 55, 66")
    refused = submit(modeller, DEMO, page, {"grades": twice}, action="save", status=400)
    assert "The rows C 55–66 and B 65–75 overlap." in refused.text

    overlapping = ", 20, 10\n15, 36, 8\n36, 43, 4\n43, 50, 2\n50, , 0"
    refused = submit(modeller, DEMO, page, {"grades": grades, "factor-1-bands": overlapping}, action="save", status=400)
    assert "The rows … – 20 and 15 – 36 overlap." in refused.text
    holed = ", 20, 10\n20, 36, 8\n40, 50, 2\n50, , 0"
    refused = submit(modeller, DEMO, page, {"factor-1-bands": holed}, action="save", status=400)
    assert "Nothing covers 36 to 40 (between the rows 20 – 36 and 40 – 50)." in refused.text
    bands = ", 20, 10\n20, 36, 8\n36, 43, 4\n43, 50, 2\n50, , 0"
    refused = submit(modeller, DEMO, page, {"factor-1-bands": bands, "factor-1-weight": "0"}, action="save", status=400)
    assert "A weight is a positive number" in refused.text
    assert _versions(db, model_id) == saved  # nothing changed by any refusal


def test_activation_needs_a_second_person_and_ratings_keep_their_version(wsgi_app, db, tenants):
    model_id = _individual_model(db)
    customer_id = individual(db, **good_profile(db))
    analyst = staff_client(wsgi_app, db, "analyst", "relationship_manager")
    submit(analyst, DEMO, analyst.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new"), {}, "accept", 303)

    modeller = staff_client(wsgi_app, db, "modeller", "risk_officer")
    page = _new_draft(modeller, model_id)
    # age now weighs 2 (its best 20 points): the maximum becomes 110, so the top row must end at 110
    grades = _grades(page).replace("AA, 85, 100", "AA, 85, 110")
    submit(modeller, DEMO, page, {"factor-7-weight": "2", "grades": grades}, action="save", status=303)
    page = modeller.get(DEMO, f"/admin/credit/models/{model_id}?_LOCALE_=en")
    refused = submit(modeller, DEMO, page, {"number": "2"}, action="activate", status=400)
    assert "You edited this version last: another person activates it." in refused.text
    assert [(n, s) for n, s, *_ in _versions(db, model_id)] == [(1, "active"), (2, "draft")]

    checker = staff_client(wsgi_app, db, "checker", "risk_officer")
    page = checker.get(DEMO, f"/admin/credit/models/{model_id}?_LOCALE_=en")
    submit(checker, DEMO, page, {"number": "2"}, action="activate", status=303)
    versions = _versions(db, model_id)
    assert [(n, s) for n, s, *_ in versions] == [(1, "retired"), (2, "active")]
    assert versions[0][3][6]["weight"] == "1" and versions[1][3][6]["weight"] == "2"

    submit(analyst, DEMO, analyst.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new"), {}, "accept", 303)
    with db.transaction() as session:
        first, second = session.scalars(sa.select(Rating).order_by(Rating.id)).all()
        assert (first.model_version.number, first.score, first.max_score) == (1, 77, 100)
        # the age line now weighs 2: 10 points × 2 = 20, so 77 + 10 = 87 of 110 → AA (85–110)
        assert (second.model_version.number, second.score, second.max_score, second.grade) == (2, 87, 110, "AA")
        assert first.status == "approved"  # the first rating and its version are as they were
    page = modeller.get(DEMO, f"/admin/credit/models/{model_id}/versions/1?_LOCALE_=en")
    assert "Edit this draft" not in page.text


def test_a_new_model_starts_as_a_draft_and_only_one_is_in_use_per_kind(wsgi_app, db, tenants):
    modeller = staff_client(wsgi_app, db, "modeller", "risk_officer")
    page = modeller.get(DEMO, "/admin/credit/models?_LOCALE_=en")
    refused = submit(modeller, DEMO, page, {"code": "Bad Code", "name": "x", "kind": "individual"}, status=400)
    assert "lower-case letters" in refused.text
    response = submit(modeller, DEMO, page, {"code": "sme", "name": "小微企業", "kind": "corporate"}, status=303)
    page = modeller.get(DEMO, response.location + "?_LOCALE_=en")
    assert "Edit this draft" in page.text
    with db.transaction() as session:
        model = session.scalars(sa.select(RatingModel).where(RatingModel.code == "sme")).one()
        assert [(v.number, v.status) for v in model.versions] == [(1, "draft")]
        model_id = model.id
    checker = staff_client(wsgi_app, db, "checker", "risk_officer")
    page = checker.get(DEMO, f"/admin/credit/models/{model_id}?_LOCALE_=en")
    submit(checker, DEMO, page, {"number": "1"}, action="activate", status=303)
    listing = checker.get(DEMO, "/admin/credit/models?_LOCALE_=en").text
    in_use = [row for row in listing.split("<tr>") if "Yes" in row]
    assert len(in_use) == 2 and any("sme" in row for row in in_use) and any("individual" in row for row in in_use)


def test_a_tenants_own_scale_grades_the_customer_and_the_member(wsgi_app, db, tenants):
    from core.members.models import Member
    from core.tenancy.services import tenant_by_slug
    from tests import factories

    with db.transaction() as session:
        member_id = factories.member(session, tenant_by_slug(session, "demo"), "13800138002").id
    customer_id = individual(db, member_id=member_id, **good_profile(db))
    model_id = _individual_model(db)
    modeller = staff_client(wsgi_app, db, "modeller", "risk_officer")
    page = _new_draft(modeller, model_id)
    own = "P1, 80, 100\nP2, 60, 80\nP3, 40, 60\nP4, 0, 40"
    refused = submit(modeller, DEMO, page, {"scale": "P1 P2 P3", "grades": own}, action="save", status=400)
    assert "P4 is not a grade of the scale." in refused.text
    submit(modeller, DEMO, page, {"scale": "P1 P2 P3 P4", "grades": own}, action="save", status=303)
    checker = staff_client(wsgi_app, db, "checker", "risk_officer")
    submit(checker, DEMO, checker.get(DEMO, f"/admin/credit/models/{model_id}"), {"number": "2"}, "activate", 303)
    analyst = staff_client(wsgi_app, db, "analyst", "relationship_manager")
    page = analyst.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new?_LOCALE_=en")
    form = next(f for f in page.forms.values() if "override_grade" in f.fields)
    assert [value for value, *_ in form["override_grade"].options] == ["", "P1", "P2", "P3", "P4"]
    submit(analyst, DEMO, page, {}, action="accept", status=303)
    with db.transaction() as session:
        assert session.get(Member, member_id).credit_grade == "P2"  # 77 falls in P2 (60–80)
