"""Names a person can read in the portal's frame: the greeting, the language switch, payment methods.

Templates reach them as ``request.portal_names`` (one per request).
"""

from __future__ import annotations

from urllib.parse import urlencode

from ..i18n import LOCALE_PARAM, _
from ..members.services import masked_address
from ..payments import gateways
from ..templating import LOCALE_NAMES
from .tools import PAYMENT_PER_PERIOD, payment_heading

UNKNOWN_GATEWAY = _("Former payment method")
"""A recharge's gateway the tenant no longer offers: its code means nothing to a member."""


def greeting_name(member) -> str:
    """What the header calls a member: their chosen name, else their verified name masked (王**), else the address.

    Sign-up names a member by their masked phone or email until they choose a
    name (``core.members.services.masked_address``); that default is no name.
    The legal name stays masked as it is everywhere else on a page: a header
    is read over a shoulder.
    """
    chosen = (member.display_name or "").strip()
    if chosen and chosen != masked_address(member.phone, member.email):
        return chosen
    if member.is_verified and member.masked_name:
        return member.masked_name
    return chosen or masked_address(member.phone, member.email)


def locale_url(request, code: str) -> str:
    """The current page in locale ``code``: every other query parameter kept (a signed checkout link needs them)."""
    query = [(key, value) for key, value in request.GET.items() if key != LOCALE_PARAM]
    query.append((LOCALE_PARAM, code))
    if request.matched_route is None:
        return request.path + "?" + urlencode(query)
    return request.current_route_path(_query=query)


class PortalNames:
    """The readable names the portal's frame shows for one request."""

    def __init__(self, request):
        self.request = request

    def greeting(self) -> str:
        """The signed-in member's name for the header ("" for anyone else)."""
        identity = self.request.identity
        if identity is None or identity.kind != "member":
            return ""
        return greeting_name(identity.user)

    def locales(self) -> list[dict]:
        """The language switch: each offered locale by its own name, linking to this page in it."""
        tenant = self.request.tenant
        offered = tenant.locales if tenant is not None else list(LOCALE_NAMES)
        current = self.request.locale_name
        return [
            {
                "code": code,
                "name": LOCALE_NAMES.get(code, code),
                "url": locale_url(self.request, code),
                "current": code == current,
            }
            for code in offered
        ]

    def payment_heading(self, rows) -> str:
        """The payment column's heading for these schedule rows (see :func:`core.portal.tools.payment_heading`)."""
        return self.request.localizer.translate(payment_heading(rows) if rows else PAYMENT_PER_PERIOD)

    def gateway(self, code: str) -> str:
        """A payment gateway's name in the request's language, never its code."""
        hooks = getattr(self.request, "hooks", None)
        found = gateways(hooks).get(code) if hooks is not None else None
        return self.request.localizer.translate(found.name if found is not None else UNKNOWN_GATEWAY)


def includeme(config):
    """``request.portal_names``."""
    config.add_request_method(PortalNames, "portal_names", reify=True)
