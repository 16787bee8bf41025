"""The member's credit page (``/account/credit``): the products offered to members, an application for one, and
the status of the member's applications. A member who applies becomes a customer (C's
:func:`core.credit.customers.services.customer_for_member`); the application starts as a draft with the
relationship manager, who attaches the documents and submits it."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...forms import form_page
from ...i18n import _
from ...loans import require_verified
from .models import CreditApplication
from .products import offered_to_members, product_name, product_of
from .services import ApplicationError, create_application


def member_applications(session, member_id: int) -> list[tuple[CreditApplication, object]]:
    """The member's applications (through their customer), newest first, with their products."""
    from ..customers.models import Customer
    from .models import CreditProduct

    return session.execute(
        sa.select(CreditApplication, CreditProduct)
        .join(Customer, Customer.id == CreditApplication.customer_id)
        .join(CreditProduct, CreditProduct.id == CreditApplication.product_id)
        .where(Customer.member_id == member_id)
        .order_by(CreditApplication.id.desc())
    ).all()


@view_config(route_name="account.credit", renderer="admin/credit/applications/account.pt", permission="member")
def my_credit(request):
    member = request.identity.user
    from ...schedules import repayment_methods

    offered = [p for p in offered_to_members(request.dbsession)]
    data = form_page(
        request,
        offered=offered,
        product_name=product_name,
        methods={code: m.name for code, m in repayment_methods(request.hooks).items()},
        applications=member_applications(request.dbsession, member.id),
        applied=request.params.get("applied"),
    )
    if request.method != "POST":
        return data
    require_verified(member)
    product = product_of(request.dbsession, request.POST.get("product"))
    if product is None or product not in offered:
        raise ApplicationError("product", _("Choose one of the products offered."))
    from ..customers.services import customer_for_member

    customer = customer_for_member(request.dbsession, request.tenant, member)
    form = dict(request.POST, annual_rate_percent=str(product.min_rate_percent))
    create_application(
        request.dbsession, request.tenant, request.hooks, customer=customer, product=product, form=form, created_by=None
    )
    return HTTPSeeOther(request.route_path("account.credit", _query={"applied": 1}))
