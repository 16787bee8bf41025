"""The help centre's public pages: ``/help`` (FAQ), ``/help/search``, ``/help/q/<id>``, ``/help/contact``."""

from __future__ import annotations

import secrets

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ..backoffice import throttle_message
from ..forms import by_field, form_page, on_refusal, refuse
from ..markup import render
from ..throttle import Throttled
from . import faq, inbox
from .faq import HelpError

VOTER_COOKIE = "lendstack_helpful"
VOTER_MAX_AGE = 365 * 24 * 3600
HONEYPOT = "website"  # a field people never see (hidden by CSS) and bots fill in


def signed_in_member(request):
    """The signed-in member, or ``None`` for a visitor (or staff browsing the site)."""
    identity = request.identity
    return identity.user if identity is not None and identity.kind == "member" else None


@view_config(route_name="help.index", renderer="help/index.pt")
def help_index(request):
    """Every published category of the reader's language, each question opening on click (no script)."""
    return {"categories": faq.published(request.dbsession, request.locale_name), "render": render, "q": ""}


@view_config(route_name="help.search", renderer="help/search.pt")
def help_search(request):
    query = str(request.params.get("q", ""))[:100].strip()
    found = faq.find(request.dbsession, request.locale_name, query) if query else []
    return {"q": query, "questions": found, "render": render}


@view_config(route_name="help.question", renderer="help/question.pt")
def help_question(request):
    question = faq.question_of(request.dbsession, request.matchdict["id"])
    if question is None:
        raise HTTPNotFound()
    return {"question": question, "render": render, "voted": request.params.get("voted"), "errors": {}}


@view_config(route_name="help.vote", request_method="POST", renderer="help/question.pt")
def help_vote(request):
    """One "was this helpful" answer per visitor and question (a cookie, or the member), throttled per address."""
    question = faq.question_of(request.dbsession, request.matchdict["id"])
    if question is None:
        raise HTTPNotFound()
    data = {"question": question, "render": render, "voted": None, "errors": {}}
    try:
        request.throttle.hit("help.vote.address", request.tenant.slug, request.client_addr or "-")
    except Throttled as throttled:
        return refuse(request, data, HelpError("helpful", throttle_message(throttled)), 429)
    member = signed_in_member(request)
    token = request.cookies.get(VOTER_COOKIE, "")
    if member is None and not (16 <= len(token) <= 64 and token.isalnum()):
        token = secrets.token_hex(16)
    voter = faq.voter_key(f"member:{member.id}" if member is not None else token)
    faq.vote(request.dbsession, question, voter, request.POST.get("helpful") == "yes")
    response = HTTPSeeOther(request.route_path("help.question", id=question.id, _query={"voted": 1}))
    if member is None:
        response.set_cookie(
            VOTER_COOKIE,
            token,
            max_age=VOTER_MAX_AGE,
            path="/help",
            httponly=True,
            samesite="Lax",
            secure=request.registry.settings_obj.secure_cookies,
        )
    return response


@view_config(route_name="help.contact", renderer="help/contact.pt")
def help_contact(request):
    """Leave a message (留言): a visitor gives a name and an email or phone; a member is known already."""
    member = signed_in_member(request)
    data = form_page(request, member=member, sent=request.params.get("sent"))
    if request.method != "POST":
        return data
    accepted = HTTPSeeOther(request.route_path("help.contact", _query={"sent": 1}))
    if request.POST.get(HONEYPOT):
        return accepted  # a bot: told it worked, nothing kept
    try:
        limit(request, member)
    except Throttled as throttled:
        return refuse(request, data, HelpError("body", throttle_message(throttled)), 429)
    on_refusal(request, lambda error: by_field(data, error))
    asker = (
        inbox.Asker(member=member)
        if member is not None
        else inbox.visitor(request.POST.get("name"), request.POST.get("email"), request.POST.get("phone"))
    )
    inbox.ask(
        request.dbsession,
        request.tenant,
        asker,
        subject=request.POST.get("subject"),
        body=request.POST.get("body"),
        origin="contact",
        locale=request.locale_name,
    )
    return accepted


def limit(request, member=None) -> None:
    """Count one new message against the address's (and the member's) limit; :class:`Throttled` past it."""
    request.throttle.hit("help.message.address", request.tenant.slug, request.client_addr or "-")
    if member is not None:
        request.throttle.hit("help.message.member", request.tenant.slug, str(member.id))
