"""The JSON API under ``/api/v1`` on a tenant's host.

An OpenAPI document (``openapi.yaml`` and the parts under ``openapi/``, merged
by ``spec``; served as ``/api/v1/openapi.json``) validates every request and response of a view marked ``openapi=True``
(pyramid_openapi3). Errors are RFC 9457 problem details naming each field at
fault: 400 when the request does not match the document (malformed JSON, a
wrong type, an unknown field), 422 when it matches but cannot be used (a rate
over the tenant's cap, a disabled method). The API uses no cookies, so its
views take no CSRF token.
"""

from __future__ import annotations

import json
import re

from pyramid.response import Response

from ..i18n import english

PREFIX = "/api/v1"
PROBLEM_TYPE = "application/problem+json"
# jsonschema names a missing or unexpected property only in its message.
_NAMED_FIELD = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' (?:is a required property|was unexpected)")


class Problem(Exception):
    """Raise from an API view to answer with a problem detail.

    ``errors`` maps field names to messages (translation strings are
    translated into the request's locale).
    """

    def __init__(self, errors: dict[str, object], status: int = 422, title: str = "Unprocessable request"):
        super().__init__("; ".join(f"{k}: {english(v)}" for k, v in errors.items()))
        self.errors, self.status, self.title = errors, status, title


def refusals_name(request, fields: dict[str, str]) -> None:
    """Where the API names a service's field otherwise (``{"card": "card_id"}``): a refusal
    (``core.domain.DomainError``, rendered by ``core.errors.refused``) names the field as the API does."""
    request.api_field_names = fields


def api_field(request, field: str) -> str:
    """``field`` of a service's refusal as this request's API names it (:func:`refusals_name`)."""
    return getattr(request, "api_field_names", {}).get(field, field)


IDEMPOTENCY_KEY = "Idempotency-Key"


def once(request, operation: str, act, *, resource=None, required: bool = True):
    """Answer a request that moves money once per ``Idempotency-Key`` (``core.idempotency``).

    ``act(claim_id)`` does the work and returns the body (setting
    ``request.response.status`` as it likes); ``claim_id`` is the key's row, a
    unique name for what it makes; ``resource(body)`` names what it made
    (``bid:7``), kept with the key for staff. The same key with the same request answers
    the first answer again (``Idempotent-Replayed: true``) and does nothing
    more; with another request it is a 422 naming ``Idempotency-Key``. Keys
    are the caller's own per operation across the tenant. Without a key,
    ``required=False`` runs ``act(None)`` as before.
    """
    from .. import idempotency
    from ..i18n import _

    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is None and not required:
        return act(None)
    key = (key or "").strip()
    low, high = idempotency.KEY_LENGTH
    if not low <= len(key) <= high:
        raise Problem(
            {IDEMPOTENCY_KEY: _("Send an Idempotency-Key header of 8 to 80 characters.")},
            status=400,
            title="Bad request",
        )
    identity = request.identity
    try:
        claimed = idempotency.claim(
            request.dbsession,
            request.tenant.id,
            f"{identity.kind}:{identity.principal_id}",
            operation,
            key,
            idempotency.fingerprint(request.method, request.path_qs, request.body),
        )
    except idempotency.KeyReused:
        raise Problem(
            {IDEMPOTENCY_KEY: _("This Idempotency-Key was used for another request: use a new key for a new request.")}
        ) from None
    except idempotency.KeyInFlight:
        raise Problem(
            {IDEMPOTENCY_KEY: _("The first request with this Idempotency-Key has no answer to repeat: use a new key.")},
            status=409,
            title="Conflict",
        ) from None
    if not claimed.fresh:
        request.response.status = claimed.status
        request.response.headers["Idempotent-Replayed"] = "true"
        return claimed.answer
    body = act(claimed.id)
    idempotency.answer(
        request.dbsession,
        claimed,
        request.response.status_code,
        body,
        resource=resource(body) if resource is not None else "",
    )
    return body


def problem_response(request, status: int, title: str, detail: str, errors: list[dict] = ()) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "errors": list(errors)}
    if errors:
        body["field"] = errors[0]["field"]
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_TYPE, charset="utf-8")


def _problem_view(context: Problem, request):
    translate = request.localizer.translate
    errors = [{"field": field, "message": translate(message)} for field, message in context.errors.items()]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem_response(request, context.status, context.title, detail, errors)


def _plain_messages(errors) -> None:
    """Say what a refused string should be, not what it was.

    jsonschema echoes the value sent (however long) and the raw pattern; an
    over-long string or a malformed number gets a short message instead.
    """
    from ..money import NUMBER_PATTERN

    for error in errors:
        for schema_error in getattr(error.__cause__, "schema_errors", None) or ():
            if schema_error.validator == "maxLength":
                schema_error.message = f"at most {schema_error.validator_value} characters"
            elif schema_error.validator == "pattern" and schema_error.validator_value == NUMBER_PATTERN:
                schema_error.message = (
                    "ASCII digits with an optional decimal point, such as 100.00 "
                    f"(no sign, exponent, spaces or separators): {NUMBER_PATTERN}"
                )
            elif schema_error.validator == "pattern":
                schema_error.message = f"does not match {schema_error.validator_value}"


def _request_invalid_view(context, request):
    """A request the OpenAPI document refuses: 400, each error with its field."""
    extract = request.registry.settings["pyramid_openapi3_extract_errors"]
    _plain_messages(context.errors)
    errors = []
    for error in extract(request, context.errors):
        message = error.get("message", "invalid")
        named = _NAMED_FIELD.search(message)
        field = named.group(1) if named else error.get("field") or "body"
        errors.append({"field": field, "message": message})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "The request is not valid."
    from openapi_core.validation.request.exceptions import SecurityValidationError

    if any(isinstance(e, SecurityValidationError) for e in context.errors):
        return problem_response(
            request,
            401,
            "Unauthorized",
            "Sign in (a bearer token) first.",
            [{"field": "Authorization", "message": "a bearer token is required"}],
        )
    return problem_response(request, 400, "Bad request", detail, errors)


def _response_invalid_view(context, request):
    """A response that breaks the document is our fault: 500 without the internals."""
    import logging

    logging.getLogger(__name__).error("API response failed validation: %s", context)
    return problem_response(request, 500, "Internal error", "The server could not answer correctly.")


def spec_json(request):
    return request.registry["api_spec"]


def includeme(config):
    from pyramid_openapi3.exceptions import RequestValidationError, ResponseValidationError

    config.include("pyramid_openapi3")
    config.pyramid_openapi3_add_deserializer(PROBLEM_TYPE, json.loads)
    config.include(".spec")
    config.add_route("api.spec", f"{PREFIX}/openapi.json")
    config.add_view(spec_json, route_name="api.spec", renderer="json", require_csrf=False)
    config.add_exception_view(_problem_view, context=Problem)
    config.add_exception_view(_request_invalid_view, context=RequestValidationError)
    config.add_exception_view(_response_invalid_view, context=ResponseValidationError)
    config.include(".tools")
    config.include(".auth")
    config.include(".loans")
    config.include(".me")
    config.include(".reserve")
    config.include(".settings")
    config.include(".content")
    config.include("core.help.api")
