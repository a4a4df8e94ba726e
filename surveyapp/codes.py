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

    Characters outside the alphabet (such as O, 0, I, 1, L) can never be part of a code, so a
    string containing them is rejected rather than guessed at.
    """
    if not isinstance(typed, str) or len(typed) > 40:
        return None
    cleaned = _STRIP.sub("", typed).upper()
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def hash_code(code: str, key: str) -> str:
    return hmac.new(key.encode("utf-8"), code.encode("ascii"), hashlib.sha256).hexdigest()


# --- database side -----------------------------------------------------------------------


def code_hash_key() -> str:
    from flask import current_app

    return current_app.config["CODE_HASH_KEY"]


def resolve_code(typed: str):
    """Look up a typed or scanned code: ``(CodeState, AccessCode | None)``.

    The state says what the pupil should be told; only ISSUED and STARTED let them in.
    """
    from .extensions import db
    from .models import AccessCode

    code = normalise_code(typed)
    if code is None:
        return CodeState.UNKNOWN, None
    access = db.session.execute(
        db.select(AccessCode).filter_by(code_hash=hash_code(code, code_hash_key()))
    ).scalar_one_or_none()
    if access is None:
        return CodeState.UNKNOWN, None
    return code_state(access), access


def code_state(access) -> CodeState:
    """The derived state of an access code (see :class:`CodeState`)."""
    from .extensions import db
    from .models import Response

    if access.status == "revoked":
        return CodeState.REVOKED
    if access.status == "replaced":
        return CodeState.REPLACED
    response = db.session.execute(
        db.select(Response).filter_by(participant_id=access.participant_id, wave_id=access.wave_id)
    ).scalar_one_or_none()
    if response is not None and response.completed_at is not None:
        return CodeState.COMPLETED
    if not access.wave.is_open:
        return CodeState.EXPIRED
    if response is not None:
        return CodeState.STARTED
    return CodeState.ISSUED
