"""The back office's settings: branding, lending and funds parameters, menus, versions (/admin/settings)."""

from __future__ import annotations
