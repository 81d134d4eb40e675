"""Photos through the API: upright, small, without metadata; bad uploads refused with nothing stored; stored
once per photo UUID and once per content; served only inside the scope."""

import io
import struct
import zlib
from pathlib import Path
from uuid import uuid4

import jsonschema
import pytest
from PIL import Image
from sqlmodel import func, select

from models import Photo
from services.errors import Invalid
from services.visits.photos import _open_checked, path_for, process
from tests.conftest import login

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "phone_photo_12mp.jpg"


def jpeg(color: str, size=(800, 600)) -> bytes:
    """Return a small JPEG of one colour."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """Return a PNG of a few dozen KB that declares 400 million pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    packer, row = zlib.compressobj(9), b"\0" * (1 + (width + 7) // 8)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def big_jpeg(width: int, height: int, **options) -> bytes:
    """Return a JPEG of many pixels and few bytes (one grey), as a large phone camera would frame it."""
    buffer = io.BytesIO()
    Image.new("L", (width, height), 90).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def declaring(data: bytes, width: int, height: int) -> bytes:
    """Return a baseline JPEG whose frame header (SOF0) claims another size; the pixels stay as they were."""
    at = data.index(b"\xff\xc0") + 5  # marker, length (2), precision (1), then height and width
    return data[:at] + struct.pack(">HH", height, width) + data[at + 4 :]


def upload(client, visit_uuid: str, data: bytes, photo_uuid: str | None = None, caption: str = "住房"):
    form = {"file": (io.BytesIO(data), "photo.jpg"), "uuid": photo_uuid or str(uuid4()), "caption": caption}
    return client.post(f"/api/v1/visits/{visit_uuid}/photos", data=form, content_type="multipart/form-data")


def stored_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["PHOTO_FOLDER"]).rglob("*") if p.is_file())


def photo_count(session) -> int:
    return session.exec(select(func.count()).select_from(Photo)).one()


def record_visit(client, household) -> str:
    visit_uuid = str(uuid4())
    response = client.post("/api/v1/visits", json={"uuid": visit_uuid, "household_id": household.id, "kind": "adhoc"})
    assert response.status_code == 201
    return visit_uuid


@pytest.fixture
def visit_uuid(as_user, world) -> str:
    """A visit to household A, recorded by assistant A, who stays signed in."""
    return record_visit(as_user("assistant_a"), world.household_a)


@pytest.fixture(scope="module")
def phone_photo() -> bytes:
    return FIXTURE.read_bytes()


# ---- the pipeline --------------------------------------------------------------------------------


def test_phone_photo_is_stored_upright_small_and_without_metadata(app, client, visit_uuid, session, phone_photo):
    response = upload(client, visit_uuid, phone_photo)
    assert response.status_code == 201
    body = response.get_json()
    assert body["height"] > body["width"] and body["size_bytes"] <= 300 * 1024 and body["caption"] == "住房"
    photo = session.exec(select(Photo)).one()
    stored = path_for(app.config["PHOTO_FOLDER"], photo.sha256).read_bytes()
    assert len(stored) <= 300 * 1024  # DESIGN: ≤ 300 KB from a 12-megapixel camera image
    image = Image.open(io.BytesIO(stored))
    assert image.height > image.width and max(image.size) <= 1600
    assert len(image.getexif()) == 0
    for marker in (b"Exif", b"GPS", b"Xiaomi", b"Redmi"):
        assert marker not in stored
    thumb = Image.open(path_for(app.config["PHOTO_FOLDER"], photo.sha256, thumb=True))
    assert max(thumb.size) <= 320 and thumb.height > thumb.width and len(thumb.getexif()) == 0


