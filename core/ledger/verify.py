"""``ledger verify``: the invariants of DESIGN.md checked against the stored rows.

1. per tenant and currency, all debits equal all credits;
2. no account flagged "debits must not exceed credits" (or the reverse) is over its limit;
3. no idempotency key was applied twice (the unique key enforces it; checked anyway),
   and no transfer was reversed twice;
4. each account's stored totals equal the sums of its transfers, and every
   transfer's currency is its accounts' currency.

Domains that keep records beside the ledger add their own invariants with
:func:`register_check` (the loans add bids, schedules and disbursements:
:mod:`core.loans.integrity`), so ``lendstack ledger verify`` checks them too
without the ledger knowing about loans.

Each broken rule is reported as one line naming the tenant and the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from ..tenancy.models import Tenant
from .models import CREDITS_MUST_NOT_EXCEED_DEBITS, DEBITS_MUST_NOT_EXCEED_CREDITS
from .posting import ACCOUNTS, TRANSFERS


@dataclass(frozen=True)
class Breach:
    tenant: str
    account_id: int | None
    invariant: int
    message: str

    def __str__(self) -> str:
        where = f"account {self.account_id}" if self.account_id is not None else "ledger"
        return f"{self.tenant}: {where}: invariant {self.invariant}: {self.message}"


_CHECKS: list[Callable[..., list[Breach]]] = []


def register_check(check: Callable[..., list[Breach]]) -> Callable[..., list[Breach]]:
    """Add ``check(session, tenant_id, slugs)`` (returning breaches) to every :func:`verify`; a decorator."""
    if check not in _CHECKS:
        _CHECKS.append(check)
    return check


def verify(session, tenant_id: int | None = None) -> list[Breach]:
    """Every breach of invariants 1–4 and of the registered checks, for one tenant or all of them."""
    slugs = dict(session.execute(sa.select(Tenant.id, Tenant.slug)).all())
    accounts = sa.select(ACCOUNTS)
    transfers_filter = sa.true()
    if tenant_id is not None:
        accounts = accounts.where(ACCOUNTS.c.tenant_id == tenant_id)
        transfers_filter = TRANSFERS.c.tenant_id == tenant_id
    breaches: list[Breach] = []

    debits = dict(
        session.execute(
            sa.select(TRANSFERS.c.debit_account_id, sa.func.sum(TRANSFERS.c.amount))
            .where(transfers_filter)
            .group_by(TRANSFERS.c.debit_account_id)
        ).all()
    )
    credits = dict(
        session.execute(
            sa.select(TRANSFERS.c.credit_account_id, sa.func.sum(TRANSFERS.c.amount))
            .where(transfers_filter)
            .group_by(TRANSFERS.c.credit_account_id)
        ).all()
    )
    totals: dict[tuple[int, str], list[int]] = {}
    for account in session.execute(accounts.order_by(ACCOUNTS.c.id)).all():
        slug = slugs.get(account.tenant_id, str(account.tenant_id))
        pair = totals.setdefault((account.tenant_id, account.currency), [0, 0])
        pair[0] += account.debits_posted
        pair[1] += account.credits_posted
        if account.flags & DEBITS_MUST_NOT_EXCEED_CREDITS and account.debits_posted > account.credits_posted:
            breaches.append(
                Breach(
                    slug,
                    account.id,
                    2,
                    f"{account.owner_kind}:{account.owner_id}:{account.code} "
                    f"debits {account.debits_posted} exceed credits {account.credits_posted}",
                )
            )
        if account.flags & CREDITS_MUST_NOT_EXCEED_DEBITS and account.credits_posted > account.debits_posted:
            breaches.append(
                Breach(
                    slug,
                    account.id,
                    2,
                    f"{account.owner_kind}:{account.owner_id}:{account.code} "
                    f"credits {account.credits_posted} exceed debits {account.debits_posted}",
                )
            )
        summed = (int(debits.get(account.id) or 0), int(credits.get(account.id) or 0))
        if (account.debits_posted, account.credits_posted) != summed:
            breaches.append(
                Breach(
                    slug,
                    account.id,
                    4,
                    f"stored debits/credits {account.debits_posted}/{account.credits_posted} "
                    f"but its transfers sum to {summed[0]}/{summed[1]}",
                )
            )
    for (tid, currency), (debit_total, credit_total) in sorted(totals.items()):
        if debit_total != credit_total:
            breaches.append(
                Breach(slugs.get(tid, str(tid)), None, 1, f"{currency} debits {debit_total} != credits {credit_total}")
            )

    duplicate = session.execute(
        sa.select(TRANSFERS.c.tenant_id, TRANSFERS.c.key, TRANSFERS.c.leg)
        .where(transfers_filter)
        .group_by(TRANSFERS.c.tenant_id, TRANSFERS.c.key, TRANSFERS.c.leg)
        .having(sa.func.count() > 1)
    ).all()
    for row in duplicate:
        breaches.append(
            Breach(
                slugs.get(row.tenant_id, str(row.tenant_id)),
                None,
                3,
                f"key {row.key!r} leg {row.leg} applied more than once",
            )
        )
    twice = session.execute(
        sa.select(TRANSFERS.c.tenant_id, TRANSFERS.c.reverses_id)
        .where(transfers_filter, TRANSFERS.c.reverses_id.is_not(None))
        .group_by(TRANSFERS.c.tenant_id, TRANSFERS.c.reverses_id)
        .having(sa.func.count() > 1)
    ).all()
    for row in twice:
        breaches.append(
            Breach(
                slugs.get(row.tenant_id, str(row.tenant_id)),
                None,
                3,
                f"transfer {row.reverses_id} reversed more than once",
            )
        )

    debit_acc, credit_acc = ACCOUNTS.alias("d"), ACCOUNTS.alias("c")
    mismatched = session.execute(
        sa.select(
            TRANSFERS.c.tenant_id,
            TRANSFERS.c.id,
            TRANSFERS.c.currency,
            debit_acc.c.id.label("debit"),
            debit_acc.c.currency.label("dcur"),
            credit_acc.c.currency.label("ccur"),
        )
        .join(debit_acc, debit_acc.c.id == TRANSFERS.c.debit_account_id)
        .join(credit_acc, credit_acc.c.id == TRANSFERS.c.credit_account_id)
        .where(
            transfers_filter,
            sa.or_(TRANSFERS.c.currency != debit_acc.c.currency, TRANSFERS.c.currency != credit_acc.c.currency),
        )
    ).all()
    for row in mismatched:
        breaches.append(
            Breach(
                slugs.get(row.tenant_id, str(row.tenant_id)),
                row.debit,
                4,
                f"transfer {row.id} in {row.currency} between {row.dcur} and {row.ccur} accounts",
            )
        )
    for check in _CHECKS:
        breaches.extend(check(session, tenant_id, slugs))
    return breaches
