"""POST /api/v1/candidates and /candidates/<uuid>/photos: an assistant's field report, recorded once whatever the
network does, and its photo."""

from flask import jsonify, request
from flask_login import current_user
from pydantic import ValidationError

from blueprints import actor
from blueprints.api.core import invalid, photo_out, photo_upload, route
from db import get_session
from services.api import openapi
from services.api.candidate_schemas import CANDIDATE_WORDS, CandidateIn, CandidateOut
from services.candidates import candidates, photos

PHOTO_VIEWS = ("photos.candidate_show", "photos.candidate_thumb")


def candidate_out(session, candidate) -> dict:
    """Serialise a candidate with its photos' access-checked URLs."""
    return CandidateOut(
        id=candidate.id,
        uuid=candidate.uuid,
        name=candidate.name,
        area_code=candidate.area_code,
        description=candidate.description,
        source=candidate.source,
        status=candidate.status,
        created_at=candidate.created_at,
        photos=[photo_out(p, PHOTO_VIEWS) for p in photos.photos_of(session, candidate)],
    ).model_dump(mode="json")


@route(openapi.CREATE_CANDIDATE)
def create_candidate():
    """Report a family once: 201 created, 200 the same report again, 409 the UUID with other content."""
    try:
        payload = CandidateIn.model_validate(request.get_json(silent=True) or {})
    except ValidationError as problem:
        return invalid(problem, CANDIDATE_WORDS)
    session = get_session()
    report = candidates.FieldReport(
        uuid=str(payload.uuid), name=payload.name, area_code=payload.area_code, description=payload.description
    )
    candidate, created = candidates.report(session, actor(), report)
    session.commit()
    return jsonify(candidate_out(session, candidate)), (201 if created else 200)


@route(openapi.ADD_CANDIDATE_PHOTO)
def add_candidate_photo(uuid: str):
    """Add one photo (multipart: file, uuid, caption) to one's own report; a replayed photo UUID answers 200."""
    session = get_session()
    candidate = candidates.get_report_by_uuid_for(session, current_user, uuid)

    def store(**fields):
        return photos.add_candidate_photo(session, actor(), candidate, **fields)

    return photo_upload(session, store, lambda photo: photo_out(photo, PHOTO_VIEWS))
