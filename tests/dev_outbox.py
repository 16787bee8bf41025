"""What the development outboxes delivered: the texts a real phone or mailbox would have received.

The SMS outbox plugin and the email outbox write each delivered text to the
``lendstack.outbox`` log (never to a page staff can read); tests read one-time
codes from there, as a developer reads them on the console of ``lendstack serve``.
"""

import logging
import re

LOGGER = "lendstack.outbox"


class DevOutbox(logging.Handler):
    """Every record of the development outboxes since :meth:`clear`, oldest first."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.delivered: list[tuple[str, str]] = []

    def emit(self, record):
        self.delivered.append((getattr(record, "outbox_to", ""), getattr(record, "outbox_text", "")))

    def clear(self):
        self.delivered.clear()

    def texts_to(self, address: str) -> list[str]:
        """The texts delivered to ``address`` (a phone number's tail, or an email address)."""
        return [text for to, text in self.delivered if to == address or to.endswith(address)]

    def code_for(self, address: str) -> str:
        """The latest 6-digit code delivered to ``address``."""
        for text in reversed(self.texts_to(address)):
            found = re.search(r"(?<!\d)(\d{6})(?!\d)", text)
            if found:
                return found.group(1)
        raise AssertionError(f"no code was delivered to {address}: {self.delivered}")


OUTBOX = DevOutbox()
_logger = logging.getLogger(LOGGER)
_logger.addHandler(OUTBOX)
_logger.setLevel(logging.INFO)
