"""Reading an uploaded .csv or .xlsx into rows, bounded by what the file really holds.

`open_upload(importer, file, options, deadline)` checks the file as a whole (name, size, zip bomb, encoding, header)
and returns an `Upload` whose `rows()` yields (spreadsheet row number, {column: raw value}) per non-blank row.

Limits, each refused with a message that says which one (FileRejected, before anything is written):
- settings.IMPORT_MAX_BYTES for the upload, MAX_UNCOMPRESSED_BYTES for what an XLSX expands to;
- MAX_ROWS data rows, and no value below row MAX_SHEET_ROW or right of column MAX_COLUMNS;
- the import's time budget (settings.IMPORT_TIME_BUDGET_SECONDS), checked on every row.

An XLSX is read cell by cell from its XML with openpyxl's worksheet parser, NOT through openpyxl's read-only
worksheet: that one trusts the sheet's declared <dimension> and pads every missing row to its width, so a 1.6 kB
file declaring A1:XFD1048576 makes it produce a million rows of 16,384 cells (13 minutes). Here only cells present
in the file are seen, so such a file is read (and refused for its far cell) in milliseconds. The parser also tells
a formula with no saved value (FormulaWithoutValue) and an error cell (ErrorValue) apart from an empty cell.
"""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from openpyxl.utils import get_column_letter

from .cells import ErrorValue, FormulaWithoutValue, ReadOptions, is_blank

# An XLSX is a zip; refuse one that would expand to more than this (a "zip bomb").
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
# openpyxl reads the shared strings and the styles whole before the first row: keep them to what imports need.
MAX_PART_BYTES = {"xl/sharedStrings.xml": 50 * 1024 * 1024, "xl/styles.xml": 5 * 1024 * 1024}
MAX_ROWS = 100_000  # data rows
MAX_SHEET_ROW = MAX_ROWS + 1_000  # no value below this row (room for a title and blank lines above the header)
MAX_COLUMNS = 100  # no value right of column CV


class FileRejected(Exception):
    """The file as a whole cannot be imported; nothing has run."""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def file_size(uploaded_file) -> int:
    size = getattr(uploaded_file, "size", None)
    if isinstance(size, int):
        return size
    position = uploaded_file.tell()
    uploaded_file.seek(0, io.SEEK_END)
    size = uploaded_file.tell()
    uploaded_file.seek(position)
    return size


def normalize_header(value) -> str:
    """'Price per share' -> price_per_share, 'Issuance no.' -> issuance_no: lower case, words joined by _."""
    return "_".join(re.findall(r"[0-9a-z]+", str(value or "").strip().lower()))


class Deadline:
    """The import's time budget; `check()` raises FileRejected once it is spent."""

    def __init__(self, seconds: float | None = None):
        self.seconds = settings.IMPORT_TIME_BUDGET_SECONDS if seconds is None else seconds
        self.ends = time.monotonic() + self.seconds

    def check(self) -> None:
        if time.monotonic() > self.ends:
            raise FileRejected(
                f"Reading and checking this file took longer than {self.seconds:g} seconds, the most one import may "
                "take. Split it into smaller files and import them one after another."
            )


# --- CSV ------------------------------------------------------------------------------------------------------


def _read_csv(uploaded_file, options: ReadOptions) -> Iterator[list]:
    data = uploaded_file.read()
    if isinstance(data, str):
        data = data.encode()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRejected(
            f"The CSV file is not UTF-8 text (byte {error.start + 1} cannot be read). Save it as “CSV UTF-8” and "
            "upload it again."
        ) from None
    if "\x00" in text:
        raise FileRejected("The file does not look like CSV text. Upload a .csv or .xlsx spreadsheet.")
    first_line = text.split("\n", 1)[0]
    # Excel saves "CSV" with semicolons where the comma is the decimal separator, and tabs as "Text".
    delimiter = max([",", ";", "\t"], key=first_line.count) if first_line else ","
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as error:
        raise FileRejected(f"The CSV file cannot be read: {error}.") from None


# --- XLSX -----------------------------------------------------------------------------------------------------


