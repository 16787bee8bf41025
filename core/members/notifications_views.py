"""The member's notification preferences (``/account/notifications``): SMS and email per event group."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from .. import notifications
from ..forms import form_page, refuse
from ..i18n import _
from .services import MemberError


@view_config(route_name="account.notifications", renderer="account/notifications.pt", permission="member")
def account_notifications(request):
    """Show and keep which groups of events reach the member by SMS and by email (site messages always do).

    A ticked box is ``<channel>.<group>``; a box not ticked is off. A channel
    the member has no address for is shown disabled and not changed.
    """
    member = request.identity.user
    data = form_page(request, **_page(request, member))
    if request.method == "POST":
        ticked = set(request.POST.getall("notify"))
        offered = {f"{channel}.{group}" for channel in notifications.CHANNELS for group in notifications.GROUPS}
        if ticked - offered:
            return refuse(request, data, MemberError("notify", _("Choose only among the notices listed.")))
        reachable = data["reachable"]
        # a channel without an address keeps its default: an email added later then gets the notices
        chosen = {
            channel: {group for group in notifications.GROUPS if f"{channel}.{group}" in ticked}
            for channel in notifications.CHANNELS
            if reachable[channel]
        }
        notifications.set_preferences(member, chosen)
        return HTTPSeeOther(request.route_path("account.notifications", _query={"saved": 1}))
    return data


def _page(request, member) -> dict:
    return {
        "member": member,
        "chosen": notifications.preferences(member),
        "groups": notifications.GROUPS,
        "group_labels": notifications.GROUP_LABELS,
        "channels": notifications.CHANNELS,
        "channel_labels": notifications.CHANNEL_LABELS,
        "reachable": {"sms": bool(member.phone), "email": bool(member.email)},
        "saved": request.params.get("saved"),
    }
