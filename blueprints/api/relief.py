"""JSON API for temporary relief: raise, read, decide and add evidence photos.

A refusal from the state machine reaches the blueprint's one error handler (core.py), which rolls back
everything the request wrote: the reserve may have been drawn before a later check failed.
"""

from flask import jsonify, request
from flask_login import current_user
from pydantic import ValidationError
from sqlmodel import Session

from blueprints import actor
from blueprints.api.core import invalid, photo_out, photo_upload, route
from db import get_session
from models import ReliefApplication
from services.api import openapi
from services.api.relief_schemas import RELIEF_WORDS, DecisionIn, ReliefEventOut, ReliefIn, ReliefOut
from services.money import fen_to_yuan
from services.names import user_names
from services.relief import apply as relief_apply
from services.relief import evidence, machine
from services.relief.rules import REASONS, STATES


def relief_out(session: Session, application: ReliefApplication) -> dict:
    """Serialise an application with what the signed-in user may do next, its history and its photos."""
    events = machine.history(session, application)
    names = user_names(session, {event.user_id for event in events})
    return ReliefOut(
        id=application.id,
        uuid=application.uuid,
        household_id=application.household_id,
        person_id=application.person_id,
        reason=application.reason,
        reason_label=REASONS.get(application.reason, application.reason),
        circumstances=application.circumstances,
        amount_requested_yuan=fen_to_yuan(application.amount_requested_fen),
        amount_approved_yuan=fen_to_yuan(application.amount_approved_fen) or None,
        payment_form=application.payment_form,
        urgent=application.urgent,
        state=application.state,
        state_label=STATES[application.state],
        version=application.version,
        decided_level=application.decided_level,
        paperwork_due_at=application.paperwork_due_at,
        paperwork_done_at=application.paperwork_done_at,
        paid_at=application.paid_at,
        payment_method=application.payment_method,
        payment_reference=application.payment_reference,
        allowed_actions=machine.allowed_actions(session, current_user, application),
        history=[_event_out(event, names) for event in events],
        photos=[relief_photo_out(photo) for photo in evidence.photos_of(session, application)],
    ).model_dump(mode="json")


def _event_out(event, names: dict) -> ReliefEventOut:
    return ReliefEventOut(
        at=event.at,
        user=names.get(event.user_id, ""),
        action=event.action,
        from_state=event.from_state,
        to_state=event.to_state,
        amount_yuan=fen_to_yuan(event.amount_fen) or None,
        comment=event.comment,
    )


def relief_photo_out(photo) -> dict:
    """Serialise an evidence photo with its access-checked URLs."""
    return photo_out(photo, ("photos.relief_show", "photos.relief_thumb"))


@route(openapi.CREATE_RELIEF)
def create_relief():
    """Raise an application once: 201 created, 200 the same application again, 409 the UUID with other content."""
    try:
        payload = ReliefIn.model_validate(request.get_json(silent=True) or {})
    except ValidationError as problem:
        return invalid(problem, RELIEF_WORDS)
    session = get_session()
    application, created = relief_apply.create_application(session, actor(), payload)
    session.commit()
    return jsonify(relief_out(session, application)), (201 if created else 200)


@route(openapi.RELIEF)
def relief_detail(application_id: int):
    """Show one application in scope, with the actions the caller may take now."""
    session = get_session()
    return relief_out(session, machine.get_application_for(session, current_user, application_id))


@route(openapi.DECIDE_RELIEF)
def decide_relief(application_id: int):
    """Make one decision on the version the officer saw; a stale version answers 409 with the state now."""
    session = get_session()
    application = machine.get_application_for(session, current_user, application_id)
    try:
        payload = DecisionIn.model_validate(request.get_json(silent=True) or {})
    except ValidationError as problem:
        return invalid(problem, RELIEF_WORDS)
    machine.decide(session, actor(), application, machine.Decision(**payload.model_dump()))
    session.commit()
    return relief_out(session, application)


@route(openapi.ADD_RELIEF_PHOTO)
def add_relief_photo(uuid: str):
    """Add one evidence photo (multipart: file, uuid, caption); a replayed photo UUID answers 200."""
    session = get_session()
    application = evidence.get_application_by_uuid_for(session, current_user, uuid)

    def store(**fields):
        return evidence.add_relief_photo(session, actor(), application, **fields)

    return photo_upload(session, store, relief_photo_out)