def test_photo_answer_matches_its_description(client, visit_uuid):
    body = upload(client, visit_uuid, jpeg("green")).get_json()
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/visits/{uuid}/photos"]["post"]
    schema = operation["responses"]["201"]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": document["components"]}).validate(body)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda photo: "这不是照片\n".encode() * 200, "这不是照片文件"),
        (lambda photo: photo[: len(photo) // 2], "照片文件不完整"),
        (lambda photo: png_bomb(), "图片像素太多"),
        (lambda photo: png_bomb(8000, 8000), "图片像素太多"),  # under Pillow's own limit, over ours
    ],
    ids=["text", "truncated_jpeg", "decompression_bomb", "too_many_pixels"],
)
def test_bad_upload_is_refused_in_plain_words_and_nothing_is_stored(
    app, client, visit_uuid, session, phone_photo, make, message
):
    response = upload(client, visit_uuid, make(phone_photo))
    assert response.status_code == 400
    assert response.get_json()["error"] == "photo_refused" and message in response.get_json()["message"]
    assert photo_count(session) == 0 and stored_files(app) == []


def test_the_phone_photo_is_decoded_at_half_size_not_whole(phone_photo):
    assert _open_checked(phone_photo).size == (2000, 1500)  # 3 MP decoded of 12, still above the 1600 px kept


def test_a_50_megapixel_photo_is_decoded_at_a_quarter_and_stored_as_usual(client, visit_uuid):
    data = big_jpeg(8160, 6120)
    assert _open_checked(data).size == (2040, 1530)
    response = upload(client, visit_uuid, data)
    assert response.status_code == 201 and (response.get_json()["width"], response.get_json()["height"]) == (1600, 1200)


def test_a_jpeg_declaring_more_than_200_megapixels_is_refused_before_decoding():
    with pytest.raises(Invalid, match="图片像素太多"):
        process(declaring(jpeg("red"), 20_000, 12_000))


@pytest.mark.parametrize(
    ("data", "stored"),
    [
        (lambda: png_bomb(4000, 4000), True),  # 16 MP: decoded whole, 64 MB at most
        (lambda: png_bomb(4001, 4000), False),
        (lambda: png_bomb(7000, 7000), False),  # a few KB declaring 49 MP
        (lambda: big_jpeg(5000, 4000, progressive=True), False),  # libjpeg would hold every coefficient
        (lambda: big_jpeg(5000, 4000), True),
    ],
    ids=["png_16mp", "png_over_16mp", "png_49mp", "progressive_jpeg_20mp", "baseline_jpeg_20mp"],
)
def test_pictures_decoded_whole_may_have_16_megapixels(client, visit_uuid, session, data, stored):
    response = upload(client, visit_uuid, data())
    if stored:
        assert response.status_code == 201 and max(response.get_json()["width"], response.get_json()["height"]) == 1600
    else:
        assert response.status_code == 400 and "最多 1600 万像素" in response.get_json()["message"]
        assert photo_count(session) == 0


def test_transparent_areas_become_white():
    picture = Image.new("RGBA", (400, 200), (200, 30, 30, 255))
    picture.paste((0, 0, 0, 0), (200, 0, 400, 200))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    stored = Image.open(io.BytesIO(process(buffer.getvalue()).jpeg))
    assert all(abs(a - b) < 12 for a, b in zip(stored.getpixel((50, 100)), (200, 30, 30), strict=True))
    assert min(stored.getpixel((350, 100))) > 245


def test_bomb_is_small_but_declares_huge_dimensions():
    data = png_bomb()
    assert len(data) < 200_000 and struct.unpack(">II", data[16:24]) == (20000, 20000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))


def test_upload_over_the_size_limit_gets_413_json_and_nothing_is_stored(make_app, world, session, phone_photo):
    small = make_app(MAX_CONTENT_LENGTH=1024 * 1024)
    client = small.test_client()
    login(client, world.assistant_a)
    response = upload(client, record_visit(client, world.household_a), phone_photo)
    assert response.status_code == 413
    assert response.get_json() == {"error": "too_large", "message": "上传的文件太大，请重新拍一张或选小一些的照片"}
    assert photo_count(session) == 0 and stored_files(small) == []


