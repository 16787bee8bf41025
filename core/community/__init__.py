"""The member community (會員社區): boards, topics, replies, moderation.

Members read and write on the portal (``/community``); moderators with
``community.moderate`` work in the back office (``/admin/community``). A ban
is a member violation that freezes posting (``core.members.conduct``).
"""

from __future__ import annotations

from ..i18n import _
from . import boards  # noqa: F401 - the lendstack_tenant_applied listener (the default boards)


def _may_moderate(request) -> bool:
    return request.identity is not None and bool(request.has_permission("community.moderate"))


def includeme(config):
    from . import models

    config.add_labels(community_status=models.STATUS_LABELS, community_sensitive_action=models.SENSITIVE_ACTIONS)
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("community.index", "/community")
    route("community.search", "/community/search")
    route("community.board", "/community/boards/{id:\\d+}")
    route("community.topic", "/community/topics/{id:\\d+}")
    route("community.report", "/community/posts/{id:\\d+}/report")
    route("account.community", "/account/posts")
    route("admin.community", "/admin/community")
    route("admin.community_topic", "/admin/community/topics/{id:\\d+}")
    route("admin.community_post", "/admin/community/posts/{id:\\d+}")
    route("admin.community_ban", "/admin/community/posts/{id:\\d+}/ban")
    route("admin.community_settings", "/admin/community/settings")
    route("admin.community_boards", "/admin/community/boards")
    route("admin.community_board", "/admin/community/boards/{id:\\d+}")
    route("admin.community_announce", "/admin/community/topics/new")
    config.add_nav("community", _("Community"), "community.index", order=50)
    config.add_nav("account.community", _("My posts"), "account.community", order=37, area="account")
    config.add_nav("admin.community", _("Community"), "admin.community", order=62, area="admin", visible=_may_moderate)
    config.scan(".views")
    config.scan(".moderation_views")
