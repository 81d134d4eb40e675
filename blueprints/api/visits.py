"""POST /api/v1/visits and /visits/<uuid>/photos: a visit recorded once, whatever the network does, and its photos."""

from flask import jsonify, request
from flask_login import current_user
from pydantic import ValidationError

from blueprints import actor
from blueprints.api.core import invalid, photo_out, photo_upload, route
from db import get_session
from services.api import openapi
from services.api.schemas import VisitIn, VisitOut
from services.visits import photos, visits


def visit_out(visit) -> dict:
    """Serialise a visit with its needs and photos for the API."""
    entry = visits.timeline_for_visits(get_session(), [visit])[0]
    data = VisitOut(
        id=visit.id,
        uuid=visit.uuid,
        household_id=visit.household_id,
        kind=visit.kind,
        visited_at=visit.visited_at,
        risk=visit.risk,
        needs=[{"id": n.id, "type": n.type, "description": n.description, "status": n.status} for n in entry.needs],
        photos=[photo_out(p) for p in entry.photos],
    )
    return data.model_dump(mode="json")


@route(openapi.CREATE_VISIT)
def create_visit():
    """Record a visit once: 201 created, 200 the same visit again, 409 the UUID with other content."""
    try:
        payload = VisitIn.model_validate(request.get_json(silent=True) or {})
    except ValidationError as problem:
        return invalid(problem)
    session = get_session()
    visit, created = visits.record_visit(session, actor(), payload)
    session.commit()
    return jsonify(visit_out(visit)), (201 if created else 200)


@route(openapi.ADD_PHOTO)
def add_photo(uuid: str):
    """Add one photo (multipart: file, uuid, caption) to a visit; a replayed photo UUID answers 200."""
    session = get_session()
    visit = visits.get_visit_by_uuid_for(session, current_user, uuid)
    return photo_upload(session, lambda **fields: photos.add_photo(session, actor(), visit, **fields), photo_out)
