"""Credit applications through the API and the back office's pages: the standard two-step approval with a return,
the four-eyes refusals, comments, limits, conditions that skip a step, documents, tenancy, the member's path."""

import io
import re
from decimal import Decimal

import pyotp
import sqlalchemy as sa

from core.accounts.models import AuditEvent
from core.accounts.services import create_staff
from core.credit.applications.models import (
    ApplicationProgress,
    CreditApplication,
    CreditDecision,
    CreditProduct,
    CreditWorkflow,
)
from core.credit.customers.models import Customer
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, member_client, staff_client, submit
from tests.test_accessibility import problems

DEMO = "demo.localhost"
ACME = "acme.localhost"
STAFF = {
    "rm": "relationship_manager",
    "rev1": "risk_officer",
    "rev2": "risk_officer",
    "appr": "credit_approver",
    "appr2": "credit_approver",
    "boss": "administrator",
    "boss2": "administrator",
    "boss3": "administrator",
}


def people(db, slug="demo"):
    """The credit staff and two customers (an individual and a company) of the tenant's relationship manager."""
    ids, secrets = {}, {}
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        for login, role in STAFF.items():
            staff = create_staff(session, tenant, f"{login}-{slug}", PASSWORD, role)
            ids[login], secrets[login] = staff.id, staff.totp_secret
        for n, (kind, name, identifier) in enumerate(
            (("individual", "王小明", "110105198001010011"), ("corporate", "大華貿易有限公司", "91350100M000100Y43"))
        ):
            customer = Customer(
                tenant_id=tenant.id,
                number=f"C{slug[:2]}{n}",
                kind=kind,
                name=name,
                identifier=identifier,
                relationship_manager_id=ids["rm"],
            )
            session.add(customer)
            session.flush()
            ids[kind] = customer.id
        # an individual product without required documents, for the API's paths
        consumer = session.scalars(
            sa.select(CreditProduct).where(CreditProduct.tenant_id == tenant.id, CreditProduct.code == "consumer")
        ).one()
        consumer.required_documents = []
    return ids, secrets


def demo_product(session, code: str) -> CreditProduct:
    demo = tenant_by_slug(session, "demo").id
    return session.scalars(
        sa.select(CreditProduct).where(CreditProduct.tenant_id == demo, CreditProduct.code == code)
    ).one()


def token(client, login, secret, host=DEMO):
    body = {"login": login, "password": PASSWORD, "as": "staff"}
    if secret:  # only roles that move money sign in with a second factor
        body["totp"] = pyotp.TOTP(secret).now()
    return {"Authorization": "Bearer " + client.post_json(host, "/api/v1/auth/token", body).json["token"]}


def tokens(client, secrets, slug="demo", host=DEMO):
    return {login: token(client, f"{login}-{slug}", secret, host) for login, secret in secrets.items()}


def create(client, auth, customer_id, amount="100000.00", product="consumer", status=201, **extra):
    body = {
        "customer_id": customer_id,
        "product": product,
        "amount": amount,
        "annual_rate_percent": "12",
        "term_months": 12,
        "repayment_method": "equal_installment",
        **extra,
    }
    return client.post_json(DEMO, "/api/v1/admin/applications", body, headers=auth["rm"], status=status).json


def act(client, auth, who, application_id, action, status=200, **body):
    """An action over the API, its refusals read in English (the demo site's own language is Chinese)."""
    return client.post_json(
        DEMO,
        f"/api/v1/admin/applications/{application_id}/actions",
        {"action": action, **body},
        headers={**auth[who], "Accept-Language": "en"},
        status=status,
    ).json


