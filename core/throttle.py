"""Throttling of sign-in, sign-up and code requests, per account and per address.

Counters live in ``limits`` storage, not in the database: a refused request is
rolled back by pyramid_tm and would take a database counter with it.
``lendstack.throttle.url`` chooses the storage (``memory://`` by default,
``redis://…`` for several processes).
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import parse, storage, strategies

RULES = {
    "chat.open": "5/10minutes",
    "chat.say": "20/minute",
    "community.post.minute": "5/minute",
    "community.post.day": "50/day",
    "help.message.address": "5/hour",  # new messages from one address (visitors and members alike)
    "help.message.member": "20/hour",
    "help.vote.address": "60/hour",  # "was this helpful" answers from one address
    "login.account": "10/15minutes",
    "login.address": "50/15minutes",
    "code.phone": "5/hour",
    "code.phone.burst": "1/minute",
    "code.address": "30/hour",
    "code.check": "10/10minutes",
    "register.address": "20/hour",
    "token.account": "10/15minutes",
}


@dataclass(frozen=True)
class Throttled(Exception):
    """Too many attempts; try again in ``retry_after`` seconds."""

    rule: str
    retry_after: int


class Throttle:
    def __init__(self, url: str = "memory://"):
        self.storage = storage.storage_from_string(url)
        self.limiter = strategies.MovingWindowRateLimiter(self.storage)

    def hit(self, rule: str, *identifiers: str) -> None:
        """Count one attempt; raise :class:`Throttled` once the rule's limit is reached."""
        item = parse(RULES[rule])
        if not self.limiter.hit(item, rule, *identifiers):
            reset = self.limiter.get_window_stats(item, rule, *identifiers).reset_time
            import time

            raise Throttled(rule, max(1, int(reset - time.time())))

    def clear(self, rule: str, *identifiers: str) -> None:
        self.limiter.clear(parse(RULES[rule]), rule, *identifiers)

    def reset(self) -> None:
        self.storage.reset()


def includeme(config):
    url = config.registry.settings_obj.throttle_url
    config.registry["throttle"] = Throttle(url)
    config.add_request_method(lambda request: request.registry["throttle"], "throttle", reify=True)
