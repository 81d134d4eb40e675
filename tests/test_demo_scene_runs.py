"""Runs of the demo scene: the same seed tells the same story, a second run does not tell it twice, the story's
size does not grow with the household count, --no-campaign drops the campaign, and the first start tells it too."""

from collections import Counter

from sqlmodel import Session, func, select

from commands import prepare_demo_database
from models import (
    Area,
    Campaign,
    Household,
    Need,
    Photo,
    ReliefApplication,
    ReliefPhoto,
    TownshipFund,
    Visit,
    WorkReport,
)
from services.campaigns.campaigns import active_campaign
from services.clock import today_in_china
from services.demo.relief import STORIES
from tests.conftest import POSTGRES_URL
from tests.test_demo import empty_all_but_areas, registry, seed_demo


def story(session) -> dict:
    """Return what the scene made, in numbers that must not depend on ids or the time of day."""
    total = lambda model: session.exec(select(func.count()).select_from(model)).one()  # noqa: E731
    return {
        "visits": Counter(session.exec(select(Visit.kind)).all()),
        "states": Counter(session.exec(select(ReliefApplication.state)).all()),
        "amounts": sorted(session.exec(select(ReliefApplication.amount_requested_fen)).all()),
        "needs": Counter(session.exec(select(Need.type, Need.status)).all()),
        "photos": total(Photo) + total(ReliefPhoto),
        "reserves": sorted(session.exec(select(TownshipFund.area_code, TownshipFund.reserve_fen)).all()),
        "reports": total(WorkReport),
    }


def test_the_same_seed_tells_the_same_story_on_a_fresh_database(app, session, make_app, tmp_path):
    seed_demo(app, 300, seed=4)
    first_people, first_story = registry(session), story(session)
    assert first_story["states"] and first_story["photos"]
    if POSTGRES_URL:
        empty_all_but_areas(session)
        other = make_app(PHOTO_FOLDER=str(tmp_path / "other-photos"))
    else:
        other = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'second.sqlite3'}", PHOTO_FOLDER=str(tmp_path / "p2"))
    seed_demo(other, 300, seed=4)
    with Session(other.extensions["doudi_engine"]) as other_session:
        assert registry(other_session) == first_people
        assert story(other_session) == first_story


def test_a_second_run_surveys_its_new_households_but_does_not_tell_the_story_again(app, session):
    seed_demo(app, 60)
    before = story(session)
    output = seed_demo(app, 60)
    assert "此前已生成" in output
    after = story(session)
    assert after["states"] == before["states"] and after["photos"] == before["photos"]
    assert after["visits"]["survey"] > before["visits"]["survey"]
    newer = select(func.max(Household.id))
    latest_survey = select(func.max(Visit.household_id)).where(Visit.kind == "survey")
    assert session.exec(latest_survey).one() > session.exec(newer).one() - 60


def test_the_story_keeps_its_size_however_many_households_there_are(app, session, make_app, tmp_path):
    seed_demo(app, 300)  # enough for the story's households in both demo villages
    small = story(session)
    larger = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'larger.sqlite3'}") if not POSTGRES_URL else None
    if larger is None:
        empty_all_but_areas(session)
        larger = app
    seed_demo(larger, 1500)
    with Session(larger.extensions["doudi_engine"]) as other:
        big = story(other)
        households = other.exec(select(func.count()).select_from(Household)).one()
    assert households == 1500
    assert sum(big["states"].values()) == sum(small["states"].values()) == len(STORIES)
    assert big["photos"] == small["photos"] <= 40
    asked = lambda s: sum(n for (kind, _status), n in s["needs"].items() if kind != "review")  # noqa: E731
    assert asked(big) == asked(small)  # the 复核 needs follow the visits' random changes
    routine = lambda s: s["visits"]["routine"] + s["visits"]["adhoc"]  # noqa: E731
    assert routine(big) == routine(small)


def test_without_the_campaign_there_is_no_report_but_the_rest_of_the_story(app, session):
    output = seed_demo(app, 60, 1, "--no-campaign")
    assert session.exec(select(Campaign)).first() is None
    assert session.exec(select(WorkReport)).first() is None
    assert session.exec(select(func.count()).where(Visit.kind == "survey")).one() == 0
    assert sum(story(session)["states"].values()) == len(STORIES)
    assert "工作报告" not in output and "进行中" not in output


def test_the_first_start_on_an_empty_database_shows_the_demo_at_work(app, session, capsys):
    with app.app_context():
        prepare_demo_database(app)
    printed = capsys.readouterr().out
    assert "演示场景" in printed and "进行中" in printed
    assert session.exec(select(func.count()).select_from(Household)).one() == 300
    assert active_campaign(session, today_in_china()) is not None
    assert session.exec(select(func.count()).where(ReliefApplication.state == "submitted")).one() >= 3
    assert session.exec(select(WorkReport)).one().basic_situation
    assert session.exec(select(Area).where(Area.code.in_(select(TownshipFund.area_code)))).first() is not None