def test_two_step_approval_with_a_return_to_the_first_step(client, wsgi_app, tenants, db):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    created = create(client, auth, ids["individual"])
    assert (created["status"], created["amount"], created["number"][:1]) == ("draft", "100000.00", "A")
    app_id = created["id"]
    submitted = act(client, auth, "rm", app_id, "submit")
    assert (submitted["status"], submitted["step"], submitted["workflow"]) == (
        "in_review",
        "review",
        {"code": "standard", "version": 1},
    )
    assert act(client, auth, "rev1", app_id, "approve", step="review")["step"] == "approval"
    returned = act(client, auth, "appr", app_id, "return", step="approval", to_step="review", comment="收入證明過期")
    assert (returned["status"], returned["step"]) == ("in_review", "review")
    # the same reviewer decides the step again after the return (one person, one step)
    assert act(client, auth, "rev1", app_id, "approve", step="review", comment="已補件")["step"] == "approval"
    done = act(client, auth, "appr", app_id, "approve", step="approval")
    # 100,000.00 is not over the committee's 1,000,000.00: its step is skipped and the approval is final
    assert (done["status"], done["step"]) == ("approved", None)
    assert [(d["step"], d["action"], d["to_step"]) for d in done["decisions"]] == [
        (None, "submit", "review"),
        ("review", "approve", "approval"),
        ("approval", "return", "review"),
        ("review", "approve", "approval"),
        ("approval", "approve", None),
    ]
    with db.transaction() as session:
        audited = session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.object_id == created["number"]).order_by(AuditEvent.id)
        ).all()
        assert audited == [
            "credit.application.create",
            "credit.application.submit",
            "credit.application.approve",
            "credit.application.return",
            "credit.application.approve",
            "credit.application.approve",
        ]
        decided = session.scalars(sa.select(CreditDecision).where(CreditDecision.application_id == app_id)).all()
        assert [d.staff_id for d in decided] == [ids["rm"], ids["rev1"], ids["appr"], ids["rev1"], ids["appr"]]
        steps = session.scalars(
            sa.select(CreditWorkflow.steps).where(
                CreditWorkflow.tenant_id == tenant_by_slug(session, "demo").id,
                CreditWorkflow.code == "standard",
                CreditWorkflow.version == 1,
            )
        ).first()
    # the page's decision history names the steps as the workflow does, not by their codes
    name = {step["code"]: step["name"] for step in steps}
    assert name["review"] != "review"
    page = staff_client(wsgi_app, db, "history-reader", "credit_approver").get(
        DEMO, f"/admin/credit/applications/{app_id}"
    )
    history = page.html.find_all("table")[-1].tbody.find_all("tr")
    assert [tr.find_all("td")[1].text for tr in history] == [
        f" → {name['review']}",
        f"{name['review']} → {name['approval']}",
        f"{name['approval']} → {name['review']}",
        f"{name['review']} → {name['approval']}",
        name["approval"],
    ]


def test_an_amount_over_the_threshold_goes_to_the_committee(client, wsgi_app, tenants, db):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    with db.transaction() as session:
        product = demo_product(session, "working_capital")
        product.required_documents = []
    app_id = create(client, auth, ids["corporate"], amount="2000000.00", product="working_capital")["id"]
    act(client, auth, "rm", app_id, "submit")
    act(client, auth, "rev1", app_id, "approve", step="review")
    assert act(client, auth, "appr", app_id, "approve", step="approval")["step"] == "committee"
    page = staff_client(wsgi_app, db, "boss-page", "administrator").get(DEMO, f"/admin/credit/applications/{app_id}")
    assert page.html.find("table", string=None) is not None and "2,000,000.00" in page.text
    assert act(client, auth, "boss", app_id, "approve", step="committee")["status"] == "approved"


def test_four_eyes_refusals_change_nothing(client, tenants, db):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    with db.transaction() as session:
        from core.credit.applications.workflows import save_workflow

        steps = [{"code": c, "name": c, "role": "administrator"} for c in ("first", "second")]
        save_workflow(session, tenant_by_slug(session, "demo"), "board", {"name": "董事會", "steps": steps}, actor="t")
        demo_product(session, "consumer").workflow_code = "board"
    # the administrator who created it holds the steps' role, yet decides none of them
    auth["creator"] = auth["boss"]
    body = {"customer_id": ids["individual"], "product": "consumer", "amount": "5000.00", "annual_rate_percent": "10"}
    body.update(term_months=6, repayment_method="equal_installment")
    app_id = client.post_json(DEMO, "/api/v1/admin/applications", body, headers=auth["boss"], status=201).json["id"]
    act(client, auth, "boss", app_id, "submit")
    refused = act(client, auth, "boss", app_id, "approve", status=422, step="first")
    assert refused["field"] == "action" and "another person decides" in refused["detail"]
    act(client, auth, "boss2", app_id, "approve", step="first")
    twice = act(client, auth, "boss2", app_id, "approve", status=422, step="second")
    assert "another step" in twice["detail"]
    shown = client.get(DEMO, f"/api/v1/admin/applications/{app_id}", headers=auth["boss3"]).json
    assert (shown["status"], shown["step"], len(shown["decisions"])) == ("in_review", "second", 2)
    assert act(client, auth, "boss3", app_id, "approve", step="second")["status"] == "approved"


