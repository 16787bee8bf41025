"""A customer's ratings in the back office (``credit.rate``): run one, see its math, approve or reject.

``/admin/credit/customers/{id}/ratings/new`` shows the math the active model gives now; the analyst accepts
the proposed grade or proposes another with a reason. ``/admin/credit/ratings/{id}`` shows a stored
rating's lines and lets a second person approve or reject a pending one; ``/admin/credit/ratings`` lists
those waiting.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ... import audit
from ...domain import DomainError
from ...forms import on_refusal
from ...i18n import _
from . import services
from .defaults import model_name
from .models import Rating
from .presenting import KIND_LABELS, actor_name, band_label, fact_label
from .scorecard import ModelError, shown

PERMISSION = "credit.rate"


def rating_facts(rating: Rating) -> dict:
    return {
        "customer": rating.customer_id,
        "status": rating.status,
        "score": str(rating.score),
        "proposed_grade": rating.proposed_grade,
        "override_grade": rating.override_grade,
        "grade": rating.grade,
    }


def _customer_or_404(request):
    try:
        return services.customer_of(request.dbsession, request.tenant.id, request.matchdict["id"])
    except DomainError:
        raise HTTPNotFound() from None


def _common(request) -> dict:
    return {
        "actor_name": actor_name,
        "band_label": band_label,
        "fact_label": fact_label,
        "model_name": model_name,
        "kinds": KIND_LABELS,
        "shown": shown,
    }


def _new_page(request, customer, form: dict, errors: dict) -> dict:
    scored, problem = None, None
    try:
        scored = services.score(request.dbsession, customer)
    except ModelError as error:
        problem = error.message
    return {
        **_common(request),
        "customer": customer,
        "scored": scored,
        "problem": problem,
        "waiting": [
            r
            for r in services.ratings_of(request.dbsession, request.tenant.id, customer.id, 20)
            if r.status == "pending"
        ],
        "form": form,
        "errors": errors,
    }


@view_config(route_name="admin.credit.rating_new", renderer="admin/credit/rating/rating_new.pt", permission=PERMISSION)
def new_rating(request):
    """The math the active model gives now; POST ``accept`` (approved at once) or ``override`` (waits)."""
    customer = _customer_or_404(request)
    if request.method != "POST":
        return _new_page(request, customer, {}, {})
    form = dict(request.POST)
    on_refusal(request, lambda error: _new_page(request, customer, form, {error.field: error.message}))
    action = request.POST.get("action")
    if action not in ("accept", "override"):
        raise ModelError("action", _("Accept the proposed grade or propose another."))
    if action == "override" and not (request.POST.get("override_grade") or "").strip():
        raise ModelError("override_grade", _("Choose a grade of the model's scale."))
    rating = services.rate(
        request.dbsession,
        request.tenant,
        customer,
        by=audit.actor_of(request),
        override_grade=request.POST.get("override_grade") if action == "override" else None,
        reason=request.POST.get("reason", ""),
    )
    audit.record(request, f"credit.rating.{action}", "credit_rating", rating.id, None, rating_facts(rating))
    return HTTPSeeOther(request.route_path("admin.credit.rating", id=rating.id))


def _rating_page(request, rating: Rating, form: dict | None = None, errors: dict | None = None) -> dict:
    return {
        **_common(request),
        "rating": rating,
        "customer": rating.customer,
        "me": audit.actor_of(request),
        "person": services.person,
        "form": form or {},
        "errors": errors or {},
    }


@view_config(route_name="admin.credit.rating", renderer="admin/credit/rating/rating.pt", permission=PERMISSION)
def rating_detail(request):
    """A rating's lines, score and grades; POST ``approve`` or ``reject`` (with a note) decides a pending one."""
    session = request.dbsession
    rating = services.locked_rating(session, request.tenant.id, request.matchdict["id"])
    if rating is None:
        raise HTTPNotFound()
    if request.method != "POST":
        return _rating_page(request, rating)
    form = dict(request.POST)
    on_refusal(request, lambda error: _rating_page(request, rating, form, {error.field: error.message}))
    before, action, by = rating_facts(rating), request.POST.get("action"), audit.actor_of(request)
    if action == "approve":
        services.approve(session, rating, by=by)
    elif action == "reject":
        services.reject(session, rating, by=by, note=request.POST.get("note", ""))
    else:
        raise ModelError("action", _("Approve or reject the rating."))
    audit.record(request, f"credit.rating.{action}", "credit_rating", rating.id, before, rating_facts(rating))
    return HTTPSeeOther(request.route_path("admin.credit.rating", id=rating.id))


@view_config(route_name="admin.credit.ratings", renderer="admin/credit/rating/ratings.pt", permission=PERMISSION)
def pending(request):
    """Ratings waiting for a second person: overrides and batch results that would change a grade."""
    return {
        **_common(request),
        "customer": None,
        "ratings": services.pending_ratings(request.dbsession, request.tenant.id),
    }


@view_config(
    route_name="admin.credit.customer_ratings", renderer="admin/credit/rating/ratings.pt", permission=PERMISSION
)
def customer_ratings(request):
    """Every rating of a customer, newest first."""
    customer = _customer_or_404(request)
    ratings = services.ratings_of(request.dbsession, request.tenant.id, customer.id)
    return {**_common(request), "customer": customer, "ratings": ratings}
