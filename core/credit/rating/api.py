"""The ratings API, for staff with ``credit.rate``:

- ``/api/v1/admin/customers/{id}/ratings``: run a rating (``POST``) and list a customer's ratings (``GET``).
  A POST without ``override_grade`` accepts the proposed grade (approved at once: the customer's grade);
  with one (and a ``reason``) the rating waits for a second person;
- ``POST /api/v1/admin/ratings/{id}/decision``: that second person approves or rejects it.

Refusals are problem details naming the field; another tenant's customer or rating is a 404.
"""

from __future__ import annotations

from pyramid.view import view_config

from ... import audit
from ...api import PREFIX, Problem, once, refusals_name
from ...domain import DomainError
from ...i18n import _
from . import services
from .models import Rating
from .scorecard import shown
from .views import rating_facts

API = {"renderer": "json", "openapi": True, "require_csrf": False}
PERMISSION = "credit.rate"


def rating_json(rating: Rating) -> dict:
    """A rating as the API shows it: its lines, score, grades and who acted."""
    version = rating.model_version
    return {
        "id": rating.id,
        "customer_id": rating.customer_id,
        "model": {"id": version.model_id, "code": version.model.code, "version": version.number},
        "status": rating.status,
        "lines": rating.lines,
        "score": shown(rating.score),
        "max_score": shown(rating.max_score),
        "grade_row": rating.grade_row,
        "proposed_grade": rating.proposed_grade,
        "override_grade": rating.override_grade,
        "reason": rating.reason,
        "grade": rating.grade,
        "rated_by": rating.rated_by,
        "rated_at": rating.created_at.isoformat(),
        "decided_by": rating.decided_by,
        "decided_at": rating.decided_at.isoformat() if rating.decided_at else None,
    }


def _customer(request):
    try:
        return services.customer_of(request.dbsession, request.tenant.id, request.matchdict["id"])
    except DomainError:
        raise Problem({"id": _("There is no such customer.")}, status=404, title="Not Found") from None


@view_config(route_name="api.credit.customer_ratings", request_method="GET", permission=PERMISSION, **API)
def list_ratings(request):
    customer = _customer(request)
    ratings = services.ratings_of(request.dbsession, request.tenant.id, customer.id)
    return {"ratings": [rating_json(r) for r in ratings]}


@view_config(route_name="api.credit.customer_ratings", request_method="POST", permission=PERMISSION, **API)
def run_rating(request):
    """Rate the customer now with the active model of their kind: 201 with the rating and its lines."""
    customer = _customer(request)
    body = request.json_body if request.body else {}

    def act(_claim):
        rating = services.rate(
            request.dbsession,
            request.tenant,
            customer,
            by=audit.actor_of(request),
            override_grade=body.get("override_grade"),
            reason=body.get("reason", ""),
        )
        action = "override" if rating.override_grade else "accept"
        audit.record(request, f"credit.rating.{action}", "credit_rating", rating.id, None, rating_facts(rating))
        request.response.status = 201
        return rating_json(rating)

    return once(request, "credit.rate", act, resource=lambda b: f"credit_rating:{b['id']}", required=False)


@view_config(route_name="api.credit.rating_decision", request_method="POST", permission=PERMISSION, **API)
def decide(request):
    """A second person approves or rejects (with a ``reason``) a pending rating: 200 with the rating."""
    rating = services.locked_rating(request.dbsession, request.tenant.id, request.matchdict["id"])
    if rating is None:
        raise Problem({"id": _("There is no such rating.")}, status=404, title="Not Found")
    body = request.json_body
    refusals_name(request, {"note": "reason", "status": "decision"})
    before, by = rating_facts(rating), audit.actor_of(request)
    if body["decision"] == "approve":
        services.approve(request.dbsession, rating, by=by)
    else:
        services.reject(request.dbsession, rating, by=by, note=body.get("reason", ""))
    audit.record(request, f"credit.rating.{body['decision']}", "credit_rating", rating.id, before, rating_facts(rating))
    return rating_json(rating)


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.credit.customer_ratings", "/admin/customers/{id}/ratings")
    route("api.credit.rating_decision", "/admin/ratings/{id}/decision")
    config.scan(".api")
