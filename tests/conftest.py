"""Shared fixtures: the app on a fresh database, clients, and a small named world.

The world: 博尚镇 with two villages, 碗窑村 (village A) and 勐准村 (village B), an assistant in
each, a township officer, a 临翔区 county officer, a city officer, an admin, and an officer of
another county (凤庆县). Each village has one household. Set TEST_DATABASE_URL to a PostgreSQL
URL to run the same tests there.
"""

import os
import shutil
import threading
import time
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import event, make_url, text
from sqlmodel import Session, create_engine, select
from werkzeug.serving import make_server

import db
from app import create_app
from models import Card, Household, Need, Person, PersonCategory, ReliefApplication, User
from services.accounts import sessions
from services.accounts.users import hash_password
from services.cards.cards import new_token
from services.payouts import programs
from services.registry import areas

PASSWORD = "correct-horse-42"
VILLAGE_A = "530902100201"  # 碗窑村, 博尚镇
VILLAGE_B = "530902100202"  # 勐准村, 博尚镇
TOWNSHIP = "530902100000"  # 博尚镇
COUNTY = "530902000000"  # 临翔区
CITY = "530900000000"
OTHER_COUNTY = "530921000000"  # 凤庆县
OTHER_VILLAGE = "530921100201"  # 安石村, 凤庆县
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def password_hash():
    """Hash the shared test password once: scrypt is slow on purpose."""
    return hash_password(PASSWORD)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """Migrate one SQLite file with the areas loaded; every test gets a copy."""
    if POSTGRES_URL:
        return None
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with Session(engine) as session:
        areas.load_lincang(session)
        session.commit()
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_ready():
    """Make a private PostgreSQL database for this run (runs in parallel must not share one)."""
    if not POSTGRES_URL:
        yield None
        return
    name = f"doudi_test_{os.getpid()}"
    server = db.make_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def _fresh_postgres(url: str) -> None:
    engine = db.make_engine(url)
    with engine.begin() as connection:
        tables = (
            connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
            .scalars()
            .all()
        )
        # the audit table refuses TRUNCATE (migration 0008); its owner may switch that off for this transaction
        connection.execute(text("ALTER TABLE auditevent DISABLE TRIGGER auditevent_no_truncate"))
        connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        connection.execute(text("ALTER TABLE auditevent ENABLE TRIGGER auditevent_no_truncate"))
    with Session(engine) as session:
        areas.load_lincang(session)
        programs.ensure_programs(session)  # migration 0009 seeded them; the TRUNCATE took them away
        session.commit()
    engine.dispose()


@pytest.fixture
def database_url(tmp_path, sqlite_template, postgres_ready):
    """Give the test a database with the schema and the Lincang areas, and nothing else."""
    if postgres_ready:
        _fresh_postgres(postgres_ready)
        return postgres_ready
    path = tmp_path / "doudi.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def make_app(database_url, tmp_path):
    """Return a factory for apps on this test's database (extra settings as keywords)."""
    apps = []

    def factory(**settings):
        config = {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "PHOTO_FOLDER": str(tmp_path / "photos"),
            "PAYOUTS_FOLDER": str(tmp_path / "payouts"),
        }
        config.update(settings)
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["doudi_engine"].dispose()


@pytest.fixture
def app(make_app):
    """The app with CSRF checks off (a separate test proves they are on in real use)."""
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_server(make_app):
    """Serve the app with real CSRF checks on 127.0.0.1 and a free port; yield its base URL."""
    app = make_app(WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def session(app, database_url):
    """A Session for arranging and checking data directly.

    On SQLite it uses pysqlite's own transaction handling, which begins only on writes: a test
    that reads, acts through the app and reads again then sees the app's commits, as it does on
    PostgreSQL (READ COMMITTED). A savepoint (services undo their own part with one) begins the
    transaction first, or pysqlite would let its RELEASE commit and a later rollback undo nothing.
    """
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url)
        event.listen(engine, "savepoint", _begin_before_savepoint)
    else:
        engine = app.extensions["doudi_engine"]
    with Session(engine, expire_on_commit=False) as session:
        yield session
    if engine is not app.extensions["doudi_engine"]:
        engine.dispose()


def _begin_before_savepoint(connection, _name) -> None:
    sqlite = connection.connection.dbapi_connection
    if not sqlite.in_transaction:
        sqlite.execute("BEGIN")


def add_user(session, password_hash, username, role, area_code, **extra) -> User:
    """Add an active user who needs no password change."""
    user = User(
        username=username,
        display_name=extra.pop("display_name", username),
        role=role,
        area_code=area_code,
        password_hash=password_hash,
        must_change_password=False,
        **extra,
    )
    session.add(user)
    session.flush()
    return user