def test_a_customer_relationship_manager_other_than_the_creator_cannot_approve(client, tenants, db):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    app_id = create(client, auth, ids["individual"])["id"]
    act(client, auth, "rm", app_id, "submit")
    with db.transaction() as session:
        session.get(Customer, ids["individual"]).relationship_manager_id = ids["rev2"]
    refused = act(client, auth, "rev2", app_id, "approve", status=422, step="review")
    assert "manage this customer" in refused["detail"]


def test_comments_are_required_to_reject_return_or_ask_for_documents(client, tenants, db):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    app_id = create(client, auth, ids["individual"])["id"]
    act(client, auth, "rm", app_id, "submit")
    for action in ("reject", "return", "request_documents"):
        refused = act(client, auth, "rev1", app_id, action, status=422, step="review", to_step="draft", comment="  ")
        assert refused["field"] == "comment"
    asked = act(client, auth, "rev1", app_id, "request_documents", step="review", comment="請補充銀行流水")
    assert asked["documents_requested"] is True
    waiting = act(client, auth, "rev1", app_id, "approve", status=422, step="review")
    assert "Documents were asked for" in waiting["detail"]
    back = act(client, auth, "rev1", app_id, "return", step="review", to_step="draft", comment="重新準備")
    assert (back["status"], back["step"]) == ("draft", None)
    # resubmitted: it keeps the version it started with
    assert act(client, auth, "rm", app_id, "submit")["workflow"] == {"code": "standard", "version": 1}
    rejected = act(client, auth, "rev1", app_id, "reject", step="review", comment="負債過高")
    assert rejected["status"] == "rejected"


def test_acting_on_a_step_one_cannot_act_on_or_twice(client, tenants, db):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    app_id = create(client, auth, ids["individual"])["id"]
    # a step decision on a draft, and an approver acting on the reviewer's step
    assert "not waiting" in act(client, auth, "appr", app_id, "approve", status=422)["detail"]
    act(client, auth, "rm", app_id, "submit")
    assert "another role" in act(client, auth, "appr", app_id, "approve", status=422, step="review")["detail"]
    # the relationship manager has no credit.approve at all
    assert client.post_json(
        DEMO, f"/api/v1/admin/applications/{app_id}/actions", {"action": "approve"}, headers=auth["rm"], status=403
    )
    act(client, auth, "rev1", app_id, "approve", step="review")
    # the second reviewer approving the step already decided: refused, not applied to the next step
    stale = act(client, auth, "rev2", app_id, "approve", status=422, step="review")
    assert stale["field"] == "step"
    assert (
        "earlier step"
        in act(client, auth, "appr", app_id, "return", status=422, step="approval", to_step="committee", comment="x")[
            "detail"
        ]
    )


def test_the_approval_limit_of_the_last_applicable_step(client, tenants, db, plugins):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    with db.transaction() as session:
        from core.credit.applications.workflows import save_workflow

        demo = tenant_by_slug(session, "demo")
        save_workflow(
            session,
            demo,
            "small",
            {
                "name": "小額",
                "steps": [{"code": "only", "name": "審批", "role": "credit_approver", "approval_limit": "50000.00"}],
            },
            actor="test",
        )
        demo_product(session, "consumer").workflow_code = "small"
    over = create(client, auth, ids["individual"], amount="50000.01")["id"]
    act(client, auth, "rm", over, "submit")
    refused = act(client, auth, "appr", over, "approve", status=422, step="only")
    assert "50000.00" in refused["detail"]
    within = create(client, auth, ids["individual"], amount="50000.00")["id"]
    act(client, auth, "rm", within, "submit")
    assert act(client, auth, "appr", within, "approve", step="only")["status"] == "approved"


def test_terms_outside_the_product_are_refused_by_field(client, tenants, db):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    assert create(client, auth, ids["individual"], amount="300000.01", status=422)["field"] == "amount"
    assert (
        create(client, auth, ids["individual"], annual_rate_percent="18.01", status=422)["field"]
        == "annual_rate_percent"
    )
    assert create(client, auth, ids["individual"], term_months=37, status=422)["field"] == "term_months"
    assert (
        create(client, auth, ids["individual"], repayment_method="one_time", product="working_capital", status=422)[
            "field"
        ]
        == "product"
    )
    assert create(client, auth, ids["corporate"], status=422)["field"] == "product"  # an individual product
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CreditApplication)) == 0


