"""Test helpers: signed-in clients for members and staff, form submission."""

import re

import pyotp

from core.accounts.services import create_staff
from core.members.services import add_card, create_member
from core.tenancy.services import tenant_by_slug

PASSWORD = "a long enough password"


def submit(client, host, page, values, action=None, status="*", action_suffix=None):
    """Fill the page's form holding these fields and press its button (``action``: the pressed value)."""
    forms = [
        f
        for f in page.forms.values()
        if f.method.lower() == "post"
        and "csrf_token" in f.fields
        and not f.action.endswith("logout")
        and all(name in f.fields for name in values)
        and (action_suffix is None or f.action.split("?")[0].endswith(action_suffix))
    ]
    form = forms[-1]
    for key, value in values.items():
        form[key] = value
    env = {"HTTP_HOST": host}
    if action:
        name = "outcome" if "outcome" in form.fields else "decision" if "decision" in form.fields else "action"
        return form.submit(name, value=action, extra_environ=env, status=status)
    return form.submit(extra_environ=env, status=status)


def staff_client(wsgi_app, db, login, role, slug="demo", host="demo.localhost"):
    from tests.conftest import Client

    with db.transaction() as session:
        secret = create_staff(session, tenant_by_slug(session, slug), login, PASSWORD, role).totp_secret
    client = Client(wsgi_app)
    page = client.get(host, "/admin/login")
    response = submit(client, host, page, {"login": login, "password": PASSWORD}, status=303)
    if response.location.endswith("/verify"):
        page = client.get(host, "/admin/login/verify")
        submit(client, host, page, {"code": pyotp.TOTP(secret).now()}, status=303)
    return client


def resident_id(n: int = 0) -> str:
    """A valid mainland resident ID number; a different one for each ``n`` (0–999)."""
    prefix = f"11010519800101{n:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return prefix + "10X98765432"[sum(int(d) * w for d, w in zip(prefix, weights)) % 11]


def luhn_card(prefix: str = "622202100112345678") -> str:
    from core.members.identity import luhn_ok

    return next(prefix + d for d in "0123456789" if luhn_ok(prefix + d))


def member_client(
    wsgi_app,
    db,
    phone,
    *,
    slug="demo",
    host="demo.localhost",
    verified=True,
    card=None,
    name="王小明",
    id_number=None,
    credit_line=0,
):
    """A signed-in member (verified by default, optionally with a bank card); (client, member id)."""
    from tests.conftest import Client

    with db.transaction() as session:
        tenant = tenant_by_slug(session, slug)
        id_number = id_number or resident_id(int(phone[-3:]))
        member = create_member(
            session,
            tenant,
            phone=phone,
            password=PASSWORD,
            legal_name=name if verified else "",
            id_number=id_number if verified else "",
            verified=verified,
        )
        if card:
            add_card(session, tenant, member, bank_name="工商銀行", holder_name=name, number=card)
        member.credit_line = credit_line
        member_id = member.id
    client = Client(wsgi_app)
    page = client.get(host, "/login")
    submit(client, host, page, {"login": phone, "password": PASSWORD}, status=303)
    return client, member_id


PLACEHOLDER = re.compile(r"\{(?:[^{}]|\{[^{}]*\})+\}")  # {id}, {id:\d+} and {id:\d{1,9}} alike


def fill_route(pattern: str, value: str, count: int = 0) -> str:
    """A route's pattern with its placeholders (the first ``count`` of them; 0: all) replaced by ``value``."""
    return PLACEHOLDER.sub(value, pattern, count=count)


def locales_for(backend: str, every: tuple[str, ...]) -> tuple[str, ...]:
    """The languages a page-reading test reads in: ``every`` one on SQLite; on PostgreSQL the pages' words
    are the same, so one Chinese language reads what the engine changes (dates, numbers, stored values)."""
    return every if backend == "sqlite" else ("zh_Hant",)
