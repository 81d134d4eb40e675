"""The rows of an .xlsx workbook, read straight from its zip with expat, one cell at a time.

Not through openpyxl, because openpyxl holds what a hostile file can make huge: it pads every row to the
sheet's declared <dimension> (3,000 one-cell rows declaring A1:XFD3001 took 376 MB), builds all of a row's
cells before handing the row out (one row of a million empty <c/> in a 5 KB file took 300 MB), and reads
a whole sheet just to open a workbook that declares no dimension. Here memory stays at one row of at most
`columns` cells plus the shared strings, each XML token is at most MAX_TOKEN_BYTES, and the time a part
can take is bounded by its number of elements. openpyxl's helpers still convert numbers to dates.
"""

import posixpath
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

from services.errors import Invalid
from services.spreadsheets.limits import MB, UNREADABLE, Budget, End, Limits

CHUNK = 64 * 1024
MAX_PARTS = 1000  # a workbook is a few dozen zip entries; zipfile would list a million before anything else
MAX_DIRECTORY_BYTES = 1 * MB
MAX_TOKEN_BYTES = 1 * MB  # expat holds a whole tag (with its attributes) in memory until its '>'
MAX_DEPTH = 64  # spreadsheet XML nests about six deep; expat keeps every open element
MAX_FORMATS, MAX_STYLES = 1_000, 65_536  # Excel itself allows about 250 number formats and 64,000 cell styles
PACKAGE_RELS = "_rels/.rels"
TOO_MANY = "文件里的单元格和格式太多：请把要导入的内容复制到一个新的工作簿，保存后再导入"


def workbook_tables(path: Path, limits: Limits) -> Iterator[Iterator[tuple[int, list]]]:
    """Yield each worksheet as a stream of (row number, cells); each stream opens the zip itself."""
    with _open_archive(path) as archive:
        book = _Book(archive, limits)
    for sheet in book.sheets:
        yield _sheet_rows(path, sheet, book, limits)


def _open_archive(path: Path) -> zipfile.ZipFile:
    """Open the zip after checking its directory is small: zipfile lists every entry before anything else."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 22 - 65_535))
        tail = handle.read()
    at = len(tail) - 22 if tail[-22:-18] == b"PK\x05\x06" else tail.rfind(b"PK\x05\x06")  # as zipfile looks
    if at < 0 or len(tail) < at + 22:
        raise Invalid(UNREADABLE)
    entries, directory_bytes = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries > MAX_PARTS or directory_bytes > MAX_DIRECTORY_BYTES:
        raise Invalid(UNREADABLE)
    return zipfile.ZipFile(path)


def _parse(archive: zipfile.ZipFile, name: str, limit: int, handler) -> Iterator[None]:
    """Feed one part through expat to `handler` in chunks, yielding after each; refuse DTDs and oversized parts.

    The unpacked size in the zip's directory is a true bound: zipfile stops there and fails the checksum of
    anything longer.
    """
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise Invalid(f"文件中的表格太大（解压后超过 {limit // MB} MB）：请分成几个文件分别导入")
    parser = expat.ParserCreate()  # no namespace processing: it costs as much again, and names are unique here
    parser.buffer_text = True  # text comes in pieces of at most 8 KB, never as one huge string
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.StartElementHandler, parser.EndElementHandler = handler.start, handler.end
    parser.CharacterDataHandler = handler.text
    since_tag_end = 0
    with archive.open(info) as stream:
        while chunk := stream.read(CHUNK):
            last = chunk.rfind(b">")
            since_tag_end = since_tag_end + len(chunk) if last < 0 else len(chunk) - last - 1
            if since_tag_end > MAX_TOKEN_BYTES:
                raise Invalid(UNREADABLE)
            parser.Parse(chunk, False)
            yield
        parser.Parse(b"", True)


def _refuse_doctype(*_args):
    raise ValueError("a workbook part has no DTD")  # so no entities, and no entity-expansion bombs


def _local(tag: str) -> str:
    return tag[tag.index(":") + 1 :] if ":" in tag else tag  # <x:c> and <c> alike


class _Counted:
    """Expat callbacks that hold a part to what is left of the workbook's elements and to the depth limit."""

    def __init__(self, allowance: int, start=None, end=None, text=None):
        self.allowance, self.elements, self.depth = allowance, 0, 0
        self.on_start, self.on_end, self.on_text = start, end, text

    def count(self) -> None:
        self.elements += 1
        self.depth += 1
        if self.elements > self.allowance or self.depth > MAX_DEPTH:
            raise Invalid(TOO_MANY)

    def start(self, tag: str, attrs: dict) -> None:
        self.count()
        if self.on_start:
            self.on_start(_local(tag), attrs)

    def end(self, tag: str) -> None:
        self.depth -= 1
        if self.on_end:
            self.on_end(_local(tag))

    def text(self, data: str) -> None:
        if self.on_text:
            self.on_text(data)


