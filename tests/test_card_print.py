"""Card images and print sheets: card.png, the A4 PDF and HTML sheets, the print page, and the shipped font.

Every QR is decoded with zxing-cpp, a standard decoder, and must carry exactly its household's URL;
the PDF's card by card, rendered by poppler at 150 dpi as a cheap printer would.
"""

import io
import re
import shutil
import subprocess
from dataclasses import replace

import pytest
import qrcode
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageStat
from sqlmodel import select

from models import Area, AuditEvent, Card, Household, Person, PrintBatch, PrintBatchItem
from services.cards import image as card_image
from services.cards import pdf as card_pdf
from services.cards import qr
from services.cards.cards import CardFace, live_card, mask_name, new_token
from tests.conftest import COUNTY, OTHER_VILLAGE, TOWNSHIP, VILLAGE_A, VILLAGE_B, add_household, login, page_text

BASE = "https://doudi.example.cn"
A4_POINTS = (595.2, 841.92)  # 210 × 297 mm


def decode(image: Image.Image) -> list:
    """Return every QR code zxing-cpp finds in an image."""
    return [code for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode]


def png(response) -> Image.Image:
    assert response.status_code == 200 and response.mimetype == "image/png", response.status_code
    return Image.open(io.BytesIO(response.data))


def card_url(session, household, base=BASE) -> str:
    return f"{base}/h/{live_card(session, household.id).token}"


PDFTOPPM = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="poppler-utils is not installed (scripts/install.sh --dev)"
)