def _cell_parser():
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class CellParser(WorkSheetParser):
        """openpyxl's parser (data_only), telling a formula without a saved value and an error from a blank."""

        def parse_cell(self, element):
            cell = super().parse_cell(element)
            if cell["value"] is None:
                formula = element.find(FORMULA_TAG)
                # <v/> or no <v> after a formula: no saved result (an empty text result is t="str" with <v></v>).
                if formula is not None and not (cell["data_type"] == "str" and element.find(VALUE_TAG) is not None):
                    cell["value"] = FormulaWithoutValue((formula.text or "").strip())
            elif cell["data_type"] == "e":
                cell["value"] = ErrorValue(str(cell["value"]))
            return cell

    return CellParser


def _open_xlsx(uploaded_file):
    import openpyxl

    if not zipfile.is_zipfile(uploaded_file):
        raise FileRejected("The file is not an XLSX spreadsheet. Upload a .xlsx (Excel) or .csv file.")
    uploaded_file.seek(0)
    try:
        with zipfile.ZipFile(uploaded_file) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                raise FileRejected("The spreadsheet expands to more data than an import may hold.")
            for info in archive.infolist():
                if info.file_size > MAX_PART_BYTES.get(info.filename, MAX_UNCOMPRESSED_BYTES):
                    raise FileRejected(
                        f"The spreadsheet's {info.filename} expands to {_megabytes(info.file_size)}, "
                        "more than an import may hold."
                    )
        uploaded_file.seek(0)
        return openpyxl.load_workbook(uploaded_file, read_only=True, data_only=True)
    except FileRejected:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise FileRejected("The XLSX file cannot be read as a spreadsheet; is it damaged?") from None


