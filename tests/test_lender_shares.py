"""Each lender's interest over a loan is their exact pro-rata share to within a cent (half a cent wherever the
rounded shares can add up to the total), and every period's shares still sum exactly to the installment — through the API, to the cent, for the issue's audit loan
(30,000.00 at 12% over 6 months, lenders of 12,000.00, 10,000.00 and 8,000.00)."""

from decimal import Decimal

import pyotp
import sqlalchemy as sa

from core.accounts.services import create_staff
from core.db import scope_to_tenant
from core.ledger import Ledger, Wallet, verify
from core.ledger.posting import TRANSFERS
from core.members.services import create_member
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, resident_id

DEMO = "demo.localhost"
BIDS = (1_200_000, 1_000_000, 800_000)


def test_interest_is_shared_on_the_running_total_and_the_fee_on_each_bids_interest(client, db, tenants):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        demo.lending = {**(demo.lending or {}), "borrower_fee_percent": "0", "lender_fee_percent": "10"}
        scope_to_tenant(session, demo.id)
        borrower = create_member(
            session,
            demo,
            phone="13500000000",
            password=PASSWORD,
            legal_name="王小明",
            id_number=resident_id(900),
            verified=True,
        )
        borrower.credit_line = 5_000_000
        Wallet(Ledger(session, demo.id), borrower.id, "CNY").recharge(
            Money(1_000_000, "CNY"), key="b", ref="t", initiator="t"
        )
        lenders = []
        for n, amount in enumerate(BIDS):
            lender = create_member(
                session,
                demo,
                phone=f"1350000{n + 1:04d}",
                password=PASSWORD,
                legal_name="王小明",
                id_number=resident_id(901 + n),
                verified=True,
            )
            Wallet(Ledger(session, demo.id), lender.id, "CNY").recharge(
                Money(amount, "CNY"), key=f"l{n}", ref="t", initiator="t"
            )
            lenders.append(lender.id)
        secret = create_staff(session, demo, "shares-reviewer", PASSWORD, "risk_officer").totp_secret
        tenant_id = demo.id

    def token(body):
        return {"Authorization": "Bearer " + client.post_json(DEMO, "/api/v1/auth/token", body).json["token"]}

    as_borrower = token({"login": "13500000000", "password": PASSWORD})
    staff = token({"login": "shares-reviewer", "password": PASSWORD, "as": "staff", "totp": pyotp.TOTP(secret).now()})
    loan = client.post_json(
        DEMO,
        "/api/v1/loans",
        {
            "loan_type": "credit",
            "title": "週轉資金借款",
            "amount": "30000.00",
            "annual_rate_percent": "12",
            "term_months": 6,
            "repayment_method": "equal_installment",
            "min_bid": "100",
        },
        headers=as_borrower,
        status=201,
    ).json
    client.post_json(DEMO, f"/api/v1/admin/loans/{loan['id']}/review", {"decision": "approve"}, headers=staff)
    for n, amount in enumerate(BIDS):
        client.post_json(
            DEMO,
            f"/api/v1/loans/{loan['id']}/bids",
            {"amount": f"{amount / 100:.2f}"},
            headers={**token({"login": f"1350000{n + 1:04d}", "password": PASSWORD}), "Idempotency-Key": f"shares-{n}"},
            status=201,
        )
    client.post_json(
        DEMO, f"/api/v1/admin/loans/{loan['id']}/final-review", {"decision": "approve"}, headers=staff, status=200
    )
    client.post_json(
        DEMO, f"/api/v1/loans/{loan['id']}/repayments", {"installments": 6}, headers=as_borrower, status=200
    )

    # By hand: 5,176.45 a month (P·r/(1−(1+r)^−6) at r = 1%), the last row takes the rest of the principal.
    rows, balance = [], 3_000_000
    for period in range(1, 7):
        interest = int((Decimal(balance) / 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
        principal = balance if period == 6 else 517645 - interest
        rows.append((principal, interest))
        balance -= principal
    total_interest = sum(i for _, i in rows)
    assert total_interest == 105871
    exact = [Decimal(total_interest) * bid / sum(BIDS) for bid in BIDS]  # 42348.4, 35290.33…, 28232.26…
    with db.transaction() as session:
        received = {}
        for lender in lenders:
            account = Wallet(Ledger(session, tenant_id), lender, "CNY").available
            received[lender] = int(
                session.scalar(
                    sa.select(sa.func.sum(TRANSFERS.c.amount)).where(
                        TRANSFERS.c.credit_account_id == account, TRANSFERS.c.reason == "repayment_interest"
                    )
                )
            )
        fee_rows = (
            session.execute(
                sa.select(TRANSFERS.c.amount).where(TRANSFERS.c.tenant_id == tenant_id, TRANSFERS.c.reason == "fee")
            )
            .scalars()
            .all()
        )
        assert verify(session) == []
    # The shares rounded each on its own (423.48, 352.90, 282.32) add up to 1,058.70, a cent short of the
    # 1,058.71 the borrower paid: the largest remainder (0.4 of a cent, the first lender's) takes the cent.
    # Rounding each period on its own instead drifted up to half a cent a period (423.47 in the audit).
    shares = [42349, 35290, 28232]
    assert sum(shares) == total_interest
    fees = [int((Decimal(s) / 10).quantize(Decimal(1), rounding="ROUND_HALF_UP")) for s in shares]
    assert fees == [4235, 3529, 2823]  # 10% of each bid's whole interest, rounded once
    for lender, share, whole, fee in zip(lenders, exact, shares, fees):
        assert abs(Decimal(whole) - share) < 1
        assert received[lender] == whole - fee
    assert sum(fee_rows) == sum(fees)
