"""Roster import (花名册导入): the county fixture, CSV rosters, the CLI and the upload → preview → confirm pages."""

import json
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import event, func
from sqlmodel import select

from models import AuditEvent, Household, Person, PersonCategory
from services.audit import Actor
from services.errors import Conflict
from services.roster import file as roster_file
from services.roster import importer as roster
from tests.conftest import COUNTY, TOWNSHIP, VILLAGE_A, add_household, login, page_text

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
ROSTER = FIXTURES / "roster_linxiang_2020-02.xlsx"
EXPECTED = json.loads((FIXTURES / "roster_linxiang_2020-02.expected.json").read_text(encoding="utf-8"))
WHOLE_CITY = roster.cli_scope(None)  # no session needed: no county to look up

HEADER = (
    "序号,乡镇(街道),村 (社区),户主姓名,成员姓名,与户主关系,身份证号码,性别,保障类别,月保障金额（元）,联系电话,家庭住址"
)
TITLE = "临翔区2020年3月困难群众花名册\n填报单位：博尚镇,,,,,,,,,,,\n"


def run_cli(app, *args) -> dict:
    result = app.test_cli_runner().invoke(args=["import-households", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def write_csv(tmp_path, rows: list[str], encoding="gbk") -> Path:
    path = tmp_path / "roster.csv"
    path.write_bytes((TITLE + HEADER + "\n" + "\n".join(rows) + "\n").encode(encoding))
    return path


def upload(client, path: Path, name: str | None = None):
    with open(path, "rb") as handle:
        return client.post("/imports/", data={"file": (handle, name or path.name)}, content_type="multipart/form-data")


def stored_token(page: str) -> str:
    return re.search(r'name="upload" value="([^"]+)"', page).group(1)


def uploads(app) -> list[Path]:
    return list(Path(app.config["UPLOAD_FOLDER"]).glob("*")) if Path(app.config["UPLOAD_FOLDER"]).exists() else []


# ---- the county fixture --------------------------------------------------------------------


def test_fixture_imports_exactly_as_the_expected_file_says(app, session):
    result = run_cli(app, ROSTER)
    assert result["households_created"] == EXPECTED["households"]
    assert result["persons_created"] == EXPECTED["persons"]
    assert {e["row"]: e["code"] for e in result["errors"]} == {int(r): c for r, c in EXPECTED["error_rows"].items()}
    assert result["duplicate_rows"] == [int(r) for r in EXPECTED["duplicate_rows"]]
    assert result["duplicates_skipped"] == len(EXPECTED["duplicate_rows"])
    assert count(session, Household) == EXPECTED["households"]
    assert count(session, Person) == EXPECTED["persons"]


def test_fixture_rows_become_clean_records(app, session):
    run_cli(app, ROSTER)
    full_width = session.exec(select(Person).where(Person.name == "字芳")).one()  # ID typed in full-width digits
    assert full_width.id_number == "53090219370511792X" and full_width.is_head and full_width.sex == "女"
    spaced = session.exec(select(Person).where(Person.name == "俸国春")).one()  # ID with spaces
    assert spaced.id_number == "530902201612147983" and spaced.birth_date.isoformat() == "2016-12-14"
    head = session.exec(select(Person).where(Person.name == "罗德")).first()
    assert head is None  # its row has a bad check digit: the household is not imported
    member = session.exec(select(Person).where(Person.name == "字兴")).first()
    assert member is None  # … and neither is its member
    allowance = session.exec(select(Person).where(Person.name == "俸国")).one()
    assert allowance.monthly_allowance_fen == 78000
    household = session.get(Household, allowance.household_id)
    assert household.phone == "18825358209" and household.address == "南美拉祜族乡多依村20组5号"
    categories = session.exec(select(PersonCategory.category).where(PersonCategory.person_id == allowance.id)).all()
    assert categories == ["dibao"]


def test_households_are_numbered_one_after_another_in_each_village(app, session):
    run_cli(app, ROSTER)
    numbers = session.exec(select(Household.household_no).where(Household.area_code == "530902200202")).all()
    assert sorted(numbers) == [f"{n:04d}" for n in range(1, len(numbers) + 1)]


def test_error_reasons_tell_the_clerk_what_is_wrong(app):
    errors = {e["row"]: e["reason"] for e in run_cli(app, ROSTER)["errors"]}
    assert "Excel 存成了数字" in errors[19]
    assert "校验位" in errors[10]


def test_importing_the_same_roster_again_creates_nothing(app, session):
    run_cli(app, ROSTER)
    again = run_cli(app, ROSTER)
    assert again["households_created"] == 0 and again["persons_created"] == 0
    assert again["already_present"] == EXPECTED["persons"]
    assert count(session, Household) == EXPECTED["households"]
    assert count(session, Person) == EXPECTED["persons"]


def test_import_is_audited_once_per_file_and_once_per_household(app, session):
    run_cli(app, ROSTER)
    imported = session.exec(select(AuditEvent).where(AuditEvent.action == "roster.imported")).one()
    detail = json.loads(imported.detail)
    assert detail["file"] == ROSTER.name and detail["households"] == EXPECTED["households"]
    assert imported.ip == "cli"
    created = session.exec(select(func.count()).where(AuditEvent.action == "household.created")).one()
    assert created == EXPECTED["households"]


def test_a_whole_file_takes_a_handful_of_queries_not_one_per_row(app, session):
    statements = []
    engine = session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        preview = roster.check_file(session, WHOLE_CITY, ROSTER, ROSTER.name)
        roster.apply(session, Actor(None, "test"), preview)
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) <= 12, [s[:50] for s in statements]


def test_an_id_registered_between_preview_and_import_stops_the_whole_import(session):
    preview = roster.check_file(session, WHOLE_CITY, ROSTER, ROSTER.name)
    add_household(session, VILLAGE_A, "0001", "周德芳", "530902199205187769")  # a member row of the roster
    session.commit()
    with pytest.raises(Conflict, match="本次什么都没有导入"):
        roster.apply(session, Actor(None, "test"), preview)
    assert count(session, Household) == 1 and count(session, Person) == 1


# ---- the command line ----------------------------------------------------------------------


def test_cli_json_output_has_the_promised_shape(app):
    result = run_cli(app, ROSTER)
    assert {"households_created", "persons_created", "duplicates_skipped", "errors"} <= set(result)
    assert all(isinstance(result[k], int) for k in ("households_created", "persons_created", "duplicates_skipped"))
    assert all(isinstance(e["row"], int) and isinstance(e["reason"], str) and e["reason"] for e in result["errors"])


def test_cli_without_json_prints_a_chinese_summary(app):
    result = app.test_cli_runner().invoke(args=["import-households", str(ROSTER)])
    assert result.exit_code == 0, result.output
    assert f"新增 {EXPECTED['households']} 户、{EXPECTED['persons']} 人" in result.output
    assert "第 19 行" in result.output


def test_cli_dry_run_reports_and_writes_nothing(app, session):
    result = run_cli(app, ROSTER, "--dry-run")
    assert result["households_to_create"] == EXPECTED["households"] and result["households_created"] == 0
    assert count(session, Household) == 0 and count(session, AuditEvent) == 0


def test_cli_county_option_keeps_other_counties_out(app, session):
    result = run_cli(app, ROSTER, "--county", "530921000000")  # 凤庆县: the roster is 临翔区's
    assert result["households_created"] == 0
    assert all("不在您的辖区" in e["reason"] for e in result["errors"] if e["row"] == 4)
    assert count(session, Household) == 0


def test_cli_refuses_a_file_that_is_not_a_roster(app, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("姓名,电话\n张三,123\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-households", str(path)])
    assert result.exit_code != 0 and "没有找到表头" in result.output


# ---- CSV rosters and messy rows ------------------------------------------------------------


def test_gbk_csv_with_title_rows_imports(app, session, tmp_path):
    path = write_csv(
        tmp_path,
        [
            "1,博尚镇,碗窑村,李四,李四,本人,53090219430515980x,女,低保、重残,615.5,13900001111,碗窑村3组",
            "2,博尚镇,碗窑村,李四,王五,子,530902198702038874,男,低保,,,",
            ",,,,,,,,,,,",
            "3,博尚镇,勐准村,赵六,赵六,本人,530902194506207046,女,特困,,,",
            "合计,,,,,,,,,,,",
        ],
    )
    result = run_cli(app, path)
    assert (result["households_created"], result["persons_created"], result["errors"]) == (2, 3, [])
    head = session.exec(select(Person).where(Person.name == "李四")).one()
    assert head.id_number == "53090219430515980X" and head.monthly_allowance_fen == 61550
    household = session.get(Household, head.household_id)
    assert (household.area_code, household.household_no, household.phone) == (VILLAGE_A, "0001", "13900001111")
    assert session.exec(select(Person).where(Person.name == "王五")).one().household_id == household.id


def test_utf8_csv_imports_too(app, tmp_path):
    path = write_csv(tmp_path, ["1,博尚镇,那招村,李四,李四,本人,53090219430515980X,女,低保,,,"], encoding="utf-8-sig")
    assert run_cli(app, path)["households_created"] == 1


def test_member_of_a_bad_head_is_skipped_not_an_error(app, session, tmp_path):
    path = write_csv(
        tmp_path,
        [
            "1,博尚镇,碗窑村,李四,李四,本人,530902194305159801,女,低保,,,",  # wrong check digit
            "2,博尚镇,碗窑村,李四,王五,子,530902198702038874,男,低保,,,",
        ],
    )
    result = run_cli(app, path)
    assert [(e["row"], e["code"]) for e in result["errors"]] == [(4, "checksum")]
    assert [s["row"] for s in result["skipped"]] == [5] and "户主那一行" in result["skipped"][0]["reason"]
    assert count(session, Person) == 0


def test_unknown_village_and_orphan_member_are_errors(app, tmp_path):
    path = write_csv(
        tmp_path,
        [
            "1,博尚镇,桃花村,李四,李四,本人,53090219430515980X,女,低保,,,",
            "2,博尚镇,碗窑村,张三,王五,子,530902198702038874,男,低保,,,",
        ],
    )
    errors = {e["row"]: e for e in run_cli(app, path)["errors"]}
    assert "“博尚镇桃花村”不在系统中" in errors[4]["reason"]
    assert errors[5]["code"] == "no_head" and "张三" in errors[5]["reason"]


def test_the_same_id_twice_in_one_file_is_an_error_on_the_second(app, tmp_path):
    path = write_csv(
        tmp_path,
        [
            "1,博尚镇,碗窑村,李四,李四,本人,53090219430515980X,女,低保,,,",
            "2,博尚镇,碗窑村,李四,王五,子,53090219430515980X,男,低保,,,",
        ],
    )
    errors = run_cli(app, path)["errors"]
    assert [(e["row"], e["code"]) for e in errors] == [(5, "duplicate_id")] and "第 4 行" in errors[0]["reason"]


def test_header_is_found_below_title_rows_in_a_workbook(app, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["博尚镇困难群众名单"])
    sheet.append([])
    sheet.append(["序号", "乡镇（街道）", "村（社区）", "户主姓名", "成员姓名", "与户主关系", "身份证号码"])
    sheet.append([1, "博尚镇", "碗窑村", "李四", "李四", "本人", "53090219430515980X"])
    workbook.save(tmp_path / "list.xlsx")
    assert run_cli(app, tmp_path / "list.xlsx")["households_created"] == 1


def test_absurd_amounts_are_row_problems_and_the_other_rows_import(app, session, tmp_path):
    path = write_csv(
        tmp_path,
        [
            "1,博尚镇,碗窑村,李四,李四,本人,53090219430515980X,女,低保,1e30,,",
            "2,博尚镇,勐准村,赵六,赵六,本人,530902194506207046,女,特困,12345678901234567890,,",
            "3,博尚镇,那招村,王五,王五,本人,530902198702038874,男,低保,1000000,,",
        ],
    )
    result = run_cli(app, path)
    errors = {e["row"]: e for e in result["errors"]}
    assert errors[4]["code"] == errors[5]["code"] == "amount" and set(errors) == {4, 5}
    assert "“1e30”超过每月 100 万元" in errors[4]["reason"]
    assert result["households_created"] == 1
    assert session.exec(select(Person).where(Person.name == "王五")).one().monthly_allowance_fen == 100_000_000


def test_a_roster_past_the_row_limit_is_refused_whole(app, session, tmp_path, monkeypatch):
    monkeypatch.setattr(roster_file, "MAX_DATA_ROWS", 2)
    rows = [f"{n},博尚镇,碗窑村,户{n},户{n},本人,53090219430515980X,女,低保,,," for n in range(1, 4)]
    result = app.test_cli_runner().invoke(args=["import-households", str(write_csv(tmp_path, rows))])
    assert result.exit_code != 0 and "花名册超过 2 行" in result.output
    assert count(session, Household) == 0


# ---- the web pages -------------------------------------------------------------------------


def test_county_officer_uploads_previews_and_confirms(app, as_user, session, world):
    client = as_user("county")
    before = count(session, Household)
    page = upload(client, ROSTER, "临翔区花名册.xlsx")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "导入预览" in html and "临翔区花名册.xlsx" in html
    assert "第 10 行" in html and "身份证号校验位不对" in html and "户主那一行" in html
    assert count(session, Household) == before and len(uploads(app)) == 1  # nothing written yet
    done = client.post("/imports/confirm", data={"upload": stored_token(html)})
    assert done.status_code == 200 and "已导入" in done.get_data(as_text=True)
    # the world's three heads are in the roster: two households exist in scope, one is registered in 凤庆县
    assert count(session, Household) == before + EXPECTED["households"] - 3
    assert "其他辖区" in done.get_data(as_text=True)
    members = session.exec(select(Person.name).where(Person.household_id == world.household_a.id)).all()
    assert "罕章春" in members  # member added to the household registered before
    assert uploads(app) == []
    imported = session.exec(select(AuditEvent).where(AuditEvent.action == "roster.imported")).one()
    assert imported.user_id == world.county.id and json.loads(imported.detail)["file"] == "临翔区花名册.xlsx"


def test_confirming_twice_imports_once(as_user, session, world):
    client = as_user("county")
    token = stored_token(upload(client, ROSTER).get_data(as_text=True))
    assert client.post("/imports/confirm", data={"upload": token}).status_code == 200
    again = client.post("/imports/confirm", data={"upload": token})
    assert again.status_code == 400 and "重新上传" in again.get_data(as_text=True)
    assert session.exec(select(func.count()).where(AuditEvent.action == "roster.imported")).one() == 1


def test_township_officer_imports_only_their_township(app, as_user, session, world):
    client = as_user("township")
    html = upload(client, ROSTER).get_data(as_text=True)
    done = client.post("/imports/confirm", data={"upload": stored_token(html)}).get_data(as_text=True)
    known = [world.household_a.id, world.household_b.id, world.household_other.id]
    created = session.exec(select(Household.area_code).where(Household.id.not_in(known))).all()
    assert created and all(code.startswith(TOWNSHIP[:9]) for code in created)
    assert done.count("不在您的辖区") == _rows_outside("博尚镇") > 0


def _rows_outside(township: str) -> int:
    """Count the fixture's data rows (not duplicates) whose township is not the given one."""
    sheet = openpyxl.load_workbook(ROSTER, read_only=True).worksheets[0]
    duplicates = {int(r) for r in EXPECTED["duplicate_rows"]}
    rows = enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
    return sum(1 for n, r in rows if str(r[0] or "").isdigit() and n not in duplicates and r[1] != township)


def test_amounts_of_1e30_and_20_digits_are_previewed_as_problems_and_confirm_imports_the_rest(
    app, as_user, session, world, tmp_path
):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["村（社区）", "成员姓名", "与户主关系", "身份证号码", "月保障金额（元）"])
    sheet.append(["碗窑村", "李四", "本人", "53090219430515980X", 1e30])
    sheet.append(["勐准村", "赵六", "本人", "530902194506207046", "12345678901234567890"])
    sheet.append(["碗窑村", "王五", "本人", "530902198702038874", 615.5])
    workbook.save(tmp_path / "amounts.xlsx")
    client = as_user("county")
    html = page_text(upload(client, tmp_path / "amounts.xlsx"))
    assert "第 2 行" in html and "第 3 行" in html and html.count("超过每月 100 万元") == 2
    done = page_text(client.post("/imports/confirm", data={"upload": stored_token(html)}))
    assert "已导入" in done
    assert session.exec(select(Person.monthly_allowance_fen).where(Person.name == "王五")).one() == 61550
    assert session.exec(select(Person).where(Person.name.in_(["李四", "赵六"]))).all() == []


