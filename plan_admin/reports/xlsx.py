"""A streaming XLSX writer: the workbook's bytes leave while its rows are still being read from the database.

An XLSX is a zip of XML parts. The zip format lets each entry be written once, front to back, with its sizes in a
data descriptor after it, and the directory at the end: so the sheet's XML can be deflated and sent row by row, and
the parts that depend on the row count (the Excel table's range) are written after the sheet. xlsxwriter cannot do
this (it assembles the zip when the workbook is closed, so the first byte waits for the whole file), and its
constant_memory mode cannot write Excel tables at all; hence this writer, which only writes what the reports use:
inline strings, numbers, dates, formulas with their computed values, a fixed set of styles, column widths, a frozen
header, and one Excel table per data sheet.

    book = StreamingWorkbook([SheetSpec("Issuances", table=True)])
    with book.sheet(0, widths=[20, 14], freeze_rows=1) as sheet:
        sheet.row([Cell("Plan", HEADER), Cell("Shares", HEADER)])
        sheet.row(["2002 Plan", 1000])
        sheet.table(first_row=1, last_row=2, headers=["Plan", "Shares"], name="Issuances")
        chunk = book.take()          # bytes produced so far, for the response
    book.close(); last = book.take()

Text is written as text, exactly: a string cell is never a formula, so no escaping is needed in XLSX (only XML's
own, and Excel's _xHHHH_ for control characters).
"""

from __future__ import annotations

import datetime
import re
import zipfile
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from xlsxwriter.utility import xl_col_to_name

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
COMPRESSLEVEL = 1  # the sheet XML is very regular: level 1 is 3x faster than 6 and about 15 % larger

# Styles (cellXfs), by name -> index. Number formats are custom (164+) so that they read the same everywhere.
_NUMFMTS = {
    "int": "#,##0",
    "money": "$#,##0.00",
    "price": "$#,##0.00####",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "percent": "0.0%",
    "par": "$#,##0.000###",
}
_NUMFMT_IDS = {name: 164 + index for index, name in enumerate(_NUMFMTS)}
# name: (number format, font: 0 normal / 1 bold / 2 title / 3 bold green, border: 0 none / 1 bottom / 2 top, wrap)
_STYLES = {
    "default": (None, 0, 0, False),
    "header": (None, 1, 1, True),
    "int": ("int", 0, 0, False),
    "money": ("money", 0, 0, False),
    "price": ("price", 0, 0, False),
    "date": ("date", 0, 0, False),
    "datetime": ("datetime", 0, 0, False),
    "percent": ("percent", 0, 0, False),
    "title": (None, 2, 0, False),
    "bold": (None, 1, 0, False),
    "total_label": (None, 1, 2, False),
    "total_plain": (None, 1, 2, False),
    "total_int": ("int", 1, 2, False),
    "total_money": ("money", 1, 2, False),
    "total_price": ("price", 1, 2, False),
    "total_percent": ("percent", 1, 2, False),
    "ok": (None, 3, 0, False),
    "par": ("par", 0, 0, False),
}
STYLE = {name: index for index, name in enumerate(_STYLES)}
HEADER = "header"

_EXCEL_ORDINAL = datetime.date(1899, 12, 30).toordinal()
_MARCH_1900 = datetime.date(1900, 3, 1).toordinal()
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_|^\s|\s$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_LITERAL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


@dataclass(frozen=True)
class Cell:
    """A value with a style, or a formula (without "=") with its computed value."""

    value: object = None
    style: str | None = None
    formula: str | None = None


@dataclass(frozen=True)
class SheetSpec:
    title: str
    table: bool = False  # the sheet holds one Excel table


def xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_attr(value: str) -> str:
    return xml_text(value).replace('"', "&quot;")


def inline_string(value: str) -> str:
    """The <is> of an inline string cell: XML-escaped, control characters as Excel's _xHHHH_."""
    if not _NEEDS_ESCAPE.search(value):
        return f"<is><t>{value}</t></is>"
    text = _LITERAL_ESCAPE.sub(r"_x005F_\1", value)  # a literal "_x0041_" stays literal
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", xml_text(text))
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f"<is><t{space}>{text}</t></is>"


