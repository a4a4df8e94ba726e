"""Access codes: short, typeable, single participant and wave, stored only as a keyed hash.

8 characters from a 31-symbol alphabet without look-alikes (0/O, 1/I/L) give about 40 bits
of randomness from :mod:`secrets`. Codes are case-insensitive; the hyphen in ``XXXX-XXXX``
and any spaces are optional when typed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from enum import StrEnum

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_STRIP = re.compile(r"[\s\-_.]+")


class CodeState(StrEnum):
    """What a pupil's code means right now (derived, never stored twice)."""

    ISSUED = "issued"
    STARTED = "started"
    COMPLETED = "completed"
    REVOKED = "revoked"
    REPLACED = "replaced"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """``ABCD2345`` -> ``ABCD-2345`` for printing."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_code(typed: str) -> str | None:
    """The canonical form of a typed code, or None if it cannot be one of ours.

    Look-alike characters are mapped to the symbol they could only mean (O->0 is not in the
    alphabet, so O and 0 both become... neither: they are rejected), keeping codes unambiguous.
    """
    if not isinstance(typed, str) or len(typed) > 40:
        return None
    cleaned = _STRIP.sub("", typed).upper()
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def hash_code(code: str, key: str) -> str:
    return hmac.new(key.encode("utf-8"), code.encode("ascii"), hashlib.sha256).hexdigest()
