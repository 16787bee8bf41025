"""Tenant isolation and permissions of the credit system, tried from outside: staff of acme using every id of
demo's credit rows (customers, documents, statements, ratings, models, products, workflows, applications and their
documents, contracts, PDFs, scans, disbursements, lending-fund injections) on every page and API endpoint get a
404 — never 403, 500 or data — and lists and searches show none of demo's rows; staff without the permission get
403, anonymous visitors the sign-in page (401 on the API), the read-only auditor nothing of the credit system."""

import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from core.credit.alerts.models import Alert
from core.credit.applications.models import ApplicationDocument, CreditApplication, CreditDecision, CreditProduct
from core.credit.classification.models import ClassChange, ClassProposal
from core.credit.contracts.models import Contract, Disbursement, FundInjection
from core.credit.customers.models import Customer, CustomerDocument, FinancialStatement
from core.credit.rating.models import Rating, RatingModel
from core.db import scope_to_tenant
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import PASSWORD, resident_id, staff_client, submit
from tests.test_credit_contracts import credit_case, draw_and_sign, inject, staff_token
from tests.test_credit_customers import create_corporate, create_individual, customer_id, png_bytes, upload
from tests.test_credit_customers_statements import enter

DEMO, ACME = "demo.localhost", "acme.localhost"
MARKER = "隔離測試"  # in the name of every demo customer made here: no acme page may show it

# Every credit route that names a row, filled with demo's ids; ``test_every_credit_route_with_an_id_is_tried``
# keeps the table complete as routes are added.
PAGES = {
    "admin.credit.customer": "/admin/credit/customers/{person}",
    "admin.credit.customer_edit": "/admin/credit/customers/{person}/edit",
    "admin.credit.customer_documents": "/admin/credit/customers/{person}/documents",
    "admin.credit.customer_document": "/admin/credit/customers/{person}/documents/{person_doc}",
    "admin.credit.customer_relations": "/admin/credit/customers/{person}/relationships",
    "admin.credit.customer_company": "/admin/credit/customers/{company}/company",
    "admin.credit.customer_statements": "/admin/credit/customers/{company}/statements",
    "admin.credit.customer_merge": "/admin/credit/customers/{person}/merge",
    "admin.credit.customer_sign_in": "/admin/credit/customers/{person}/sign-in",
    "admin.credit.customer_ratings": "/admin/credit/customers/{person}/ratings",
    "admin.credit.rating_new": "/admin/credit/customers/{person}/ratings/new",
    "admin.credit.rating": "/admin/credit/ratings/{rating}",
    "admin.credit.model": "/admin/credit/models/{model}",
    "admin.credit.model_version": "/admin/credit/models/{model}/versions/1",
    "admin.credit.product": "/admin/credit/products/{product}",
    "admin.credit.workflow": "/admin/credit/workflows/{workflow}",
    "admin.credit.application": "/admin/credit/applications/{draft}",
    "admin.credit.application_edit": "/admin/credit/applications/{draft}/edit",
    "admin.credit.application_document": "/admin/credit/applications/{draft}/documents/{draft_doc}",
    "admin.credit.application_contract": "/admin/credit/applications/{contracted}/contract",
    "admin.credit.contract_pdf": "/admin/credit/contracts/{contract}/pdf",
    "admin.credit.contract_scan": "/admin/credit/contracts/{contract}/scan",
    "admin.credit.disbursement_act": "/admin/credit/disbursements/{contracted}",
    "admin.credit.lending_fund_decide": "/admin/credit/lending-fund/injections/{injection}",
    "admin.credit.loan_classification": "/admin/credit/loans/{loan}/classification",
    "admin.credit.classification_decide": "/admin/credit/classification/proposals/{proposal}",
    "admin.credit.classification_evidence": "/admin/credit/classification/proposals/{proposal}/evidence",
    "admin.credit.alert": "/admin/credit/alerts/{alert}",
}
POST_ONLY = {
    "admin.credit.application_edit",
    "admin.credit.customer_sign_in",
    "admin.credit.disbursement_act",
    "admin.credit.lending_fund_decide",
    "admin.credit.classification_decide",
    "admin.credit.alert",
}
API = {
    "api.credit.customer": ("GET", "/api/v1/admin/customers/{person}", None),
    "api.credit.customer_ratings": ("POST", "/api/v1/admin/customers/{person}/ratings", {}),
    "api.credit.rating_decision": ("POST", "/api/v1/admin/ratings/{rating}/decision", {"decision": "approve"}),
    "api.credit_application": ("GET", "/api/v1/admin/applications/{draft}", None),
    "api.credit_application_actions": ("POST", "/api/v1/admin/applications/{draft}/actions", {"action": "submit"}),
    "api.credit.contract": ("GET", "/api/v1/admin/applications/{contracted}/contract", None),
    "api.credit.loan_classification": ("GET", "/api/v1/admin/loans/{loan}/classification", None),
    "api.credit.classification_decision": (
        "POST",
        "/api/v1/admin/classification/proposals/{proposal}/decision",
        {"decision": "approve"},
    ),
    "api.credit.alert": ("POST", "/api/v1/admin/alerts/{alert}", {"action": "acknowledge", "note": "看過"}),
}
LISTS = (
    "/admin/credit",
    "/admin/credit/customers",
    f"/admin/credit/customers?q={quote(MARKER)}",
    "/admin/credit/applications",
    "/admin/credit/ratings",
    "/admin/credit/models",
    "/admin/credit/products",
    "/admin/credit/workflows",
    "/admin/credit/contracts",
    "/admin/credit/disbursements",
    "/admin/credit/lending-fund",
)


