"""Audit log: who issued, replaced, revoked, exported or changed a user, and when."""

from __future__ import annotations

from typing import Any

from .extensions import db
from .models import AuditEvent


def record(user_id: int | None, action: str, target: str = "", **detail: Any) -> AuditEvent:
    """Add an audit event to the current transaction (committed with the change it records)."""
    event = AuditEvent(user_id=user_id, action=action, target=target, detail=detail)
    db.session.add(event)
    return event