def test_assistant_gets_403(as_user):
    client = as_user("assistant_a")
    assert client.get("/imports/").status_code == 403
    assert upload(client, ROSTER).status_code == 403
    assert client.post("/imports/confirm", data={"upload": "x"}).status_code == 403


def test_upload_page_explains_the_file_format(as_user):
    html = as_user("township").get("/imports/").get_data(as_text=True)
    assert "导入花名册" in html and 'type="file"' in html and "身份证号码" in html


def test_non_spreadsheet_upload_gets_a_clear_message_and_nothing_is_kept(app, as_user, tmp_path):
    client = as_user("county")
    text = tmp_path / "通知.pdf"
    text.write_bytes(b"%PDF-1.4 not a roster")
    page = upload(client, text)
    assert page.status_code == 400 and "只能导入 Excel（.xlsx）或 CSV 文件" in page.get_data(as_text=True)
    renamed = tmp_path / "花名册.xlsx"
    renamed.write_bytes(b"this is not a workbook")
    page = upload(client, renamed)
    assert page.status_code == 400 and "文件打不开" in page.get_data(as_text=True)
    nothing = client.post("/imports/", data={}, content_type="multipart/form-data")
    assert nothing.status_code == 400 and "请先选择" in nothing.get_data(as_text=True)
    assert uploads(app) == []


