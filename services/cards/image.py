"""Draw household cards (ID-1 size at 300 dpi) and A4 sheets of them, with Pillow and qrcode."""

import io
from functools import cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from services.cards.cards import CardFace

DPI = 300
CARD_MM = (85.6, 54.0)
CARD_PX = (round(CARD_MM[0] / 25.4 * DPI), round(CARD_MM[1] / 25.4 * DPI))  # 1011 × 638
A4_PX = (round(210 / 25.4 * DPI), round(297 / 25.4 * DPI))  # 2480 × 3508
SHEET_COLUMNS, SHEET_ROWS = 2, 5
GREEN = (7, 193, 96)
INK = (25, 25, 25)
GREY = (110, 110, 110)
FONTS = Path(__file__).resolve().parents[2] / "data" / "fonts"
TITLE = "临沧市困难群众服务卡"


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Load the shipped Noto Sans SC subset (no system font is assumed)."""
    name = "NotoSansSC-Bold-subset.otf" if bold else "NotoSansSC-Regular-subset.otf"
    return ImageFont.truetype(str(FONTS / name), size)


def qr_image(url: str, size: int) -> Image.Image:
    """Return the URL as a QR code (error correction M, 4-module quiet zone) at most size px wide."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4)
    code.add_data(url)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
    modules = image.width
    scale = size // modules  # whole pixels per module keep every module the same width
    return image.resize((modules * scale, modules * scale), Image.NEAREST)


def render_card(face: CardFace) -> Image.Image:
    """Draw one card: green title band, the household's contacts on the left, the QR on the right."""
    width, height = CARD_PX
    card = Image.new("RGB", CARD_PX, "white")
    pen = ImageDraw.Draw(card)
    band = 112
    pen.rectangle((0, 0, width, band), fill=GREEN)
    _centred(pen, TITLE, font(56, bold=True), (0, 0, width, band), "white")
    qr = qr_image(face.url, 440)
    card.paste(qr, (width - qr.width - 18, band + (height - band - qr.width) // 2))
    left, value_x, y = 40, 178, band + 30
    lines = [
        ("户　号", face.household_no),
        ("所在村", f"{face.township}{face.village}"),
        ("户　主", face.head or "—"),
        ("协理员", face.assistant or "—"),
        ("电　话", face.assistant_phone or "—"),
        ("热　线", face.hotline or "—"),
    ]
    text_right = width - qr.width - 24
    value_font = font(34, bold=True)
    for label, value in lines:
        pen.text((left, y + 5), label, font=font(28), fill=GREY)
        pen.text((value_x, y), _fit(pen, value, value_font, text_right - value_x), font=value_font, fill=INK)
        y += 72
    pen.text((left, height - 48), "有困难，请打协理员电话或乡镇热线", font=font(24), fill=GREY)
    return card


def _centred(pen: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, box, fill) -> None:
    x0, y0, x1, y1 = box
    left, top, right, bottom = pen.textbbox((0, 0), text, font=face)
    pen.text(
        (x0 + (x1 - x0 - (right - left)) / 2 - left, y0 + (y1 - y0 - (bottom - top)) / 2 - top),
        text,
        font=face,
        fill=fill,
    )


def _fit(pen: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: int) -> str:
    """Cut text with an ellipsis so it fits the width."""
    if pen.textlength(text, font=face) <= width:
        return text
    while text and pen.textlength(text + "…", font=face) > width:
        text = text[:-1]
    return text + "…"


def card_png(face: CardFace) -> bytes:
    """Return one card as PNG bytes, tagged 300 dpi so it prints at true size."""
    buffer = io.BytesIO()
    render_card(face).save(buffer, "PNG", dpi=(DPI, DPI), optimize=True)
    return buffer.getvalue()


def sheet_pages(faces: list[CardFace]):
    """Lay cards out 2 × 5 on A4 pages with cut marks in the margins, yielding one page at a time."""
    per_page = SHEET_COLUMNS * SHEET_ROWS
    for start in range(0, max(len(faces), 1), per_page):
        page = Image.new("RGB", A4_PX, "white")
        pen = ImageDraw.Draw(page)
        margin_x = (A4_PX[0] - SHEET_COLUMNS * CARD_PX[0]) // 2
        margin_y = (A4_PX[1] - SHEET_ROWS * CARD_PX[1]) // 2
        _cut_marks(pen, margin_x, margin_y)
        for index, face in enumerate(faces[start : start + per_page]):
            column, row = index % SHEET_COLUMNS, index // SHEET_COLUMNS
            page.paste(render_card(face), (margin_x + column * CARD_PX[0], margin_y + row * CARD_PX[1]))
        yield page


def _cut_marks(pen: ImageDraw.ImageDraw, margin_x: int, margin_y: int) -> None:
    """Draw short lines in the margins where the guillotine cuts."""
    length, gap = 60, 12
    xs = [margin_x + i * CARD_PX[0] for i in range(SHEET_COLUMNS + 1)]
    ys = [margin_y + i * CARD_PX[1] for i in range(SHEET_ROWS + 1)]
    for x in xs:
        pen.line((x, margin_y - gap - length, x, margin_y - gap), fill=INK, width=2)
        pen.line((x, ys[-1] + gap, x, ys[-1] + gap + length), fill=INK, width=2)
    for y in ys:
        pen.line((margin_x - gap - length, y, margin_x - gap, y), fill=INK, width=2)
        pen.line((xs[-1] + gap, y, xs[-1] + gap + length, y), fill=INK, width=2)


def sheet_pdf(faces: list[CardFace]) -> bytes:
    """Return A4 pages of cards as one PDF at 300 dpi (prints at 100 % on any office printer).

    Each page is one JPEG, drawn and compressed in turn: a township's thousand cards as raw A4
    images would need gigabytes, which Pillow's own PDF writer holds all at once.
    """
    width, height = (f"{px / DPI * 72:.2f}" for px in A4_PX)
    out = io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    out.seek(0, io.SEEK_END)
    offsets: dict[int, int] = {}

    def put(number: int, head: str, stream: bytes | None = None) -> None:
        offsets[number] = out.tell()
        out.write(f"{number} 0 obj\n{head}\n".encode())
        if stream is not None:
            out.write(b"stream\n" + stream + b"\nendstream\n")
        out.write(b"endobj\n")

    kids = []
    for index, page in enumerate(sheet_pages(faces)):
        image, content, number = 3 + 3 * index, 4 + 3 * index, 5 + 3 * index
        jpeg = io.BytesIO()
        page.save(jpeg, "JPEG", quality=90)
        data = jpeg.getvalue()
        put(image, _image_dict(page, len(data)), data)
        draw = f"q {width} 0 0 {height} 0 0 cm /Cards Do Q".encode()
        put(content, f"<< /Length {len(draw)} >>", draw)
        resources = f"/Resources << /XObject << /Cards {image} 0 R >> >> /Contents {content} 0 R"
        put(number, f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] {resources} >>")
        kids.append(f"{number} 0 R")
    put(1, "<< /Type /Catalog /Pages 2 0 R >>")
    put(2, f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>")
    xref, size = out.tell(), max(offsets) + 1
    out.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
    out.write("".join(f"{offsets[n]:010d} 00000 n \n" for n in range(1, size)).encode())
    out.write(f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _image_dict(page: Image.Image, length: int) -> str:
    return (
        f"<< /Type /XObject /Subtype /Image /Width {page.width} /Height {page.height} /ColorSpace /DeviceRGB"
        f" /BitsPerComponent 8 /Filter /DCTDecode /Length {length} >>"
    )
