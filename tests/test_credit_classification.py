"""The five-level classification, tried from outside: close of day (through the API) classifies every outstanding
loan by days past due with the default rules, the provisions are the class's percent of the principal left
(worked out here), a second person approves a proposed class (stricter at will, looser only down to the rules'),
the pages and the API show it, the command classifies again without recording a change twice, month ends are
kept for the migration matrix, and another tenant's staff see none of it."""

import datetime as dt
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli import main
from core.audit import AuditEvent
from core.credit.classification.models import ClassChange, ClassProposal, ClassSnapshot
from core.db import scope_to_tenant
from core.loans.models import Installment, Loan
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import staff_client, submit
from tests.test_credit_contracts import staff_token

DEMO, ACME = "demo.localhost", "acme.localhost"
DAY = dt.date(2027, 1, 4)  # the demo tenant's first business date
CLOSE = "/api/v1/admin/close-of-day"


def provision(principal_minor: int, percent: str) -> int:
    """The reference: percent of the principal, rounded half up to the cent."""
    exact = Decimal(principal_minor) * Decimal(percent) / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def overdue_loan(db, plugins, n: int, days_past_due: int, amount: str = "10000.00") -> int:
    """A disbursed loan whose first installment is ``days_past_due`` days past due at the close of ``DAY``
    (0: none is due yet); the borrower has spent what was lent, so close of day collects nothing."""
    first_due = DAY - dt.timedelta(days=days_past_due - 1) if days_past_due else None
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        scope_to_tenant(session, tenant.id)
        return factories.spent_loan(
            session, tenant, plugins.for_tenant(tenant), n, first_due=first_due, amount=amount
        ).id


@pytest.fixture
def book(db, tenants, plugins):
    """Six loans of demo: not due, and 1, 90, 91, 271 and 361 days past due at the close of 2027-01-04."""
    return {
        "current": overdue_loan(db, plugins, 1, 0),
        "1": overdue_loan(db, plugins, 2, 1, amount="3333.33"),
        "90": overdue_loan(db, plugins, 3, 90),
        "91": overdue_loan(db, plugins, 4, 91),
        "271": overdue_loan(db, plugins, 5, 271),
        "361": overdue_loan(db, plugins, 6, 361),
    }


@pytest.fixture
def ini(tmp_path, settings):
    path = tmp_path / "test.ini"
    path.write_text(
        "\n".join(["[app:main]", "use = egg:lendstack", *(f"{k} = {v}" for k, v in settings.items())]) + "\n"
    )
    return str(path)


def close(client, admin, day: dt.date):
    return client.post_json(DEMO, CLOSE, {"date": day.isoformat()}, headers=admin).json


def standing(client, officer, loan_id):
    return client.get(DEMO, f"/api/v1/admin/loans/{loan_id}/classification", headers=officer).json


