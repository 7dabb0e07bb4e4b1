"""The writers every report goes through: XLSX and CSV, both streamed to the client as they are written.

Both take `Table`s: a header of typed `Column`s and an iterator of rows whose values already have the column's
Python type (int, Decimal, date, datetime, str or None).

XLSX (`iter_xlsx`, through reports/xlsx.py): each table is one sheet holding one Excel table (filter buttons,
banded rows) with a frozen header, column widths and number formats; numbers stay numbers, dates dates, and text is
written as text, unaltered (an XLSX string cell is never a formula). The totals are below the table, separated by a
blank row, as live `=SUM(...)`/`=SUMIFS(...)` formulas carrying their computed value (a reader that does not
recalculate still sees the figure); notes (filters applied, when generated) follow.

CSV (`iter_csv`): one table per file, header and rows only (no title, totals or notes: a pivot table or an import
takes every line as data), UTF-8 with a byte-order mark so that Excel reads accented text. `escape_cell` is the one
formula-injection rule; fields with a separator, a quote, a tab or a line break are quoted.
"""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from .xlsx import HEADER, Cell, SheetSpec, StreamingWorkbook, cell_xml, excel_serial, inline_string

TEXT, INT, MONEY, PRICE, DATE, DATETIME, PERCENT = "text", "int", "money", "price", "date", "datetime", "percent"
PLAIN = "plain"  # a whole number shown without thousands separators: a year, a count, a row's number
NUMERIC_KINDS = {INT, PLAIN, MONEY, PRICE, PERCENT}
STYLE_OF_KIND = {
    TEXT: None,
    PLAIN: None,
    INT: "int",
    MONEY: "money",
    PRICE: "price",
    DATE: "date",
    DATETIME: "datetime",
    PERCENT: "percent",
}

# --- CSV escaping: the one rule --------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@")
_CELL_SPLIT = re.compile(r"[\t\r\n]")


def escape_cell(value):
    """CSV text that a spreadsheet could take for a formula, prefixed with `'`; every other value as is.

    A cell is escaped if it begins with = + - @ (or a tab or CR), or if any part of it after a tab, CR or LF does:
    a reader that splits cells on tabs or lines would otherwise start a cell with a live formula.
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(FORMULA_STARTS + ("\t", "\r")):
        return "'" + value
    if ("\t" in value or "\r" in value or "\n" in value) and any(
        part.startswith(FORMULA_STARTS) for part in _CELL_SPLIT.split(value)[1:]
    ):
        return "'" + value
    return value


_MUST_QUOTE = re.compile(r'[",;\t\r\n]')


def csv_field(text: str) -> str:
    """One CSV field: quoted (quotes doubled) when it holds a separator (comma or semicolon), a quote, a tab or a
    line break, so that no reader splits it into two cells."""
    if _MUST_QUOTE.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_value(value) -> str:
    """A value as CSV text: dates ISO 8601, decimals without exponent or trailing zeros, text escaped and quoted."""
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_field(escape_cell(value))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


# --- tables ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    width: float = 14
    total: bool = False  # summed in the table's total rows


@dataclass(frozen=True)
class Total:
    """A total row: the sum of every `total` column over the rows that match.

    `where` is None (all rows) or (column index, "blank" | "nonblank" | an exact text value).
    """

    label: str
    where: tuple[int, str] | None = None

    def matches(self, row) -> bool:
        if self.where is None:
            return True
        index, wanted = self.where
        value = row[index]
        if wanted == "blank":
            return value is None or value == ""
        if wanted == "nonblank":
            return value is not None and value != ""
        return value == wanted

    def criteria(self) -> str:
        wanted = self.where[1]
        if wanted == "blank":
            return '""'
        if wanted == "nonblank":
            return '"<>"'
        return '"' + wanted.replace('"', '""') + '"'


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: Iterable[tuple]
    totals: list[Total] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # lines written under the table in the XLSX (filters, etc.)
    name: str = ""  # the Excel table's name; from the title when empty


# --- CSV -------------------------------------------------------------------------------------------------------

CSV_FLUSH_ROWS = 2000


def iter_csv(table: Table) -> Iterator[str]:
    """The table as CSV text (header and rows), in chunks of CSV_FLUSH_ROWS rows, after a UTF-8 byte-order mark."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    buffer.write(",".join(csv_value(column.header) for column in table.columns) + "\r\n")
    pending = 0
    for row in table.rows:
        buffer.write(",".join([csv_value(value) for value in row]) + "\r\n")
        pending += 1
        if pending >= CSV_FLUSH_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


