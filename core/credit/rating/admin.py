"""Back office of rating models (``credit.model``): the list, a model with its versions, a version's page.

A version's page shows its factors, bands, weights and grade table; a draft's page edits them. Activating
a draft is a second person's act (:func:`core.credit.rating.maintenance.activate`).
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ... import audit
from ...forms import by_field, on_refusal
from ...i18n import _
from ..customers.models import CustomerKind
from . import maintenance, scorecard
from .defaults import model_name
from .models import ModelVersion, RatingModel
from .presenting import KIND_LABELS, actor_name, fact_choices, fact_label
from .scorecard import ModelError
from .services import model_in_use

PERMISSION = "credit.model"


def _version_facts(model: RatingModel, version: ModelVersion) -> dict:
    return {"model": model.code, "version": version.number, "status": version.status}


@view_config(route_name="admin.credit.models", renderer="admin/credit/rating/models.pt", permission=PERMISSION)
def models_list(request):
    """Every model with its versions' states; POST makes a new model (a draft of the shipped scorecard)."""
    session = request.dbsession
    data = {
        "models": maintenance.all_models(session),
        "in_use": {kind.value: model_in_use(session, kind.value) for kind in CustomerKind},
        "kinds": KIND_LABELS,
        "model_name": model_name,
        "form": dict(request.POST) if request.method == "POST" else {"kind": CustomerKind.INDIVIDUAL.value},
        "errors": {},
    }
    if request.method != "POST":
        return data
    on_refusal(request, lambda error: by_field(data, error))
    model = maintenance.create_model(
        session,
        request.tenant,
        code=request.POST.get("code", ""),
        name=request.POST.get("name", ""),
        kind=request.POST.get("kind", ""),
        by=audit.actor_of(request),
    )
    audit.record(request, "credit.model.create", "credit_rating_model", model.id, None, {"code": model.code})
    return HTTPSeeOther(request.route_path("admin.credit.model_version", id=model.id, number=1))


def _model_or_404(request, *, lock: bool = False) -> RatingModel:
    model = maintenance.model_of(request.dbsession, request.tenant.id, request.matchdict["id"], lock=lock)
    if model is None:
        raise HTTPNotFound()
    return model


def _model_page(request, model: RatingModel, errors: dict | None = None) -> dict:
    return {
        "model": model,
        "model_name": model_name,
        "kinds": KIND_LABELS,
        "actor_name": actor_name,
        "in_use": model_in_use(request.dbsession, model.customer_kind),
        "me": audit.actor_of(request),
        "errors": errors or {},
    }


@view_config(route_name="admin.credit.model", renderer="admin/credit/rating/model.pt", permission=PERMISSION)
def model_detail(request):
    """A model and its versions; POST ``activate`` with a draft's ``number`` puts it in use (four eyes)."""
    model = _model_or_404(request, lock=request.method == "POST")
    if request.method != "POST":
        return _model_page(request, model)
    on_refusal(request, lambda error: _model_page(request, model, {error.field: error.message}))
    version = maintenance.version_of(model, request.POST.get("number", ""))
    if request.POST.get("action") != "activate" or version is None:
        raise ModelError("version", _("Choose a draft version to activate."))
    before = _version_facts(model, version)
    maintenance.activate(request.dbsession, model, version, by=audit.actor_of(request))
    audit.record(
        request, "credit.model.activate", "credit_rating_model", model.id, before, _version_facts(model, version)
    )
    return HTTPSeeOther(request.route_path("admin.credit.model", id=model.id))


def _version_page(request, model: RatingModel, version: ModelVersion, form: dict, errors: dict) -> dict:
    factor_blocks = maintenance.factor_count(form) if form else 0
    return {
        "model": model,
        "version": version,
        "model_name": model_name,
        "kinds": KIND_LABELS,
        "actor_name": actor_name,
        "fact_label": fact_label,
        "facts": fact_choices(model.customer_kind),
        "max_score": scorecard.max_score(version.factors),
        "claimed_range": scorecard.claimed_range,
        "is_text": scorecard.is_text,
        "shown": scorecard.shown,
        "form": form,
        "factor_blocks": range(1, factor_blocks + 2),
        "errors": errors,
    }


@view_config(route_name="admin.credit.model_version", renderer="admin/credit/rating/version.pt", permission=PERMISSION)
def model_version(request):
    """A version's content; a draft's edit form (POST ``save``), or ``draft``: a new draft from this version."""
    model = _model_or_404(request, lock=request.method == "POST")
    version = maintenance.version_of(model, request.matchdict["number"])
    if version is None:
        raise HTTPNotFound()
    editing = version.status == "draft"
    if request.method != "POST":
        form = maintenance.form_of(model, version) if editing else {}
        return _version_page(request, model, version, form, {})
    by = audit.actor_of(request)
    form = dict(request.POST)
    on_refusal(request, lambda error: _version_page(request, model, version, form, {error.field: error.message}))
    if request.POST.get("action") == "draft" and not editing:
        draft = model.draft or maintenance.save_draft(
            request.dbsession, model, maintenance.form_of(model, version), by=by
        )
    elif editing:
        draft = maintenance.save_draft(request.dbsession, model, form, by=by)
    else:
        raise HTTPNotFound()
    audit.record(request, "credit.model.edit", "credit_rating_model", model.id, None, _version_facts(model, draft))
    return HTTPSeeOther(request.route_path("admin.credit.model_version", id=model.id, number=draft.number))
