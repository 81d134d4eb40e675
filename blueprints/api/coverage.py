"""GET /api/v1/coverage: a campaign's coverage for an area, as the coverage page shows it."""

from flask_login import current_user

from blueprints import area_from_request, campaign_from_request
from blueprints.api.core import route
from db import get_session
from services.api import openapi
from services.api.schemas import AreaOut, CoverageCounts, CoverageOut
from services.campaigns import coverage


def _counts(tally: coverage.Tally) -> CoverageCounts:
    return CoverageCounts(
        area=AreaOut(code=tally.code, name=tally.name),
        households_due=tally.households_due,
        households_visited=tally.households_visited,
        persons_due=tally.persons_due,
        persons_visited=tally.persons_visited,
    )


@route(openapi.COVERAGE)
def coverage_for_area():
    """Answer the coverage of ?campaign= (default: today's) for ?area= (default: the user's own area)."""
    session = get_session()
    campaign = campaign_from_request()
    area = area_from_request()
    result = coverage.coverage(session, current_user, campaign, area)
    total = _counts(result.total)
    answer = CoverageOut(**total.model_dump(), campaign_id=campaign.id, children=[_counts(c) for c in result.children])
    return answer.model_dump(mode="json")
