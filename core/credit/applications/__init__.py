"""Credit applications (see core/credit/__init__.py)."""

from __future__ import annotations


def includeme(config):
    """Routes, views and labels of credit applications."""