def _read_xlsx(workbook, deadline: Deadline) -> Iterator[list]:
    """The first sheet's rows as lists of values, each row as wide as its last cell present in the file (rows
    absent from the file are not produced at all: the caller numbers rows itself)."""
    try:
        sheet = workbook.worksheets[0]
        parser_class = _cell_parser()
        with workbook._archive.open(sheet._worksheet_path) as source:
            parser = parser_class(
                source,
                sheet._shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            for number, cells in parser.parse():
                deadline.check()
                present = [cell for cell in cells if not is_blank(cell["value"])]
                if not present:
                    yield number, []
                    continue
                last = max(cell["column"] for cell in present)
                where = next(cell for cell in present if cell["column"] == last)
                if number > MAX_SHEET_ROW:
                    raise FileRejected(
                        f"Cell {get_column_letter(where['column'])}{number} holds a value in row {number:,}; an import "
                        f"reads rows 1 to {MAX_SHEET_ROW:,} only ({MAX_ROWS:,} rows of data at most). Delete what is "
                        "below your rows, or split the file."
                    )
                if last > MAX_COLUMNS:
                    raise FileRejected(
                        f"Cell {get_column_letter(last)}{number} holds a value in column {get_column_letter(last)}; an "
                        f"import reads columns A to {get_column_letter(MAX_COLUMNS)} only. Delete what is right of "
                        "the import's columns."
                    )
                row = [None] * last
                for cell in present:
                    row[cell["column"] - 1] = cell["value"]
                yield number, row
    except FileRejected:
        raise
    except Exception:
        raise FileRejected("The XLSX file cannot be read as a spreadsheet; is it damaged?") from None
    finally:
        workbook.close()


# --- the upload -----------------------------------------------------------------------------------------------


@dataclass
class Header:
    row: int
    names: list[str]  # normalized, one per column of the header (ignored columns included)
    letters: dict[str, str]  # column name -> its letter
    ignored: list[str] = field(default_factory=list)  # export-only columns, as written in the file
    unnamed: list[int] = field(default_factory=list)  # indexes of blank header cells between named ones


@dataclass
class Upload:
    header: Header
    options: ReadOptions
    _rows: Iterator[tuple[int, list]]
    deadline: Deadline

    def rows(self) -> Iterator[tuple[int, dict]]:
        """(spreadsheet row number, {column name: raw value}) per non-blank row; ignored columns are left out."""
        names = self.header.names
        width = len(names)
        keep = [(index, name) for index, name in enumerate(names) if name]
        count = 0
        for number, raw in self._rows:
            self.deadline.check()
            if all(is_blank(cell) for cell in raw):
                continue
            count += 1
            if count > MAX_ROWS:
                raise FileRejected(f"The file has more than {MAX_ROWS:,} rows; split it into smaller files.")
            if len(raw) > MAX_COLUMNS and any(not is_blank(cell) for cell in raw[MAX_COLUMNS:]):
                raise FileRejected(
                    f"Row {number} has a value right of column {get_column_letter(MAX_COLUMNS)}; an import reads "
                    f"columns A to {get_column_letter(MAX_COLUMNS)} only."
                )
            if number > MAX_SHEET_ROW:
                raise FileRejected(f"Row {number:,} holds values; an import reads rows 1 to {MAX_SHEET_ROW:,} only.")
            values = {name: raw[index] if index < len(raw) else None for index, name in keep}
            under_nothing = [index for index in self.header.unnamed if index < len(raw) and not is_blank(raw[index])]
            if under_nothing:
                values["__unnamed__"] = get_column_letter(under_nothing[0] + 1)
            extra = [cell for cell in raw[width:] if not is_blank(cell)]
            if extra:
                values["__extra__"] = get_column_letter(
                    width + 1 + next(i for i, cell in enumerate(raw[width:]) if not is_blank(cell))
                )
            yield number, values
        if count == 0:
            raise FileRejected("The file has a header row but no rows to import.")


def open_upload(importer, uploaded_file, options: ReadOptions, deadline: Deadline) -> Upload:
    """Check the file and its header (see the module docstring). `importer` gives the columns: `columns` (each with
    `name`, `required`), `aliases` ({other header: column}) and `ignored` (export-only headers read and dropped)."""
    name = str(getattr(uploaded_file, "name", "") or "").lower()
    if not (name.endswith(".csv") or name.endswith(".xlsx")):
        raise FileRejected("Upload a .csv or .xlsx file (the file name must end in .csv or .xlsx).")
    size = file_size(uploaded_file)
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise FileRejected(f"The file is {_megabytes(size)}; the largest file accepted is {_megabytes(limit)}.")
    if size == 0:
        raise FileRejected("The file is empty.")
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)

    if name.endswith(".csv"):
        rows = enumerate(_read_csv(uploaded_file, options), start=1)
    else:
        workbook = _open_xlsx(uploaded_file)
        options = ReadOptions(decimal_separator=options.decimal_separator, epoch=workbook.epoch)
        rows = _read_xlsx(workbook, deadline)

    header = None
    for number, raw in rows:
        deadline.check()
        if any(not is_blank(cell) for cell in raw):
            header = (number, raw)
            break
    if header is None:
        raise FileRejected("The file is empty: it has no header row and no rows to import.")
    header_row, raw_header = header
    raw_header = list(raw_header)
    while raw_header and is_blank(raw_header[-1]):
        raw_header.pop()
    if len(raw_header) > MAX_COLUMNS:
        raise FileRejected(
            f"The header row (row {header_row}) has {len(raw_header):,} columns; an import reads {MAX_COLUMNS} at most."
        )
    known = {column.name for column in getattr(importer, "all_columns", importer.columns)}
    aliases = getattr(importer, "aliases", {}) or {}
    ignored_names = set(getattr(importer, "ignored", ()) or ())
    names, ignored, unknown, unnamed = [], [], [], []
    for index, cell in enumerate(raw_header):
        normalized = normalize_header(cell)
        normalized = aliases.get(normalized, normalized)
        if is_blank(cell):
            names.append("")
            unnamed.append(index)
        elif normalized in known:
            names.append(normalized)
        elif normalized in ignored_names:
            names.append("")
            ignored.append(str(cell).strip())
        else:
            names.append("")
            unknown.append(str(cell if cell is not None else ""))
    expected = ", ".join(column.name for column in importer.columns)
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    missing = [column.name for column in importer.columns if column.required and column.name not in names]
    problems = []
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}")
    if duplicates:
        problems.append(f"repeated column{'s' if len(duplicates) > 1 else ''} {', '.join(duplicates)}")
    if problems:
        raise FileRejected(
            f"The header row (row {header_row}) has {'; '.join(problems)}. The columns of an import of "
            f"{importer.kind} are: {expected} (see the template)."
        )
    letters = {n: get_column_letter(index + 1) for index, n in enumerate(names) if n}
    return Upload(Header(header_row, names, letters, ignored, unnamed), options, rows, deadline)
