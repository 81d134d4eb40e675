from sqlmodel import select

from models import Area, AuditEvent, User
from services.scope import area_level


def test_create_user_makes_an_account_that_must_change_its_password(app, session):
    result = app.test_cli_runner().invoke(
        args=["create-user", "li-wei", "--role", "township", "--area", "530902100000", "--password", "first-pass-1"]
    )
    assert result.exit_code == 0, result.output
    assert "已创建账号 li-wei" in result.output
    user = session.exec(select(User).where(User.username == "li-wei")).one()
    assert user.role == "township" and user.must_change_password and user.password_hash != "first-pass-1"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.created")).one().ip == "cli"


def test_create_user_refuses_an_unknown_area(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "x", "--role", "county", "--area", "530999000000", "--password", "first-pass-1"]
    )
    assert result.exit_code != 0 and "不存在" in result.output


def test_create_user_refuses_a_role_at_the_wrong_level(app):
    result = app.test_cli_runner().invoke(
        args=["create-user", "x", "--role", "assistant", "--area", "530902000000", "--password", "first-pass-1"]
    )
    assert result.exit_code != 0 and "村（社区）一级" in result.output


def test_lincang_tree_has_the_city_its_eight_counties_and_the_roster_villages(session):
    counties = session.exec(select(Area).where(Area.level == 2).order_by(Area.code)).all()
    assert [c.code[:6] for c in counties] == [
        "530902",
        "530921",
        "530922",
        "530923",
        "530924",
        "530925",
        "530926",
        "530927",
    ]
    assert session.get(Area, "530900000000").name == "临沧市"
    names = set(session.exec(select(Area.name).where(Area.code.startswith("530902"))).all())
    assert {
        "凤翔街道",
        "凤翔社区",
        "南屏社区",
        "博尚镇",
        "碗窑村",
        "勐准村",
        "那招村",
        "南美拉祜族乡",
        "南美村",
        "多依村",
        "蚂蚁堆乡",
        "蚂蚁堆村",
        "李家村",
    } <= names
    for area in session.exec(select(Area)).all():
        assert area.level == area_level(area.code)
        if area.parent_code:
            assert area.code.startswith(area.parent_code.rstrip("0")[: len(area.parent_code.rstrip("0"))])


def test_import_areas_adds_new_codes_and_renames_changed_ones(app, session, tmp_path):
    csv_file = tmp_path / "codes.csv"
    csv_file.write_text(
        "code,name,parent_code\n530902100204,新村,530902100000\n530902100201,碗窑村（新名）,530902100000\n",
        encoding="utf-8-sig",
    )
    result = app.test_cli_runner().invoke(args=["import-areas", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert "新增 1 个区划，更新 1 个名称" in result.output
    assert session.get(Area, "530902100204").level == 4
    assert session.get(Area, "530902100201").name == "碗窑村（新名）"


def test_import_areas_refuses_an_orphan(app, tmp_path):
    csv_file = tmp_path / "codes.csv"
    csv_file.write_text("530999100201,孤村,530999100000\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-areas", str(csv_file)])
    assert result.exit_code != 0 and "上级" in result.output


def test_init_db_is_safe_to_run_twice(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0