def _count_rows(db) -> dict:
    """Every credit table's rows, counted across tenants: what a refused request must leave as it was."""
    models = (Customer, CustomerDocument, FinancialStatement, Rating, CreditApplication, CreditDecision)
    models += (ApplicationDocument, Contract, Disbursement, FundInjection, CreditProduct, ClassChange)
    with db.transaction() as session:
        counts = {m.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models}
        statuses = session.execute(sa.select(CreditApplication.id, CreditApplication.status)).all()
        ratings = session.execute(sa.select(Rating.id, Rating.status)).all()
        injections = session.execute(sa.select(FundInjection.id, FundInjection.status)).all()
        proposals = session.execute(sa.select(ClassProposal.id, ClassProposal.status)).all()
        alerts = session.execute(sa.select(Alert.id, Alert.status)).all()
    return {
        **counts,
        "applications": sorted(statuses),
        "ratings": sorted(ratings),
        "injections": sorted(injections),
        "proposals": sorted(proposals),
        "alerts": sorted(alerts),
    }


def _demo_world(client, wsgi_app, db) -> dict:
    """demo's credit rows of every kind, made through its pages and API; their ids by name."""
    from core.credit.applications.workflows import save_workflow

    ids = {}
    rm = staff_client(wsgi_app, db, "iso-rm", "relationship_manager")
    ids["person"] = customer_id(create_individual(rm, name=f"{MARKER}陳"))
    ids["company"] = customer_id(create_corporate(rm, name=f"{MARKER}機電有限公司"))
    upload(rm, ids["person"], "id.png", png_bytes(), "image/png", 303)
    enter(rm, ids["company"])
    rm_token = staff_token(client, db, "iso-rm-api", "relationship_manager")
    rated = client.post_json(
        DEMO,
        f"/api/v1/admin/customers/{ids['person']}/ratings",
        {"override_grade": "B", "reason": "seasonal income"},
        headers=rm_token,
        status=201,
    )
    ids["rating"] = rated.json["id"]
    body = {
        "customer_id": ids["person"],
        "product": "consumer",
        "amount": "50000.00",
        "annual_rate_percent": "12",
        "term_months": 12,
        "repayment_method": "equal_installment",
    }
    ids["draft"] = client.post_json(DEMO, "/api/v1/admin/applications", body, headers=rm_token, status=201).json["id"]
    page = rm.get(DEMO, f"/admin/credit/applications/{ids['draft']}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    rm.app.post(
        f"/admin/credit/applications/{ids['draft']}/edit",
        params={"csrf_token": csrf, "what": "document", "doc_type": "id_card"},
        upload_files=[("file", "id.png", png_bytes())],
        extra_environ={"HTTP_HOST": DEMO},
        status=303,
    )
    ids["contracted"] = credit_case(db, n=91)
    inject(wsgi_app, db, "100000.00")
    draw_and_sign(wsgi_app, db, ids["contracted"])
    maker = staff_token(client, db, "iso-maker", "cashier")
    client.post_json(
        DEMO,
        "/api/v1/admin/disbursements",
        {"application_id": ids["contracted"], "action": "prepare"},
        headers={**maker, "Idempotency-Key": "iso-prepare-1"},
        status=201,
    )
    asker = staff_client(wsgi_app, db, "iso-asker", "cashier")
    submit(asker, DEMO, asker.get(DEMO, "/admin/credit/lending-fund"), {"amount": "10", "reason": "注資"}, status=303)
    ids["loan"] = _repaying_loan(db)
    classifier = staff_client(wsgi_app, db, "iso-classifier", "risk_officer")
    page = classifier.get(DEMO, f"/admin/credit/loans/{ids['loan']}/classification")
    classifier.app.post(
        f"/admin/credit/loans/{ids['loan']}/classification",
        params={"csrf_token": _csrf(page), "proposed_class": "doubtful", "reason": "抵押物貶值"},
        upload_files=[("evidence", "visit.png", png_bytes())],
        extra_environ={"HTTP_HOST": DEMO},
        status=303,
    )
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        ids["proposal"] = session.scalars(sa.select(ClassProposal.id)).one()
        # an alert as close of day raises it (its rules and figures are tests/test_credit_alerts.py's business)
        alert = Alert(
            tenant_id=demo.id,
            kind="first_overdue",
            severity="warning",
            business_date=demo.business_date,
            subject=f"loan:{ids['loan']}",
            loan_id=ids["loan"],
            facts={},
        )
        session.add(alert)
        session.flush()
        ids["alert"] = alert.id
        save_workflow(session, demo, "iso_only", {"name": "隔離", "steps": [_step("review")]}, actor="test")
        ids["workflow"] = "iso_only"
        ids["person_doc"] = session.scalars(sa.select(CustomerDocument.id)).one()
        ids["draft_doc"] = session.scalars(sa.select(ApplicationDocument.id)).one()
        ids["contract"] = session.scalars(sa.select(Contract.id)).one()
        ids["injection"] = session.scalars(sa.select(FundInjection.id).where(FundInjection.status == "pending")).one()
        ids["model"] = session.scalars(sa.select(RatingModel.id).where(RatingModel.code == "individual")).one()
        ids["product"] = session.scalars(sa.select(CreditProduct.id).where(CreditProduct.code == "consumer")).one()
        ids["numbers"] = [
            *session.scalars(sa.select(Customer.number)),
            *session.scalars(sa.select(CreditApplication.number)),
            *session.scalars(sa.select(Contract.number)),
        ]
    return ids