def excel_serial(value: datetime.date) -> float | int | None:
    """Excel's 1900 date serial of a date or a (naive) datetime; None before 1900 (Excel has no such dates)."""
    ordinal = value.toordinal()
    if value.year < 1900:
        return None
    serial = ordinal - _EXCEL_ORDINAL if ordinal >= _MARCH_1900 else ordinal - _EXCEL_ORDINAL - 1
    if isinstance(value, datetime.datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return serial + seconds / 86400
    return serial


def cell_xml(ref: str, value, style: str | None = None, formula: str | None = None) -> str:
    s = f' s="{STYLE[style]}"' if style else ""
    if formula is not None:
        f = f"<f>{xml_text(formula)}</f>"
        if isinstance(value, str):
            return f'<c r="{ref}"{s} t="str">{f}<v>{xml_text(value)}</v></c>'
        if isinstance(value, bool):
            return f'<c r="{ref}"{s} t="b">{f}<v>{int(value)}</v></c>'
        if value is None:
            return f'<c r="{ref}"{s}>{f}</c>'
        return f'<c r="{ref}"{s}>{f}<v>{value}</v></c>'
    if isinstance(value, str):
        return f'<c r="{ref}"{s} t="inlineStr">{inline_string(value)}</c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    if isinstance(value, datetime.date):
        serial = excel_serial(value)
        if serial is None:
            return cell_xml(ref, value.isoformat(), style)
        if not style:
            s = f' s="{STYLE["datetime" if isinstance(value, datetime.datetime) else "date"]}"'
        return f'<c r="{ref}"{s}><v>{serial}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr">{inline_string(str(value))}</c>'


class _Sink:
    """The zip's output: an unseekable stream whose bytes are taken away as they come."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


class Sheet:
    def __init__(self, stream, letters: list[str]):
        self._stream = stream
        self.next_row = 1  # 1-based number of the row the next `row()` writes
        self.tables: list[tuple[str, str, list[str]]] = []  # (name, ref, headers)
        self._letters = letters

    def letter(self, col: int) -> str:
        while col >= len(self._letters):
            self._letters.append(xl_col_to_name(len(self._letters)))
        return self._letters[col]

    def write(self, xml: str) -> None:
        self._stream.write(xml.encode("utf-8"))

    def row(self, cells: Iterable, *, height: float | None = None) -> int:
        """Write the next row from column A: values, Cells, or None for an empty cell; return its number."""
        number = self.next_row
        parts = [f'<row r="{number}"' + (f' ht="{height}" customHeight="1">' if height else ">")]
        for col, cell in enumerate(cells):
            if cell is None or cell == "":
                continue
            ref = f"{self.letter(col)}{number}"
            if isinstance(cell, Cell):
                if cell.value is None and cell.formula is None:
                    continue
                parts.append(cell_xml(ref, cell.value, cell.style, cell.formula))
            else:
                parts.append(cell_xml(ref, cell))
        parts.append("</row>")
        self.write("".join(parts))
        self.next_row += 1
        return number

    def skip(self, rows: int = 1) -> None:
        self.next_row += rows

    def table(self, *, first_row: int, last_row: int, headers: list[str], name: str) -> None:
        """Make rows first_row (the header) to last_row an Excel table (filter buttons, banded rows)."""
        last_row = max(last_row, first_row + 1)  # a table has at least one data row
        ref = f"A{first_row}:{self.letter(len(headers) - 1)}{last_row}"
        self.tables.append((name, ref, headers))


class StreamingWorkbook:
    def __init__(self, sheets: list[SheetSpec]):
        self.specs = sheets
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESSLEVEL)
        self._letters: list[str] = []
        self._tables = 0
        self._names = [spec.title for spec in sheets]
        self._write_part("[Content_Types].xml", self._content_types())
        self._write_part(
            "_rels/.rels",
            XML_HEAD
            + (
                f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
                f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
            ),
        )

    def take(self) -> bytes:
        """The bytes written since the last call."""
        return self._sink.take()

    def _write_part(self, name: str, text: str) -> None:
        self._zip.writestr(
            zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)),
            text.encode("utf-8"),
            compress_type=zipfile.ZIP_DEFLATED,
        )

    def _content_types(self) -> str:
        parts = [
            f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(len(self.specs))
        ]
        parts += [
            f'<Override PartName="/xl/tables/table{i + 1}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/>'
            for i in range(sum(spec.table for spec in self.specs))
        ]
        return XML_HEAD + (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' + "".join(parts) + "</Types>"
        )

    @contextmanager
    def sheet(self, index: int, *, widths: list[float] = (), freeze_rows: int = 0):
        """Write sheet `index` (of the specs given at creation): open its XML, yield a Sheet, then close it and
        write its table part."""
        info = zipfile.ZipInfo(f"xl/worksheets/sheet{index + 1}.xml", date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with self._zip.open(info, "w") as stream:
            sheet = Sheet(stream, self._letters)
            selected = ' tabSelected="1"' if index == 0 else ""
            if freeze_rows:
                top = f"A{freeze_rows + 1}"
                view = (
                    f'<sheetView{selected} workbookViewId="0"><pane ySplit="{freeze_rows}" topLeftCell="{top}" '
                    'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
                    f'activeCell="{top}" sqref="{top}"/></sheetView>'
                )
            else:
                view = f'<sheetView{selected} workbookViewId="0"/>'
            cols = "".join(
                f'<col min="{i + 1}" max="{i + 1}" width="{width + 0.71:.2f}" customWidth="1"/>'
                for i, width in enumerate(widths)
            )
            sheet.write(
                XML_HEAD + f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><sheetViews>{view}</sheetViews>'
                '<sheetFormatPr defaultRowHeight="15"/>' + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>"
            )
            yield sheet
            tables = "".join(f'<tablePart r:id="rId{i + 1}"/>' for i in range(len(sheet.tables)))
            sheet.write(
                '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                'footer="0.3"/>'
                + (f'<tableParts count="{len(sheet.tables)}">{tables}</tableParts>' if tables else "")
                + "</worksheet>"
            )
        if sheet.tables:
            rels = []
            for number, (name, ref, headers) in enumerate(sheet.tables, start=1):
                self._tables += 1
                rels.append(
                    f'<Relationship Id="rId{number}" Type="{REL}/table" Target="../tables/table{self._tables}.xml"/>'
                )
                columns = "".join(
                    f'<tableColumn id="{i + 1}" name="{xml_attr(header)}"/>' for i, header in enumerate(headers)
                )
                self._write_part(
                    f"xl/tables/table{self._tables}.xml",
                    XML_HEAD
                    + (
                        f'<table xmlns="{MAIN}" id="{self._tables}" name="{name}" displayName="{name}" ref="{ref}" '
                        f'totalsRowShown="0"><autoFilter ref="{ref}"/><tableColumns count="{len(headers)}">{columns}'
                        '</tableColumns><tableStyleInfo name="TableStyleMedium2" showFirstColumn="0" '
                        'showLastColumn="0" showRowStripes="1" showColumnStripes="0"/></table>'
                    ),
                )
            self._write_part(
                f"xl/worksheets/_rels/sheet{index + 1}.xml.rels",
                XML_HEAD + (f'<Relationships xmlns="{PKG_REL}">' + "".join(rels) + "</Relationships>"),
            )

    def close(self) -> None:
        sheets = "".join(
            f'<sheet name="{xml_attr(name)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
            for i, name in enumerate(self._names)
        )
        self._write_part(
            "xl/workbook.xml",
            XML_HEAD
            + (
                f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><workbookPr/><bookViews><workbookView/></bookViews>'
                f'<sheets>{sheets}</sheets><calcPr calcId="191029" fullCalcOnLoad="1"/></workbook>'
            ),
        )
        rels = "".join(
            f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(len(self._names))
        )
        rels += f'<Relationship Id="rId{len(self._names) + 1}" Type="{REL}/styles" Target="styles.xml"/>'
        self._write_part(
            "xl/_rels/workbook.xml.rels", XML_HEAD + f'<Relationships xmlns="{PKG_REL}">{rels}</Relationships>'
        )
        self._write_part("xl/styles.xml", _styles())
        self._zip.close()


def _styles() -> str:
    numfmts = "".join(
        f'<numFmt numFmtId="{_NUMFMT_IDS[name]}" formatCode="{xml_attr(code)}"/>' for name, code in _NUMFMTS.items()
    )
    fonts = (
        '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="13"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><color rgb="FF1A7F37"/><name val="Calibri"/><family val="2"/></font>'
    )
    borders = (
        "<border><left/><right/><top/><bottom/><diagonal/></border>"
        '<border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/></border>'
        '<border><left/><right/><top style="thin"><color auto="1"/></top><bottom/><diagonal/></border>'
    )
    xfs = []
    for numfmt, font, border, wrap in _STYLES.values():
        fmt_id = _NUMFMT_IDS[numfmt] if numfmt else 0
        attrs = f'numFmtId="{fmt_id}" fontId="{font}" fillId="0" borderId="{border}" xfId="0"'
        attrs += ' applyNumberFormat="1"' if numfmt else ""
        attrs += ' applyFont="1"' if font else ""
        attrs += ' applyBorder="1"' if border else ""
        xfs.append(
            f'<xf {attrs} applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf>'
            if wrap
            else f"<xf {attrs}/>"
        )
    return XML_HEAD + (
        f'<styleSheet xmlns="{MAIN}"><numFmts count="{len(_NUMFMTS)}">{numfmts}</numFmts>'
        f'<fonts count="4">{fonts}</fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
        f'</fill></fills><borders count="3">{borders}</borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" '
        'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
    )
