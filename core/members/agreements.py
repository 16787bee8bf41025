"""Agreements a member accepts (協議): the 用戶註冊協議 and 隱私政策 at sign-up, the 出借人風險提示 before the
first bid — each the tenant's published page of the content centre, in the member's language.

An acceptance records the page's item, its version number and a hash of its published words, when and from
where (:class:`MemberAgreement`). It stays current while that version of that page is published (in any
language); when an editor publishes a new version, the member is asked again: terms and privacy at their next
request after it — every account page sends them to ``/account/agreements`` and the API answers 403 naming the
agreement until they accept (:func:`gate`, the one place this is checked) — the risk notice at their next bid.
A tenant that published none of these pages asks nothing.

The gate runs before every member request, so its usual answer ("nothing to accept") costs one query that
reads no page's words (:func:`accepted_all`), and is then kept for the page cache's lifetime
(``lendstack.page_cache_seconds``) per process (:class:`AcceptedCache`): a version published meanwhile is
asked for within those seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections import OrderedDict

import sqlalchemy as sa
from pyramid.events import ContextFound
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy.orm import Mapped, mapped_column

from .. import markup
from ..content.models import ContentItem
from ..content.services import public_page, visible
from ..db import Base, TenantOwned, utcnow
from ..domain import DomainError
from ..forms import by_field, form_page, on_refusal
from ..i18n import _

PAGES = {"terms": "terms", "privacy": "privacy", "lender_risk": "lender-risk"}
"""Each kind of agreement and the address of its page (``/pages/<slug>``)."""
ACCOUNT = ("terms", "privacy")
"""What a member accepts to register and to use their account."""
RISK = ("lender_risk",)
"""What a lender accepts before bidding."""
CACHE = "lendstack.agreements_accepted"
"""The registry key of the :class:`AcceptedCache`."""
OPEN_ROUTES = frozenset({"account.agreements", "member.logout", "api.auth.token", "api.spec"})
"""Where a member with an agreement to accept still goes: the agreements page itself, and signing out."""


class MemberAgreement(TenantOwned, Base):
    """One member's acceptance of one version of one agreement page."""

    __tablename__ = "member_agreements"
    __table_args__ = (sa.Index("ix_member_agreements_member", "tenant_id", "member_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(20))  # PAGES: terms, privacy, lender_risk
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("content_items.id", ondelete="SET NULL"))
    version: Mapped[int]  # the item's version number when accepted
    locale: Mapped[str] = mapped_column(sa.String(16), default="")
    digest: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 of the published title and body
    accepted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    address: Mapped[str] = mapped_column(sa.String(64), default="")


class AgreementError(DomainError):
    """An agreement was not accepted; ``field`` is ``accept_<kind>``."""


def digest(item: ContentItem) -> str:
    return hashlib.sha256(f"{item.title}\n{item.body}".encode()).hexdigest()


def current(session, tenant, kind: str, locale: str) -> ContentItem | None:
    """The published page of ``kind`` a visitor reading ``locale`` sees, or ``None`` (none published)."""
    return public_page(session, PAGES[kind], locale, tenant.default_locale)


def _accepted(session, member_id: int, kind: str) -> bool:
    """Whether the member accepted a version of ``kind`` that is still published (in any language)."""
    published = sa.select(ContentItem.id, ContentItem.version).where(
        ContentItem.kind == "page", ContentItem.slug == PAGES[kind], visible(None)
    )
    live = {(row.id, row.version) for row in session.execute(published)}
    if not live:
        return True  # nothing published: nothing to accept
    rows = session.execute(
        sa.select(MemberAgreement.item_id, MemberAgreement.version).where(
            MemberAgreement.member_id == member_id, MemberAgreement.kind == kind
        )
    )
    return any((row.item_id, row.version) in live for row in rows)


def accepted_all(session, member_id: int, kinds) -> bool:
    """Whether the member accepted a still-published version of every agreement of ``kinds`` that has one.

    One query, reading no page's words: what :func:`pending` answers for a member with nothing to accept.
    """
    slugs = {PAGES[kind]: kind for kind in kinds}
    kind_of_page = sa.case(slugs, value=ContentItem.slug)
    accepted = (
        sa.select(MemberAgreement.id)
        .where(
            MemberAgreement.member_id == member_id,
            MemberAgreement.kind == kind_of_page,
            MemberAgreement.item_id == ContentItem.id,
            MemberAgreement.version == ContentItem.version,
        )
        .exists()
    )
    rows = session.execute(
        sa.select(ContentItem.slug, accepted).where(
            ContentItem.kind == "page", ContentItem.slug.in_(list(slugs)), visible(None)
        )
    ).all()
    live = {slug for slug, _ok in rows}
    return all(any(ok for found, ok in rows if found == slug) for slug in live)


class AcceptedCache:
    """Members of a tenant found to have accepted every current agreement, kept ``seconds`` per process (the
    page cache's lifetime; 0 keeps nothing).

    Only "nothing to accept" is kept: a member with something waiting is always checked afresh, so the
    agreements page and the gate never disagree. A version published meanwhile is asked for within ``seconds``.
    """

    def __init__(self, seconds: int, max_entries: int = 10_000, clock=None):
        self.seconds, self.max_entries = seconds, max_entries
        self.clock = clock or (lambda: time.monotonic_ns() // 1_000_000_000)  # whole seconds are precise enough
        self._until: OrderedDict[tuple, int] = OrderedDict()
        self._lock = threading.Lock()

    def fresh(self, key: tuple) -> bool:
        with self._lock:
            until = self._until.get(key)
            if until is None:
                return False
            if until < self.clock():
                del self._until[key]
                return False
            return True

    def keep(self, key: tuple) -> None:
        if self.seconds <= 0:
            return
        with self._lock:
            self._until[key] = self.clock() + self.seconds
            self._until.move_to_end(key)
            while len(self._until) > self.max_entries:
                self._until.popitem(last=False)


def pending(session, tenant, member_id: int | None, kinds, locale: str) -> dict[str, ContentItem]:
    """The agreements of ``kinds`` the member (``None``: someone registering) has yet to accept, by kind:
    the page in ``locale`` to show them."""
    found = {}
    for kind in kinds:
        item = current(session, tenant, kind, locale)
        if item is not None and (member_id is None or not _accepted(session, member_id, kind)):
            found[kind] = item
    return found


def required(items: dict[str, ContentItem], ticked) -> None:
    """Refuse unless every agreement in ``items`` was ticked (``ticked(field)`` is the form's value)."""
    for kind, item in items.items():
        if not ticked(f"accept_{kind}"):
            raise AgreementError(
                f"accept_{kind}", _("Tick the box to accept the ${title}.", mapping={"title": item.title})
            )


def record(session, member, items: dict[str, ContentItem], address: str = "") -> None:
    """Keep the member's acceptance of each page in ``items`` (the version on the page now)."""
    for kind, item in items.items():
        session.add(
            MemberAgreement(
                tenant_id=member.tenant_id,
                member_id=member.id,
                kind=kind,
                item_id=item.id,
                version=item.version,
                locale=item.locale,
                digest=digest(item),
                address=(address or "")[:64],
            )
        )
    session.flush()


def ticked(value) -> bool:
    """A checkbox's or a JSON flag's value read as "yes"."""
    return value is True or str(value).lower() in ("1", "on", "true", "yes")


# -- the gate: an account with terms to accept is used for nothing else -------------------------------------


def _gated(request) -> bool:
    route = request.matched_route
    if route is None or route.name in OPEN_ROUTES or request.host_kind != "tenant":
        return False
    if request.path.startswith("/api/"):
        return True
    return request.path.startswith("/account") or request.method == "POST"


def gate(event) -> None:
    """Before a signed-in member's request to their account, the API or any form: if a new version of the
    terms or privacy policy is waiting, the page sends them to accept it (303) and the API answers 403."""
    request = event.request
    if not _gated(request):
        return
    identity = request.identity
    if identity is None or identity.kind != "member":
        return
    cache, key = request.registry.get(CACHE), (request.tenant.id, identity.principal_id)
    if cache is not None and cache.fresh(key):
        return
    if accepted_all(request.dbsession, identity.principal_id, ACCOUNT):
        if cache is not None:
            cache.keep(key)
        return
    waiting = pending(request.dbsession, request.tenant, identity.principal_id, ACCOUNT, request.locale_name)
    if not waiting:
        return
    if request.path.startswith("/api/"):
        from ..api import Problem

        raise Problem(
            {
                kind: _(
                    "Accept the ${title} at ${url} before using your account.",
                    mapping={"title": item.title, "url": request.route_url("account.agreements")},
                )
                for kind, item in waiting.items()
            },
            status=403,
            title="Forbidden",
        )
    raise HTTPSeeOther(request.route_path("account.agreements", _query={"next": request.path}))


def _next(request) -> str:
    target = str(request.params.get("next", ""))
    return target if target.startswith("/") and not target.startswith("//") else request.route_path("account.home")


@view_config(route_name="account.agreements", renderer="account/agreements.pt", permission="member")
def agreements_page(request):
    """What the member has to accept before using their account (a new version of the terms or privacy)."""
    member = request.identity.user
    waiting = pending(request.dbsession, request.tenant, member.id, ACCOUNT, request.locale_name)
    bodies = {kind: markup.render(item.body) for kind, item in waiting.items()}
    data = form_page(request, waiting=waiting, bodies=bodies, target=_next(request))
    if request.method != "POST":
        return data if waiting else HTTPSeeOther(data["target"])
    on_refusal(request, lambda error: by_field(data, error))
    required(waiting, lambda field: ticked(request.POST.get(field)))
    record(request.dbsession, member, waiting, request.client_addr or "")
    return HTTPSeeOther(data["target"])


def includeme(config):
    config.registry[CACHE] = AcceptedCache(config.registry.settings_obj.page_cache_seconds)
    config.add_route("account.agreements", "/account/agreements", host_kind="tenant")
    config.add_subscriber(gate, ContextFound)
    config.scan("core.members.agreements")
