"""Live customer service (在線客服): chats between visitors or members and staff on duty.

A visitor or member opens a chat from any page ("Live help"); staff with
``support.reply`` go on duty, see the queue (waiting chats, oldest first),
accept a chat (one staff member per chat), answer (canned replies per
language) and close it. Outside the tenant's office hours, or with nobody on
duty, the chat form leaves a message instead: the same chat, flagged, waiting
in the queue until staff answer it. Both sides see new messages without
reloading through a rationed long-poll (:mod:`core.chat.waiting`); every page
works without JavaScript. docs/chat.md tells the whole of it.
"""

from __future__ import annotations

from ..i18n import _


def _may_reply(request) -> bool:
    return request.identity is not None and bool(request.has_permission("support.reply"))


def _is_member(request) -> bool:
    return request.identity is not None and request.identity.kind == "member"


def includeme(config):
    from . import models

    config.add_labels(chat_status=models.STATUS_LABELS, chat_event=models.EVENT_LABELS)
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("chat.start", "/chat")
    route("chat.view", "/chat/{id:\\d+}")
    route("chat.say", "/chat/{id:\\d+}/say")
    route("chat.close", "/chat/{id:\\d+}/close")
    route("chat.messages", "/chat/{id:\\d+}/messages")
    route("account.chats", "/account/chats")
    route("admin.chat", "/admin/chat")
    route("admin.chat_duty", "/admin/chat/duty")
    route("admin.chat_settings", "/admin/chat/settings")
    route("admin.chat_view", "/admin/chat/{id:\\d+}")
    route("admin.chat_accept", "/admin/chat/{id:\\d+}/accept")
    route("admin.chat_reply", "/admin/chat/{id:\\d+}/reply")
    route("admin.chat_close", "/admin/chat/{id:\\d+}/close")
    route("admin.chat_messages", "/admin/chat/{id:\\d+}/messages")
    route("admin.member_chats", "/admin/members/{id:\\d+}/chats")
    config.add_nav("chat", _("Live help"), "chat.start", order=90)
    config.add_nav("account.chats", _("Live chats"), "account.chats", order=37, area="account", visible=_is_member)
    config.add_nav("admin.chat", _("Live chat"), "admin.chat", order=30, area="admin", visible=_may_reply)
    config.scan(".views")
    config.scan(".admin_views")
