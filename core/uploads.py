"""Files a tenant uploads for its site (logo, favicon): checked by their bytes, served from /media."""

from __future__ import annotations


def includeme(config):
    pass