# --- XLSX -------------------------------------------------------------------------------------------------------

XLSX_FLUSH_ROWS = 500
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f-\x9f\ufffe\uffff]|[\ud800-\udfff]")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> str:
    """`text` cut to `limit` characters as Excel counts them (UTF-16 units), then rid of what a sheet name may not
    begin or end with (an apostrophe, spaces)."""
    while _utf16_len(text) > limit:
        text = text[:-1]
    while text != text.strip().strip("'"):
        text = text.strip().strip("'")
    return text


class SheetNames:
    """Sheet names Excel accepts for any title: no []:*?/\\ or control characters, at most 31 characters, not
    beginning or ending with an apostrophe, not the reserved "History", unique regardless of case."""

    def __init__(self):
        self._taken: set[str] = {"history"}  # reserved by Excel

    def _is_taken(self, name: str) -> bool:
        return name.casefold() in self._taken or name.lower() in self._taken

    def __call__(self, title: str) -> str:
        base = _cut(_SHEET_NAME_FORBIDDEN.sub(" ", title), 31) or "Sheet"
        name, number = base, 1
        while self._is_taken(name):
            number += 1
            suffix = f" ({number})"
            name = (_cut(base, 31 - len(suffix)) or "Sheet") + suffix
        self._taken.update({name.casefold(), name.lower()})
        return name


def _table_name(title: str, taken: set[str]) -> str:
    """An Excel table name: letters, digits and underscores, starting with a letter, not like a cell reference."""
    base = "".join(word.capitalize() for word in re.findall(r"[A-Za-z0-9]+", title)) or "Table"
    if not base[0].isalpha() or re.fullmatch(r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", base):
        base = "T_" + base
    base = base[:200]
    name, number = base, 1
    while name.lower() in taken:
        number += 1
        name = f"{base}_{number}"
    taken.add(name.lower())
    return name


def _unique_headers(columns: list[Column]) -> list[str]:
    """Header texts, made unique regardless of case (an Excel table needs that) and non-empty."""
    seen, headers = set(), []
    for index, column in enumerate(columns):
        header = column.header.strip() or f"Column {index + 1}"
        header = _CONTROL_OR_BREAK.sub(" ", header)
        name, number = header, 1
        while name.lower() in seen:
            number += 1
            name = f"{header} ({number})"
        seen.add(name.lower())
        headers.append(name)
    return headers


_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f]")


def _row_writer(columns: list[Column], letters: list[str]):
    """A function writing one data row as XML: the hot path of a 100,000-row export, one branch per column kind."""
    from .xlsx import STYLE

    plans = []
    for col, column in enumerate(columns):
        style = STYLE_OF_KIND[column.kind]
        s = f' s="{STYLE[style]}"' if style else ""
        plans.append((col, letters[col], column.kind, s))

    def write(number: int, row) -> str:
        n = str(number)
        parts = ['<row r="', n, '">']
        for col, letter, kind, s in plans:
            value = row[col]
            if value is None or value == "":
                continue
            if kind == TEXT:
                parts.append(
                    f'<c r="{letter}{n}" t="inlineStr">'
                    f"{inline_string(value if isinstance(value, str) else str(value))}</c>"
                )
            elif kind in (DATE, DATETIME):
                serial = excel_serial(value)
                parts.append(
                    f'<c r="{letter}{n}"{s}><v>{serial}</v></c>'
                    if serial is not None
                    else cell_xml(f"{letter}{n}", value.isoformat())
                )
            else:
                parts.append(f'<c r="{letter}{n}"{s}><v>{value}</v></c>')
        parts.append("</row>")
        return "".join(parts)

    return write


