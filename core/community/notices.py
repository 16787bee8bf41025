"""Telling a member what a moderator did to them: a post or topic hidden, a ban from posting.

The notice is a site message (站內信) from the system in the member's language, under *Notices* in their
account, with the reason the moderator gave. It is written in the moderator's transaction: a refused action
tells nobody.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from .. import notifications
from ..i18n import _
from ..members import conduct
from ..members.models import Member, Message
from ..tenancy.models import Tenant

HIDDEN_TOPIC = _("A moderator hid your topic \u201c${title}\u201d")
HIDDEN_REPLY = _("A moderator hid your reply in \u201c${title}\u201d")
HIDDEN_BODY = _(
    "Reason: ${reason}\n\nOther members no longer see it. If you think this is a mistake, leave us a message "
    "in the help centre."
)
BANNED = _("You may not post in the community for now")
BANNED_UNTIL = _("A moderator stopped you from posting in the community until ${until}.\n\nReason: ${reason}")
BANNED_UNTIL_LIFTED = _(
    "A moderator stopped you from posting in the community until the ban is lifted.\n\nReason: ${reason}"
)


def _tell(session, member_id: int | None, subject, body) -> Message | None:
    member = session.get(Member, member_id) if member_id else None
    if member is None:
        return None  # a staff post, or a member since removed
    tenant = session.get(Tenant, member.tenant_id)
    localizer = notifications.localizer_for(notifications.member_locale(tenant, member))
    return conduct.notify(session, member, localizer.translate(subject)[:200], localizer.translate(body))


def tell_hidden(session, member_id: int | None, *, title: str, reason: str, topic: bool) -> Message | None:
    """Tell the author that their topic (``topic``) or reply in the topic ``title`` was hidden, and why."""
    mapping = {"title": title, "reason": reason}
    subject = _(HIDDEN_TOPIC if topic else HIDDEN_REPLY, mapping=mapping)
    return _tell(session, member_id, subject, _(HIDDEN_BODY, mapping=mapping))


def tell_banned(session, member: Member, *, reason: str, ends_at: dt.datetime | None) -> Message | None:
    """Tell a member they are banned from posting, until when (the site's local time) and why."""
    if ends_at is None:
        body = _(BANNED_UNTIL_LIFTED, mapping={"reason": reason})
    else:
        zone = zoneinfo.ZoneInfo(session.get(Tenant, member.tenant_id).timezone)
        until = ends_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        body = _(BANNED_UNTIL, mapping={"until": until, "reason": reason})
    return _tell(session, member.id, BANNED, body)
