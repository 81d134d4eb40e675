"""Demo data: the same seed gives the same people, every category shows up, and the demo logins work at once."""

import json
from collections import Counter

from sqlalchemy import text
from sqlmodel import Session, SQLModel, func, select

from commands import prepare_demo_database
from models import Area, AuditEvent, Household, Person, PersonCategory, User
from services.registry import idnumber
from services.registry.categories import CATEGORIES
from tests.conftest import COUNTY, OTHER_COUNTY, POSTGRES_URL, TOWNSHIP, VILLAGE_A, VILLAGE_B, login

EXPECTED_ACCOUNTS = {
    "demo-assistant": ("assistant", VILLAGE_A),
    "demo-assistant2": ("assistant", VILLAGE_B),
    "demo-township": ("township", TOWNSHIP),
    "demo-county": ("county", COUNTY),
    "demo-city": ("city", "530900000000"),
    "demo-admin": ("admin", "530900000000"),
}


def seed_demo(app, households: int, seed: int = 1, *extra: str) -> str:
    """Run `flask seed-demo` through the app's CLI and return what it printed."""
    args = ["seed-demo", "--households", str(households), "--seed", str(seed), *extra]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def registry(session) -> list[tuple]:
    """Return village, household number, name, ID number and relation of every person, in a stable order."""
    query = (
        select(Household.area_code, Household.household_no, Person.name, Person.id_number, Person.relation)
        .join(Person, Person.household_id == Household.id)
        .order_by(Household.area_code, Household.household_no, Person.id)
    )
    return list(session.exec(query).all())


def empty_all_but_areas(session) -> None:
    """Empty every table but the area tree and the city's programs (PostgreSQL has one test database; its audit
    trail refuses DELETE); both come with the schema (the areas loaded, the programs seeded by migration 0009)."""
    kept = ("area", "program", "programstandard")
    tables = [t.name for t in SQLModel.metadata.sorted_tables if t.name not in kept]
    # the audit table refuses TRUNCATE too (migration 0008); its owner may switch that off for this transaction
    session.exec(text("ALTER TABLE auditevent DISABLE TRIGGER auditevent_no_truncate"))
    session.exec(text("TRUNCATE " + ", ".join(f'"{name}"' for name in tables) + " RESTART IDENTITY CASCADE"))
    session.exec(text("ALTER TABLE auditevent ENABLE TRIGGER auditevent_no_truncate"))
    session.commit()


def user(session, username) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def households_of(session, area_code) -> list[Household]:
    return list(session.exec(select(Household).where(Household.area_code == area_code).order_by(Household.id)))


def test_same_seed_gives_the_same_people_on_a_fresh_database(app, session, make_app, tmp_path):
    seed_demo(app, 60, seed=7)
    first = registry(session)
    assert len({row.area_code for row in first}) > 30
    if POSTGRES_URL:  # one test database there: empty it to start afresh
        empty_all_but_areas(session)
        other = app
    else:
        other = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'second.sqlite3'}")
    seed_demo(other, 60, seed=7)
    with Session(other.extensions["doudi_engine"]) as other_session:
        assert registry(other_session) == first


def test_another_seed_gives_other_people(app, session):
    seed_demo(app, 20, seed=1)
    first = {row.name for row in registry(session)}
    seed_demo(app, 20, seed=2)
    everyone = [row.name for row in registry(session)]
    assert set(everyone) - first, "the second seed made nobody new"


def test_every_category_is_present_even_for_twenty_households(app, session):
    seed_demo(app, 20)
    present = set(session.exec(select(PersonCategory.category).distinct()).all())
    assert present == set(CATEGORIES)
    assert session.exec(select(func.count()).select_from(Household)).one() == 20


def test_every_id_number_parses_and_agrees_with_the_person_and_the_county(app, session):
    seed_demo(app, 120)
    rows = session.exec(select(Person, Household.area_code).join(Household, Household.id == Person.household_id)).all()
    assert len(rows) >= 120
    for person, area_code in rows:
        parsed = idnumber.parse(person.id_number)
        assert person.id_number[:6] == area_code[:6]
        assert (parsed.birth_date, parsed.sex, parsed.last4) == (person.birth_date, person.sex, person.id_last4)
    assert len({person.id_number for person, _ in rows}) == len(rows)