def test_another_tenants_application_is_not_found(client, wsgi_app, tenants, db):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    app_id = create(client, auth, ids["individual"])["id"]
    acme_ids, acme_secrets = people(db, "acme")
    acme = tokens(client, acme_secrets, "acme", ACME)
    client.get(ACME, f"/api/v1/admin/applications/{app_id}", headers=acme["rm"], status=404)
    client.post_json(
        ACME, f"/api/v1/admin/applications/{app_id}/actions", {"action": "submit"}, headers=acme["rm"], status=404
    )
    assert client.get(ACME, "/api/v1/admin/applications", headers=acme["rm"]).json["applications"] == []
    # a demo customer named from acme is refused as unknown
    body = {
        "customer_id": ids["individual"],
        "product": "consumer",
        "amount": "1000.00",
        "annual_rate_percent": "8",
        "term_months": 12,
        "repayment_method": "equal_installment",
    }
    assert (
        client.post_json(ACME, "/api/v1/admin/applications", body, headers=acme["rm"], status=422).json["field"]
        == "customer"
    )
    pages = staff_client(wsgi_app, db, "acme-page", "administrator", slug="acme", host=ACME)
    pages.get(ACME, f"/admin/credit/applications/{app_id}", status=404)


def test_status_query_filters(client, wsgi_app, tenants, db):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    first = create(client, auth, ids["individual"])["id"]
    second = create(client, auth, ids["individual"], amount="2000.00")["id"]
    act(client, auth, "rm", second, "submit")
    with db.transaction() as session:
        import datetime as dt

        progress = session.scalars(
            sa.select(ApplicationProgress).where(ApplicationProgress.application_id == second)
        ).one()
        progress.step_due_at -= dt.timedelta(hours=25)
    listed = client.get(DEMO, "/api/v1/admin/applications", params={"status": "in_review"}, headers=auth["rev1"]).json
    assert [a["id"] for a in listed["applications"]] == [second]
    overdue = client.get(DEMO, "/api/v1/admin/applications", params={"overdue": "true"}, headers=auth["rev1"]).json
    assert [(a["id"], a["overdue"]) for a in overdue["applications"]] == [(second, True)]
    by_step = client.get(DEMO, "/api/v1/admin/applications", params={"step": "review"}, headers=auth["rev1"]).json
    assert [a["id"] for a in by_step["applications"]] == [second]
    everything = client.get(
        DEMO, "/api/v1/admin/applications", params={"product": "consumer"}, headers=auth["rev1"]
    ).json
    assert [a["id"] for a in everything["applications"]] == [second, first]
    # my workbench: the reviewer's queue holds it, highlighted overdue; the approver's does not
    reviewer = staff_client(wsgi_app, db, "rev3", "risk_officer")
    page = reviewer.get(DEMO, "/admin/credit")
    assert page.html.select("tr.overdue") and "A" in page.html.select("tr.overdue")[0].text
    approver = staff_client(wsgi_app, db, "appr3", "credit_approver")
    assert not approver.get(DEMO, "/admin/credit").html.select("tbody tr")
    listing = reviewer.get(DEMO, "/admin/credit/applications", params={"overdue": "1"})
    assert len(listing.html.select("tbody tr.overdue")) == 1


def preview_rows(page) -> list[list[Decimal]]:
    """The schedule preview's (principal, interest, service fee) per period, as shown."""
    table = next(t for t in page.html.find_all("table") if "Service fee" in t.text)
    cells = [[td.text for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")]
    return [[Decimal(re.sub(r"[^0-9.]", "", c)) for c in row[2:5]] for row in cells]


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), "white").save(out, "PNG")
    return out.getvalue()


