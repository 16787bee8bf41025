"""The OpenAPI document: ``openapi.yaml`` and the parts a domain keeps beside it.

A domain with many endpoints (the credit system, say) describes them in its own
file under ``core/api/openapi/``; :func:`load` merges every such file's
``paths`` and ``components`` into the main document, refusing a name given
twice, so the served document, the request and response validation and the
tests all read one whole description.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

MAIN = Path(__file__).with_name("openapi.yaml")
PARTS = Path(__file__).with_name("openapi")
# libyaml's parser and emitter when PyYAML was built with it: the document is read at every start (each command)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


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
    document = yaml.load(MAIN.read_text(encoding="utf-8"), Loader=_LOADER)
    for part in sorted(PARTS.glob("*.yaml")):
        _merge(document, yaml.load(part.read_text(encoding="utf-8"), Loader=_LOADER) or {}, part.name)
    return document


def written(var_dir: Path, document: dict) -> Path:
    """``document`` as ``<var_dir>/openapi.yaml`` (replaced at once, so a process starting beside another
    never reads half a file): what ``pyramid_openapi3`` validates requests by and serves."""
    path = var_dir / "openapi.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".openapi.{os.getpid()}.yaml")
    scratch.write_text(yaml.dump(document, Dumper=_DUMPER, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.replace(scratch, path)
    return path


def includeme(config):
    """The merged document as the API's: served at ``/api/v1/openapi.yaml`` (and ``.json`` by ``core.api``),
    and every request and response of a view marked ``openapi=True`` validated by it."""
    document = load()
    config.registry["api_spec"] = document
    path = written(config.registry.settings_obj.var_dir, document)
    config.pyramid_openapi3_spec(str(path), route="/api/v1/openapi.yaml", route_name="api.spec.yaml")
