"""The member community (會員社區): boards, topics, replies, moderation."""

from __future__ import annotations


def includeme(config):
    pass