def test_the_pages_path_with_documents_guarantees_and_collateral(client, wsgi_app, tenants, db):
    ids, secrets = people(db)
    image = png()
    with db.transaction() as session:
        demo_product(session, "consumer").required_documents = ["id_card"]
    rm = staff_client(wsgi_app, db, "rm-page", "relationship_manager")
    page = rm.get(DEMO, "/admin/credit/applications/new?_LOCALE_=en")
    made = submit(
        rm,
        DEMO,
        page,
        {
            "customer_id": str(ids["individual"]),
            "product": "consumer",
            "amount": "120,000.00",
            "annual_rate_percent": "12",
            "term_months": "12",
            "repayment_method": "equal_installment",
        },
        status=303,
    )
    app_page = rm.get(DEMO, made.location)
    app_id = int(made.location.rstrip("/").split("/")[-1])
    # the schedule preview: 120,000.00 at 12% over 12 equal installments; the tenant's 1% fee spread over them
    rows = preview_rows(app_page)
    # 120,000.00 at 1% a month over 12 months: 120000 × 0.01 / (1 − 1.01⁻¹²) = 10,661.85 a month
    monthly = Decimal(120000) * Decimal("0.01") / (1 - Decimal("1.01") ** -12)
    assert rows[0][0] + rows[0][1] == monthly.quantize(Decimal("0.01"))
    assert rows[0][1] == Decimal("1200.00")  # the first month's interest on the whole amount
    assert sum(r[0] for r in rows) == Decimal("120000.00") and len(rows) == 12
    assert [r[2] for r in rows] == [Decimal("100.00")] * 12  # the tenant's 1% fee, 1,200.00, spread evenly
    refused = submit(rm, DEMO, app_page, {"comment": ""}, action="submit", status=400)
    assert "Attach every document" in refused.text
    # a file that only claims to be an image is refused by its bytes
    edit = f"/admin/credit/applications/{app_id}/edit"
    token_value = app_page.html.find("input", {"name": "csrf_token"})["value"]
    fake = rm.app.post(
        edit,
        params={"csrf_token": token_value, "what": "document", "doc_type": "id_card"},
        upload_files=[("file", "id.png", b"not an image at all")],
        extra_environ={"HTTP_HOST": DEMO},
        status=400,
    )
    assert "JPEG, PNG or PDF" in fake.text
    rm.app.post(
        edit,
        params={"csrf_token": token_value, "what": "document", "doc_type": "id_card"},
        upload_files=[("file", "id.png", image)],
        extra_environ={"HTTP_HOST": DEMO},
        status=303,
    )
    rm.post(
        DEMO,
        edit,
        {
            "csrf_token": token_value,
            "what": "collateral",
            "kind": "real_estate",
            "description": "台北市住宅",
            "appraised_value": "400000.00",
        },
        status=303,
    )
    rm.post(
        DEMO,
        edit,
        {"csrf_token": token_value, "what": "guarantee", "guarantor_id": str(ids["corporate"]), "amount": ""},
        status=303,
    )
    app_page = rm.get(DEMO, f"/admin/credit/applications/{app_id}")
    assert problems(app_page.text) == []
    assert "30.00%" in app_page.text  # 120,000.00 / 400,000.00
    assert "大華貿易有限公司" in app_page.text
    link = app_page.html.find("a", href=lambda h: h and "/documents/" in h)["href"]
    opened = rm.get(DEMO, link)
    assert opened.body == image and opened.headers["Cache-Control"] == "no-store"
    # staff without credit.apply or credit.approve may not open it
    outsider = staff_client(wsgi_app, db, "cs-desk", "customer_service")
    outsider.get(DEMO, link, status=403)
    submit(rm, DEMO, app_page, {"comment": ""}, action="submit", status=303)
    reviewer = staff_client(wsgi_app, db, "rev-page", "risk_officer")
    review = reviewer.get(DEMO, f"/admin/credit/applications/{app_id}?_LOCALE_=en")
    assert problems(review.text) == []
    refused = submit(reviewer, DEMO, review, {"comment": ""}, action="reject", status=400)
    assert "Say why in a comment" in refused.text
    submit(reviewer, DEMO, review, {"comment": "資料齊全"}, action="approve", status=303)
    with db.transaction() as session:
        assert session.get(CreditApplication, app_id).status == "in_review"
        opened_events = session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "credit.document.open"))
        assert opened_events == 1
        assert (
            session.scalars(
                sa.select(ApplicationProgress.step).where(ApplicationProgress.application_id == app_id)
            ).one()
            == "approval"
        )