def _repaying_loan(db) -> int:
    """A disbursed P2P loan of demo's."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        borrower = factories.member(session, demo, "13790000001", id_number=resident_id(951), credit_line=10**8)
        lender = factories.member(session, demo, "13790000002", id_number=resident_id(952), balance=2_000_000)
        hooks = session.info["plugins"].for_tenant(demo)
        return factories.loan(session, demo, hooks, borrower, "repaying", lenders=[lender]).id


def _step(code):
    return {"code": code, "name": code, "role": "credit_approver"}


@pytest.fixture
def world(client, wsgi_app, db, tenants):
    return _demo_world(client, wsgi_app, db)


def _csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_every_credit_route_with_an_id_is_tried(wsgi_app):
    named = {
        route.name
        for route in wsgi_app.routes_mapper.get_routes()
        if route.name.startswith(("admin.credit.", "api.credit.", "api.credit_application"))
        and set(re.findall(r"\{(\w+)", route.pattern)) - {"format"}  # an id or code: a row of the tenant's
    }
    assert named == set(PAGES) | set(API), named ^ (set(PAGES) | set(API))


def test_acme_staff_get_404_for_every_demo_id_on_pages(client, wsgi_app, db, world):
    own = staff_client(wsgi_app, db, "iso-demo-admin", "administrator")
    acme = staff_client(wsgi_app, db, "iso-acme-admin", "administrator", slug="acme", host=ACME)
    csrf = _csrf(acme.get(ACME, "/admin/credit/lending-fund"))
    before = _count_rows(db)
    for name, pattern in PAGES.items():
        path = pattern.format(**world)
        if name not in POST_ONLY:
            assert own.get(DEMO, path, status="*").status_int == 200, (name, path)  # a real row of demo's
            answer = acme.get(ACME, path, status="*")
            assert answer.status_int == 404, (name, path, answer.status)
        posted = acme.post(ACME, path, {"csrf_token": csrf, "action": "approve", "decision": "approve"}, status="*")
        assert posted.status_int in (404, 405), (name, path, posted.status)
    assert _count_rows(db) == before


def test_acme_staff_get_404_for_every_demo_id_on_the_api(client, db, world):
    acme = staff_token(client, db, "iso-acme-api", "administrator", slug="acme", host=ACME)
    before = _count_rows(db)
    for name, (method, pattern, body) in API.items():
        path = pattern.format(**world)
        if method == "GET":
            answer = client.get(ACME, path, headers=acme, status="*")
        else:
            answer = client.post_json(ACME, path, body, headers=acme, status="*")
        assert answer.status_int == 404, (name, path, answer.status, answer.text[:300])
        assert answer.content_type == "application/problem+json"
    for action in ("prepare", "approve"):
        answer = client.post_json(
            ACME,
            "/api/v1/admin/disbursements",
            {"application_id": world["contracted"], "action": action},
            headers={**acme, "Idempotency-Key": f"iso-acme-{action}"},
            status="*",
        )
        assert answer.status_int == 404, (action, answer.text)
    # a demo customer named in acme's body is unknown there, not used
    body = {
        "customer_id": world["person"],
        "product": "consumer",
        "amount": "1000.00",
        "annual_rate_percent": "8",
        "term_months": 12,
        "repayment_method": "equal_installment",
    }
    refused = client.post_json(ACME, "/api/v1/admin/applications", body, headers=acme, status="*")
    assert refused.status_int in (404, 422) and refused.json["field"] in ("customer", "customer_id")
    assert _count_rows(db) == before


def test_acme_lists_and_searches_show_none_of_demos_rows(client, wsgi_app, db, world):
    acme = staff_client(wsgi_app, db, "iso-acme-lists", "administrator", slug="acme", host=ACME)
    for path in LISTS:
        text = re.sub(r'value="[^"]*"', "", acme.get(ACME, path).text)  # the search box repeats the query
        assert MARKER not in text, path
        for number in world["numbers"]:
            assert number not in text, (path, number)
    token = staff_token(client, db, "iso-acme-lists-api", "administrator", slug="acme", host=ACME)
    for path in (
        "/api/v1/admin/customers",
        f"/api/v1/admin/customers?q={quote(MARKER)}",
        "/api/v1/admin/applications",
        "/api/v1/admin/applications?status=draft",
        "/api/v1/admin/applications?product=consumer",
    ):
        answer = client.get(ACME, path, headers=token).json
        rows = answer.get("customers", answer.get("applications"))
        assert rows == [], (path, rows)


# ---- permissions -------------------------------------------------------------------------------------------------

NEEDS = {  # the page routes and the permission each needs (any one of them)
    "admin.credit.customer_document": ("credit.customer",),
    "admin.credit.application_document": ("credit.apply", "credit.approve"),
    "admin.credit.contract_pdf": ("credit.contract",),
    "admin.credit.contract_scan": ("credit.contract",),
}


@pytest.mark.parametrize("role", ["customer_service", "auditor", "content_editor"])
def test_staff_without_a_credit_permission_are_refused_everywhere(client, wsgi_app, db, world, role):
    """Staff holding no credit permission — the read-only auditor too — get 403 on every credit page and
    endpoint that names a row, and on the lists; documents, PDFs and scans above all."""
    viewer = staff_client(wsgi_app, db, f"iso-{role}", role)
    csrf = _csrf(viewer.get(DEMO, "/admin"))
    before = _count_rows(db)
    for name, pattern in PAGES.items():
        path = pattern.format(**world)
        if name not in POST_ONLY:
            answer = viewer.get(DEMO, path, status="*")
            assert answer.status_int == 403, (role, name, answer.status)
            assert "PNG" not in answer.text and "%PDF" not in answer.text
        posted = viewer.post(DEMO, path, {"csrf_token": csrf, "action": "approve"}, status="*")
        assert posted.status_int in (403, 405), (role, name, posted.status)
    for path in LISTS[1:]:
        assert viewer.get(DEMO, path, status="*").status_int == 403, (role, path)
    token = staff_token(client, db, f"iso-{role}-api", role)
    for name, (method, pattern, body) in API.items():
        path = pattern.format(**world)
        if method == "GET":
            answer = client.get(DEMO, path, headers=token, status="*")
        else:
            answer = client.post_json(DEMO, path, body, headers=token, status="*")
        assert answer.status_int == 403, (role, name, answer.status)
    for path in ("/api/v1/admin/customers", "/api/v1/admin/applications"):
        assert client.get(DEMO, path, headers=token, status="*").status_int == 403, (role, path)
    answer = client.post_json(
        DEMO,
        "/api/v1/admin/disbursements",
        {"application_id": world["contracted"], "action": "approve"},
        headers={**token, "Idempotency-Key": f"iso-{role}-disburse"},
        status="*",
    )
    assert answer.status_int == 403
    assert _count_rows(db) == before


def test_anonymous_visitors_are_sent_to_sign_in_and_the_api_answers_401(client, db, world):
    before = _count_rows(db)
    csrf = _csrf(client.get(DEMO, "/admin/login"))
    for name, pattern in PAGES.items():
        path = pattern.format(**world)
        if name in POST_ONLY:  # refused before the session is looked at (its CSRF token is not this one)
            answer = client.post(DEMO, path, {"csrf_token": csrf, "action": "approve"}, status="*")
            assert answer.status_int in (302, 303, 403), (name, answer.status)
            continue
        answer = client.get(DEMO, path, status="*")
        assert answer.status_int in (302, 303), (name, answer.status)
        assert answer.location.split("?")[0].endswith("/admin/login"), (name, answer.location)
    for name, (method, pattern, body) in API.items():
        path = pattern.format(**world)
        if method == "GET":
            answer = client.get(DEMO, path, status="*")
        else:
            answer = client.post_json(DEMO, path, body, status="*")
        assert answer.status_int == 401, (name, answer.status)
    answer = client.post_json(
        DEMO,
        "/api/v1/admin/disbursements",
        {"application_id": world["contracted"], "action": "approve"},
        headers={"Idempotency-Key": "iso-anonymous"},
        status="*",
    )
    assert answer.status_int == 401
    assert _count_rows(db) == before


def test_a_disbursement_token_without_a_second_factor_moves_no_money(client, db, world):
    """A token asked for before the role came to move money (no second factor) is refused disbursing and
    capital injections' decisions, on the API and the pages, and nothing moves."""
    from core.accounts.models import StaffUser
    from core.accounts.permissions import ensure_default_roles
    from core.accounts.services import create_staff

    with db.transaction() as session:
        staff_id = create_staff(session, tenant_by_slug(session, "demo"), "iso-late", PASSWORD, "content_editor").id
    token = client.post_json(DEMO, "/api/v1/auth/token", {"login": "iso-late", "password": PASSWORD, "as": "staff"})
    headers = {"Authorization": "Bearer " + token.json["token"]}
    with db.transaction() as session:
        staff = session.get(StaffUser, staff_id)
        staff.roles = [ensure_default_roles(session, staff.tenant_id)["cashier"]]
    before = _count_rows(db)
    for action in ("prepare", "approve"):
        answer = client.post_json(
            DEMO,
            "/api/v1/admin/disbursements",
            {"application_id": world["contracted"], "action": action},
            headers={**headers, "Idempotency-Key": f"iso-late-{action}"},
            status="*",
        )
        assert answer.status_int == 403 and answer.json["field"] == "Authorization", answer.text
    assert _count_rows(db) == before


def test_the_relationship_manager_cannot_disburse_nor_decide_injections(client, wsgi_app, db, world):
    rm = staff_client(wsgi_app, db, "iso-rm2", "relationship_manager")
    csrf = _csrf(rm.get(DEMO, "/admin/credit/customers"))
    before = _count_rows(db)
    for path in ("/admin/credit/disbursements", "/admin/credit/lending-fund"):
        rm.get(DEMO, path, status=403)
    rm.post(DEMO, "/admin/credit/lending-fund", {"csrf_token": csrf, "amount": "5", "reason": "x"}, status=403)
    for pattern in (PAGES["admin.credit.disbursement_act"], PAGES["admin.credit.lending_fund_decide"]):
        rm.post(DEMO, pattern.format(**world), {"csrf_token": csrf, "action": "approve"}, status=403)
    token = staff_token(client, db, "iso-rm2-api", "relationship_manager")
    client.post_json(
        DEMO,
        "/api/v1/admin/disbursements",
        {"application_id": world["contracted"], "action": "approve"},
        headers={**token, "Idempotency-Key": "iso-rm2-disburse"},
        status=403,
    )
    assert _count_rows(db) == before
