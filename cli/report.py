"""``lendstack report ledger-book``: the loan ledger book (臺賬) to a file, as XLSX, CSV or JSON.

The filters are the back office's (``--class substandard``, ``--product CODE``, ``--overdue 31-90``,
``--disbursed-from 2026-01-01`` …); headers and words are in ``--locale`` (default: the tenant's language). The
file is written beside ``-o FILE`` and put in its place once complete, so a refusal (exit 2) or a failure leaves
nothing behind; without ``-o`` (or with ``-o -``) it goes to standard output.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from .app import BadInput, config_option

FORMATS = ("xlsx", "csv", "json")
OVERDUE = ("current", "1-30", "31-90", "91-180", "181-360", "361+")
CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
STATUSES = ("outstanding", "all", "repaying", "defaulted", "settled", "written_off")


@click.group()
def report():
    """Reports of the credit system: the loan ledger book."""


def _format(fmt: str | None, output: str | None) -> str:
    if fmt:
        return fmt
    suffix = Path(output or "").suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else "json"


def _target(output: str | None) -> Path | None:
    if output in (None, "-"):
        return None
    path = Path(output)
    if path.is_dir():
        raise BadInput(f"output: {output} is a folder; name a file")
    if not path.parent.is_dir():
        raise BadInput(f"output: the folder {path.parent} does not exist")
    return path


@report.command("ledger-book")
@config_option
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Default: from -o's suffix, else json.")
@click.option("-o", "--output", default=None, metavar="FILE", help="Write to FILE (default, or -: standard output).")
@click.option("--locale", default=None, help="The language of headers and words (default: the tenant's).")
@click.option("--book", type=click.Choice(("loans", "product", "class")), default="loans", show_default=True)
@click.option("--customer", default="", help="Part of a customer's name or number.")
@click.option("--product", default="", help="A credit product's code or a P2P loan type's code.")
@click.option("--org-unit", "org_unit", default="", help="An organization unit's id (units under it included).")
@click.option("--manager", default="", help="The relationship manager's staff id.")
@click.option("--class", "risk_class", type=click.Choice(CLASSES), default=None, help="A five-level class.")
@click.option("--overdue", type=click.Choice(OVERDUE), default=None, help="Days past due, by bucket.")
@click.option("--status", type=click.Choice(STATUSES), default="outstanding", show_default=True)
@click.option("--disbursed-from", "disbursed_from", default="", metavar="YYYY-MM-DD")
@click.option("--disbursed-to", "disbursed_to", default="", metavar="YYYY-MM-DD")
@click.option("--maturity-from", "maturity_from", default="", metavar="YYYY-MM-DD")
@click.option("--maturity-to", "maturity_to", default="", metavar="YYYY-MM-DD")
def ledger_book(env, slug, fmt, output, locale, risk_class, **given):
    """Write the tenant's loan ledger book, filtered, as XLSX, CSV or JSON."""
    from core.credit.books.filters import BookFilterError, parse_filters
    from core.db import scope_to_tenant
    from core.i18n import SUPPORTED_LOCALES, english
    from core.tenancy.services import TenantNotFound, tenant_by_slug

    kind, target = _format(fmt, output), _target(output)
    params = {**given, "class": risk_class or ""}
    try:
        with env.transaction() as session:
            tenant = tenant_by_slug(session, slug)
            scope_to_tenant(session, tenant.id)
            if locale is not None and locale not in SUPPORTED_LOCALES:
                raise BadInput(f"locale: choose one of {', '.join(SUPPORTED_LOCALES)}")
            filters = parse_filters(session, tenant.id, params)
            made = _Made(env, session, tenant, filters, locale or tenant.default_locale)
    except TenantNotFound as error:
        raise BadInput(f"tenant: {error}") from None
    except BookFilterError as error:
        raise BadInput(f"--{error.field.replace('_', '-')}: {english(error.message)}") from None
    count = _write(target, lambda out: made.write(kind, out))
    if target is not None:
        click.echo(f"wrote {count} loan(s) to {target}")


class _Made:
    """What the file is made of, gathered in the command's transaction: the words, totals and description."""

    def __init__(self, env, session, tenant, filters, locale: str):
        from pyramid.i18n import make_localizer

        from core.credit.books.query import totals
        from core.credit.books.wording import describe, wording
        from core.i18n import catalog_paths

        localizer = make_localizer(locale, catalog_paths(env.registry.settings_obj.catalog_dirs))
        hooks = env.plugins.for_tenant(tenant)
        self.env, self.filters, self.count = env, filters, 0
        self.tenant_id, self.currency, self.business_date = tenant.id, tenant.currency, tenant.business_date
        self.words = wording(session, tenant.id, hooks, localizer.translate, locale)
        self.totals = totals(session, tenant.id, filters)
        self.described = describe(session, filters, self.words, tenant.business_date)

    def rows(self):
        from core.credit.books.query import batches

        for row in batches(self.env.engine.connect, self.tenant_id, self.filters):
            self.count += 1
            yield row

    def write(self, kind: str, out) -> int:
        from core.credit.books import export

        if kind == "xlsx":
            export.write_xlsx(
                out,
                self.rows(),
                self.words,
                book=self.filters.book,
                totals=self.totals,
                described=self.described,
                currency=self.currency,
            )
        elif kind == "csv":
            for chunk in export.csv_chunks(self.rows(), self.words):
                out.write(chunk)
        else:
            self._json(out)
        return self.count

    def _json(self, out) -> None:
        from core.credit.books.presenting import row_json, totals_json

        head = {
            "business_date": self.business_date.isoformat(),
            "filters": {"status": self.filters.status, **self.filters.params()},
            "totals": totals_json(self.totals, self.words, self.currency),
        }
        text = json.dumps(head, ensure_ascii=False, indent=2)
        out.write((text[: text.rindex("}")].rstrip() + ',\n  "loans": [').encode("utf-8"))
        for n, row in enumerate(self.rows()):
            line = json.dumps(row_json(row, self.words), ensure_ascii=False)
            out.write((("," if n else "") + "\n    " + line).encode("utf-8"))
        out.write(("\n  ]\n}\n" if self.count else "]\n}\n").encode("utf-8"))


def _write(target: Path | None, write) -> int:
    """``write(binary file)`` to standard output, or to a scratch file put in ``target``'s place when complete."""
    if target is None:
        return write(sys.stdout.buffer)
    handle, scratch = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            count = write(out)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return count