def test_the_member_applies_from_their_account(client, wsgi_app, tenants, db):
    member, member_id = member_client(wsgi_app, db, "13800000123")
    page = member.get(DEMO, "/account/credit")
    assert "marketplace_personal" in page.text
    done = submit(
        member,
        DEMO,
        page,
        {
            "product": "marketplace_personal",
            "amount": "20000.00",
            "term_months": "6",
            "repayment_method": "equal_installment",
        },
        status=303,
    )
    listing = member.get(DEMO, done.location)
    with db.transaction() as session:
        application = session.scalars(sa.select(CreditApplication)).one()
        customer = session.get(Customer, application.customer_id)
        assert (
            customer.member_id,
            application.created_by,
            application.amount,
            str(application.annual_rate_percent),
        ) == (
            member_id,
            None,
            2_000_000,
            "8",
        )
        number = application.number
    assert number in listing.text and problems(listing.text) == []
    # a product not offered to members is refused
    csrf = listing.html.find("input", {"name": "csrf_token"})["value"]
    body = {"csrf_token": csrf, "product": "consumer", "amount": "20000.00", "term_months": "6"}
    member.post(DEMO, "/account/credit", dict(body, repayment_method="equal_installment"), status=400)
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CreditApplication)) == 1


def test_the_approval_workbench_shows_the_exposure_of_the_customer_and_related_parties(
    client, wsgi_app, tenants, db, plugins
):
    import core.loans as loans
    from core.credit.customers.models import CustomerRelation
    from tests import factories

    ids, secrets = people(db)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        hooks = plugins.for_tenant(demo)
        lenders = [factories.member(session, demo, f"1370000000{n}", balance=5_000_000) for n in range(2)]
        applicant = factories.member(session, demo, "13700000101", name="王小明", credit_line=5_000_000)
        spouse = factories.member(session, demo, "13700000102", name="李小華", credit_line=5_000_000)
        mine = factories.loan(session, demo, hooks, applicant, "repaying", lenders=lenders)
        factories.loan(session, demo, hooks, spouse, "repaying", lenders=lenders, amount="20000.00")
        factories.recharge(session, demo, applicant, 100_000, key="repay-first")
        loans.repay_next(session, demo, mine, by="member")
        customer = session.get(Customer, ids["individual"])
        customer.member_id = applicant.id
        partner = Customer(
            tenant_id=demo.id, number="Cspouse", kind="individual", name="李小華", identifier="X2", member_id=spouse.id
        )
        session.add(partner)
        session.flush()
        session.add(CustomerRelation(tenant_id=demo.id, customer_id=customer.id, related_id=partner.id, kind="spouse"))
    auth = tokens(client, secrets)
    app_id = create(client, auth, ids["individual"])["id"]
    page = staff_client(wsgi_app, db, "rev-exp", "risk_officer").get(DEMO, f"/admin/credit/applications/{app_id}")
    table = next(t for t in page.html.find_all("table") if "李小華" in t.text)
    figures = [Decimal(re.sub(r"[^0-9.]", "", tr.find_all("td")[-1].text)) for tr in table.find_all("tr")[1:]]
    # 10,000.00 at 1% a month: the first installment of 888.49 pays 100.00 interest and 788.49 principal
    first_principal = (Decimal(10000) * Decimal("0.01") / (1 - Decimal("1.01") ** -12)).quantize(Decimal("0.01")) - 100
    assert figures == [10000 - first_principal, Decimal("20000.00"), 30000 - first_principal]


def test_hostile_filters_are_answered_not_crashed(client, wsgi_app, tenants, db):
    ids, secrets = people(db)
    auth = tokens(client, secrets)
    pages = staff_client(wsgi_app, db, "fuzz-credit", "administrator")
    for value in ("a\x00b", "9" * 30, "-1", "' OR 1=1 --", "全形１２"):
        query = {"status": value, "product": value, "step": value, "overdue": value}
        assert pages.get(DEMO, "/admin/credit/applications", params=query, status="*").status_int in (200, 400)
        answer = client.get(DEMO, "/api/v1/admin/applications", params=query, headers=auth["rev1"], status="*")
        assert answer.status_int in (200, 400, 422)
    page = pages.get(DEMO, "/admin/credit/workflows")
    refused = submit(pages, DEMO, page, {"toml": '[workflows.x]\nname = "a\\u0000b"\n'}, status=400)
    assert refused.html.select("#toml-error")