def test_households_have_one_head_listed_first_and_plausible_members(app, session):
    seed_demo(app, 120)
    for household in session.exec(select(Household)):
        members = list(session.exec(select(Person).where(Person.household_id == household.id).order_by(Person.id)))
        assert [m.is_head for m in members].count(True) == 1 and members[0].is_head
        assert members[0].relation == "本人"
        head = members[0]
        if household.kind == "family":
            assert 1 <= len(members) <= 5
            for member in members[1:]:
                if member.relation in ("子", "女", "孙子", "孙女"):
                    assert member.birth_date > head.birth_date
                if member.relation in ("父亲", "母亲"):
                    assert member.birth_date < head.birth_date
        else:
            assert len(members) >= 2
            assert any(word in household.address for word in ("养老院", "儿童福利院", "救助站"))


def test_addresses_name_the_township_village_group_and_number(app, session):
    seed_demo(app, 20)
    wanyao = households_of(session, VILLAGE_A)[0]
    assert wanyao.address.startswith("博尚镇碗窑村") and wanyao.address.endswith("号") and "组" in wanyao.address


def test_institutions_allowances_grades_and_care_arrangements_are_filled_in(app, session):
    seed_demo(app, 200)
    kinds = Counter(session.exec(select(Household.kind)).all())
    assert kinds["institution"] >= 3 and kinds["family"] > 150
    assert session.exec(select(func.count()).where(Household.care_agreement_signed)).one() > 0
    assert session.exec(select(func.count()).where(Household.wants_institutional_care)).one() > 0
    assert session.exec(select(func.count()).where(Household.guardian.is_not(None))).one() > 0

    def people_in(category):
        query = select(Person).join(PersonCategory, PersonCategory.person_id == Person.id)
        return list(session.exec(query.where(PersonCategory.category == category)))

    assert all(p.disability_grade in (1, 2) for p in people_in("severe_disability"))
    assert all(p.monthly_allowance_fen and p.monthly_allowance_fen > 0 for p in people_in("dibao"))
    assert all(p.birth_date.year >= 2007 for p in people_in("left_behind_child"))


def test_households_cover_every_village_and_demo_villages_have_their_assistant(app, session):
    seed_demo(app, 60)
    villages = set(session.exec(select(Area.code).where(Area.level == 4)).all())
    assert set(session.exec(select(Household.area_code).distinct()).all()) == villages
    assistant = user(session, "demo-assistant")
    assert {h.assistant_id for h in households_of(session, VILLAGE_A)} == {assistant.id}
    assert {h.assistant_id for h in households_of(session, OTHER_COUNTY[:6] + "100201")} == {None}


def test_demo_accounts_have_the_right_roles_and_areas_and_need_no_password_change(app, session):
    output = seed_demo(app, 20)
    for username, (role, area_code) in EXPECTED_ACCOUNTS.items():
        account = user(session, username)
        assert (account.role, account.area_code) == (role, area_code)
        assert account.active and not account.must_change_password
        assert account.display_name != username and account.phone
        assert username in output
    assert "doudi-demo" in output and "村协理员" in output and "碗窑村" in output


