"""Money shown honestly on a member's pages: the overview's figures add up, the bid box knows the balance,
我的投資 is a table with a page per investment, the recharge result leads on.

Every figure is worked out here by hand: a 10,000.00 loan at 12% over 3 months, interest first (100.00
interest a month, the principal with the last), its first installment repaid; the demo tenant's management
fee is 10% of the interest a lender receives, its borrower fee 1% spread over the installments, its bid
unit 50.00.
"""

import re

import sqlalchemy as sa

import core.loans as loans
from core.db import scope_to_tenant
from core.loans.models import Bid, Loan
from core.members.models import Member
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import member_client, submit

DEMO = "demo.localhost"
ACME = "acme.localhost"

SHORT_LOAN = {"term_months": "3", "repayment_method": "interest_first", "min_bid": "100"}


def _work(wsgi_app, db, job, slug="demo"):
    """Run ``job(session, tenant, hooks)`` in a committed transaction scoped to the tenant."""
    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        scope_to_tenant(session, tenant.id)
        return job(session, tenant, wsgi_app.registry["plugins"].for_tenant(tenant))


def _amount(text: str) -> str:
    """A formatted amount as digits and a point (``¥10,200.00`` → ``10200.00``)."""
    return re.sub(r"[^0-9.\-−]", "", text).replace("−", "-")


def figure(html: str, name: str) -> str:
    """The amount of the overview's figure ``name`` (its ``data-figure`` row)."""
    row = re.search(rf'data-figure="{name}".*?<td class="num">(?:<strong>)?([^<]*)<', html, re.S)
    return _amount(row.group(1))


def _lender_with_a_repaying_loan_and_a_frozen_bid(wsgi_app, db):
    """Lender (20,000.00 recharged) funds a whole 10,000.00 loan whose first installment is repaid, then bids
    1,000.00 through the page's two steps on a second loan. (client, lender id, borrower id, loan numbers)."""
    lender, lender_id = member_client(wsgi_app, db, "13800138301")
    borrower_client, borrower_id = member_client(wsgi_app, db, "13800138302", name="李大華", credit_line=10_000_000)

    def arrange(session, tenant, hooks):
        person = session.get(Member, lender_id)
        borrower = session.get(Member, borrower_id)
        factories.recharge(session, tenant, person, 2_000_000, key="figures:lender")
        factories.recharge(session, tenant, borrower, 50_000, key="figures:borrower")
        repaying = factories.loan(session, tenant, hooks, borrower, "repaying", lenders=[person], **SHORT_LOAN)
        loans.repay_next(session, tenant, repaying, by="member")
        bidding = factories.loan(session, tenant, hooks, borrower, "bidding", title="第二筆借款", **SHORT_LOAN)
        return repaying.number, bidding.number

    repaying, bidding = _work(wsgi_app, db, arrange)
    page = lender.get(DEMO, f"/invest/{bidding}?_LOCALE_=en")
    confirm = submit(lender, DEMO, page, {"amount": "1000.00"}, status=200)
    submit(lender, DEMO, confirm, {"confirm": "1"}, status=303)
    return lender, lender_id, borrower_client, repaying, bidding


def test_the_overview_figures_add_up(wsgi_app, db, tenants):
    lender, _lender_id, borrower, _repaying, _bidding = _lender_with_a_repaying_loan_and_a_frozen_bid(wsgi_app, db)
    html = lender.get(DEMO, "/account?_LOCALE_=en").text
    # 20,000.00 − 10,000.00 lent + 100.00 interest − 10.00 fee − 1,000.00 frozen by the second bid
    assert figure(html, "available") == "9090.00"
    assert figure(html, "frozen") == "1000.00"
    assert figure(html, "receivable_principal") == "10000.00"
    assert figure(html, "receivable_interest") == "200.00"  # months 2 and 3, before the fee
    assert figure(html, "total_assets") == "20290.00"  # 9,090 + 1,000 + 10,000 + 200
    assert figure(html, "payable_principal") == "0.00"
    assert figure(html, "net_assets") == "20090.00"  # 9,090 + 1,000 + 10,000 − 0
    assert "= available + frozen + receivable principal + receivable interest." in html
    assert "= available + frozen + receivable principal − payable principal." in html
    # The borrower: 500.00 + 10,000.00 disbursed − (100.00 interest + 33.33 service fee) for month 1; the
    # 100.00 fee in three parts of whole minor units: 33.33, 33.33 and the rest, 33.34.
    html = borrower.get(DEMO, "/account?_LOCALE_=en").text
    assert figure(html, "available") == "10366.67"
    assert figure(html, "payable_principal") == "10000.00"
    assert figure(html, "payable_interest") == "266.67"  # 200.00 interest + 33.33 + 33.34 service fees
    assert figure(html, "net_assets") == "366.67"  # 10,366.67 − 10,000.00
    assert figure(html, "total_assets") == "10366.67"