def test_old_excel_files_are_asked_to_be_saved_as_xlsx(as_user, tmp_path):
    old = tmp_path / "花名册.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    page = upload(as_user("county"), old)
    assert page.status_code == 400 and "另存为" in page.get_data(as_text=True)


def test_another_user_cannot_confirm_someone_elses_upload(app, as_user, session, world):
    token = stored_token(upload(as_user("county"), ROSTER).get_data(as_text=True))
    other = app.test_client()
    login(other, world.city)
    page = other.post("/imports/confirm", data={"upload": token})
    assert page.status_code == 400 and "重新上传" in page.get_data(as_text=True)
    assert count(session, Household) == 3


def test_imports_require_login(client):
    for response in (client.get("/imports/"), client.post("/imports/confirm")):
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_csrf_protects_the_upload(make_app, world):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    login(client, world.county)
    assert upload(client, ROSTER).status_code == 400


def test_cli_county_option_must_name_a_county(app):
    result = app.test_cli_runner().invoke(args=["import-households", str(ROSTER), "--county", TOWNSHIP])
    assert result.exit_code != 0 and "不是系统里的县（区）" in result.output


def test_cli_county_option_imports_that_county(app):
    assert run_cli(app, ROSTER, "--county", COUNTY)["households_created"] == EXPECTED["households"]
