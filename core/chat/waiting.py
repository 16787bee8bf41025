"""The waiting room of long-polls: a few requests may wait for a new chat message, the rest answer at once.

Waitress serves every request on one of a fixed pool of threads
(``threads`` in the ini) and iterates the answer on that same thread, so a
request that waits for a message holds a thread for as long as it waits,
whatever the WSGI trick (an app_iter that yields later, a file wrapper). A
long-poll per open chat would take the whole pool with a handful of chats.

So waiting is rationed: at most :data:`PLACES` requests per process wait at
once, each at most :data:`HOLD_SECONDS`, and they wait outside any database
transaction. A poll that finds no free place answers at once with nothing new
and asks its client to poll again after :data:`RETRY_MS`: a plain short poll,
a few milliseconds of a thread. The pool therefore always keeps
``threads - PLACES`` threads for pages, and the requests queued before a page
are at most one poll per open chat (a client sends its next poll only after
the last one answered). docs/chat.md has the figures.

A message posted in this process wakes the waiters at once (:func:`announce`
after the commit); one posted by another process is seen by the next check of
the database, every :data:`TICK_MS` milliseconds.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

PLACES = 2
"""How many requests of one process may wait at once; keep it well under waitress's ``threads``."""
HOLD_SECONDS = 10
"""The longest a poll waits before it answers "nothing new" (its client polls again at once)."""
TICK_MS = 250
"""How often (milliseconds) a waiting poll asks the database (messages posted by other processes)."""
RETRY_MS = 1000
"""When a client whose poll found no free place polls again: well inside the 2 s a message may take."""


class WaitingRoom:
    def __init__(self, places: int = PLACES, tick_ms: int = TICK_MS):
        self.places = places
        self.tick_ms = tick_ms
        self._free = threading.BoundedSemaphore(places)
        self._news = threading.Condition()

    @contextlib.contextmanager
    def place(self) -> Iterator[bool]:
        """Take a place to wait in, if one is free: yields whether it got one (and gives it back after)."""
        got = self._free.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                self._free.release()

    def wait(self, changed: Callable[[], bool], hold: int) -> bool:
        """Inside a :meth:`place`: wait until ``changed()`` (asked now, after each announcement and every tick)
        or ``hold`` seconds pass; whether it changed."""
        deadline = time.monotonic() + hold
        while True:
            if changed():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with self._news:
                self._news.wait(min(self.tick_ms / 1000, left))

    def announce(self) -> None:
        """Something changed in a chat: every waiter checks its own at once."""
        with self._news:
            self._news.notify_all()


ROOM = WaitingRoom()
"""This process's waiting room."""


def announce_after_commit(session) -> None:
    """Wake the waiters once ``session``'s transaction has committed (never for a rolled-back one)."""
    manager = session.info.get("transaction_manager")
    if manager is None:
        ROOM.announce()
        return
    manager.get().addAfterCommitHook(lambda committed: committed and ROOM.announce())