def test_upload_without_file_or_photo_uuid_is_refused(app, client, visit_uuid, session):
    response = upload(client, visit_uuid, jpeg("red"), photo_uuid="not-a-uuid")
    assert response.status_code == 400 and "照片编号" in response.get_json()["message"]
    missing = client.post(f"/api/v1/visits/{visit_uuid}/photos", data={"uuid": str(uuid4())})
    assert missing.status_code == 400 and "照片文件" in missing.get_json()["message"]
    assert photo_count(session) == 0 and stored_files(app) == []


def test_photo_for_an_unknown_visit_is_404(client, visit_uuid, session):
    response = upload(client, str(uuid4()), jpeg("red"))
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert photo_count(session) == 0


# ---- never twice ---------------------------------------------------------------------------------


def test_same_photo_uuid_twice_stores_one_photo(app, client, visit_uuid, session):
    photo_uuid = str(uuid4())
    first = upload(client, visit_uuid, jpeg("red"), photo_uuid)
    again = upload(client, visit_uuid, jpeg("red"), photo_uuid)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    assert photo_count(session) == 1 and len(stored_files(app)) == 2  # the photo and its thumbnail


def test_same_photo_uuid_with_another_picture_is_a_conflict(app, client, visit_uuid, session):
    photo_uuid = str(uuid4())
    assert upload(client, visit_uuid, jpeg("red"), photo_uuid).status_code == 201
    response = upload(client, visit_uuid, jpeg("blue"), photo_uuid)
    assert response.status_code == 409 and response.get_json()["error"] == "photo_conflict"
    assert "另一张照片" in response.get_json()["message"]
    assert photo_count(session) == 1 and len(stored_files(app)) == 2


def test_identical_pictures_share_one_file(app, client, visit_uuid, session):
    assert upload(client, visit_uuid, jpeg("red"), caption="住房").status_code == 201
    assert upload(client, visit_uuid, jpeg("red"), caption="厨房").status_code == 201
    photos = session.exec(select(Photo).order_by(Photo.id)).all()
    assert [p.caption for p in photos] == ["住房", "厨房"] and photos[0].sha256 == photos[1].sha256
    assert len(stored_files(app)) == 2


# ---- serving -------------------------------------------------------------------------------------


def test_owner_village_gets_the_photo_privately_cached(app, client, visit_uuid, session):
    body = upload(client, visit_uuid, jpeg("red")).get_json()
    photo = session.exec(select(Photo)).one()
    for url, thumb in ((body["url"], False), (body["thumb_url"], True)):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"].startswith("private")
        assert response.data == path_for(app.config["PHOTO_FOLDER"], photo.sha256, thumb=thumb).read_bytes()


def test_township_sees_the_photo(client, visit_uuid, world):
    body = upload(client, visit_uuid, jpeg("red")).get_json()
    login(client, world.township)
    assert client.get(body["url"]).status_code == 200


def test_other_village_gets_404_for_the_photo(client, visit_uuid, world):
    body = upload(client, visit_uuid, jpeg("red")).get_json()
    login(client, world.assistant_b)
    for url in (body["url"], body["thumb_url"]):
        response = client.get(url)
        assert response.status_code == 404 and response.mimetype != "image/jpeg"


def test_upload_requires_login_and_stores_nothing(app, visit_uuid, session):
    response = upload(app.test_client(), visit_uuid, jpeg("red"))
    assert response.status_code == 401 and "Location" not in response.headers
    assert response.get_json() == {"error": "login_required", "message": "请先登录"}
    assert photo_count(session) == 0 and stored_files(app) == []


def test_photo_requires_login(app, client, visit_uuid):
    body = upload(client, visit_uuid, jpeg("red")).get_json()
    anonymous = app.test_client()
    for url in (body["url"], body["thumb_url"]):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