@dataclass
class _Sheet:
    name: str
    part: str


class _Book:
    """What a workbook's sheets need to be read: where they are, shared strings, date styles, the epoch."""

    def __init__(self, archive: zipfile.ZipFile, limits: Limits):
        self.archive, self.limits = archive, limits
        self.strings: list[str] = []
        self.date_styles: set[int] = set()
        self.timedelta_styles: set[int] = set()
        self.epoch = WINDOWS_EPOCH
        self.elements_used = 0
        workbook = self._targets(PACKAGE_RELS).get("officeDocument", ["xl/workbook.xml"])[0]
        targets = self._targets(
            posixpath.join(posixpath.dirname(workbook), "_rels", posixpath.basename(workbook) + ".rels")
        )
        self.sheets = self._sheets(workbook, targets)
        for part in targets.get("sharedStrings", [])[:1]:
            self._read_strings(part)
        for part in targets.get("styles", [])[:1]:
            self._read_styles(part)

    def allowance(self) -> int:
        """Return how many more elements the workbook may have (the limit is for all its parts together)."""
        return self.limits.elements - self.elements_used

    def _read(self, part: str, limit: int, start=None, end=None, text=None) -> None:
        counted = _Counted(self.allowance(), start, end, text)
        try:
            for _ in _parse(self.archive, part, limit, counted):
                pass
        finally:
            self.elements_used += counted.elements

    def _targets(self, rels: str) -> dict:
        """Return a relationships part as {type: [part, …]}; its ids are kept under 'ids'."""
        found: dict = {"ids": {}}
        folder = posixpath.dirname(posixpath.dirname(rels))

        def start(tag, attrs):
            if tag == "Relationship" and attrs.get("TargetMode") != "External":
                target = attrs.get("Target", "")
                part = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
                part = posixpath.normpath(part)
                found.setdefault(attrs.get("Type", "").rsplit("/", 1)[-1], []).append(part)
                found["ids"][attrs.get("Id")] = part

        if rels in self.archive.NameToInfo:
            self._read(rels, self.limits.part_bytes, start)
        return found

    def _sheets(self, workbook: str, targets: dict) -> list[_Sheet]:
        sheets, worksheets = [], set(targets.get("worksheet", []))

        def start(tag, attrs):
            relation = next((value for key, value in attrs.items() if key.endswith(":id")), None)  # r:id
            if tag == "sheet" and targets["ids"].get(relation) in worksheets:  # chartsheets have no rows
                sheets.append(_Sheet(attrs.get("name", ""), targets["ids"][relation]))
            elif tag == "workbookPr" and attrs.get("date1904", "").lower() in ("1", "true"):
                self.epoch = MAC_EPOCH

        self._read(workbook, self.limits.part_bytes, start)
        return sheets

    def _read_strings(self, part: str) -> None:
        """Read the shared strings: the text of each <si>, phonetic guides (<rPh>) left out."""
        state = {"in_t": False, "phonetic": 0, "pieces": [], "length": 0}
        cap = self.limits.cell_chars + 1  # longer is refused when a cell uses it; no need to keep more

        def start(tag, _attrs):
            if tag == "si":
                state["pieces"], state["length"] = [], 0
            elif tag == "rPh":
                state["phonetic"] += 1
            elif tag == "t" and not state["phonetic"]:
                state["in_t"] = True

        def end(tag):
            if tag == "t":
                state["in_t"] = False
            elif tag == "rPh":
                state["phonetic"] -= 1
            elif tag == "si":
                self.strings.append("".join(state["pieces"]))

        def text(data):
            if state["in_t"] and state["length"] < cap:
                state["pieces"].append(data[: cap - state["length"]])
                state["length"] += len(data)

        self._read(part, self.limits.part_bytes, start, end, text)

    def _read_styles(self, part: str) -> None:
        """Note which cell styles show numbers as dates (or durations), as Excel does."""
        formats, styles, inside = {}, [], []

        def start(tag, attrs):
            if tag == "numFmt" and attrs.get("numFmtId", "").isdigit() and len(formats) < MAX_FORMATS:
                formats[int(attrs["numFmtId"])] = attrs.get("formatCode", "")[:255]
            elif tag == "xf" and inside[-1:] == ["cellXfs"] and len(styles) < MAX_STYLES:
                styles.append(int(attrs.get("numFmtId") or 0))
            inside.append(tag)

        self._read(part, self.limits.sheet_bytes, start, lambda tag: inside.pop())
        for index, number_format in enumerate(styles):
            code = formats.get(number_format) or BUILTIN_FORMATS.get(number_format)
            if code and is_date_format(code):
                self.date_styles.add(index)
            if code and is_timedelta_format(code):
                self.timedelta_styles.add(index)