def test_a_step_of_an_organization_unit_is_decided_by_its_staff_and_those_of_units_under_it(client, tenants, db):
    from core.accounts.models import StaffUser
    from core.accounts.services import create_org_unit
    from core.credit.applications.workflows import save_workflow

    ids, secrets = people(db)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        credit = create_org_unit(session, demo.id, "授信部", None)
        branch = create_org_unit(session, demo.id, "台北分部", credit.id)
        session.get(StaffUser, ids["appr"]).org_unit_id = branch.id  # under the unit: may act
        steps = [{"code": "desk", "name": "授信部審批", "org_unit": "授信部"}]
        save_workflow(session, demo, "by_unit", {"name": "部門審批", "steps": steps}, actor="test")
        demo_product(session, "consumer").workflow_code = "by_unit"
    auth = tokens(client, secrets)
    app_id = create(client, auth, ids["individual"])["id"]
    act(client, auth, "rm", app_id, "submit")
    outside = act(client, auth, "appr2", app_id, "approve", status=422, step="desk")
    assert "another role or unit" in outside["detail"]
    assert act(client, auth, "appr", app_id, "approve", step="desk")["status"] == "approved"


def test_a_member_without_real_name_verification_is_asked_to_verify_first(client, wsgi_app, tenants, db):
    member, _member_id = member_client(wsgi_app, db, "13800000124", verified=False)
    page = member.get(DEMO, "/account/credit?_LOCALE_=en")
    values = {"product": "marketplace_personal", "amount": "20000.00", "term_months": "6"}
    refused = submit(member, DEMO, page, values, status=400)
    assert "real-name verification" in refused.text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def test_a_relationship_manager_starts_an_application_from_the_customers_page(client, wsgi_app, tenants, db):
    """The customer's page leads to a new application for them, named by the number the pages show; the
    workbench then shows their latest rating as the customer's pages do, and the draft's withdraw button says
    what it withdraws."""
    from tests.helpers import resident_id

    rm = staff_client(wsgi_app, db, "rm-start", "relationship_manager")
    form = rm.get(DEMO, "/admin/credit/customers/new/individual?_LOCALE_=en")
    made = submit(
        rm,
        DEMO,
        form,
        {"name": "趙子龍", "id_type": "cn_resident", "id_number": resident_id(516), "monthly_income": "12000"},
        status=303,
    )
    customer_page = rm.get(DEMO, made.location + "?_LOCALE_=en")
    number = re.search(r"C\d{10}", customer_page.html.find("h1").text).group(0)
    rated = submit(rm, DEMO, rm.get(DEMO, made.location + "/ratings/new"), {}, action="accept", status=303)
    score = rm.get(DEMO, rated.location + "?_LOCALE_=en").html.find("tfoot").find("strong").text
    link = customer_page.html.find("a", href=lambda h: h and "/admin/credit/applications/new" in h)
    assert link is not None and link.text == "New application"
    new = rm.get(DEMO, link["href"])
    assert new.html.find("input", {"id": "customer_id"})["value"] == number
    terms = {"product": "consumer", "amount": "12000", "annual_rate_percent": "12", "term_months": "12"}
    draft = submit(rm, DEMO, new, {**terms, "repayment_method": "equal_installment"}, status=303)
    page = rm.get(DEMO, draft.location + "?_LOCALE_=en")
    assert number in page.text
    latest = page.html.find("dt", string="Latest rating").find_next("dd").text
    assert latest.split(" · ")[1] == score and "." not in score  # "77", not "77.0"
    withdraw = page.html.find("button", {"value": "withdraw"})
    assert withdraw.text == "Withdraw the application"
    # a number typed in lower case is the same customer; an unknown number or another site's is refused by field
    lower = submit(rm, DEMO, new, {"customer_id": number.lower(), **terms}, status=303)
    assert lower.location != draft.location
    with db.transaction() as session:
        acme_number = session.scalars(
            sa.select(Customer.number).where(Customer.tenant_id == tenant_by_slug(session, "acme").id)
        ).first()
    for wrong in ("C9999999999", acme_number or "C0000000000", "<script>"):
        refused = submit(rm, DEMO, new, {"customer_id": wrong, **terms}, status=400)
        assert "no such customer" in refused.text.lower() or "沒有這位客戶" in refused.text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CreditApplication)) == 2
