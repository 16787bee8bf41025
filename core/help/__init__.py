"""The help centre (幫助中心): FAQ and the messages inbox (留言).

- :mod:`.faq`: categories and questions per language, search, "was this helpful";
- :mod:`.inbox`: threads between staff and a visitor or a member, one inbox with
  the staff↔member messages (站內信);
- :mod:`.views` (``/help``…), :mod:`.admin` (``/admin/help``, ``/admin/inbox``),
  and ``/api/v1/faq``, ``/api/v1/messages``, ``/api/v1/me/messages`` in :mod:`core.api`.
"""

from __future__ import annotations

from ..i18n import _
from . import defaults  # noqa: F401 - the lendstack_tenant_applied listener (the starter FAQ)


def _may(permission):
    return lambda request: request.identity is not None and bool(request.has_permission(permission))


def faq_question(request, key: str):
    """``request.faq_question("withdraw")``: the site's published question of that key in the reader's language
    (a page that raises the question links to it), or ``None`` (the page links to the help centre)."""
    if request.tenant is None:
        return None
    return defaults.question_for(request.dbsession, key, request.locale_name)


def includeme(config):
    from . import models

    config.add_request_method(faq_question, "faq_question")
    config.add_labels(thread_status=models.THREAD_STATUS_LABELS, thread_origin=models.ORIGIN_LABELS)
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("help.index", "/help")
    route("help.search", "/help/search")
    route("help.question", "/help/q/{id:\\d+}")
    route("help.vote", "/help/q/{id:\\d+}/vote")
    route("help.contact", "/help/contact")
    route("admin.help", "/admin/help")
    route("admin.help_category", "/admin/help/categories/{id:\\d+}")
    route("admin.help_question_new", "/admin/help/questions/new")
    route("admin.help_question", "/admin/help/questions/{id:\\d+}")
    route("admin.inbox", "/admin/inbox")
    route("admin.inbox_thread", "/admin/inbox/{id:\\d+}")
    config.add_nav("help", _("Help"), "help.index", order=90)
    config.add_nav(
        "admin.inbox", _("Messages inbox"), "admin.inbox", order=62, area="admin", visible=_may("support.reply")
    )
    config.add_nav("admin.help", _("FAQ"), "admin.help", order=63, area="admin", visible=_may("content.write"))
    config.scan(".views")
    config.scan(".admin")
