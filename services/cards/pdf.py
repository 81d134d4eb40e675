"""Draw A4 sheets of household cards as a vector PDF (fpdf2): QR codes as filled paths, text in an embedded subset.

The layout is the raster card's (services/cards/image.py), coordinate for coordinate: the page's unit is one
300-dpi pixel, so both drawings read the same numbers. A township's card file then weighs a few KB a card
instead of a 300-dpi JPEG's hundred, which is what a weak link in a township office can carry.
"""

import tempfile
from functools import cache
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fpdf import FPDF

from services.cards.cards import CardFace
from services.cards.image import (
    A4_PX,
    CARD_PX,
    DPI,
    FONTS,
    FOOTER,
    GREEN,
    GREY,
    INK,
    LABELS,
    SHEET_COLUMNS,
    SHEET_ROWS,
    TITLE,
    card_lines,
)
from services.cards.qr import QUIET, dark_runs, qr_matrix

PX = 72 / DPI  # points per unit: one unit is one pixel of the 300-dpi raster card
BAND, QR_BOX, LINE_PITCH = 112, 440, 72
LEFT, VALUE_X, FIRST_LINE = 40, 178, BAND + 30
ASCENT = 1.16  # Noto Sans CJK's ascender (hhea 1160 of 1000): Pillow places text by it, the PDF by the baseline
TITLE_INK = (16 / 56, 72 / 56)  # the title's ink from the ascender line down, in font sizes (Pillow's textbbox)
MISSING = "〓"  # the typesetter's mark for a character the font lacks: printed instead of an empty box
WEIGHTS = {"": "NotoSansSC-Regular-subset.otf", "B": "NotoSansSC-Bold-subset.otf"}
CUT_MARK, CUT_GAP = 60, 12


@cache
def _covered() -> frozenset[int]:
    """Return the code points the shipped font draws (both weights cover the same ones)."""
    return frozenset(TTFont(FONTS / WEIGHTS[""], lazy=True).getBestCmap())


def printable(text: str) -> str:
    """Return text with every character the shipped font lacks replaced by 〓, so nothing prints as a blank box.

    The font holds all of U+4E00–U+9FFF; a name in CJK Extension A or B (rare, but rosters have some) would
    otherwise print as .notdef. A masked head shows only two characters of the name anyway.
    """
    covered = _covered()
    if all(ord(char) in covered for char in text):
        return text
    return "".join(char if ord(char) in covered else MISSING for char in text)


def _font_subset(name: str, text: str, folder: Path) -> Path:
    """Cut the shipped font down to the characters this document prints, and return the file."""
    font = TTFont(FONTS / name, lazy=True, recalcBBoxes=False)  # recomputing bounds costs a third of the cut
    options = subset.Options()
    options.notdef_outline = True
    # Hints help small text on screens, not on paper; without them and with subroutines inlined, 330 characters
    # weigh 76 KB instead of 96 KB, cut no slower.
    options.hinting = False
    options.desubroutinize = True
    options.layout_features = []  # no shaping is done: one glyph per character
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep the copyright and licence lines the OFL asks for
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    path = folder / name
    font.save(str(path))
    return path


class _Sheet(FPDF):
    """An A4 document measured in 300-dpi pixels, with no header, footer or automatic page breaks."""

    def __init__(self) -> None:
        super().__init__(unit=PX, format="A4")
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.set_creator("Doudi")
        self.set_compression(True)

    def fill_runs(self, matrix: list[list[bool]], x: float, y: float, module: float) -> None:
        """Fill the QR's dark runs as one path, in module units, so the page stream stays small.

        Written with fpdf2's _out (the page's content stream; the version is pinned): its rect() would cost
        a call, a colour check and a full-precision line per run, some 300 a card.
        """
        scale = module * PX
        ops = [f"q 0 g {scale:.4f} 0 0 {-scale:.4f} {x * PX:.3f} {(self.h - y) * PX:.3f} cm"]
        ops.extend(f"{column} {row} {length} 1 re" for column, row, length in dark_runs(matrix))
        ops.append("f Q")
        self._out("\n".join(ops))


def _text_of(lines: list[list[tuple[str, str]]]) -> str:
    chars = set(TITLE + FOOTER + "".join(LABELS) + "…—" + MISSING)
    for face_lines in lines:
        for _label, value in face_lines:
            chars.update(value)
    return "".join(sorted(chars))


