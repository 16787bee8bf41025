"""Back office of the help centre: the FAQ editor (``content.write``) and the messages inbox (``support.reply``)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from .. import audit
from ..forms import by_field, on_refusal
from ..markup import render
from . import faq, inbox
from .faq import HelpError
from .models import THREAD_STATUS_LABELS, FaqCategory, FaqQuestion, Thread

# -- FAQ ---------------------------------------------------------------------------------


@view_config(route_name="admin.help", renderer="admin/help.pt", permission="content.write")
def faq_overview(request):
    """Categories with their questions; a new category's form (POST adds it)."""
    data = {
        "categories": faq.all_categories(request.dbsession),
        "locales": request.tenant.locales,
        "errors": {},
        "form": dict(request.POST) if request.method == "POST" else {"locale": request.locale_name, "published": "on"},
    }
    if request.method != "POST":
        return data
    on_refusal(request, lambda error: by_field(data, error))
    category = faq.save_category(request.dbsession, request.tenant, dict(request.POST))
    audit.record(request, "faq.category.save", "faq_category", category.id, None, _category_facts(category))
    return HTTPSeeOther(request.route_path("admin.help"))


def _category_or_404(request) -> FaqCategory:
    category = faq.category_of(request.dbsession, request.matchdict["id"])
    if category is None:
        raise HTTPNotFound()
    return category


def _category_facts(category: FaqCategory) -> dict:
    return {
        "name": category.name,
        "locale": category.locale,
        "position": category.position,
        "published": category.published,
    }


@view_config(route_name="admin.help_category", renderer="admin/help_category.pt", permission="content.write")
def faq_category(request):
    category = _category_or_404(request)
    data = {
        "category": category,
        "locales": request.tenant.locales,
        "errors": {},
        "form": dict(request.POST)
        if request.method == "POST"
        else {
            "name": category.name,
            "locale": category.locale,
            "position": str(category.position),
            "published": "on" if category.published else "",
        },
    }
    if request.method != "POST":
        return data
    before = _category_facts(category)
    if request.POST.get("delete"):
        audit.record(request, "faq.category.delete", "faq_category", category.id, before, None)
        request.dbsession.delete(category)
        return HTTPSeeOther(request.route_path("admin.help"))
    on_refusal(request, lambda error: by_field(data, error))
    faq.save_category(request.dbsession, request.tenant, dict(request.POST), category)
    audit.record(request, "faq.category.save", "faq_category", category.id, before, _category_facts(category))
    return HTTPSeeOther(request.route_path("admin.help"))


def _question_facts(question: FaqQuestion) -> dict:
    return {"title": question.question, "position": question.position, "published": question.published}


@view_config(route_name="admin.help_question_new", renderer="admin/help_question.pt", permission="content.write")
@view_config(route_name="admin.help_question", renderer="admin/help_question.pt", permission="content.write")
def faq_question(request):
    question = None
    if "id" in request.matchdict:
        question = faq.question_of(request.dbsession, request.matchdict["id"], published_only=False)
        if question is None:
            raise HTTPNotFound()
    if request.method == "POST":
        form = dict(request.POST)
    elif question is not None:
        form = {
            "category_id": str(question.category_id),
            "question": question.question,
            "answer": question.answer,
            "position": str(question.position),
            "published": "on" if question.published else "",
        }
    else:
        form = {"category_id": str(request.params.get("category", ""))[:10], "published": "on"}
    data = {
        "question": question,
        "categories": faq.all_categories(request.dbsession),
        "form": form,
        "errors": {},
        "preview": render(form.get("answer", "")) if form.get("answer") else None,
    }
    if request.method != "POST":
        return data
    before = _question_facts(question) if question is not None else None
    if request.POST.get("delete") and question is not None:
        audit.record(request, "faq.question.delete", "faq_question", question.id, before, None)
        request.dbsession.delete(question)
        return HTTPSeeOther(request.route_path("admin.help"))
    on_refusal(request, lambda error: by_field(data, error))
    saved = faq.save_question(request.dbsession, request.tenant, dict(request.POST), question)
    audit.record(request, "faq.question.save", "faq_question", saved.id, before, _question_facts(saved))
    return HTTPSeeOther(request.route_path("admin.help"))


# -- inbox -------------------------------------------------------------------------------


@view_config(route_name="admin.inbox", renderer="admin/inbox.pt", permission="support.reply")
def inbox_list(request):
    status = str(request.params.get("status", ""))
    status = status if status in inbox.INBOX_FILTERS else ""
    assigned = str(request.params.get("assigned", ""))[:10]
    query = str(request.params.get("q", ""))[:100].strip()
    return {
        "threads": inbox.inbox(request.dbsession, status=status, assigned=assigned, query=query),
        "status": status,
        "assigned": assigned,
        "q": query,
        "filters": inbox.INBOX_FILTERS,
        "responders": inbox.responders(request.dbsession),
        "me": request.identity.principal_id,
        "labels": THREAD_STATUS_LABELS,
        "waiting": inbox.waiting_count(request.dbsession),
    }


def _thread_or_404(request) -> Thread:
    thread = inbox.thread_of(request.dbsession, request.matchdict["id"])
    if thread is None:
        raise HTTPNotFound()
    return thread


def _thread_page(request, thread: Thread, errors: dict | None = None, form: dict | None = None) -> dict:
    return {
        "thread": thread,
        "messages": thread.messages,
        "responders": inbox.responders(request.dbsession),
        "labels": THREAD_STATUS_LABELS,
        "errors": errors or {},
        "form": form or {},
    }


@view_config(route_name="admin.inbox_thread", renderer="admin/inbox_thread.pt", permission="support.reply")
def inbox_thread(request):
    """One thread: its messages (read by staff as they open it), the reply form, assign, close and reopen."""
    thread = _thread_or_404(request)
    if request.method != "POST":
        inbox.mark_read(request.dbsession, thread, "to_staff")
        return _thread_page(request, thread)
    action = request.POST.get("action", "")
    before = {"status": thread.status, "assigned_to": thread.assigned_to}
    on_refusal(request, lambda error: _thread_page(request, thread, {error.field: error.message}, dict(request.POST)))
    if action == "reply":
        message = inbox.reply(
            request.dbsession, request.tenant, thread, body=request.POST.get("body"), sender=audit.actor_of(request)
        )
        after = {"status": thread.status, "message": message.id, "title": thread.subject}
    elif action == "assign":
        typed = str(request.POST.get("assigned_to", ""))
        staff_id = int(typed) if typed.isascii() and typed.isdigit() and len(typed) < 10 else None
        if typed and staff_id is None:
            raise HelpError("assigned_to", inbox.ASSIGN_REFUSED)
        inbox.assign(request.dbsession, thread, staff_id)
        after = {"assigned_to": thread.assigned_to, "title": thread.subject}
    elif action == "close":
        inbox.close(thread)
        after = {"status": thread.status, "title": thread.subject}
    elif action == "reopen":
        inbox.reopen(thread)
        after = {"status": thread.status, "title": thread.subject}
    else:
        raise HelpError("action", inbox.UNKNOWN_ACTION)
    audit.record(request, f"inbox.{action}", "thread", thread.id, before, after)
    return HTTPSeeOther(request.route_path("admin.inbox_thread", id=thread.id))
