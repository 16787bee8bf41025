"""The back office's plugin settings: enable, configure and check each installed plugin."""

from __future__ import annotations
