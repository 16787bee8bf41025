"""What the pages' form views share: the page's data, and the page shown again when a service refuses.

A view declares, before it calls a service, what its page shows if the
service refuses (:func:`on_refusal`; :func:`form_page` does it for the usual
form page). The service raises a :class:`core.domain.DomainError`; the one
exception view (``core.errors.refused``) renders the view's own renderer with
that data, the message placed by its field, and answers 400 — so the view
holds no ``except`` for it.
"""

from __future__ import annotations

from collections.abc import Callable

REFUSAL_STATUS = 400  # a page's answer to input a service refused: the form again, nothing changed


def form_page(request, **extra) -> dict:
    """Template data for a form page: what was typed (to keep it), no errors yet, ``extra``.

    Shown again with a refusal's message by its field (:func:`by_field`) if a service refuses.
    """
    data = {
        "form": dict(request.POST) if request.method == "POST" else dict(request.GET),
        "errors": {},
        "notice": None,
        **extra,
    }
    on_refusal(request, lambda error: by_field(data, error))
    return data


def on_refusal(request, page: Callable[[object], dict], status: int = REFUSAL_STATUS) -> None:
    """Declare the template data of this view's page if a service refuses: ``page(error)``, answered ``status``.

    ``page`` is called only on a refusal, after the failed call (the session
    still open, nothing committed); the view's renderer draws what it returns.
    A later declaration replaces an earlier one.
    """
    request.refusal_page = (page, status)


def refusal_page(request):
    """The ``(page, status)`` the view declared with :func:`on_refusal`, or ``None``."""
    return getattr(request, "refusal_page", None)


def by_field(data: dict, error) -> dict:
    """``data`` with ``error``'s message next to its field (``errors``)."""
    data["errors"] = {error.field: error.message}
    return data


def one_message(data: dict, error) -> dict:
    """``data`` with ``error``'s message as the page's one ``error`` (pages that show it above the form)."""
    data["error"] = error.message
    return data


def refuse(request, data: dict, error, status: int = REFUSAL_STATUS) -> dict:
    """Show ``error`` (any error with ``field`` and ``message``) next to its field; the answer is ``status``.

    For refusals that are not a service's (a throttle's 429): a service's
    :class:`~core.domain.DomainError` reaches the exception view instead.
    """
    data["errors"] = {error.field: error.message}
    request.response.status = status
    return data
