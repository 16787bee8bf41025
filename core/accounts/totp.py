"""TOTP two-factor for staff and operators (RFC 6238, 30-second steps, ±1 step of clock drift).

A code is accepted once: the step it matched is stored and any code of that
step or an earlier one is refused afterwards (replay guard).
"""

from __future__ import annotations

import time

import pyotp
import segno

STEP = 30


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The provisioning URI as an inline SVG QR code (no external service)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff")


def matching_step(secret: str, code: str, now: int | None = None) -> int | None:
    """The time step ``code`` is valid for (now, one before or one after), else ``None``."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    now = int(time.time()) if now is None else now
    totp = pyotp.TOTP(secret)
    current = int(now // STEP)
    for step in (current, current - 1, current + 1):
        if pyotp.utils.strings_equal(totp.at(step * STEP), code):
            return step
    return None


def verify(account, code: str, now: int | None = None) -> bool:
    """Check ``code`` for ``account`` (a staff user or an operator) and consume its step; a reused code fails."""
    if not account.totp_secret:
        return False
    step = matching_step(account.totp_secret, code, now)
    if step is None or step <= (account.totp_last_step or 0):
        return False
    account.totp_last_step = step
    return True
