"""The first administrator's welcome link: set a password and enrol two-factor sign-in."""

from __future__ import annotations
