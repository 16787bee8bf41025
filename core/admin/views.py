from __future__ import annotations

import sqlalchemy as sa
from pyramid.view import view_config

from ..accounts.services import authenticate_staff
from ..backoffice import login_view, logout_view
from ..sms import SmsMessage

PAGE_SIZE = 50


@view_config(route_name="admin.login", renderer="login.pt", require_csrf=True)
def login(request):
    return login_view(request, "admin", lambda login, pw: authenticate_staff(request.dbsession, request.tenant, login, pw),
                      "admin.dashboard", "admin/layout.pt")


@view_config(route_name="admin.logout", request_method="POST")
def logout(request):
    return logout_view(request, "admin.login")


@view_config(route_name="admin.dashboard", renderer="admin/dashboard.pt", permission="admin")
def dashboard(request):
    plugins = request.registry["plugins"]
    enabled = request.tenant.enabled_plugin_ids
    return {
        "plugins": [(info, info.id in enabled) for info in plugins.infos()],
        "sms_count": request.dbsession.scalar(sa.select(sa.func.count()).select_from(SmsMessage)),
    }


@view_config(route_name="admin.sms", renderer="admin/sms.pt", permission="admin")
def sms_outbox(request):
    """Every SMS the tenant sent, newest first (the outbox provider's messages included)."""
    try:
        page = max(1, int(request.params.get("page", 1)))
    except ValueError:
        page = 1
    messages = request.dbsession.scalars(
        sa.select(SmsMessage).order_by(SmsMessage.id.desc()).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    ).all()
    return {"messages": messages[:PAGE_SIZE], "page": page, "more": len(messages) > PAGE_SIZE}