def test_close_of_day_classifies_by_days_past_due_and_works_out_the_provisions(client, db, book):
    admin = staff_token(client, db, "cls-admin", "administrator")
    officer = staff_token(client, db, "cls-officer", "risk_officer")
    summary = close(client, admin, DAY)["summary"]
    assert summary["classified"] == 6 and summary["changed"] == 5
    expected = {  # days past due, class, principal left, provision: by the default rules and rates
        "current": (0, "normal", 1_000_000, 0),
        "1": (1, "special_mention", 333_333, provision(333_333, "2")),  # 6,666.66 → 6,667
        "90": (90, "special_mention", 1_000_000, 20_000),
        "91": (91, "substandard", 1_000_000, 250_000),
        "271": (271, "doubtful", 1_000_000, 500_000),
        "361": (361, "loss", 1_000_000, 1_000_000),
    }
    assert provision(333_333, "2") == 6_667
    for name, (dpd, cls, left, needed) in expected.items():
        shown = standing(client, officer, book[name])
        found = shown["standing"]
        assert (found["days_past_due"], found["class"], found["outstanding_principal"], found["provision"]) == (
            dpd,
            cls,
            left,
            needed,
        ), name
        assert found["rule_class"] == cls and found["manual_class"] is None and found["classified_on"] == "2027-01-04"
        history = shown["history"]
        if cls == "normal":
            assert history == []
        else:
            assert [(h["from_class"], h["to_class"], h["source"], h["business_date"]) for h in history] == [
                (None, cls, "rule", "2027-01-04")
            ]
    totals = client.get(DEMO, "/api/v1/admin/classification", headers=officer).json
    by_class = {row["class"]: (row["loans"], row["outstanding"], row["provision"]) for row in totals["classes"]}
    assert by_class == {
        "normal": (1, 1_000_000, 0),
        "special_mention": (2, 1_333_333, 26_667),
        "substandard": (1, 1_000_000, 250_000),
        "doubtful": (1, 1_000_000, 500_000),
        "loss": (1, 1_000_000, 1_000_000),
    }
    assert totals["total"] == {"loans": 6, "outstanding": 5_333_333, "provision": 1_776_667}
    # the next close: one more day past due each; the 90-day loan crosses into substandard, nothing else moves
    summary = close(client, admin, DAY + dt.timedelta(days=1))["summary"]
    assert summary["changed"] == 1 and summary["downgraded"] == 1
    moved = standing(client, officer, book["90"])
    assert moved["standing"]["class"] == "substandard" and moved["standing"]["days_past_due"] == 91
    assert [(h["from_class"], h["to_class"]) for h in moved["history"]] == [
        (None, "special_mention"),
        ("special_mention", "substandard"),
    ]


def test_manual_classification_four_eyes_and_the_rules_floor(client, db, book):
    admin = staff_token(client, db, "cls-admin3", "administrator")
    first = staff_token(client, db, "cls-first3", "risk_officer")
    second = staff_token(client, db, "cls-second3", "risk_officer")
    close(client, admin, DAY)
    url = f"/api/v1/admin/loans/{book['91']}/classification"
    looser = client.post_json(
        DEMO,
        url + "?_LOCALE_=en",
        {"proposed_class": "special_mention", "reason": "還款意願良好"},
        headers=first,
        status=422,
    ).json
    assert looser["field"] == "proposed_class" and "Substandard" in looser["detail"]
    assert client.post_json(DEMO, url, {"proposed_class": "doubtful", "reason": ""}, headers=first, status=400)
    assert client.post_json(DEMO, url, {"proposed_class": "worse", "reason": "x"}, headers=first, status=400)
    proposal = client.post_json(
        DEMO, url, {"proposed_class": "doubtful", "reason": "抵押物價值大幅下降"}, headers=first, status=201
    ).json
    assert proposal["status"] == "pending" and proposal["class_then"] == "substandard"
    again = client.post_json(DEMO, url, {"proposed_class": "loss", "reason": "再議"}, headers=second, status=422).json
    assert again["field"] == "loan"  # one proposal waits at a time
    decide = f"/api/v1/admin/classification/proposals/{proposal['id']}/decision"
    own = client.post_json(DEMO, decide, {"decision": "approve"}, headers=first, status=422).json
    assert own["field"] == "decision"
    assert client.post_json(DEMO, decide, {"decision": "reject"}, headers=second, status=422).json["field"] == "note"
    approved = client.post_json(DEMO, decide, {"decision": "approve"}, headers=second).json
    assert approved["status"] == "approved"
    assert (
        client.post_json(DEMO, decide, {"decision": "approve"}, headers=second, status=422).json["field"] == "decision"
    )
    shown = standing(client, first, book["91"])
    assert shown["standing"]["class"] == "doubtful" and shown["standing"]["manual_class"] == "doubtful"
    assert shown["standing"]["rule_class"] == "substandard" and shown["standing"]["provision"] == 500_000
    assert [(h["from_class"], h["to_class"], h["source"]) for h in shown["history"]] == [
        (None, "substandard", "rule"),
        ("substandard", "doubtful", "manual"),
    ]
    assert "cls-second3" in shown["history"][1]["decided_by"]
    # the next close keeps the stricter class staff approved (the rules still say substandard)
    close(client, admin, DAY + dt.timedelta(days=1))
    kept = standing(client, first, book["91"])["standing"]
    assert (kept["class"], kept["rule_class"], kept["days_past_due"]) == ("doubtful", "substandard", 92)
    # back down to the rules' class: allowed, and the manual class is gone
    back = client.post_json(DEMO, url, {"proposed_class": "substandard", "reason": "已追加擔保"}, headers=second).json
    decide = f"/api/v1/admin/classification/proposals/{back['id']}/decision"
    client.post_json(DEMO, decide, {"decision": "approve"}, headers=first)
    now = standing(client, first, book["91"])["standing"]
    assert (now["class"], now["manual_class"], now["provision"]) == ("substandard", None, 250_000)
    with db.transaction() as session:
        actions = session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.object_type == "credit_class_proposal")
            .order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "credit.classification.propose",
        "credit.classification.approve",
        "credit.classification.propose",
        "credit.classification.approve",
    ]


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


