"""The input layer: hostile input is refused before any view, route factory or schema reads it.

One ``NewRequest`` subscriber checks every request once, in this order:

1. the path and the query string hold no control characters (PostgreSQL
   refuses NUL in text; a NUL or CR/LF has no business in an address) —
   that they decode as UTF-8 at all is checked earlier, by a tween over
   pyramid_tm (:func:`address_tween_factory`), since the transaction's
   note, the security policy and the tenancy tween read the path first;
2. the body is no larger than ``lendstack.max_body_bytes`` (JSON:
   ``lendstack.max_json_bytes``) — 413 otherwise;
3. a JSON body is nested at most :data:`MAX_JSON_DEPTH` deep (measured on the
   raw bytes, without recursion, *before* anything parses it), is strict
   JSON (no ``NaN``/``Infinity``, every number finite, integers within
   ``BIGINT``) and its strings hold no control characters but tab, CR and LF
   (nor lone surrogates, which cannot be stored);
4. form fields (urlencoded or multipart) hold no control characters but
   tab, CR and LF;
5. ``page`` is a whole number 1..:data:`MAX_PAGE` and ``next`` holds no
   control character at all (it becomes a ``Location`` header);
   a field named like a date (``date``, ``month``, ``*_date``, ``*_on``...)
   written ``YYYY-MM-DD`` or ``YYYY-MM`` is a real day or month between
   :data:`FIRST_DAY` and :data:`LAST_DAY` (date arithmetic past year 9999
   overflows, and no loan runs that long);
6. a route id — a placeholder named ``id``/``*_id`` or declared ``\\d+`` —
   is ASCII digits up to :data:`MAX_ID` (the id columns are ``INTEGER``), or
   the answer is 404 (no such row can exist).

Why ``NewRequest`` and not a tween or ``ContextFound``: it runs inside the
exception-view tween and the request's transaction, after the tenant is
known, so a refusal is rendered by the themed exception views below (and
aborts the transaction like any 4xx); and it runs before route matching, so
a route factory never sees an id out of range. The route check matches the
path against the route mapper itself (a regular expression per route, a few
microseconds).

A refusal raises :class:`BadInput`; ``core.errors`` answers it with a themed
page or, under ``/api/``, a problem detail naming the field.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from urllib.parse import urlsplit

from pyramid.events import NewRequest
from pyramid.httpexceptions import HTTPNotFound
from pyramid.interfaces import IRoutesMapper
from pyramid.response import Response

from .i18n import _

MAX_PAGE = 10**9
MAX_ID = 2**31 - 1  # row ids are INTEGER columns; PostgreSQL refuses a larger one as a parameter
MAX_DECIMAL_EXPONENT = 308  # past 1e308 a JSON reader that uses doubles gets infinity
MAX_JSON_INTEGER = 2**63 - 1  # BIGINT, the widest column; a field's own bound is the document's
MAX_JSON_DEPTH = 64
MAX_BODY_BYTES = 16 * 1024 * 1024  # identity documents (5 MiB each) come in a multipart form
MAX_JSON_BYTES = 1024 * 1024
MAX_QUERY_BYTES = 16 * 1024
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)

# C0 controls and DEL; tab, CR and LF are allowed in text fields (a message body has lines).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKETS = re.compile(rb"[^\[\]{}]+")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_NUMERIC_HOLDER = re.compile(r"\{(\w+):(?:\\d|\[0-9\])\+\}")
_JSON_TYPES = ("application/json", "application/problem+json")
_DATE_LIKE = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?")
_DATE_NAME = re.compile(r"(?:^|_)(?:date|month|day|on|from|to|since|until|start|end)$")


class BadInput(Exception):
    """Input refused before any view ran: ``field`` names it, ``message`` says why (a translation string)."""

    def __init__(self, field: str, message, status: int = 400):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


# -- text ---------------------------------------------------------------------------------------


def refuse_control_characters(field: str, value: str, *, line_breaks: bool = True) -> None:
    """Raise :class:`BadInput` when ``value`` holds a control character (tab, CR, LF allowed if ``line_breaks``)."""
    pattern = _CONTROL if line_breaks else _ANY_CONTROL
    if pattern.search(value) or _SURROGATE.search(value):
        raise BadInput(field, _("This value holds characters that are not allowed."))


def check_date(field: str, value: str) -> None:
    """A date-named field written like a date must be a real one between :data:`FIRST_DAY` and :data:`LAST_DAY`."""
    if not _DATE_NAME.search(field.rsplit("/", 1)[-1].lower()):
        return
    written = _DATE_LIKE.fullmatch(value.strip())
    if written is None:
        return  # not written like a date at all: the view's own parsing answers
    year, month, day = written.group(1), written.group(2), written.group(3) or "01"
    try:
        in_range = FIRST_DAY <= dt.date(int(year), int(month), int(day)) <= LAST_DAY
    except ValueError:
        in_range = False
    if not in_range:
        raise BadInput(
            field,
            _(
                "Enter a real date from ${first} to ${last}.",
                mapping={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            ),
        )


def check_text(field: str, value: str, *, line_breaks: bool = True) -> None:
    """Every check a text field gets: control characters, then dates."""
    refuse_control_characters(field, value, line_breaks=line_breaks)
    check_date(field, value)


def safe_next(request, target: str | None, default: str) -> str:
    """A local path to go to after signing in, or ``default``: never another site, never a control character."""
    if not target or _ANY_CONTROL.search(target) or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


# -- JSON ---------------------------------------------------------------------------------------


def json_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep ``body``'s arrays and objects nest, read from the raw bytes (stops counting past ``limit``).

    Strings are blanked out first so a bracket inside one does not count; the
    rest is a loop over the brackets alone, so a hostile body costs no recursion.
    """
    brackets = _JSON_BRACKETS.sub(b"", _JSON_STRING.sub(b'""', body))
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


