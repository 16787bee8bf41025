"""``/api/v1/faq`` (published questions in the request's language, searched) and ``/api/v1/messages``
(a message from a member with a token, or from a visitor without one): the help pages' services."""

from __future__ import annotations

from pyramid.view import view_config

from ..api import PREFIX, Problem, refusals_name
from ..backoffice import throttle_message
from ..markup import render
from ..throttle import Throttled
from . import faq, inbox
from .views import limit, signed_in_member

API = {"renderer": "json", "openapi": True, "require_csrf": False}


def question_json(request, question) -> dict:
    return {
        "id": question.id,
        "category": {"id": question.category.id, "name": question.category.name},
        "question": question.question,
        "answer": question.answer,
        "answer_html": str(render(question.answer)),
        "helpful_yes": question.helpful_yes,
        "helpful_no": question.helpful_no,
        "url": request.route_url("help.question", id=question.id),
    }


@view_config(route_name="api.faq", request_method="GET", **API)
def faq_list(request):
    """Published questions of the request's language; ``q`` keeps those holding every term (Chinese too)."""
    query = str(request.params.get("q", "")).strip()
    found = faq.find(request.dbsession, request.locale_name, query)
    return {"locale": request.locale_name, "q": query, "questions": [question_json(request, q) for q in found]}


@view_config(route_name="api.messages", request_method="POST", **API)
def leave_message(request):
    """A new thread in the inbox: the member's (a token) or a visitor's (``name`` and ``email`` or ``phone``)."""
    body = request.json_body
    refusals_name(request, {"body": "text"})
    member = signed_in_member(request)
    try:
        limit(request, member)
    except Throttled as throttled:
        raise Problem({"text": throttle_message(throttled)}, status=429, title="Too many requests") from None
    asker = (
        inbox.Asker(member=member)
        if member is not None
        else inbox.visitor(body.get("name"), body.get("email"), body.get("phone"))
    )
    thread = inbox.ask(
        request.dbsession,
        request.tenant,
        asker,
        subject=body.get("subject"),
        body=body.get("text"),
        origin="api",
        locale=request.locale_name,
    )
    request.response.status = 201
    return {"id": thread.id, "status": thread.status, "subject": thread.subject}


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.faq", "/faq")
    route("api.messages", "/messages")
    config.scan(".api")