def write_table_sheet(book: StreamingWorkbook, index: int, table: Table, table_names: set[str]) -> Iterator[bytes]:
    """Write `table` as sheet `index`: header, rows (an Excel table), a blank row, the totals, notes. Yields the
    workbook's bytes every XLSX_FLUSH_ROWS rows."""
    columns = table.columns
    headers = _unique_headers(columns)
    with book.sheet(index, widths=[column.width for column in columns], freeze_rows=1) as sheet:
        for col in range(len(columns)):
            sheet.letter(col)
        letters = [sheet.letter(col) for col in range(len(columns))]
        sheet.row([Cell(header, HEADER) for header in headers], height=30)
        write = _row_writer(columns, letters)
        summed = [c for c, column in enumerate(columns) if column.total]
        totals = table.totals
        sums = [[0] * len(summed) for _ in totals]
        number = 1
        pending = []
        for row in table.rows:
            number += 1
            pending.append(write(number, row))
            for t, spec in enumerate(totals):
                if spec.matches(row):
                    acc = sums[t]
                    for i, c in enumerate(summed):
                        if row[c] is not None:
                            acc[i] += row[c]
            if len(pending) >= XLSX_FLUSH_ROWS:
                sheet.write("".join(pending))
                pending.clear()
                yield book.take()
        sheet.write("".join(pending))
        sheet.next_row = number + 1
        sheet.table(
            first_row=1, last_row=number, headers=headers, name=_table_name(table.name or table.title, table_names)
        )
        first_data, last_data = 2, number
        if totals:
            sheet.skip(1 if number > 1 else 2)  # a blank row between the table (at least 1 row) and its totals
            for t, spec in enumerate(totals):
                cells = [None] * len(columns)
                cells[0] = Cell(spec.label, "total_label")
                for i, c in enumerate(summed):
                    letter = letters[c]
                    span = f"{letter}{first_data}:{letter}{last_data}"
                    if last_data < first_data:
                        formula = "0"
                    elif spec.where is None:
                        formula = f"SUM({span})"
                    else:
                        crit = letters[spec.where[0]]
                        formula = f"SUMIFS({span},{crit}{first_data}:{crit}{last_data},{spec.criteria()})"
                    value = sums[t][i]
                    cells[c] = Cell(
                        value, "total_" + ("plain" if columns[c].kind in (PLAIN, TEXT) else columns[c].kind), formula
                    )
                sheet.row(cells)
        if table.notes:
            sheet.skip()
            for note in table.notes:
                sheet.row([note])
    yield book.take()


def iter_xlsx(tables: list[Table], histories: list = ()) -> Iterator[bytes]:
    """A workbook of `tables` (one sheet and Excel table each) and plan-history sheets, streamed."""
    names = SheetNames()
    specs = [SheetSpec(names(table.title), table=True) for table in tables]
    specs += [SheetSpec(names(f"History {history.plan.name}")) for history in histories]
    book = StreamingWorkbook(specs)
    yield book.take()
    table_names: set[str] = set()
    for index, table in enumerate(tables):
        yield from write_table_sheet(book, index, table, table_names)
    for offset, history in enumerate(histories):
        from .plan_history import write_plan_history

        write_plan_history(book, len(tables) + offset, history)
        yield book.take()
    book.close()
    yield book.take()


def write_xlsx(path: str, *, tables: list[Table] = (), histories: list = ()) -> None:
    """The workbook to a file (tests, benchmarks, the reserve export)."""
    with open(path, "wb") as out:
        for chunk in iter_xlsx(list(tables), list(histories)):
            out.write(chunk)
