"""Settings saved at the same moment by different staff, raced through the API of a served app: every save is
applied on top of the others (none lost), each gets its own version, the versions are consecutive, and no
request ends in a 500."""

import concurrent.futures
import threading

import httpx
import pyotp
import sqlalchemy as sa

from core.accounts.services import create_staff
from core.tenancy.models import TenantVersion
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD

DEMO = "demo.localhost"
SETTINGS = "/api/v1/admin/settings"
SAVES = 8


def race(count, work):
    """Run ``work(i)`` for i in 0..count-1 at once (released together by a barrier); their answers."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return work(i)

    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def bearer(served, db, login) -> dict:
    with db.transaction() as session:
        staff = create_staff(session, tenant_by_slug(session, "demo"), login, PASSWORD, "administrator")
        secret, needs_code = staff.totp_secret, staff.requires_2fa
    body = {"login": login, "password": PASSWORD, "as": "staff"}
    if needs_code:
        body["totp"] = pyotp.TOTP(secret).now()
    with httpx.Client(base_url=served, headers={"Host": DEMO}, timeout=60) as http:
        answer = http.post("/api/v1/auth/token", json=body)
    assert answer.status_code == 200, answer.text
    return {"Authorization": "Bearer " + answer.json()["token"]}


def versions(db) -> list[int]:
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        return list(
            session.scalars(
                sa.select(TenantVersion.number).where(TenantVersion.tenant_id == demo).order_by(TenantVersion.number)
            )
        )


def test_concurrent_settings_saves_each_get_the_next_version_and_none_is_lost(served, db, tenants):
    admins = [bearer(served, db, "settings-one"), bearer(served, db, "settings-two")]
    before = versions(db)

    def save(i):
        # Even saves change the footer and the bid unit, odd ones the address: a lost update drops one kind.
        body = {"branding": {"footer_text": {"en": f"Footer {i}"}}, "lending": {"bid_unit": str(100 + i)}}
        body = {"branding": {"company_address": f"Road {i}"}} if i % 2 else body
        with httpx.Client(base_url=served, headers={"Host": DEMO, **admins[i % 2]}, timeout=60) as http:
            answer = http.patch(SETTINGS, json=body)
            return answer.status_code, answer.json()

    answers = race(SAVES, save)
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {200, 409}, answers
    applied = [body for status, body in answers if status == 200 and body["changes"]]
    assert applied, answers
    after = versions(db)
    added = after[len(before) :]
    assert after == list(range(1, len(after) + 1))  # consecutive, no gap and no duplicate
    assert len(added) == len(applied)
    with httpx.Client(base_url=served, headers={"Host": DEMO, **admins[0]}, timeout=60) as http:
        now = http.get(SETTINGS).json()
    # The last save of each kind wins; both kinds are there, so neither overwrote the other with stale data.
    assert now["branding"]["company_address"].startswith("Road ")
    assert now["branding"]["footer_text"]["en"].startswith("Footer ")
    assert now["lending"]["bid_unit"] in {str(100 + i) for i in range(0, SAVES, 2)}
