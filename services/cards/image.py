"""Draw a household card (ID-1 size at 300 dpi) as a picture, with Pillow and qrcode; sheets are in pdf.py."""

import io
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from services.cards.cards import CardFace
from services.cards.qr import QUIET, qr_matrix

DPI = 300
CARD_MM = (85.6, 54.0)
CARD_PX = (round(CARD_MM[0] / 25.4 * DPI), round(CARD_MM[1] / 25.4 * DPI))  # 1011 × 638
A4_PX = (round(210 / 25.4 * DPI), round(297 / 25.4 * DPI))  # 2480 × 3508: the PDF sheet's page in these pixels
SHEET_COLUMNS, SHEET_ROWS = 2, 5
GREEN = (7, 193, 96)
INK = (25, 25, 25)
GREY = (110, 110, 110)
FONTS = Path(__file__).resolve().parents[2] / "data" / "fonts"
TITLE = "临沧市困难群众服务卡"
FOOTER = "有困难，请打协理员电话或乡镇热线"
LABELS = ("户　号", "所在村", "户　主", "协理员", "电　话", "热　线")


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Load the shipped Noto Sans SC subset (no system font is assumed)."""
    name = "NotoSansSC-Bold-subset.otf" if bold else "NotoSansSC-Regular-subset.otf"
    return ImageFont.truetype(str(FONTS / name), size)


def qr_image(url: str, size: int) -> Image.Image:
    """Return the URL as a QR code (error correction M, 4-module quiet zone) at most size px wide.

    The modules come from qr.qr_matrix, so the picture and the PDF sheet carry the very same code.
    """
    matrix = qr_matrix(url)
    modules = len(matrix) + 2 * QUIET
    image = Image.new("L", (modules, modules), 255)
    image.putdata([0 if dark else 255 for row in _quiet(matrix) for dark in row])
    scale = size // modules  # whole pixels per module keep every module the same width
    return image.resize((modules * scale, modules * scale), Image.NEAREST)


def _quiet(matrix: list[list[bool]]) -> list[list[bool]]:
    blank = [False] * (len(matrix) + 2 * QUIET)
    return [blank] * QUIET + [[False] * QUIET + row + [False] * QUIET for row in matrix] + [blank] * QUIET


def card_lines(face: CardFace) -> list[tuple[str, str]]:
    """Return the card's (label, value) lines: the picture, the PDF and the HTML sheet print the same."""
    values = (
        face.household_no,
        f"{face.township}{face.village}",
        face.head or "—",
        face.assistant or "—",
        face.assistant_phone or "—",
        face.hotline or "—",
    )
    return list(zip(LABELS, values, strict=True))


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
    lines = card_lines(face)
    text_right = width - qr.width - 24
    value_font = font(34, bold=True)
    for label, value in lines:
        pen.text((left, y + 5), label, font=font(28), fill=GREY)
        pen.text((value_x, y), _fit(pen, value, value_font, text_right - value_x), font=value_font, fill=INK)
        y += 72
    pen.text((left, height - 48), FOOTER, font=font(24), fill=GREY)
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