def _bid_box(html: str, name: str) -> str:
    return _amount(re.search(rf'data-figure="{name}"><dt>[^<]*</dt><dd>([^<]*)<', html).group(1))


def test_the_bid_box_shows_the_balance_bids_all_and_refuses_before_confirming(wsgi_app, db, tenants):
    first, first_id = member_client(wsgi_app, db, "13800138311")
    second, second_id = member_client(wsgi_app, db, "13800138312")
    poor, poor_id = member_client(wsgi_app, db, "13800138313")
    borrower, borrower_id = member_client(wsgi_app, db, "13800138314", name="李大華", credit_line=10_000_000)

    def arrange(session, tenant, hooks):
        for member_id, minor in ((first_id, 252_000), (second_id, 123_400), (poor_id, 3_000)):
            factories.recharge(session, tenant, session.get(Member, member_id), minor, key=f"box:{member_id}")
        made = factories.loan(
            session, tenant, hooks, session.get(Member, borrower_id), amount="5000.00", max_bid="2000.00", **SHORT_LOAN
        )
        return made.number

    number = _work(wsgi_app, db, arrange)
    path = f"/invest/{number}?_LOCALE_=en"
    page = first.get(DEMO, path)
    assert _bid_box(page.text, "available") == "2520.00"
    assert _bid_box(page.text, "largest") == "2000.00"  # the cap per lender, below the balance
    assert "/account/recharge" in page.text
    # "Bid all I can" fills the amount on the server and goes to the confirm step.
    form = [f for f in page.forms.values() if "all" in f.fields][0]
    confirm = form.submit("all", value="1", extra_environ={"HTTP_HOST": DEMO}, status=200)
    assert "What this bid brings you" in confirm.text and 'name="amount" value="2000.00"' in confirm.text
    submit(first, DEMO, confirm, {"confirm": "1"}, status=303)
    page = first.get(DEMO, path)
    assert _bid_box(page.text, "largest") == "0.00"
    form = [f for f in page.forms.values() if "all" in f.fields][0]
    refused = form.submit("all", value="1", extra_environ={"HTTP_HOST": DEMO}, status=400)
    assert "One lender may bid at most" in refused.text and "What this bid brings you" not in refused.text
    # 1,234.00 available, 3,000.00 left, 2,000.00 per lender: the most is 1,200.00 (whole bid units).
    page = second.get(DEMO, path)
    assert _bid_box(page.text, "largest") == "1200.00"
    refused = submit(second, DEMO, page, {"amount": "1300.00"}, status=400)
    assert "Your available balance is not enough." in refused.text
    assert 'class="recharge-link"><a href="/account/recharge"' in refused.text
    assert "What this bid brings you" not in refused.text
    # Too little for the smallest bid: "bid all" says so, with the way to recharge.
    page = poor.get(DEMO, path)
    form = [f for f in page.forms.values() if "all" in f.fields][0]
    refused = form.submit("all", value="1", extra_environ={"HTTP_HOST": DEMO}, status=400)
    assert "Your available balance is not enough." in refused.text and 'href="/account/recharge"' in refused.text
    # The borrower's own loan is refused at the first step, without a recharge link.
    page = borrower.get(DEMO, path)
    refused = submit(borrower, DEMO, page, {"amount": "100.00"}, status=400)
    assert "You cannot bid on your own loan." in refused.text and "recharge-link" not in refused.text
    assert "What this bid brings you" not in refused.text

    def frozen(session, tenant, hooks):
        return session.scalar(sa.select(Loan.funded).where(Loan.number == number))

    assert _work(wsgi_app, db, frozen) == 200_000  # only the confirmed bid