def test_demo_accounts_sign_in_through_the_real_login_form(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    seed_demo(app, 20)
    for username in EXPECTED_ACCOUNTS:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        form = {"username": username, "password": "doudi-demo", "csrf_token": token}
        response = client.post("/login", data=form)
        assert response.status_code == 302 and response.headers["Location"] == "/", username
        home = client.get("/")
        assert home.status_code == 200 and "您好" in home.get_data(as_text=True)


def test_demo_assistant_sees_only_wanyao_households(app, client, session):
    seed_demo(app, 100)
    wanyao = households_of(session, VILLAGE_A)
    assert 3 <= len(wanyao) <= 20  # one page of the list
    login(client, user(session, "demo-assistant"))
    body = client.get("/households/").get_data(as_text=True)
    for household in wanyao:
        assert f"碗窑村 · {household.household_no}号" in body
    assert body.count("hh-row__name") == len(wanyao)
    assert "勐准村" not in body


def test_the_other_demo_assistants_households_answer_404(app, client, session):
    seed_demo(app, 100)
    mengzhun = households_of(session, VILLAGE_B)
    assert mengzhun
    login(client, user(session, "demo-assistant"))
    for household in mengzhun:
        assert client.get(f"/households/{household.id}").status_code == 404
    login(client, user(session, "demo-assistant2"))
    assert client.get(f"/households/{mengzhun[0].id}").status_code == 200


def test_running_seed_demo_twice_adds_households_with_continuing_numbers(app, session):
    seed_demo(app, 30)
    events_after_first = session.exec(select(func.count()).select_from(AuditEvent)).one()
    seed_demo(app, 30)
    assert session.exec(select(func.count()).select_from(Household)).one() == 60
    numbers = [h.household_no for h in households_of(session, VILLAGE_A)]
    assert numbers == [f"{n:04d}" for n in range(1, len(numbers) + 1)]
    id_numbers = session.exec(select(Person.id_number)).all()
    assert len(set(id_numbers)) == len(id_numbers)
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "demo.seeded")).all()
    assert [json.loads(e.detail)["households"] for e in events] == [30, 30]
    # the second run logs its households once and its survey visits once, none per row (the story was told before)
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() - events_after_first == 2


def test_seeding_next_to_existing_households_keeps_their_numbers_and_id_numbers(app, session, world):
    seed_demo(app, 20)
    wanyao = [h.household_no for h in households_of(session, VILLAGE_A)]
    assert wanyao[0] == "0001" and wanyao[1] == "0002"  # the world's 0001 was there first
    assert session.exec(select(func.count()).where(Person.id_number == world.head_a.id_number)).one() == 1


def test_households_added_after_seeding_get_fresh_ids(app, session):
    seed_demo(app, 20)
    highest = session.exec(select(func.max(Household.id))).one()
    household = Household(area_code=VILLAGE_A, household_no="9999")
    session.add(household)
    session.commit()
    assert household.id > highest


def test_a_new_password_replaces_the_old_one_on_existing_accounts(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    seed_demo(app, 5)
    seed_demo(app, 5, 1, "--password", "another-pass-42")
    client = app.test_client()
    refused = client.post("/login", data={"username": "demo-county", "password": "doudi-demo"})
    assert refused.status_code == 401
    accepted = client.post("/login", data={"username": "demo-county", "password": "another-pass-42"})
    assert accepted.status_code == 302


def test_hotlines_are_added_where_missing_and_kept_where_set(app, session):
    kept = session.get(Area, OTHER_COUNTY)
    kept.hotline = "0883-4000000"
    session.add(kept)
    session.commit()
    seed_demo(app, 5)
    session.expire_all()
    assert session.get(Area, TOWNSHIP).hotline and session.get(Area, COUNTY).hotline
    assert session.get(Area, OTHER_COUNTY).hotline == "0883-4000000"
    assert session.exec(select(func.count()).where(Area.level.in_((2, 3)), Area.hotline.is_(None))).one() == 0


def test_first_start_on_an_empty_database_seeds_and_prints_the_logins(app, session, capsys, monkeypatch):
    monkeypatch.setenv("PORT", "5123")
    with app.app_context():
        prepare_demo_database(app)
    printed = capsys.readouterr().out
    assert session.exec(select(func.count()).select_from(Household)).one() == 300
    assert "demo-assistant" in printed and "demo-admin" in printed and "doudi-demo" in printed
    assert "http://127.0.0.1:5123" in printed


def test_later_starts_print_the_address_but_seed_nothing(app, session, world, capsys, monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    with app.app_context():
        prepare_demo_database(app)
    printed = capsys.readouterr().out
    assert "http://127.0.0.1:5000" in printed and "demo-assistant" not in printed
    assert session.exec(select(func.count()).select_from(Household)).one() == 3


def test_a_too_short_demo_password_is_refused_in_plain_words(app, session):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--households", "5", "--password", "short"])
    assert result.exit_code != 0 and "至少 8 位" in result.output
    assert session.exec(select(func.count()).select_from(Household)).one() == 0
