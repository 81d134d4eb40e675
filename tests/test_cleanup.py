"""Leftover files: orphan photos, unconfirmed roster uploads and temporaries go after 24 hours; nothing younger,
nothing a record names, and nothing at all when the database looks like the wrong one."""

import json
import os
import time
from pathlib import Path

import pytest
from sqlmodel import select

from commands import clean_up_at_startup
from models import Photo
from services.visits.photos import path_for, process
from tests.conftest import page_text
from tests.test_photos import jpeg, record_visit, upload
from tests.test_roster_import import ROSTER, stored_token
from tests.test_roster_import import upload as upload_roster

DAY = 24 * 3600
OLD = time.time() - DAY - 3600  # 25 hours ago


def age(path: Path, when: float = OLD) -> Path:
    os.utime(path, (when, when))
    return path


def put(path: Path, data: bytes = b"x" * 1000, when: float | None = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return age(path, when) if when is not None else path


def cleanup(app, *args) -> dict:
    result = app.test_cli_runner().invoke(args=["cleanup-files", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def photos(app) -> Path:
    return Path(app.config["PHOTO_FOLDER"])


@pytest.fixture
def referenced(app, as_user, world, session, photos) -> Photo:
    """A visit photo stored a day ago through the API: its row names its two files."""
    client = as_user("assistant_a")
    assert upload(client, record_visit(client, world.household_a), jpeg("green")).status_code == 201
    photo = session.exec(select(Photo)).one()
    for thumb in (False, True):
        age(path_for(photos, photo.sha256, thumb=thumb))
    return photo


def test_an_old_orphan_goes_and_a_young_one_and_a_referenced_one_stay(app, photos, referenced):
    orphan = [put(path_for(photos, "a" * 64)), put(path_for(photos, "a" * 64, thumb=True), b"t" * 100)]
    young = put(path_for(photos, "b" * 64), when=None)
    result = cleanup(app)
    assert result["photos"] == {"files": 2, "bytes": 1100}
    assert not any(path.exists() for path in orphan)
    assert young.exists()
    assert path_for(photos, referenced.sha256).exists() and path_for(photos, referenced.sha256, thumb=True).exists()


def test_half_written_temporaries_go_when_old(app, photos, referenced):
    old, fresh = put(photos / "ab" / "tmp1.part"), put(photos / "ab" / "tmp2.part", when=None)
    stuck = put(photos / "cd" / (("c" * 64) + ".jpg.removing"))  # a removal a crash cut short
    assert cleanup(app)["temporaries"] == {"files": 2, "bytes": 2000}
    assert not old.exists() and not stuck.exists() and fresh.exists()


def test_the_age_can_be_chosen(app, photos, referenced):
    orphan = put(path_for(photos, "a" * 64), when=time.time() - 3 * 3600)
    assert cleanup(app)["photos"]["files"] == 0 and orphan.exists()
    result = cleanup(app, "--older-than-hours", "2")
    assert result["photos"]["files"] == 1 and result["older_than_hours"] == 2 and not orphan.exists()
    refused = app.test_cli_runner().invoke(args=["cleanup-files", "--older-than-hours", "0"])
    assert refused.exit_code != 0


def test_a_picture_uploaded_again_makes_its_old_file_young(app, as_user, world, photos):
    stored = process(jpeg("red"))
    leftover = put(path_for(photos, stored.sha256), stored.jpeg)  # written before a crash, a day ago
    client = as_user("assistant_a")
    assert upload(client, record_visit(client, world.household_a), jpeg("red")).status_code == 201
    assert leftover.stat().st_mtime > time.time() - 600  # a cleanup racing this upload sees it young


def test_with_no_photo_record_at_all_no_photo_file_is_removed(app, photos, world):
    orphan = put(path_for(photos, "a" * 64))
    part = put(photos / "ab" / "tmp.part")
    result = cleanup(app)
    assert result["photos"]["files"] == 0 and orphan.exists() and "DATABASE_URL" in result["photos_skipped"]
    assert not part.exists()  # a temporary is garbage whatever the database says


def test_a_database_without_tables_stops_the_command_before_anything_is_removed(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    orphan = put(path_for(Path(app.config["PHOTO_FOLDER"]), "a" * 64))
    upload_file = put(Path(app.config["UPLOAD_FOLDER"]) / "AAAAAAAAAAAAAAAAAAAAAA.xlsx")
    result = app.test_cli_runner().invoke(args=["cleanup-files"])
    assert result.exit_code != 0 and "什么文件都没有删除" in result.output
    assert orphan.exists() and upload_file.exists()


def test_a_roster_upload_never_confirmed_goes_after_24_hours(app, as_user, referenced):
    client = as_user("county")
    token = stored_token(page_text(upload_roster(client, ROSTER)))
    folder = Path(app.config["UPLOAD_FOLDER"])
    age(folder / token)
    young = put(folder / "BBBBBBBBBBBBBBBBBBBBBB.csv", when=None)
    foreign = put(folder / "备忘.txt")  # not an upload of ours: left alone
    result = cleanup(app)
    assert result["uploads"]["files"] == 1 and result["uploads"]["bytes"] == ROSTER.stat().st_size
    assert not (folder / token).exists() and young.exists() and foreign.exists()
    page = client.post("/imports/confirm", data={"upload": token})
    assert "重新上传" in page_text(page, 400)


def test_the_summary_says_what_went_in_chinese(app, photos, referenced):
    put(path_for(photos, "a" * 64), b"x" * 3 * 1024)
    result = app.test_cli_runner().invoke(args=["cleanup-files"])
    assert result.exit_code == 0
    assert (
        "已清理 24 小时以前的：照片文件 1 个（3 KB），未确认的花名册 0 个（0 KB），临时文件 0 个（0 KB）"
        in result.output
    )


def test_the_json_output_has_every_kind_with_files_and_bytes(app, referenced):
    result = cleanup(app)
    assert set(result) == {"older_than_hours", "photos", "uploads", "temporaries"}
    assert all(set(result[kind]) == {"files", "bytes"} for kind in ("photos", "uploads", "temporaries"))


def test_the_startup_cleanup_runs_outside_tests_only(app, photos, referenced):
    orphan = put(path_for(photos, "a" * 64))
    with app.app_context():
        clean_up_at_startup(app)
        assert orphan.exists()  # TESTING: the suite stays fast and its files stay put
        app.config["TESTING"] = False
        clean_up_at_startup(app)
    assert not orphan.exists()


def test_the_startup_cleanup_never_stops_the_server(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}", TESTING=False)
    orphan = put(path_for(Path(app.config["PHOTO_FOLDER"]), "a" * 64))
    with app.app_context():
        clean_up_at_startup(app)  # the database has no tables: logged, not raised
    assert orphan.exists()
