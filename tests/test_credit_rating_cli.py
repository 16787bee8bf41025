"""``lendstack credit rate``: re-rating with the real ini and plugins; a batch never changes a grade by itself."""

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli import main
from core.accounts.models import AuditEvent
from core.credit.customers.models import Customer
from core.credit.rating.models import Rating
from tests.test_credit_rating import good_profile, individual


@pytest.fixture
def ini(tmp_path, settings, engine):
    path = tmp_path / "test.ini"
    lines = ["[app:main]", "use = egg:lendstack"] + [f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run(ini, *args):
    return CliRunner().invoke(main, ["credit", "rate", "-c", ini, *args], catch_exceptions=False)


def _grade(db, customer_id, grade):
    with db.transaction() as session:
        session.get(Customer, customer_id).grade = grade


def test_a_batch_approves_unchanged_grades_and_leaves_changes_for_a_person(ini, db, tenants):
    steady = individual(db, number="C0000000001", **good_profile(db))  # scores 77: A
    _grade(db, steady, "A")
    weaker = dict(good_profile(db), monthly_debt_payments=660_000)  # 55 % of income: 0 points, 67 → B
    changed = individual(db, number="C0000000002", **weaker)
    _grade(db, changed, "A")
    first = individual(db, number="C0000000003", **good_profile(db))  # never rated: a first grade waits too
    merged = individual(db, number="C0000000004", **good_profile(db))
    with db.transaction() as session:
        session.get(Customer, merged).merged_into_id = steady

    result = run(ini, "--tenant", "demo", "--all")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("C0000000001 陳大文: score 77/100, proposed A, approved (grade unchanged)")
    assert lines[1].startswith("C0000000002 陳大文: score 67/100, proposed B, waiting for approval (grade now A)")
    assert lines[2].startswith("C0000000003 陳大文: score 77/100, proposed A, waiting for approval (grade now none)")
    with db.transaction() as session:
        ratings = {r.customer_id: r for r in session.scalars(sa.select(Rating))}
        assert set(ratings) == {steady, changed, first}
        assert {r.rated_by for r in ratings.values()} == {"cli"}
        assert (ratings[steady].status, ratings[steady].grade, ratings[steady].decided_by) == ("approved", "A", "cli")
        assert (ratings[changed].status, ratings[changed].proposed_grade) == ("pending", "B")
        assert [session.get(Customer, c).grade for c in (steady, changed, first)] == ["A", "A", None]
        assert session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "credit.rating.batch")) == 3


def test_one_customer_as_json(ini, db, tenants):
    customer_id = individual(db, **good_profile(db))
    result = run(ini, "--tenant", "demo", "--customer", str(customer_id), "--json")
    assert result.exit_code == 0, result.output
    [answer] = json.loads(result.output)
    assert (answer["score"], answer["proposed_grade"], answer["status"]) == ("77", "A", "pending")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tenant", "ghost", "--all"], "tenant"),
        (["--tenant", "demo", "--customer", "999999"], "customer: There is no such customer."),
        (["--tenant", "demo", "--customer", "abc"], "customer: There is no such customer."),
        (["--tenant", "demo"], "customer: give --customer ID or --all"),
    ],
)
def test_bad_input_changes_nothing(ini, db, tenants, args, message):
    individual(db, **good_profile(db))
    result = run(ini, *args)
    assert result.exit_code == 2 and message in result.output
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Rating)) == 0


def test_another_tenants_customer_is_unknown(ini, db, tenants):
    theirs = individual(db, "acme", **good_profile(db, "acme"))
    result = run(ini, "--tenant", "demo", "--customer", str(theirs))
    assert result.exit_code == 2 and "There is no such customer." in result.output
