"""Live customer service (在線客服): chats between visitors or members and staff on duty."""

from __future__ import annotations


def includeme(config):
    pass