def rasterise(pdf: bytes, folder, dpi: int = 150) -> list[Image.Image]:
    """Render each page of a PDF as an office printer's driver would (poppler), at dpi."""
    (folder / "sheet.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "sheet.pdf", "page"], cwd=folder, check=True, timeout=120)
    return [Image.open(path) for path in sorted(folder.glob("page-*.png"))]


def card_cells(page: Image.Image, dpi: int = 150) -> list[Image.Image]:
    """Cut a rendered A4 page into its 2 × 5 card places, in print order (left to right, top to bottom)."""
    scale = dpi / 300
    width, height = card_image.CARD_PX
    left = (card_image.A4_PX[0] - 2 * width) // 2
    top = (card_image.A4_PX[1] - 5 * height) // 2
    boxes = [(left + column * width, top + row * height) for row in range(5) for column in range(2)]
    return [page.crop(tuple(round(v * scale) for v in (x, y, x + width, y + height))) for x, y in boxes]


def decoded_cards(pdf: bytes, folder, dpi: int = 150) -> list[list[str]]:
    """Return, card place by card place over every page, the QR texts zxing-cpp reads there."""
    return [
        [code.text for code in decode(cell)] for page in rasterise(pdf, folder, dpi) for cell in card_cells(page, dpi)
    ]


def pdf_text(pdf: bytes, folder) -> str:
    """Return the text a reader copies out of the PDF (poppler's pdftotext)."""
    (folder / "text.pdf").write_bytes(pdf)
    subprocess.run(["pdftotext", "-layout", "text.pdf", "text.txt"], cwd=folder, check=True, timeout=60)
    return (folder / "text.txt").read_text()


def face_for(url: str, number: int) -> CardFace:
    """Return a card face as a township's roster would give it (numbers, names, phones)."""
    return CardFace(
        url=url,
        household_no=f"5309021002{number:04d}",
        village="碗窑村",
        township="博尚镇",
        head="张*华",
        assistant="李国强",
        assistant_phone="13988880000",
        hotline="0883-2150123",
    )


def body_of(response) -> str:
    return response.get_data(as_text=True)


def actions(session, action) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def township_with_twelve(session, world):
    """博尚镇 with 12 active households (6 per village) and one exited one that is not printed."""
    for number in range(2, 7):
        add_household(session, VILLAGE_A, f"{number:04d}", f"甲{number}", assistant_id=world.assistant_a.id)
        add_household(session, VILLAGE_B, f"{number:04d}", f"乙{number}")
    add_household(session, VILLAGE_A, "0099", "退出户", status="exited")
    session.get(Area, TOWNSHIP).hotline = "0883-2150123"
    session.commit()
    return world


def households_of(session, prefix):
    """Return the active households whose area code starts with prefix."""
    query = select(Household).where(Household.area_code.startswith(prefix), Household.status == "active")
    return list(session.exec(query))


# ---- card.png --------------------------------------------------------------------------------


def test_card_png_is_an_id1_card_at_300_dpi(as_user, world):
    image = png(as_user("assistant_a").get(f"/households/{world.household_a.id}/card.png"))
    assert image.size == (1011, 638)
    assert tuple(round(d) for d in image.info["dpi"]) == (300, 300)


def test_card_qr_decodes_to_the_public_url_of_the_live_card(make_app, world, session):
    client = make_app(PUBLIC_BASE_URL=BASE + "/").test_client()
    login(client, world.assistant_a)
    codes = decode(png(client.get(f"/households/{world.household_a.id}/card.png")))
    assert [code.text for code in codes] == [card_url(session, world.household_a)]


def test_card_qr_uses_the_request_host_in_development(as_user, world, session):
    codes = decode(png(as_user("township").get(f"/households/{world.household_b.id}/card.png")))
    assert [code.text for code in codes] == [card_url(session, world.household_b, "http://localhost")]


def test_card_token_is_long_random_and_tells_nothing(session, world):
    tokens = [live_card(session, h.id).token for h in (world.household_a, world.household_b, world.household_other)]
    id_number = "530902194505168663"
    for token, household in zip(tokens, (world.household_a, world.household_b, world.household_other), strict=True):
        assert re.fullmatch(r"[A-Za-z0-9_-]{43,64}", token)
        assert not any(id_number[i : i + 6] in token for i in range(len(id_number) - 5))
        assert str(household.id) != token and household.household_no not in token.split("-")
    assert len(set(tokens)) == 3 and len({t[:8] for t in tokens}) == 3  # no shared, guessable stem


def test_card_qr_has_error_correction_m_or_better_and_a_four_module_quiet_zone(as_user, world):
    image = png(as_user("assistant_a").get(f"/households/{world.household_a.id}/card.png")).convert("L")
    (code,) = decode(image)
    assert code.ec_level in ("M", "Q", "H")
    modules = 17 + 4 * int(code.extra["Version"])
    box = code.position
    left, top, right, bottom = box.top_left.x, box.top_left.y, box.bottom_right.x + 1, box.bottom_right.y + 1
    module = (right - left) / modules
    assert module >= 4  # at least 4 px (0.34 mm) per module at 300 dpi
    quiet = round(4 * module)
    area = image.crop((left - quiet, top - quiet, right + quiet, bottom + quiet))
    assert left - quiet >= 0 and top - quiet >= 0 and right + quiet <= image.width and bottom + quiet <= image.height
    pixels = area.load()
    dark = [
        (x, y)
        for x in range(area.width)
        for y in range(area.height)
        if not (quiet <= x < area.width - quiet and quiet <= y < area.height - quiet) and pixels[x, y] < 200
    ]
    assert dark == []


def test_card_png_requires_login(client, world):
    response = client.get(f"/households/{world.household_a.id}/card.png")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_card_png_of_another_village_is_404(as_user, world):
    response = as_user("assistant_b").get(f"/households/{world.household_a.id}/card.png")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_card_png_is_not_cached(as_user, world):
    response = as_user("assistant_a").get(f"/households/{world.household_a.id}/card.png")
    assert "no-store" in response.headers["Cache-Control"]


def test_card_shows_the_head_masked():
    assert [mask_name(n) for n in ("张明华", "李梅", "欧阳明华", "岩", "", None)] == [
        "张*华",
        "李*",
        "欧**华",
        "岩*",
        "",
        "",
    ]


# ---- Chinese text ----------------------------------------------------------------------------


def test_shipped_font_draws_every_character_on_a_card():
    face = card_image.font(56, bold=True)
    tofu = face.getmask("\uffff").getbbox()
    for text in (card_image.TITLE, "户　号所在村户　主协理员电　话热　线—…", "碗窑村勐准村博尚镇临翔区凤庆县张*华"):
        for weight in (False, True):
            glyph_font = card_image.font(34, bold=weight)
            blank = glyph_font.getmask("\uffff")
            for char in text.replace("　", ""):
                mask = glyph_font.getmask(char)
                assert mask.getbbox() is not None, char
                assert bytes(mask) != bytes(blank), f"{char} draws as a missing-glyph box"
    assert face.getmask("临沧").getbbox() is not None and face.getmask("临沧").getbbox() != tofu


def test_uncommon_name_characters_render_too():
    """Rosters hold names far beyond the common 3,500 characters; any CJK Unified Ideograph must draw."""
    face = card_image.font(34, bold=True)
    blank = bytes(face.getmask("\uffff"))
    for char in "龘鑫琇堃昇喆燚淼犇\u4e00\u9fa5":
        assert bytes(face.getmask(char)) != blank, char


# ---- the PDF sheet ---------------------------------------------------------------------------


@PDFTOPPM
def test_township_officer_gets_a_pdf_whose_every_card_decodes_to_its_household(
    make_app, township_with_twelve, session, tmp_path
):
    client = make_app(PUBLIC_BASE_URL=BASE).test_client()
    login(client, township_with_twelve.township)
    response = client.get(f"/cards/sheet.pdf?area={TOWNSHIP}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"cards-{TOWNSHIP}.pdf" in response.headers["Content-Disposition"]
    sizes = [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", response.data)]
    assert sizes and all(size == pytest.approx(A4_POINTS, abs=0.5) for size in sizes)  # fpdf2: once, for all pages
    pages = rasterise(response.data, tmp_path)
    assert [page.size for page in pages] == [(1241, 1754)] * 2  # A4 at 150 dpi
    in_print_order = sorted(households_of(session, TOWNSHIP[:9]), key=lambda h: (h.area_code, h.household_no))
    expected = [[card_url(session, h)] for h in in_print_order]
    assert decoded_cards(response.data, tmp_path) == expected + [[]] * 8  # one code a card, the rest blank
    (code,) = [c for cell in card_cells(pages[0]) for c in decode(cell)][:1]
    assert code.ec_level in ("M", "Q", "H")


@PDFTOPPM
def test_forty_cards_with_random_tokens_each_decode_on_their_own_at_150_dpi(tmp_path):
    faces = [face_for(f"https://doudi.example.cn/h/{new_token()}", number) for number in range(40)]
    assert decoded_cards(card_pdf.sheet_pdf(faces), tmp_path) == [[face.url] for face in faces]


def test_pdf_is_drawn_in_vectors_with_an_embedded_font_subset_and_stays_small(as_user, township_with_twelve):
    pdf = as_user("township").get(f"/cards/sheet.pdf?area={TOWNSHIP}").data
    assert b"/Subtype /Image" not in pdf and b"/DCTDecode" not in pdf  # no picture of a card anywhere
    assert pdf.count(b"/FontFile3") == 2  # regular and bold, each cut to the characters printed
    assert len(pdf) <= 12 * 15 * 1024
    many = card_pdf.sheet_pdf([face_for(f"{BASE}/h/{new_token()}", number) for number in range(100)])
    assert len(many) <= 100 * 15 * 1024


@PDFTOPPM
def test_pdf_card_says_what_the_card_picture_says_and_nothing_more(as_user, township_with_twelve, session, tmp_path):
    household = households_of(session, VILLAGE_A)[0]
    person = session.exec(select(Person).where(Person.household_id == household.id)).one()
    person.id_number = "530902194505168663"
    session.add(person)
    session.commit()
    text = pdf_text(as_user("township").get(f"/cards/sheet.pdf?area={VILLAGE_A}").data, tmp_path)
    words = text.split()
    assert words.count(card_image.TITLE) == 6 and words.count("有困难，请打协理员电话或乡镇热线") == 6
    for word in ("户", "号", "所在村", "协理员", "博尚镇碗窑村", household.household_no, mask_name(person.name)):
        assert word in words, word
    assert "0883-2150123" in words and township_with_twelve.assistant_a.display_name in words
    assert person.name not in text and "530902194505168663" not in text and "5309021945" not in text
    assert "/h/" not in text  # the token is in the QR only


def test_a_character_the_shipped_font_lacks_prints_as_a_geta_mark_not_a_blank_box():
    assert card_pdf.printable("𠀀*华") == "〓*华" and card_pdf.printable("张*华 0883-1") == "张*华 0883-1"
    pdf = card_pdf.sheet_pdf([replace(face_for(f"{BASE}/h/{new_token()}", 1), head="𠀀*")])
    assert pdf.startswith(b"%PDF")


@PDFTOPPM
def test_pdf_card_looks_like_the_card_picture(tmp_path):
    """The vector card is the raster card redrawn: rendered at the picture's 300 dpi they differ only at edges."""
    face = face_for(f"{BASE}/h/{new_token()}", 7)
    (page,) = rasterise(card_pdf.sheet_pdf([face]), tmp_path, dpi=300)
    drawn = card_cells(page, dpi=300)[0].convert("L")
    picture = card_image.render_card(face).convert("L")
    difference = ImageChops.difference(drawn, picture)
    assert drawn.size == picture.size and ImageStat.Stat(difference).mean[0] < 5  # 3.4 when measured
    shifted = ImageChops.difference(drawn, ImageChops.offset(picture, 0, 6))
    assert ImageStat.Stat(shifted).mean[0] > ImageStat.Stat(difference).mean[0] * 2  # the bound can fail


def test_pdf_download_is_streamed_with_its_length(as_user, township_with_twelve):
    response = as_user("township").get(f"/cards/sheet.pdf?area={TOWNSHIP}")
    assert response.is_streamed and response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.data) and response.data.endswith(b"%%EOF\n")
    assert "no-store" in response.headers["Cache-Control"]


def test_qr_matrix_is_qrcodes_own_code_with_the_mask_of_least_penalty():
    for _ in range(5):
        url = f"{BASE}/h/{new_token()}"
        drawn = qr.qr_matrix(url)
        by_mask = {}
        for mask in range(8):
            code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=mask)
            code.add_data(url)
            code.make(fit=True)
            by_mask[mask] = code.get_matrix()
        (chosen,) = [mask for mask, matrix in by_mask.items() if matrix == drawn]
        rows = {m: [int("".join("1" if d else "0" for d in row), 2) for row in x] for m, x in by_mask.items()}
        assert qr._penalty(rows[chosen], len(drawn)) == min(qr._penalty(r, len(drawn)) for r in rows.values())


def test_printing_records_a_batch_marks_cards_printed_and_audits(as_user, township_with_twelve, session):
    response = as_user("township").post("/cards/sheet.pdf", data={"area": VILLAGE_A})  # the print page's button
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    batch = session.exec(select(PrintBatch)).one()
    assert (batch.user_id, batch.area_code, batch.format) == (township_with_twelve.township.id, VILLAGE_A, "pdf")
    village = households_of(session, VILLAGE_A)
    assert batch.household_count == len(village) == 6
    items = session.exec(select(PrintBatchItem).where(PrintBatchItem.batch_id == batch.id)).all()
    assert {i.household_id for i in items} == {h.id for h in village}
    assert {i.card_id for i in items} == {live_card(session, h.id).id for h in village}
    assert all(live_card(session, h.id).printed_at is not None for h in village)
    assert all(live_card(session, h.id).printed_at is None for h in households_of(session, VILLAGE_B))
    (event,) = actions(session, "cards.printed")
    assert event.user_id == township_with_twelve.township.id and '"households": 6' in event.detail


@PDFTOPPM
def test_only_undelivered_prints_only_cards_not_yet_handed_over(make_app, township_with_twelve, session, tmp_path):
    delivered = households_of(session, VILLAGE_A)[:4]
    for household in delivered:
        card = live_card(session, household.id)
        card.delivered_at = card.issued_at
        session.add(card)
    session.commit()
    client = make_app(PUBLIC_BASE_URL=BASE).test_client()
    login(client, township_with_twelve.township)
    response = client.post("/cards/sheet.pdf", data={"area": VILLAGE_A, "only": "undelivered"})
    decoded = {text for cell in decoded_cards(response.data, tmp_path) for text in cell}
    remaining = [h for h in households_of(session, VILLAGE_A) if h not in delivered]
    assert decoded == {card_url(session, h) for h in remaining} and len(decoded) == 2
    assert session.exec(select(PrintBatch)).one().household_count == 2


@pytest.mark.parametrize("role", ["county", "city", "admin"])
def test_county_city_and_admin_print_too(as_user, world, role):
    response = as_user(role).get(f"/cards/sheet.pdf?area={VILLAGE_A}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_assistant_may_not_print(as_user, world, session):
    response = as_user("assistant_a").get(f"/cards/sheet.pdf?area={VILLAGE_A}")
    assert response.status_code == 403
    assert session.exec(select(PrintBatch)).all() == []


def test_printing_an_area_outside_scope_is_404(as_user, world, session):
    assert as_user("township").get(f"/cards/sheet.pdf?area={OTHER_VILLAGE}").status_code == 404
    assert as_user("other_county").get(f"/cards/sheet.pdf?area={TOWNSHIP}").status_code == 404
    assert session.exec(select(PrintBatch)).all() == []


def test_a_county_or_an_unknown_code_cannot_be_printed_at_once(as_user, world):
    assert as_user("county").get(f"/cards/sheet.pdf?area={COUNTY}").status_code == 404
    assert as_user("county").get("/cards/sheet.pdf?area=530902100999").status_code == 404
    assert as_user("county").get("/cards/sheet.pdf").status_code == 404


def test_pdf_sheet_requires_login(client, world):
    response = client.get(f"/cards/sheet.pdf?area={VILLAGE_A}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_an_empty_pdf_sheet_sends_the_officer_back_with_a_message(as_user, world, session):
    client = as_user("township")
    response = client.get("/cards/sheet.pdf?area=530902100203")  # 那招村: no households
    assert response.status_code == 302 and response.headers["Location"] == "/cards/"
    assert "这个地区没有要打印的户卡" in client.get("/cards/").get_data(as_text=True)
    assert session.exec(select(PrintBatch)).all() == []


def test_a_household_without_a_card_is_left_off_the_sheet_and_none_is_made_by_reading(as_user, world, session):
    session.exec(Card.__table__.delete().where(Card.household_id == world.household_b.id))
    session.commit()
    response = as_user("township").get(f"/cards/sheet.pdf?area={VILLAGE_B}")
    assert response.status_code == 302 and response.headers["Location"] == "/cards/"
    assert session.exec(select(Card).where(Card.household_id == world.household_b.id)).all() == []


def test_pdf_cross_reference_table_points_at_every_object(as_user, township_with_twelve):
    pdf = as_user("township").get(f"/cards/sheet.pdf?area={TOWNSHIP}").data
    start = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", pdf).group(1))
    assert pdf[start:].startswith(b"xref")
    first, count = map(int, re.match(rb"xref\s+(\d+) (\d+)", pdf[start:]).groups())
    rows = re.findall(rb"(\d{10}) (\d{5}) ([nf]) ?\r?\n", pdf[start:])[:count]
    assert first == 0 and len(rows) == count == int(re.search(rb"/Size (\d+)", pdf[start:]).group(1))
    for number, (offset, _generation, kind) in enumerate(rows):
        if kind == b"n":
            assert pdf[int(offset) :].startswith(b"%d 0 obj" % number), number
    assert b"/Count 2" in pdf


# ---- the HTML sheet --------------------------------------------------------------------------


def test_html_sheet_draws_every_card_with_an_inline_qr_and_asks_for_no_picture(make_app, township_with_twelve, session):
    client = make_app(PUBLIC_BASE_URL=BASE).test_client()
    login(client, township_with_twelve.township)
    response = client.get(f"/cards/sheet?area={TOWNSHIP}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "博尚镇" in body and "12 张卡" in body and "2 页" in body
    assert "<img" not in body and "card.png" not in body  # no request per card
    codes = re.findall(r'<svg class="card__qr" viewBox="([-\d ]+)"[^>]*><path d="([^"]+)"/></svg>', body)
    in_print_order = sorted(households_of(session, TOWNSHIP[:9]), key=lambda h: (h.area_code, h.household_no))
    assert [svg_decoded(view_box, path) for view_box, path in codes] == [card_url(session, h) for h in in_print_order]
    assert body.count('<section class="sheet">') == 2 and body.count('<div class="card"') == 12
    assert "博尚镇碗窑村" in body and "甲*" in body and "甲2" not in body and "/h/" not in body
    stylesheet = re.search(r'<link rel="stylesheet" href="(/static/css/print\.css[^"]*)"', body).group(1)
    css = client.get(stylesheet).get_data(as_text=True)
    assert "@page" in css and "A4" in css and "85.6mm" in css and "54mm" in css
    assert 'rel="icon"' in body  # else the browser asks for /favicon.ico and logs a 404


def svg_decoded(view_box: str, path: str) -> str:
    """Draw an inline QR's path (rectangles "M{x} {y}h{w}v1h-{w}z") at 8 px a module and decode it."""
    left, top, side, _ = (int(v) for v in view_box.split())
    scale = 8
    image = Image.new("L", (side * scale, side * scale), 255)
    pen = ImageDraw.Draw(image)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path):
        x0, y0 = (int(x) - left) * scale, (int(y) - top) * scale
        pen.rectangle((x0, y0, x0 + int(w) * scale - 1, y0 + scale - 1), fill=0)
    assert "".join(f"M{x} {y}h{w}v1h-{w}z" for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path)) == path
    (code,) = decode(image)
    return code.text


def test_an_empty_html_sheet_says_so_and_records_no_batch(as_user, world, session):
    response = as_user("township").get("/cards/sheet?area=530902100203")
    assert response.status_code == 200 and "这个地区没有要打印的户卡" in body_of(response)
    assert session.exec(select(PrintBatch)).all() == []


def test_html_sheet_is_read_only_until_its_print_button_records_an_html_batch(as_user, world, session):
    client = as_user("township")
    page = page_text(client.get(f"/cards/sheet?area={VILLAGE_A}"))
    assert session.exec(select(PrintBatch)).all() == [] and live_card(session, world.household_a.id).printed_at is None
    assert f'action="/cards/sheet?area={VILLAGE_A}"' in page and "data-autoprint" not in page
    response = client.post(f"/cards/sheet?area={VILLAGE_A}")
    assert response.status_code == 302 and response.headers["Location"] == f"/cards/sheet?area={VILLAGE_A}&print=1"
    batch = session.exec(select(PrintBatch)).one()
    assert (batch.format, batch.area_code, batch.household_count) == ("html", VILLAGE_A, 1)
    assert live_card(session, world.household_a.id).printed_at is not None
    assert "data-autoprint" in page_text(client.get(response.headers["Location"]))


def test_downloading_the_pdf_is_audited_and_marks_nothing_printed(as_user, world, session):
    response = as_user("township").get(f"/cards/sheet.pdf?area={VILLAGE_A}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert session.exec(select(PrintBatch)).all() == [] and live_card(session, world.household_a.id).printed_at is None
    (event,) = actions(session, "cards.downloaded")
    assert '"households": 1' in event.detail


def test_html_sheet_is_for_officers_in_scope_only(as_user, client, world):
    assert client.get(f"/cards/sheet?area={VILLAGE_A}").status_code == 302
    assert as_user("assistant_a").get(f"/cards/sheet?area={VILLAGE_A}").status_code == 403
    assert as_user("other_county").get(f"/cards/sheet?area={VILLAGE_A}").status_code == 404


# ---- the print page --------------------------------------------------------------------------


def test_print_page_lists_areas_in_scope_and_recent_batches(as_user, world):
    client = as_user("township")
    client.post("/cards/sheet.pdf", data={"area": VILLAGE_A})
    client.post(f"/cards/sheet?area={VILLAGE_A}")
    body = client.get("/cards/").get_data(as_text=True)
    assert f'<option value="{TOWNSHIP}">' in body and f'<option value="{VILLAGE_A}">' in body
    assert f'value="{OTHER_VILLAGE}"' not in body and 'value="530902000000"' not in body
    assert "碗窑村 · 1 张" in body and "· PDF" in body and "· 浏览器打印" in body and "HTML" not in body
    assert 'name="only" value="undelivered"' in body


def test_print_page_hides_other_counties_batches(as_user, client, world):
    as_user("township").post("/cards/sheet.pdf", data={"area": VILLAGE_A})
    body = as_user("other_county").get("/cards/").get_data(as_text=True)
    assert "碗窑村 · 1 张" not in body and "还没有打印记录" in body


def test_print_page_requires_login_and_an_officer(as_user, client, world):
    response = client.get("/cards/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert as_user("assistant_a").get("/cards/").status_code == 403
