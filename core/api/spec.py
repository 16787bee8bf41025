"""The OpenAPI document: ``openapi.yaml`` and the parts a domain keeps beside it.

A domain with many endpoints (the credit system, say) describes them in its own
file under ``core/api/openapi/``; :func:`load` merges every such file's
``paths`` and ``components`` into the main document, refusing a name given
twice, so the served document, the request and response validation and the
tests all read one whole description.
"""

from __future__ import annotations

from pathlib import Path

import yaml

MAIN = Path(__file__).with_name("openapi.yaml")
PARTS = Path(__file__).with_name("openapi")


class SpecConflict(ValueError):
    """Two files of the document describe the same path or component."""


def _merge(into: dict, part: dict, where: str) -> None:
    for path, item in (part.get("paths") or {}).items():
        if path in into.setdefault("paths", {}):
            raise SpecConflict(f"{where}: the path {path} is described already")
        into["paths"][path] = item
    for kind, named in (part.get("components") or {}).items():
        known = into.setdefault("components", {}).setdefault(kind, {})
        for name, value in named.items():
            if name in known and known[name] != value:
                raise SpecConflict(f"{where}: components.{kind}.{name} is described already")
            known[name] = value
    for tag in part.get("tags") or ():
        if tag not in into.setdefault("tags", []):
            into["tags"].append(tag)


def load() -> dict:
    """The whole document as a dict: the main file with every part merged in (parts in name order)."""
    document = yaml.safe_load(MAIN.read_text(encoding="utf-8"))
    for part in sorted(PARTS.glob("*.yaml")):
        _merge(document, yaml.safe_load(part.read_text(encoding="utf-8")) or {}, part.name)
    return document


def includeme(config):
    """Serve the merged document (``/api/v1/openapi.yaml`` and ``.json``) and validate requests by it, as
    ``pyramid_openapi3_spec`` does for a single file."""
    from jsonschema_path import SchemaPath
    from openapi_spec_validator import validate
    from pyramid.config import PHASE0_CONFIG
    from pyramid.response import Response
    from pyramid.security import NO_PERMISSION_REQUIRED
    from pyramid_openapi3 import _create_api_settings  # the library's own step after reading its one file

    document = load()
    config.registry["api_spec"] = document
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    apiname = "pyramid_openapi3"

    def register() -> None:
        validate(document)
        spec = SchemaPath.from_dict(document)
        config.add_route("api.spec.yaml", "/api/v1/openapi.yaml")
        config.add_view(
            lambda request: Response(text, content_type="text/yaml", charset="utf-8"),
            route_name="api.spec.yaml",
            permission=NO_PERMISSION_REQUIRED,
        )
        config.registry.settings[apiname] = _create_api_settings(config, str(MAIN), "api.spec.yaml", spec)
        config.registry.settings.setdefault("pyramid_openapi3_apinames", []).append(apiname)

    config.action((f"{apiname}_spec",), register, order=PHASE0_CONFIG)