def sheet_pdf(faces: list[CardFace]) -> bytes:
    """Return A4 pages of cards, 2 × 5 with cut marks, as a vector PDF that prints at 100 %."""
    lines = [[(label, printable(value)) for label, value in card_lines(face)] for face in faces]
    text = _text_of(lines)
    with tempfile.TemporaryDirectory(prefix="cards-") as folder:
        pdf = _Sheet()
        for style, name in WEIGHTS.items():  # fpdf2 reads the files lazily until output: keep the folder till then
            pdf.add_font("card", style, str(_font_subset(name, text, Path(folder))))
        per_page = SHEET_COLUMNS * SHEET_ROWS
        for start in range(0, max(len(faces), 1), per_page):
            pdf.add_page()
            margin_x = (A4_PX[0] - SHEET_COLUMNS * CARD_PX[0]) // 2
            margin_y = (A4_PX[1] - SHEET_ROWS * CARD_PX[1]) // 2
            _cut_marks(pdf, margin_x, margin_y)
            for index, face in enumerate(faces[start : start + per_page]):
                column, row = index % SHEET_COLUMNS, index // SHEET_COLUMNS
                x, y = margin_x + column * CARD_PX[0], margin_y + row * CARD_PX[1]
                _card(pdf, face, lines[start + index], x, y)
        return bytes(pdf.output())


def _card(pdf: _Sheet, face: CardFace, lines: list[tuple[str, str]], x: float, y: float) -> None:
    """Draw one card at (x, y): green title band, the household's contacts on the left, the QR on the right."""
    width, height = CARD_PX
    pdf.set_fill_color(*GREEN)
    pdf.rect(x, y, width, BAND + 1, style="F")  # Pillow's rectangle includes its last row
    pdf.set_font("card", "B", 56 * PX)
    pdf.set_text_color(255, 255, 255)
    title_y = y + (BAND - 56 * (TITLE_INK[1] - TITLE_INK[0])) / 2 + 56 * (ASCENT - TITLE_INK[0])
    pdf.text(x + (width - pdf.get_string_width(TITLE)) / 2, title_y, TITLE)
    matrix = qr_matrix(face.url)
    modules = len(matrix) + 2 * QUIET  # the quiet zone is left white
    module = QR_BOX // modules  # whole pixels per module, as on the raster card
    side = modules * module
    qr_x, qr_y = x + width - side - 18, y + BAND + (height - BAND - side) // 2
    pdf.fill_runs(matrix, qr_x + QUIET * module, qr_y + QUIET * module, module)
    text_right = width - side - 24
    line_y = y + FIRST_LINE
    for label, value in lines:
        pdf.set_font("card", "", 28 * PX)
        pdf.set_text_color(*GREY)
        pdf.text(x + LEFT, line_y + 5 + 28 * ASCENT, label)
        pdf.set_font("card", "B", 34 * PX)
        pdf.set_text_color(*INK)
        pdf.text(x + VALUE_X, line_y + 34 * ASCENT, _fit(pdf, value, text_right - VALUE_X))
        line_y += LINE_PITCH
    pdf.set_font("card", "", 24 * PX)
    pdf.set_text_color(*GREY)
    pdf.text(x + LEFT, y + height - 48 + 24 * ASCENT, FOOTER)


def _fit(pdf: _Sheet, text: str, width: float) -> str:
    """Cut text with an ellipsis so it fits the width in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _cut_marks(pdf: _Sheet, margin_x: float, margin_y: float) -> None:
    """Draw short lines in the margins where the guillotine cuts."""
    pdf.set_draw_color(*INK)
    pdf.set_line_width(2)
    xs = [margin_x + i * CARD_PX[0] for i in range(SHEET_COLUMNS + 1)]
    ys = [margin_y + i * CARD_PX[1] for i in range(SHEET_ROWS + 1)]
    for x in xs:
        pdf.line(x, margin_y - CUT_GAP - CUT_MARK, x, margin_y - CUT_GAP)
        pdf.line(x, ys[-1] + CUT_GAP, x, ys[-1] + CUT_GAP + CUT_MARK)
    for y in ys:
        pdf.line(margin_x - CUT_GAP - CUT_MARK, y, margin_x - CUT_GAP, y)
        pdf.line(xs[-1] + CUT_GAP, y, xs[-1] + CUT_GAP + CUT_MARK, y)


def stream(data: bytes, chunk: int = 64 * 1024):
    """Yield the file in pieces, so the server writes it out as it goes rather than in one buffer."""
    view = memoryview(data)
    for start in range(0, len(data), chunk):
        yield bytes(view[start : start + chunk])
