"""What the portal's form views share: the page's data and refusing a submission by field."""
from __future__ import annotations


def form_page(request, **extra) -> dict:
    """Template data for a form page: what was typed (to keep it), no errors yet, ``extra``."""
    return {"form": dict(request.POST) if request.method == "POST" else dict(request.GET),
            "errors": {}, "notice": None, **extra}


def refuse(request, data: dict, error, status: int = 400) -> dict:
    """Show ``error`` (any error with ``field`` and ``message``) next to its field; the answer is ``status``."""
    data["errors"] = {error.field: error.message}
    request.response.status = status
    return data