def test_the_pages_show_the_classes_and_take_a_proposal_with_evidence(client, wsgi_app, db, book):
    admin = staff_token(client, db, "cls-admin4", "administrator")
    close(client, admin, DAY)
    officer = staff_client(wsgi_app, db, "cls-page-1", "risk_officer")
    checker = staff_client(wsgi_app, db, "cls-page-2", "risk_officer")
    overview = officer.get(DEMO, "/admin/credit/classification?_LOCALE_=en")
    assert "17,766.67" in overview.text and "53,333.33" in overview.text  # the total provision and principal
    page = officer.get(DEMO, f"/admin/credit/loans/{book['271']}/classification?_LOCALE_=en")
    assert "Doubtful" in page.text and "5,000.00" in page.text and "271" in page.text
    options = re.findall(r'<option value="([a-z_]+)"', page.text)
    assert options == ["doubtful", "loss"]  # nothing looser than the rules is offered
    form = page.forms[[k for k, f in page.forms.items() if "proposed_class" in f.fields][0]]
    form["proposed_class"] = "loss"
    form["reason"] = "借款人失聯"
    form["evidence"] = ("note.txt", b"not a document")
    refused = form.submit(extra_environ={"HTTP_HOST": DEMO}, status="*")
    assert refused.status_int == 400 and 'role="alert"' in refused.text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ClassProposal)) == 0
    form["evidence"] = ("visit.png", _png())
    assert form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        proposal = session.scalars(sa.select(ClassProposal)).one()
    evidence = checker.get(DEMO, f"/admin/credit/classification/proposals/{proposal.id}/evidence")
    assert evidence.body == _png() and evidence.content_type == "image/png"
    pending = checker.get(DEMO, "/admin/credit/classification?_LOCALE_=en")
    assert "借款人失聯" in pending.text
    decided = submit(checker, DEMO, pending, {}, action="approve", status=303, action_suffix="")
    assert decided.location.endswith("/admin/credit/classification")
    after = officer.get(DEMO, f"/admin/credit/loans/{book['271']}/classification?_LOCALE_=en")
    assert "Loss" in after.text and "10,000.00" in after.text
    with db.transaction() as session:
        opened = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "credit.classification.evidence")
        ).all()
        assert len(opened) == 1