def _sheet_rows(path: Path, sheet: _Sheet, book: _Book, limits: Limits) -> Iterator[tuple[int, list]]:
    """Stream a worksheet's rows; its own zip handle, so the stream outlives the caller's loop over sheets."""
    reader = _SheetReader(book, Budget(limits))  # made on the first row asked for: after the sheets before it
    try:
        with _open_archive(path) as archive:
            try:
                for _ in _parse(archive, sheet.part, limits.sheet_bytes, reader):
                    yield from reader.take_done()
            except End:
                pass
        yield from reader.take_done()
    finally:
        book.elements_used += reader.elements


class _SheetReader(_Counted):
    """Expat callbacks that turn <row>/<c> elements into (row number, cells), one cell at a time.

    The hot path of an import: it runs once per element, so it is written for speed (no per-cell dict or list
    unless the cell has text).
    """

    def __init__(self, book: _Book, budget: Budget):
        super().__init__(book.allowance())
        self.book, self.budget = book, budget
        self.done: list[tuple[int, list]] = []
        self.number = self.column = self.phonetic = self.length = 0
        self.cells: dict[int, object] = {}
        self.kind, self.style, self.reading, self.pieces = "n", None, False, None

    def take_done(self) -> list[tuple[int, list]]:
        done, self.done = self.done, []
        return done

    def start(self, tag: str, attrs: dict) -> None:
        self.count()
        if ":" in tag:
            tag = _local(tag)
        if tag == "c":
            reference = attrs.get("r")
            self.column = column_index_from_string(reference.rstrip("0123456789")) if reference else self.column + 1
            self.kind, self.style = attrs.get("t", "n"), attrs.get("s")
            self.pieces, self.reading, self.phonetic = None, False, 0
        elif tag == "row":
            self.number = int(float(attrs["r"])) if attrs.get("r") else self.number + 1
            self.column, self.cells = 0, {}
        elif tag == "rPh":
            self.phonetic += 1  # a phonetic guide above the text is not part of it
        else:
            inline = self.kind == "inlineStr"
            self.reading = (tag == "v" and not inline) or (tag == "t" and inline and not self.phonetic)

    def text(self, data: str) -> None:
        if self.reading:
            if self.pieces is None:
                self.pieces, self.length = [], 0
            self.length += len(data)
            self.budget.check_length(self.number, self.column, self.length)
            self.pieces.append(data)

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.reading = False
        if ":" in tag:
            tag = _local(tag)
        if tag == "c":
            if self.pieces:
                self._keep(self._value("".join(self.pieces)))
        elif tag == "row":
            cells = [None] * max(self.cells, default=0)
            for column, value in self.cells.items():
                cells[column - 1] = value
            if self.budget.admit(self.number, cells):
                self.done.append((self.number, cells))
        elif tag == "rPh":
            self.phonetic -= 1

    def _keep(self, value) -> None:
        if isinstance(value, str):
            if not value.strip():
                return
            self.budget.check_length(self.number, self.column, len(value))  # a shared string is measured here
        self.budget.check_column(self.number, self.column)
        self.cells[self.column] = value

    def _value(self, raw: str):
        """Convert a cell's text as openpyxl would (data_only: a formula gives its cached value)."""
        kind = self.kind
        if kind in ("inlineStr", "str", "e"):
            return raw
        if kind == "s":
            return self.book.strings[int(raw)]
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            return from_ISO8601(raw)
        number = float(raw) if any(mark in raw for mark in ".eE") else int(raw)
        style = int(self.style) if self.style else 0
        if style in self.book.date_styles:
            try:
                return from_excel(number, self.book.epoch, timedelta=style in self.book.timedelta_styles)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number
