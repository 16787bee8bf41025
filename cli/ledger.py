"""``lendstack ledger``: verify the invariants, show balances and an account's history."""

from __future__ import annotations

import sys

import click

from .app import BadInput, config_option, emit, table


@click.group()
def ledger():
    """The double-entry ledger (read-only)."""


def _tenant_id(session, slug):
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    if slug is None:
        return None, None
    try:
        tenant = tenant_by_slug(session, slug)
    except TenantNotFound as error:
        raise BadInput(f"tenant: {error}") from None
    return tenant.id, tenant


@ledger.command()
@config_option
@click.option("--tenant", "slug", help="Only this tenant (default: every tenant).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify(env, slug, as_json):
    """Check invariants 1–4; exit 1 naming each broken account."""
    from core.ledger import verify as check

    with env.transaction() as session:
        tenant_id, _ = _tenant_id(session, slug)
        breaches = check(session, tenant_id)
    data = {
        "ok": not breaches,
        "breaches": [
            {"tenant": b.tenant, "account_id": b.account_id, "invariant": b.invariant, "message": b.message}
            for b in breaches
        ],
    }

    def human(d):
        for b in breaches:
            click.echo(str(b), err=True)
        click.echo(f"ledger ok{f' for {slug}' if slug else ''}" if d["ok"] else f"{len(breaches)} breach(es) found")

    emit(data, as_json, human)
    if breaches:
        sys.exit(1)


def _owner(text):
    if text in (None, "platform"):
        return text, None
    kind, _, number = text.partition(":")
    if kind not in ("member", "loan") or not number.isdigit():
        raise BadInput("owner: give platform, member:ID or loan:ID")
    return kind, int(number)


@ledger.command()
@config_option
@click.option("--tenant", "slug", required=True, help="The tenant whose accounts to list.")
@click.option("--owner", help="platform, member:ID or loan:ID (default: every account).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def balance(env, slug, owner, as_json):
    """List accounts with their posted debits, credits and balance."""
    from core.ledger import Ledger
    from core.money import Money

    kind, owner_id = _owner(owner)
    with env.transaction() as session:
        tenant_id, _ = _tenant_id(session, slug)
        rows = Ledger(session, tenant_id).accounts(kind, owner_id)
    data = [
        {
            "id": r.id,
            "owner": f"{r.owner_kind}:{r.owner_id}" if r.owner_kind != "platform" else "platform",
            "code": r.code,
            "currency": r.currency,
            "debits": str(Money(r.debits_posted, r.currency)),
            "credits": str(Money(r.credits_posted, r.currency)),
            "balance": str(Money(r.credits_posted - r.debits_posted, r.currency)),
        }
        for r in rows
    ]

    def human(d):
        table(
            [[r["id"], r["owner"], r["code"], r["currency"], r["debits"], r["credits"], r["balance"]] for r in d],
            ["id", "owner", "code", "currency", "debits", "credits", "balance (credits − debits)"],
        )

    emit(data, as_json, human)


@ledger.command()
@config_option
@click.option("--tenant", "slug", required=True)
@click.option("--account", "account_id", type=int, required=True, help="An account id (see `ledger balance`).")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--before", type=int, help="Only transfers older than this transfer id (next page).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def history(env, slug, account_id, limit, before, as_json):
    """An account's transfers, newest first, with the running balance."""
    from core.ledger import InvalidTransfer, Ledger
    from core.money import Money

    with env.transaction() as session:
        tenant_id, _ = _tenant_id(session, slug)
        book = Ledger(session, tenant_id)
        try:
            currency = book.balance(account_id).currency
        except InvalidTransfer:
            raise BadInput(f"account: no account {account_id} in tenant {slug}") from None
        entries = book.history(account_id, limit=limit, before=before)
    data = [
        {
            "transfer": e.transfer_id,
            "posted_at": e.posted_at.isoformat(timespec="seconds"),
            "reason": e.reason,
            "ref": e.ref,
            "key": e.key,
            "counter_account": e.counter_account_id,
            "change": str(Money(e.change, currency)),
            "balance": str(Money(e.balance_after, currency)),
            "initiator": e.initiator,
        }
        for e in entries
    ]

    def human(d):
        table(
            [
                [
                    r["transfer"],
                    r["posted_at"],
                    r["reason"],
                    r["ref"],
                    r["counter_account"],
                    r["change"],
                    r["balance"],
                    r["initiator"],
                ]
                for r in d
            ],
            ["transfer", "posted at", "reason", "ref", "counter", "change", "balance", "by"],
        )
        if len(d) == limit:
            click.echo(f"(more: --before {d[-1]['transfer']})")

    emit(data, as_json, human)
