"""Approval workflows: the defaults every tenant gets, the checks a definition passes, versions, the TOML round trip
through ``lendstack credit workflow``, and the products and workflow pages."""

import tomllib
from decimal import Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli import main
from core.credit.applications.engine import applies
from core.credit.applications.models import ApplicationProgress, CreditProduct, CreditWorkflow
from core.credit.applications.workflows import WorkflowError, save_workflow
from core.credit.customers.models import Customer
from core.tenancy.services import tenant_by_slug
from tenants.manifest import SHIPPED
from tests.helpers import staff_client, submit

DEMO = "demo.localhost"


@pytest.fixture
def ini(tmp_path, settings, engine):
    path = tmp_path / "test.ini"
    lines = ["[app:main]", "use = egg:lendstack"] + [f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def step(code, **extra):
    return {"code": code, "name": code, "role": "credit_approver", **extra}


def save(db, steps, code="custom"):
    with db.transaction() as session:
        workflow, outcome = save_workflow(
            session, tenant_by_slug(session, "demo"), code, {"name": "自訂", "steps": steps}, actor="test"
        )
        return workflow.version, outcome


def refusal(db, steps) -> WorkflowError:
    with pytest.raises(WorkflowError) as refused:
        save(db, steps)
    return refused.value


def test_every_tenant_gets_the_standard_workflow_and_products_once(tenants, db, apply_manifest):
    apply_manifest(SHIPPED / "demo.toml")  # again: nothing is added twice
    with db.transaction() as session:
        for slug in ("demo", "acme"):
            tenant = tenant_by_slug(session, slug)
            workflows = session.scalars(sa.select(CreditWorkflow).where(CreditWorkflow.tenant_id == tenant.id)).all()
            assert [(w.code, w.version) for w in workflows] == [("standard", 1)]
            assert [s["code"] for s in workflows[0].steps] == ["review", "approval", "committee"]
            committee = workflows[0].steps[2]
            # 1,000,000.00 in minor units, in CNY and in USD alike
            assert committee["condition"] == {"amount_over": 100_000_000}
            assert workflows[0].steps[1]["approval_limit"] == 100_000_000
            products = session.scalars(
                sa.select(CreditProduct).where(CreditProduct.tenant_id == tenant.id).order_by(CreditProduct.code)
            ).all()
            assert [(p.code, p.customer_kind, p.funding_source, p.offered_to_members) for p in products] == [
                ("consumer", "individual", "own_funds", False),
                ("marketplace_personal", "individual", "marketplace", True),
                ("working_capital", "corporate", "own_funds", False),
            ]
            assert all(
                p.loan_type == "credit" and p.max_rate_percent <= tenant.max_annual_rate_percent for p in products
            )
        assert tenant_by_slug(session, "demo").default_locale == "zh_Hant"
        demo = session.scalars(
            sa.select(CreditWorkflow).where(CreditWorkflow.tenant_id == tenant_by_slug(session, "demo").id)
        ).one()
        assert demo.name == "標準審批流程"


def test_a_definition_is_checked_whole(tenants, db):
    assert refusal(db, []).field == "steps"
    assert refusal(db, [step("a"), step("a")]).field == "steps.2.code"
    # a return may go only to an earlier step
    assert refusal(db, [step("a", return_to=["b"]), step("b")]).field == "steps.1.return_to"
    # no terminal approval: a step that cannot approve
    assert refusal(db, [step("a", actions=["reject"])]).field == "steps.1.actions"
    # every step conditional: an application no condition fits would pass unreviewed
    assert refusal(db, [step("a", condition={"amount_over": "100.00"})]).field == "steps"
    # a grade off the scale; unreachable: an unknown customer kind
    assert refusal(db, [step("a"), step("b", condition={"grade_below": "Z"})]).field == "steps.2.condition.grade_below"
    assert refusal(db, [step("a"), step("b", condition={"customer_kind": "robot"})]).field == (
        "steps.2.condition.customer_kind"
    )
    # nobody could act: an unknown role, or one without credit.approve
    assert refusal(db, [step("a", role="nobody")]).field == "steps.1.role"
    assert refusal(db, [step("a", role="cashier")]).field == "steps.1.role"
    assert refusal(db, [step("a", hours=0)]).field == "steps.1.hours"
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).where(CreditWorkflow.code == "custom")) == 0


