"""Append-only audit trail: who did what to which object, when, from where."""

import json
from dataclasses import dataclass

from sqlmodel import Session

from models import AuditEvent, User


@dataclass(frozen=True)
class Actor:
    """The user acting and the address they act from (views build it from the request)."""

    user: User | None
    ip: str | None = None


def _object_key(obj) -> str | None:
    """Return an object's id, or its code for objects keyed by code (areas)."""
    for attribute in ("id", "code"):
        value = getattr(obj, attribute, None)
        if value is not None:
            return str(value)
    return None


def record(session: Session, actor: Actor, action: str, obj=None, **detail) -> AuditEvent:
    """Add an audit event to the session; the caller's commit makes it durable with the change."""
    user = actor.user
    event = AuditEvent(
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", None) or detail.pop("username", None),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else None,
        object_id=_object_key(obj),
        ip=actor.ip,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else None,
    )
    session.add(event)
    return event
