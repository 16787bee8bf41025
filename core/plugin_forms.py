"""A plugin's settings schema as a form: fields to draw, values to show, a posted form read back into settings.

The back office's plugin page (``core.admin.plugins``) and the settings API
(``core.api.settings``) read a plugin's colander schema the same way: each
child of ``PluginInfo.settings`` is one setting, in the schema's order.

====================  =========================================================
schema                form
====================  =========================================================
``String``            a text input (``multiline=True`` on the node: a textarea)
``Int``               a number input
``Decimal``           a text input with ``inputmode="decimal"``
``Boolean``           a checkbox
``List``              a text input, values separated by commas; with ``choices_from="<provider hook>"``
                      on the node, a checkbox per provider the tenant enabled (its repayment methods …)
``Mapping``           a textarea, one ``code = value`` per line
``OneOf`` validator   a select of its choices
``Range`` validator   ``min``/``max``; ``Length``: ``minlength``/``maxlength``
``title``             the label; ``description``: the help text under it
``missing``           the default (shown; a blank field takes it)
``secret_settings``   write-only: shown masked, blank keeps the stored value
====================  =========================================================

``title`` and ``description`` may be ``_("…")`` (translated by the reader's
locale) or a ``{locale: text}`` dict; validation stays the schema's (the
tenant manifest applies it), the form only helps to get it right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import colander

from .i18n import english
from .plugin_registry import PluginError, PluginInfo, localized

MASK = "••••"


@dataclass(frozen=True)
class SettingField:
    """One setting as a form field and as the API describes it."""

    name: str
    type: str  # string | integer | decimal | boolean | list | mapping
    widget: str  # text | textarea | number | decimal | checkbox | select | list | mapping
    title: str
    description: str
    required: bool
    default: object = None  # serialized as stored (strings for numbers), or None
    choices: tuple = ()
    minimum: str | None = None
    maximum: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    secret: bool = False
    choices_from: str | None = None  # a provider hook whose codes a list setting takes (checkboxes)

    @property
    def input_name(self) -> str:
        return f"setting.{self.name}"

    @property
    def input_id(self) -> str:
        return f"setting-{self.name}"

    def as_json(self) -> dict:
        """The field as the settings API lists it (a JSON Schema-like description)."""
        data = {
            "name": self.name,
            "type": self.type,
            "title": self.title,
            "description": self.description,
            "required": self.required,
            "secret": self.secret,
            "multiline": self.widget in ("textarea", "mapping"),
        }
        if self.choices_from:
            data["choices_from"] = self.choices_from
        if self.default is not None:
            data["default"] = self.default
        if self.choices:
            data["enum"] = [str(c) for c in self.choices]
        for key, value in (
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
        ):
            if value is not None:
                data[key] = value
        return data


def text(value, locale: str | None, translate=None) -> str:
    """A schema's title or help text for the reader: a ``{locale: text}`` dict, ``_("…")`` or plain text."""
    if value is None or value is colander.null:
        return ""
    if isinstance(value, Mapping):
        return localized(value, locale)
    if hasattr(value, "interpolate"):
        return translate(value) if translate is not None else english(value)
    return str(value)


def _validators(node):
    """The node's validators, ``All(...)`` opened up (``Any`` is a choice between them: no bound is sure)."""
    stack = [node.validator] if node.validator else []
    while stack:
        validator = stack.pop(0)
        if isinstance(validator, colander.All):
            stack.extend(validator.validators)
        else:
            yield validator


_TYPES = {
    colander.Boolean: ("boolean", "checkbox"),
    colander.Int: ("integer", "number"),
    colander.Decimal: ("decimal", "decimal"),
    colander.List: ("list", "list"),
    colander.Mapping: ("mapping", "mapping"),
}


def _default(node):
    if node.missing in (colander.required, colander.drop, colander.null):
        return None
    try:
        serialized = node.serialize(node.missing)
    except colander.Invalid:
        return None
    return None if serialized is colander.null else serialized


def setting_field(node, info: PluginInfo, locale: str | None = None, translate=None) -> SettingField:
    kind, widget = next(
        (found for typ, found in _TYPES.items() if isinstance(node.typ, typ)),
        ("string", "textarea" if getattr(node, "multiline", False) else "text"),
    )
    bounds = {}
    for validator in _validators(node):
        if isinstance(validator, colander.Range):
            bounds.update(
                minimum=None if validator.min is None else str(validator.min),
                maximum=None if validator.max is None else str(validator.max),
            )
        elif isinstance(validator, colander.Length):
            bounds.update(min_length=validator.min, max_length=validator.max)
        elif isinstance(validator, colander.OneOf):
            bounds["choices"] = tuple(validator.choices)
            widget = "select"
    choices_from = getattr(node, "choices_from", None) if kind == "list" else None
    if choices_from:
        widget = "checkboxes"
    return SettingField(
        name=node.name,
        type=kind,
        widget=widget,
        title=text(node.title, locale, translate) or node.name.replace("_", " "),
        description=text(node.description, locale, translate),
        required=node.missing is colander.required,
        default=_default(node),
        secret=node.name in info.secret_settings,
        choices_from=choices_from,
        **bounds,
    )


