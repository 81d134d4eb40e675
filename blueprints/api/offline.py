"""GET /api/v1/offline-pack: the assistant's offline pack, answered 304 when the phone already holds it."""

from flask import Response, request
from flask_login import current_user

from blueprints.api.core import route
from db import get_session
from services.api import openapi
from services.offline import pack as offline_pack
from services.permissions import require

CACHE_CONTROL = "private, no-cache"  # the phone's browser may keep it, but must ask before using it again


@route(openapi.OFFLINE_PACK)
def offline_pack_for_me():
    """Answer the signed-in assistant's pack, or 304 with its ETag when If-None-Match names it."""
    require(current_user, "offline.pack")
    body, tag = offline_pack.encode(offline_pack.build_pack(get_session(), current_user))
    sent = request.if_none_match
    matched = offline_pack.matching_tag({"*"} if sent.star_tag else sent.as_set(include_weak=True), tag)
    if matched is not None:
        return Response(status=304, headers={"ETag": f'"{matched}"', "Cache-Control": CACHE_CONTROL})
    response = Response(body, mimetype="application/json")
    response.set_etag(tag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
