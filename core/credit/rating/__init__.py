"""Credit rating (信用等級評估, 評估模型維護): scorecard models and rating runs (see core/credit/__init__.py).

- :mod:`.models`: models, their versions (draft → active → retired) and ratings;
- :mod:`.scorecard`: a version's content checked, a customer scored (the math);
- :mod:`.maintenance`: new models, editing a draft, four-eyes activation;
- :mod:`.services`: rating runs, overrides and their approval, ``latest_rating``, ``ratings_of``;
- :mod:`.defaults`: the shipped model for each kind of customer, made for every applied tenant;
- :mod:`.admin` (``/admin/credit/models``…), :mod:`.views` (a customer's ratings), :mod:`.api`.
"""

from __future__ import annotations

from . import defaults  # noqa: F401 - the lendstack_tenant_applied listener


def includeme(config):
    """Routes, views and labels of credit rating."""
    from .models import RATING_STATUS_LABELS, VERSION_STATUS_LABELS

    config.add_labels(rating_status=RATING_STATUS_LABELS, rating_version_status=VERSION_STATUS_LABELS)
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("admin.credit.model", "/admin/credit/models/{id:\\d+}")
    route("admin.credit.model_version", "/admin/credit/models/{id:\\d+}/versions/{number:\\d+}")
    route("admin.credit.ratings", "/admin/credit/ratings")
    route("admin.credit.rating", "/admin/credit/ratings/{id:\\d+}")
    route("admin.credit.customer_ratings", "/admin/credit/customers/{id:\\d+}/ratings")
    route("admin.credit.rating_new", "/admin/credit/customers/{id:\\d+}/ratings/new")
    config.scan(".admin")
    config.scan(".views")
    config.include(".api")