class _NotFinite:
    """``NaN``, ``Infinity`` or a number past a double's range in a body: a marker so the walk can name its field."""


def _parse_constant(name):
    return _NotFinite()


def _parse_decimal(text: str):
    """A JSON number with a fraction or exponent, read exactly; one a double would make infinite is marked."""
    number = Decimal(text)
    return number if number.adjusted() <= MAX_DECIMAL_EXPONENT else _NotFinite()


def check_json(body: bytes) -> None:
    """Refuse a JSON body too deep, not strict JSON, or holding unusable numbers or characters."""
    if json_depth(body) > MAX_JSON_DEPTH:
        raise BadInput(
            "body", _("The JSON body is nested more than ${depth} levels deep.", mapping={"depth": MAX_JSON_DEPTH})
        )
    try:
        document = json.loads(body, parse_constant=_parse_constant, parse_float=_parse_decimal)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or an integer of thousands of digits
        raise BadInput("body", _("The body is not valid JSON.")) from None
    _walk(document)


def _walk(document) -> None:
    """Check every string and number of ``document``, naming a bad one by its path (``loan_types/0``)."""
    pending = [("", document)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                refuse_control_characters(path or "body", key)
                pending.append((f"{path}/{key}" if path else key, item))
        elif isinstance(value, list):
            pending.extend((f"{path}/{index}" if path else str(index), item) for index, item in enumerate(value))
        elif isinstance(value, str):
            check_text(path or "body", value)
        elif isinstance(value, _NotFinite):
            raise BadInput(path or "body", _("The number must be finite."))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_JSON_INTEGER:
            raise BadInput(path or "body", _("The number is out of range."))


# -- the request --------------------------------------------------------------------------------


def undecodable_address(environ) -> str | None:
    """``"path"`` or ``"query"`` when that part of the address is not UTF-8 once unquoted, else ``None``."""
    from urllib.parse import unquote_to_bytes

    for field, raw in (("path", environ.get("PATH_INFO", "")), ("query", environ.get("QUERY_STRING", ""))):
        raw_bytes = raw.encode("latin-1", "replace")
        if field == "query":
            raw_bytes = unquote_to_bytes(raw_bytes.replace(b"+", b" "))
        try:
            raw_bytes.decode("utf-8")
        except UnicodeDecodeError:
            return field
    return None


def address_tween_factory(handler, registry):
    """Refuse an address that is not UTF-8 before anything decodes it.

    A tween over pyramid_tm, because the transaction's note, the security
    policy and the tenancy tween read the path before any subscriber runs; no
    tenant is known yet, so the answer is plain (a problem detail under /api/).
    """

    def tween(request):
        field = undecodable_address(request.environ)
        if field is None:
            return handler(request)
        # The response's subscribers (the locale cookie) still read the parameters: a refused request keeps none.
        request.environ["QUERY_STRING"] = ""
        detail = f"{field}: The address is not valid UTF-8."
        if request.environ.get("PATH_INFO", "").startswith("/api/"):
            from .api import problem_response

            return problem_response(
                request, 400, "Bad request", detail, [{"field": field, "message": "not valid UTF-8"}]
            )
        return Response(detail, status=400, content_type="text/plain", charset="utf-8")

    return tween


def check_address(request) -> None:
    """The path and query hold no control characters (tab, CR, LF allowed in values but ``next``'s)."""
    if _ANY_CONTROL.search(request.path_info):
        raise BadInput("path", _("The address holds characters that are not allowed."))
    if len(request.query_string) > MAX_QUERY_BYTES:
        raise BadInput("query", _("The address is too long."), status=414)
    for name, value in request.GET.items():
        refuse_control_characters(name, name)
        check_text(name, value, line_breaks=name != "next")


def check_body(request, max_body: int, max_json: int) -> None:
    """Size first (from the header, before reading), then the content by its type."""
    content_type = request.content_type or ""
    is_json = content_type in _JSON_TYPES or content_type.endswith("+json")
    limit = max_json if is_json else max_body
    length = request.content_length
    if length is not None and length > limit:
        raise BadInput("body", _("The request is too large."), status=413)
    if request.method in ("GET", "HEAD", "OPTIONS") and not length:
        return
    if is_json:
        body = request.body
        if len(body) > limit:
            raise BadInput("body", _("The request is too large."), status=413)
        if body.strip():
            check_json(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, value in request.POST.items():
            refuse_control_characters(name, name)
            text = value if isinstance(value, str) else getattr(value, "filename", "") or ""
            check_text(name, text, line_breaks=name != "next")


def whole_number_within(text: str, low: int, high: int) -> bool:
    """``text`` is ASCII digits for a number from ``low`` to ``high`` (length checked first: ``int`` of
    thousands of digits is slow, and refused past 4300)."""
    if _ASCII_DIGITS.fullmatch(text) is None:
        return False
    digits = text.lstrip("0") or "0"
    return len(digits) <= len(str(high)) and low <= int(digits) <= high


def check_page(request) -> None:
    """``page`` (query or form) is a whole number from 1 to :data:`MAX_PAGE`; empty means the first."""
    for value in request.params.getall("page"):
        if value == "":
            continue
        if not whole_number_within(value, 1, MAX_PAGE):
            raise BadInput("page", _("Choose a page from 1 to ${max}.", mapping={"max": MAX_PAGE}))


def numeric_placeholders(pattern: str) -> set[str]:
    """The placeholders of a route pattern that hold row ids: ``{id}``, ``{x_id}`` or any ``{name:\\d+}``."""
    names = set(_NUMERIC_HOLDER.findall(pattern))
    names |= {name for name in re.findall(r"\{(\w+)", pattern) if name == "id" or name.endswith("_id")}
    return names


def check_route_ids(request) -> None:
    """A route id that no row can have (not ASCII digits, or past :data:`MAX_ID`) answers 404 at once."""
    mapper = request.registry.queryUtility(IRoutesMapper)
    if mapper is None:
        return
    info = mapper(request)
    route, match = info["route"], info["match"]
    if route is None:
        return
    for name in numeric_placeholders(route.pattern):
        value = match.get(name)
        if value is not None and not whole_number_within(value, 0, MAX_ID):
            raise HTTPNotFound()


def check_request(event) -> None:
    """The ``NewRequest`` subscriber: every check above, cheapest first."""
    request = event.request
    settings = request.registry.settings_obj
    check_address(request)
    check_body(request, settings.max_body_bytes, settings.max_json_bytes)
    check_page(request)
    check_route_ids(request)


def includeme(config):
    config.add_subscriber(check_request, NewRequest)
    config.add_tween("core.inputs.address_tween_factory", over="pyramid_tm.tm_tween_factory")