def add_household(
    session, area_code, household_no, head_name, id_number=None, categories=("dibao",), **extra
) -> Household:
    """Add a household with its head (and the head's categories)."""
    household = Household(area_code=area_code, household_no=household_no, **extra)
    session.add(household)
    session.flush()
    head = Person(
        household_id=household.id,
        name=head_name,
        relation="本人",
        is_head=True,
        id_number=id_number,
        id_last4=id_number[-4:] if id_number else None,
    )
    session.add(head)
    session.flush()
    for category in categories:
        session.add(PersonCategory(person_id=head.id, category=category))
    session.add(Card(household_id=household.id, token=new_token()))
    session.flush()
    return household


def add_need(session, household, need_type, *, by, status="open", created_at=None) -> Need:
    """Add a need raised at a household (by a user), as a visit would have raised it."""
    need = Need(
        household_id=household.id,
        area_code=household.area_code,
        type=need_type,
        description="排查中发现",
        status=status,
        created_by_id=by.id,
        created_at=created_at or datetime.now(UTC),
    )
    session.add(need)
    return need


def add_relief(session, household, fen, *, by, state="paid", decided_at=None) -> ReliefApplication:
    """Add a decided temporary-relief application for a household's head (approved or paid: granted)."""
    from services.relief.rules import REASONS

    head = session.exec(select(Person.id).where(Person.household_id == household.id, Person.is_head)).one()
    application = ReliefApplication(
        uuid=str(uuid.uuid4()),
        content_hash="x" * 64,
        household_id=household.id,
        person_id=head,
        area_code=household.area_code,
        township_code=household.area_code[:9] + "000",
        reason=next(iter(REASONS)),
        circumstances="因病支出大",
        amount_requested_fen=fen,
        amount_approved_fen=fen,
        payment_form="card",
        state=state,
        decided_at=decided_at or datetime.now(UTC),
        created_by_id=by.id,
    )
    session.add(application)
    return application


@pytest.fixture
def world(session, password_hash):
    """Two villages of 博尚镇 with an assistant and a household each, and officers above them."""
    w = SimpleNamespace()
    w.assistant_a = add_user(
        session, password_hash, "assistant-a", "assistant", VILLAGE_A, display_name="李协理", phone="13800000001"
    )
    w.assistant_b = add_user(
        session, password_hash, "assistant-b", "assistant", VILLAGE_B, display_name="王协理", phone="13800000002"
    )
    w.township = add_user(session, password_hash, "township", "township", TOWNSHIP, display_name="赵经办")
    w.county = add_user(session, password_hash, "county", "county", COUNTY, display_name="钱科长")
    w.city = add_user(session, password_hash, "city", "city", CITY, display_name="孙处长")
    w.admin = add_user(session, password_hash, "admin", "admin", CITY, display_name="管理员")
    w.other_county = add_user(session, password_hash, "fengqing", "county", OTHER_COUNTY, display_name="凤庆")
    w.household_a = add_household(
        session,
        VILLAGE_A,
        "0001",
        "张明华",
        "530902194505168663",
        categories=("dibao", "serious_illness"),
        phone="13900000001",
        assistant_id=w.assistant_a.id,
    )
    w.household_b = add_household(
        session, VILLAGE_B, "0001", "杨梅国", "53090219551221719X", categories=("tekun_dispersed",)
    )
    w.household_other = add_household(session, OTHER_VILLAGE, "0001", "段明", "530902194810125248")
    session.commit()
    w.head_a = session.exec(select(Person).where(Person.household_id == w.household_a.id)).one()
    return w


def page_text(response, status: int = 200) -> str:
    """Return a response's body as text, after checking it came with the expected status."""
    body = response.get_data(as_text=True)
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {body[:300]!r}"
    return body


def login(client, user) -> None:
    """Sign a user in without the password round trip (login itself is tested in test_auth)."""
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = str(user.id)
        flask_session["_fresh"] = True
        sessions.stamp(flask_session, _as_stored(client, user), time.time())  # what the login stores


def _as_stored(client, user) -> User:
    """Return the user as committed, with the session version a logout or password change may have bumped."""
    with Session(client.application.extensions["doudi_engine"]) as db_session:
        return db_session.get(User, user.id) or user


@pytest.fixture
def as_user(client, world):
    """Return a function that signs in one of the world's users and gives back the client."""

    def sign_in(name: str):
        login(client, getattr(world, name))
        return client

    return sign_in