def fields(info: PluginInfo, locale: str | None = None, translate=None) -> list[SettingField]:
    """The plugin's settings as form fields, in its schema's order (none when it takes no settings)."""
    if info.settings is None:
        return []
    return [setting_field(node, info, locale, translate) for node in info.settings.children]


# -- values: what is stored, shown to a person -------------------------------------------------------------


def current(info: PluginInfo, stored: dict | None) -> dict:
    """The stored settings with defaults filled in, serialized (strings for numbers, as stored).

    Settings the schema refuses today (stored under an older version) are shown as stored.
    """
    if info.settings is None:
        return {}
    try:
        return dict(info.settings.serialize(info.validate_settings(stored)))
    except (PluginError, colander.Invalid):
        defaults = {f.name: f.default for f in fields(info) if f.default is not None}
        return {**defaults, **(stored or {})}


def masked_secret(value) -> str:
    """A stored secret as it may be shown: its last four characters (nothing when none is stored)."""
    return f"{MASK}{str(value)[-4:]}" if value not in (None, "", colander.null) else ""


def form_values(info: PluginInfo, stored: dict | None) -> dict:
    """Each setting as its form field shows it (a list of codes for checkboxes); never a secret (:func:`masks`)."""
    values, shown = {}, current(info, stored)
    for f in fields(info):
        if f.secret:
            continue
        value = shown.get(f.name)
        if f.widget == "checkboxes":
            values[f.name] = [str(v) for v in value or []]
            continue
        if f.type == "list":
            value = ", ".join(str(v) for v in value or [])
        elif f.type == "mapping":
            value = "\n".join(f"{k} = {v}" for k, v in (value or {}).items())
        values[f.name] = "" if value in (None, colander.null) else str(value)
    return values


def masks(info: PluginInfo, stored: dict | None) -> dict[str, str]:
    """Each secret setting masked (``••••1234``), or empty when none is stored."""
    stored = stored or {}
    return {name: masked_secret(stored.get(name)) for name in info.secret_settings}


def typed(info: PluginInfo, stored: dict | None) -> dict:
    """The settings as JSON for the API: integers and booleans typed, decimals as strings, secrets masked."""
    values = current(info, stored)
    by_name = {f.name: f for f in fields(info)}
    result = {}
    for name, value in values.items():
        f = by_name.get(name)
        if f is not None and f.secret:
            result[name] = masked_secret(value)
        elif f is not None and f.type == "integer" and _is_int(value):
            result[name] = int(value)
        elif f is not None and f.type == "boolean":
            result[name] = str(value).lower() == "true"
        else:
            result[name] = value
    return result


def _is_int(value) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit())


# -- a posted form, read back -----------------------------------------------------------------------------


def setting_path(info: PluginInfo, name: str) -> str:
    """Where the tenant manifest keeps a setting, the field its refusals name: ``plugins.<id>.<setting>``."""
    return f"plugins.{info.id}.{name}"


def from_form(info: PluginInfo, post) -> dict:
    """The settings a posted form gives, as the manifest takes them.

    A blank field is left out (its default applies; a required one is refused by the schema); a blank secret
    is left out too, and the caller keeps the stored value. An unticked checkbox is ``false``. A mapping
    line without ``=`` is refused (:class:`core.domain.DomainError` on ``plugins.<id>.<setting>``).
    """
    from .domain import DomainError
    from .i18n import _

    raw = {}
    for f in fields(info):
        given = post.get(f.input_name)
        if f.type == "boolean":
            raw[f.name] = "true" if given else "false"
            continue
        if f.widget == "checkboxes":  # none ticked is a choice too: the empty list
            raw[f.name] = [code for code in post.getall(f.input_name) if code]
            continue
        given = (given or "").strip() if f.widget != "textarea" else (given or "").strip("\n")
        if not given.strip():
            continue
        if f.type == "list":
            raw[f.name] = [part.strip() for part in given.replace("\n", ",").split(",") if part.strip()]
        elif f.type == "mapping":
            table = {}
            for line in given.splitlines():
                if not line.strip():
                    continue
                key, sep, value = line.partition("=")
                if not sep or not key.strip():
                    raise DomainError(setting_path(info, f.name), _("One per line: code = value."))
                table[key.strip()] = value.strip()
            raw[f.name] = table
        else:
            raw[f.name] = given
    return raw