def test_editing_a_version_in_use_makes_a_new_version(tenants, db):
    assert save(db, [step("a")]) == (1, "created")
    assert save(db, [step("a", hours=8)]) == (1, "changed")  # nobody started with it yet
    assert save(db, [step("a", hours=8)]) == (1, "unchanged")
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")

        customer = Customer(tenant_id=demo.id, number="C1", kind="individual", name="李四", identifier="X1")
        session.add(customer)
        session.flush()
        from core.credit.applications.models import CreditApplication

        product = session.scalars(
            sa.select(CreditProduct).where(CreditProduct.tenant_id == demo.id, CreditProduct.code == "consumer")
        ).one()
        application = CreditApplication(
            tenant_id=demo.id,
            number="A1",
            customer_id=customer.id,
            product_id=product.id,
            amount=100_000,
            currency="CNY",
            annual_rate_percent=Decimal(10),
            term_months=6,
            repayment_method="equal_installment",
        )
        session.add(application)
        session.flush()
        v1 = session.scalars(sa.select(CreditWorkflow).where(CreditWorkflow.code == "custom")).one()
        session.add(ApplicationProgress(tenant_id=demo.id, application_id=application.id, workflow_id=v1.id, step="a"))
    assert save(db, [step("a", hours=12)]) == (2, "new_version")
    with db.transaction() as session:
        kept = session.scalars(sa.select(ApplicationProgress)).one()
        versions = dict(session.execute(sa.select(CreditWorkflow.id, CreditWorkflow.version)).all())
        assert versions[kept.workflow_id] == 1
        hours = session.scalars(
            sa.select(CreditWorkflow.steps).where(CreditWorkflow.code == "custom").order_by(CreditWorkflow.version)
        ).all()
        assert [h[0]["hours"] for h in hours] == [8, 12]


def test_a_condition_holds_only_when_every_part_does():
    class Application:
        amount = 500_000

    class Customer:
        kind, grade = "individual", "B"

    grade_below_a = {"condition": {"grade_below": "A"}}
    assert applies(grade_below_a, Application, Customer)  # B is below A
    Customer.grade = "AA"
    assert not applies(grade_below_a, Application, Customer)
    Customer.grade = None
    assert applies(grade_below_a, Application, Customer)  # unrated counts as below every grade
    both = {"condition": {"amount_over": 500_000, "customer_kind": "individual"}}
    assert not applies(both, Application, Customer)  # 500,000 is not over 500,000
    Application.amount = 500_001
    assert applies(both, Application, Customer)
    Customer.kind = "corporate"
    assert not applies(both, Application, Customer)


