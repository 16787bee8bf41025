"""The manifests shipped with Lendstack (the demo tenants), and the manifest loader they go through.

The loader itself is :mod:`core.tenancy.manifest`: the CLI, the operator console
and the back office's settings all apply tenants through it.
"""

from __future__ import annotations

from pathlib import Path

from core.tenancy.manifest import (  # noqa: F401  (the loader, for the CLI, benchmarks and tests)
    FUNDS_KEYS,
    LENDING_KEYS,
    Manifest,
    ManifestError,
    apply,
    apply_file,
    load,
    parse,
)

SHIPPED = Path(__file__).parent


def shipped_manifests() -> list[Path]:
    return sorted(SHIPPED.glob("*.toml"))
