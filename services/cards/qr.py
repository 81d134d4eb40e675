"""The module matrix of a card's QR code, with the mask chosen quickly, and the same code as an SVG path."""

import re
from functools import cache
from itertools import pairwise
from typing import NamedTuple

import qrcode

QUIET = 4  # modules of white around the code, as the standard asks


def qr_matrix(url: str) -> list[list[bool]]:
    """Return the URL's QR modules (error correction M), without the quiet zone: True is dark.

    The mask is chosen by the standard's penalty rules, as qrcode does, but scored on rows as integers:
    qrcode lays the code out and scores it eight times over, 6 ms a card, most of a card's budget.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=0)
    code.add_data(url)
    code.make(fit=True)
    size = code.modules_count
    rows = [int("".join("1" if dark else "0" for dark in row), 2) for row in code.modules]
    candidates = [[row ^ flip for row, flip in zip(rows, flips, strict=True)] for flips in _mask_flips(code.version)]
    best = min(candidates, key=lambda masked: _penalty(masked, size))
    return [[char == "1" for char in format(row, f"0{size}b")] for row in best]


@cache
def _mask_flips(version: int) -> list[list[int]]:
    """Return, for each of the 8 masks, the rows of modules that differ from mask 0's code of the same data.

    Masking flips data modules by a fixed pattern and writes the mask's number into the format bits;
    neither depends on the data, so one pair of codes per mask and version gives the difference for all.
    """
    codes = []
    for mask in range(8):
        code = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, mask_pattern=mask)
        code.add_data("0")
        code.make(fit=False)
        codes.append([int("".join("1" if dark else "0" for dark in row), 2) for row in code.modules])
    return [[a ^ b for a, b in zip(codes[0], code, strict=True)] for code in codes]


FINDER_LIKE = ("10111010000", "00001011101")  # neither overlaps itself, so str.count finds every one
LONG_RUNS = (re.compile("00000+"), re.compile("11111+"))  # one colour at a time: twice as quick as "0{5,}|1{5,}"


def _penalty(rows: list[int], size: int) -> int:
    """Score a masked code by ISO/IEC 18004's four rules (lower is easier to read)."""
    lines = [format(row, f"0{size}b") for row in rows]
    lines += ["".join(column) for column in zip(*lines, strict=True)]
    text = "|".join(lines)  # one search over every row and column: no run or pattern spans a "|"
    score = sum(len(run) - 2 for runs in LONG_RUNS for run in runs.findall(text))  # runs of 5+: 3, +1 per extra
    score += 40 * sum(text.count(pattern) for pattern in FINDER_LIKE)
    inner = (1 << (size - 1)) - 1
    for upper, lower in pairwise(rows):  # 2 × 2 blocks of one colour
        same = ~(upper ^ lower)
        score += 3 * (same & (same >> 1) & ~(upper ^ (upper >> 1)) & inner).bit_count()
    dark = sum(row.bit_count() for row in rows)
    return score + 10 * int(abs(dark * 100 / (size * size) - 50) // 5)


def dark_runs(matrix: list[list[bool]]):
    """Yield (column, row, length) for each horizontal run of dark modules: one rectangle each, not one per module."""
    for row, modules in enumerate(matrix):
        start = None
        for column, dark in enumerate(modules):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                yield start, row, column - start
                start = None
        if start is not None:
            yield start, row, len(modules) - start


class SvgCode(NamedTuple):
    """A QR code drawn inline in a page: <svg viewBox="{view_box}"><path d="{path}"/></svg>."""

    view_box: str
    path: str


def svg_code(url: str) -> SvgCode:
    """Return the URL's QR code as one SVG path, a rectangle per horizontal run, in module units, quiet zone round."""
    matrix = qr_matrix(url)
    side = len(matrix) + 2 * QUIET
    path = "".join(f"M{column} {row}h{length}v1h-{length}z" for column, row, length in dark_runs(matrix))
    return SvgCode(f"-{QUIET} -{QUIET} {side} {side}", path)