def test_my_investments_is_a_table_with_a_page_per_investment(wsgi_app, db, tenants):
    lender, lender_id, borrower, repaying, bidding = _lender_with_a_repaying_loan_and_a_frozen_bid(wsgi_app, db)

    def bid_ids(session, tenant, hooks):
        rows = session.execute(sa.select(Loan.number, Bid.id).join(Bid.loan).where(Bid.member_id == lender_id))
        return dict(rows.all())

    ids = _work(wsgi_app, db, bid_ids)
    html = lender.get(DEMO, "/account/bids?_LOCALE_=en").text
    row = re.search(rf'<tr data-bid="{ids[repaying]}">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert f'href="/account/bids/{ids[repaying]}"' in cells[0]
    assert cells[1:3] == ["12%", "3"] and _amount(cells[3]) == "10000.00" and cells[4] == "Repaying"
    # received 100.00 interest less the 10.00 fee; still to come 10,000.00 + 2 × 100.00; next: month 2
    assert [_amount(c) for c in cells[5:7]] == ["90.00", "10200.00"]
    assert cells[7] == "Mar 4, 2027"
    row = re.search(rf'<tr data-bid="{ids[bidding]}">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert [_amount(c) for c in cells[3:]] == ["1000.00", "", "0.00", "0.00", ""]
    assert cells[4] == "Frozen" and cells[7] == "—"
    # 待收回款 grouped by loan, with the loan's subtotal
    group = re.search(rf'<tbody data-loan="{repaying}">(.*?)</tbody>', html, re.S).group(1)
    assert group.count("<td>Mar 4, 2027</td>") == 1 and group.count("<td>Apr 4, 2027</td>") == 1
    subtotal = re.search(r'data-subtotal="[^"]+">.*?<strong>([^<]*)</strong>.*?<strong>([^<]*)</strong>', group, re.S)
    assert [_amount(s) for s in subtotal.groups()] == ["10000.00", "200.00"]
    assert f'data-loan="{bidding}"' not in html  # nothing due on a loan still raising money

    page = lender.get(DEMO, f"/account/bids/{ids[repaying]}?_LOCALE_=en").text
    periods = re.findall(r'<tr data-period="(\d)">(.*?)</tr>', page, re.S)
    rows = [[c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for _n, r in periods]
    # period, due date, principal, interest, management fee (10% of the interest), status, paid on
    assert [r[:2] + [_amount(c) for c in r[2:5]] + r[5:] for r in rows] == [
        ["1", "Feb 4, 2027", "0.00", "100.00", "10.00", "Paid", "Jan 4, 2027"],
        ["2", "Mar 4, 2027", "0.00", "100.00", "10.00", "Due", "—"],
        ["3", "Apr 4, 2027", "10000.00", "100.00", "10.00", "Due", "—"],
    ]
    totals = re.search(r"<tfoot>(.*?)</tfoot>", page, re.S).group(1)
    assert [_amount(c) for c in re.findall(r'<td class="num">([^<]*)</td>', totals)] == ["10000.00", "300.00", "30.00"]
    assert "The schedule starts when the loan is disbursed." in lender.get(DEMO, f"/account/bids/{ids[bidding]}").text
    # Another member's investment, another tenant's, a number past any id: not found.
    borrower.get(DEMO, f"/account/bids/{ids[repaying]}", status=404)
    stranger, _ = member_client(wsgi_app, db, "+12025550309", slug="acme", host=ACME, verified=False)
    stranger.get(ACME, f"/account/bids/{ids[repaying]}", status=404)
    lender.get(DEMO, "/account/bids/99999999999999999999", status=404)


def test_the_recharge_result_leads_on_to_investing_and_the_account(wsgi_app, db, tenants):
    member, _ = member_client(wsgi_app, db, "13800138321")
    page = member.get(DEMO, "/account/recharge")
    done = submit(member, DEMO, page, {"gateway": "offline", "amount": "100.00"}, status=303)
    status = member.get(DEMO, done.location.split("localhost", 1)[-1]).text
    assert 'href="/invest"' in status and 'href="/account"' in status
