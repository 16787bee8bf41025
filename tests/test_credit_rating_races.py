"""Two people deciding the same thing at once against a served app: exactly one approval of a rating, exactly
one activation of a draft (row locks; on PostgreSQL with separate connections)."""

import httpx
import sqlalchemy as sa

from core.accounts.models import AuditEvent
from core.credit.rating.models import ModelVersion, Rating, RatingModel
from core.tenancy.services import tenant_by_slug
from tests.helpers import staff_client, submit
from tests.test_credit_rating import DEMO, good_profile, individual
from tests.test_races import race


def _poster(served, client, page, path):
    """POST ``fields`` to ``path`` as ``client`` (its cookies and the page's CSRF token), on its own connection."""
    form = next(f for f in page.forms.values() if "csrf_token" in f.fields and f.method.lower() == "post")
    token = form["csrf_token"].value
    cookies = {c.name: c.value for c in client.app.cookiejar}

    def post(fields):
        with httpx.Client(base_url=served, headers={"Host": DEMO}, cookies=cookies, timeout=60) as http:
            return http.post(path, data={"csrf_token": token, **fields}).status_code

    return post


def test_two_approvers_at_once_approve_a_rating_once(served, wsgi_app, db, tenants):
    customer_id = individual(db, **good_profile(db))
    analyst = staff_client(wsgi_app, db, "analyst", "relationship_manager")
    page = analyst.get(DEMO, f"/admin/credit/customers/{customer_id}/ratings/new")
    path = submit(analyst, DEMO, page, {"override_grade": "B", "reason": "Seasonal."}, "override", 303).location
    path = path.replace("http://demo.localhost", "")
    posters = []
    for login in ("approver-1", "approver-2"):
        client = staff_client(wsgi_app, db, login, "credit_approver")
        posters.append(_poster(served, client, client.get(DEMO, path), path))
    statuses = race(2, lambda i: posters[i]({"action": "approve"}))
    assert sorted(statuses) == [303, 400], statuses
    with db.transaction() as session:
        rating = session.scalars(sa.select(Rating)).one()
        assert (rating.status, rating.grade) == ("approved", "B")
        assert session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "credit.rating.approve")) == 1


def test_two_checkers_at_once_activate_a_draft_once(served, wsgi_app, db, tenants):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        model_id = session.scalars(
            sa.select(RatingModel.id).where(RatingModel.tenant_id == demo.id, RatingModel.code == "corporate")
        ).one()
    modeller = staff_client(wsgi_app, db, "modeller", "risk_officer")
    page = modeller.get(DEMO, f"/admin/credit/models/{model_id}/versions/1")
    submit(modeller, DEMO, page, {}, action="draft", status=303)
    path = f"/admin/credit/models/{model_id}"
    posters = []
    for login in ("checker-1", "checker-2"):
        client = staff_client(wsgi_app, db, login, "risk_officer")
        posters.append(_poster(served, client, client.get(DEMO, path), path))
    statuses = race(2, lambda i: posters[i]({"action": "activate", "number": "2"}))
    assert sorted(statuses) == [303, 400], statuses
    with db.transaction() as session:
        versions = session.execute(
            sa.select(ModelVersion.number, ModelVersion.status)
            .where(ModelVersion.model_id == model_id)
            .order_by(ModelVersion.number)
        ).all()
        assert [tuple(v) for v in versions] == [(1, "retired"), (2, "active")]