def test_the_command_classifies_the_last_closed_day_again_without_a_second_change(client, db, book, ini):
    admin = staff_token(client, db, "cls-admin5", "administrator")
    close(client, admin, DAY)
    run = CliRunner().invoke(main, ["credit", "classify", "-c", ini, "--tenant", "demo", "--date", "2027-01-04"])
    assert run.exit_code == 0, run.output
    assert "classified 6 loans of demo as of 2027-01-04: 0 changed class" in run.output
    assert "provision required 17766.67 CNY" in run.output
    for bad, message in (("2027-01-05", "last closed day of demo is 2027-01-04"), ("2027-02-30", "YYYY-MM-DD")):
        refused = CliRunner().invoke(main, ["credit", "classify", "-c", ini, "--tenant", "demo", "--date", bad])
        assert refused.exit_code == 2 and message in refused.output, refused.output
    unknown = CliRunner().invoke(main, ["credit", "classify", "-c", ini, "--tenant", "nobody", "--date", "2027-01-04"])
    assert unknown.exit_code == 2
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ClassChange)) == 5
    # a stricter rule set by the settings page: the command applies it to the day already closed
    settings = staff_client(client.app.app, db, "cls-settings", "administrator")
    page = settings.get(DEMO, "/admin/settings/parameters?_LOCALE_=en")
    refused = submit(settings, DEMO, page, {"lending.substandard_after_days": "300"})
    assert refused.status_int == 400 and "more days than the milder class" in refused.text
    submit(settings, DEMO, page, {"lending.substandard_after_days": "60"}, status=303)
    run = CliRunner().invoke(
        main, ["credit", "classify", "-c", ini, "--tenant", "demo", "--date", "2027-01-04", "--json"]
    )
    assert run.exit_code == 0, run.output
    assert '"changed": 1' in run.output  # the 90-day loan is substandard from 60 days on
    assert '"provision": 2006667' in run.output  # 1,776,667 + 25% − 2% of its 1,000,000
    officer = staff_token(client, db, "cls-officer5", "risk_officer")
    history = standing(client, officer, book["90"])["history"]  # still one change for the day, ending in the new class
    assert [(h["from_class"], h["to_class"], h["business_date"]) for h in history] == [
        (None, "substandard", "2027-01-04")
    ]


def test_month_ends_are_kept_for_the_migration_matrix(client, db, book):
    admin = staff_token(client, db, "cls-admin6", "administrator")
    officer = staff_client(client.app.app, db, "cls-matrix", "risk_officer")
    with db.transaction() as session:
        tenant_by_slug(session, "demo").business_date = dt.date(2027, 1, 31)
        first = session.scalars(
            sa.select(Installment).where(Installment.loan_id == book["current"], Installment.period == 1)
        ).one()
        first.due_date = dt.date(2026, 11, 5)  # unpaid: 88 days past due at January's end, 116 at February's
    close(client, admin, dt.date(2027, 1, 31))
    with db.transaction() as session:
        kept = session.execute(sa.select(ClassSnapshot.loan_id, ClassSnapshot.risk_class)).all()
        assert len(kept) == 6 and dict(kept)[book["current"]] == "special_mention"
        tenant_by_slug(session, "demo").business_date = dt.date(2027, 2, 28)
    close(client, admin, dt.date(2027, 2, 28))
    page = officer.get(DEMO, "/admin/credit/classification?from=2027-01-31&to=2027-02-28&_LOCALE_=en")
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:\s*<td class="num">\d+</td>){5})</tr>', page.text)
    matrix = {name: [int(n) for n in re.findall(r">(\d+)<", cells)] for name, cells in rows}
    # January's end: the two loans 88 and 28 days past due are special mention, 117 and 118 substandard, 298
    # doubtful, 388 loss; at February's end the 88-day loan (116 days now) has moved to substandard
    assert matrix["Normal"] == [0, 0, 0, 0, 0]
    assert matrix["Special mention"] == [0, 1, 1, 0, 0]
    assert matrix["Substandard"] == [0, 0, 2, 0, 0]
    assert matrix["Doubtful"] == [0, 0, 0, 1, 0] and matrix["Loss"] == [0, 0, 0, 0, 1]


def test_another_tenants_staff_see_nothing(client, wsgi_app, db, book):
    admin = staff_token(client, db, "cls-admin7", "administrator")
    close(client, admin, DAY)
    theirs = staff_token(client, db, "cls-acme", "risk_officer", slug="acme", host=ACME)
    url = f"/api/v1/admin/loans/{book['361']}/classification"
    assert client.get(ACME, url, headers=theirs, status=404).json["field"] == "id"
    refused = client.post_json(ACME, url, {"proposed_class": "loss", "reason": "x"}, headers=theirs, status=404)
    assert refused.json["field"] == "id"
    totals = client.get(ACME, "/api/v1/admin/classification", headers=theirs).json
    assert totals["total"] == {"loans": 0, "outstanding": 0, "provision": 0}
    page = staff_client(wsgi_app, db, "cls-acme-page", "risk_officer", slug="acme", host=ACME)
    page.get(ACME, f"/admin/credit/loans/{book['361']}/classification", status=404)
    with db.transaction() as session:
        assert session.get(Loan, book["361"]) is not None
