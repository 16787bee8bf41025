"""The help centre (幫助中心): FAQ and the messages inbox (留言)."""

from __future__ import annotations


def includeme(config):
    pass