def test_toml_round_trip_through_the_command(ini, tenants, db, tmp_path):
    out = tmp_path / "workflows.toml"
    exported = run("credit", "workflow", "export", "-c", ini, "--tenant", "demo", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    data = tomllib.loads(out.read_text(encoding="utf-8"))
    standard = data["workflows"]["standard"]
    assert [s["code"] for s in standard["steps"]] == ["review", "approval", "committee"]
    assert standard["steps"][2]["condition"] == {"amount_over": "1000000.00"}
    again = run("credit", "workflow", "import", "-c", ini, "--tenant", "demo", str(out))
    assert again.exit_code == 0 and "standard: unchanged (version 1)" in again.output
    # a copy under another code, with its committee threshold raised, imports as a new workflow
    text = out.read_text(encoding="utf-8").replace("[workflows.standard]", "[workflows.large]")
    text = text.replace("workflows.standard.", "workflows.large.").replace('"1000000.00"', '"5000000.00"')
    (tmp_path / "large.toml").write_text(text, encoding="utf-8")
    made = run("credit", "workflow", "import", "-c", ini, "--tenant", "demo", str(tmp_path / "large.toml"))
    assert made.exit_code == 0 and "large: created (version 1)" in made.output
    one = run("credit", "workflow", "export", "-c", ini, "--tenant", "demo", "--code", "large")
    assert tomllib.loads(one.output)["workflows"]["large"]["steps"][1]["approval_limit"] == "5000000.00"
    with db.transaction() as session:
        acme = tenant_by_slug(session, "acme").id
        assert session.scalar(sa.select(sa.func.count()).where(CreditWorkflow.tenant_id == acme)) == 1


def test_a_bad_file_changes_nothing(ini, tenants, db, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[workflows.x\nname = 1", encoding="utf-8")
    result = run("credit", "workflow", "import", "-c", ini, "--tenant", "demo", str(bad))
    assert result.exit_code == 2 and str(bad) in result.output and "toml" in result.output
    later = tmp_path / "later.toml"
    later.write_text(
        """
[workflows.good]
name = "Good"
[[workflows.good.steps]]
code = "a"
name = "A"
role = "credit_approver"

[workflows.broken]
name = "Broken"
[[workflows.broken.steps]]
code = "a"
name = "A"
role = "credit_approver"
return_to = ["b"]
[[workflows.broken.steps]]
code = "b"
name = "B"
role = "risk_officer"
""",
        encoding="utf-8",
    )
    result = run("credit", "workflow", "import", "-c", ini, "--tenant", "demo", str(later))
    assert result.exit_code == 2
    assert f"{later}: workflows.broken.steps.1.return_to" in result.output and "nothing was changed" in result.output
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).where(CreditWorkflow.code == "good")) == 0
    assert run("credit", "workflow", "export", "-c", ini, "--tenant", "nowhere").exit_code == 2


def test_workflow_and_product_pages(client, wsgi_app, tenants, db):
    staff = staff_client(wsgi_app, db, "designer-w", "risk_officer")
    page = staff.get(DEMO, "/admin/credit/workflows/standard?_LOCALE_=en")
    text = page.html.find("textarea").text
    refused = submit(
        staff,
        DEMO,
        page,
        {"toml": text.replace('return_to = [\n    "draft",\n]', 'return_to = ["approval"]')},
        status=400,
    )
    assert "steps.1.return_to" in refused.text
    shorter = text.replace("hours = 24", "hours = 12")
    assert shorter != text
    submit(staff, DEMO, page, {"toml": shorter}, status=303)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        saved = session.scalars(sa.select(CreditWorkflow).where(CreditWorkflow.tenant_id == demo)).one()
        assert (saved.version, saved.steps[0]["hours"]) == (1, 12)
    new = staff.get(DEMO, "/admin/credit/products/new")
    values = {
        "code": "car",
        "name_zh_Hant": "汽車貸款",
        "min_amount": "10,000.00",
        "max_amount": "500000",
        "min_term_months": "12",
        "max_term_months": "60",
        "min_rate_percent": "6",
        "max_rate_percent": "99",
    }
    over_cap = submit(staff, DEMO, new, values, status=400)
    assert over_cap.html.select("p.error")
    form = new.forms[[k for k, f in new.forms.items() if "code" in f.fields][0]]
    form["repayment_methods"] = ["equal_installment"]
    for key, value in dict(values, max_rate_percent="15").items():
        form[key] = value
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        car = session.scalars(sa.select(CreditProduct).where(CreditProduct.code == "car")).one()
        assert (car.min_amount, car.max_amount, str(car.max_rate_percent), car.repayment_methods, car.active) == (
            1_000_000,
            50_000_000,
            "15",
            ["equal_installment"],
            True,
        )
        car_id = car.id
    edit = staff.get(DEMO, f"/admin/credit/products/{car_id}")
    edit_form = edit.forms[[k for k, f in edit.forms.items() if "active" in f.fields][0]]
    edit_form["active"] = False
    edit_form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        assert session.get(CreditProduct, car_id).active is False
    assert "car" in staff.get(DEMO, "/admin/credit/products").text
