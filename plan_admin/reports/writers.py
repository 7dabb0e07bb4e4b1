"""The writers every report goes through: XLSX (streamed to a temp file) and CSV (streamed to the client).

Both take `Table`s: a header of typed `Column`s and an iterator of rows whose values already have the column's
Python type (int, Decimal, date, str or None). Text goes through `escape_cell`, the one formula-injection guard;
numbers stay numbers and dates stay dates. XLSX is written by xlsxwriter in constant_memory mode, row by row, so a
100,000-row ledger never sits in memory; totals are live `=SUM(...)`/`=SUMIFS(...)` formulas carrying their computed
value, so a reader that does not recalculate (or a test with openpyxl's data_only) still sees the figure.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

# Text a spreadsheet would read as a formula (or as a cell-splitting control character).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

TEXT, INT, MONEY, PRICE, DATE, PERCENT = "text", "int", "money", "price", "date", "percent"
PLAIN = "plain"  # a whole number shown without thousands separators: a year, a count, a row's number
NUMERIC_KINDS = {INT, PLAIN, MONEY, PRICE, PERCENT}


def escape_cell(value):
    """Prefix `'` to text that a spreadsheet would take for a formula; every other value is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


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
    notes: list[str] = field(default_factory=list)  # lines written under the table (filters applied, etc.)


# --- XLSX ------------------------------------------------------------------------------------------------------


class XlsxReport:
    """One workbook, written sheet by sheet in constant_memory mode. Use as a context manager."""

    def __init__(self, path: str):
        self.workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,  # belt and braces: text is never a formula
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "default_date_format": "yyyy-mm-dd",
                "remove_timezone": True,
            },
        )
        wb = self.workbook
        self.formats = {
            "header": wb.add_format({"bold": True, "bg_color": "#E8EEF4", "bottom": 1, "text_wrap": True,
                                     "valign": "top"}),
            "title": wb.add_format({"bold": True, "font_size": 13}),
            "bold": wb.add_format({"bold": True}),
            INT: wb.add_format({"num_format": "#,##0"}),
            MONEY: wb.add_format({"num_format": "$#,##0.00"}),
            PRICE: wb.add_format({"num_format": "$#,##0.00####"}),
            DATE: wb.add_format({"num_format": "yyyy-mm-dd"}),
            PERCENT: wb.add_format({"num_format": "0.0%"}),
            TEXT: None,
            PLAIN: None,
            "total_label": wb.add_format({"bold": True, "top": 1}),
            "total_" + PLAIN: wb.add_format({"bold": True, "top": 1}),
            "total_" + MONEY: wb.add_format({"bold": True, "top": 1, "num_format": "$#,##0.00"}),
            "total_" + PRICE: wb.add_format({"bold": True, "top": 1, "num_format": "$#,##0.00####"}),
            "total_" + PERCENT: wb.add_format({"bold": True, "top": 1, "num_format": "0.0%"}),
            "ok": wb.add_format({"bold": True, "font_color": "#1A7F37"}),
            "price": wb.add_format({"num_format": "$#,##0.000###"}),
            "total_int": wb.add_format({"bold": True, "top": 1, "num_format": "#,##0"}),
        }
        self._sheet_names: set[str] = set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.workbook.close()
        return False

    def add_sheet(self, title: str):
        name = "".join(" " if ch in "[]:*?/\\" else ch for ch in title)[:31].strip() or "Sheet"
        base, n = name, 2
        while name.lower() in self._sheet_names:
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)] + suffix
            n += 1
        self._sheet_names.add(name.lower())
        return self.workbook.add_worksheet(name)

    def write_table(self, table: Table, sheet=None, first_row: int = 0) -> int:
        """Write `table` (header, rows, total rows, notes) from `first_row`; return the next free row."""
        sheet = sheet or self.add_sheet(table.title)
        columns = table.columns
        for c, column in enumerate(columns):
            sheet.set_column(c, c, column.width)
        header = self.formats["header"]
        for c, column in enumerate(columns):
            sheet.write_string(first_row, c, column.header, header)
        sheet.freeze_panes(first_row + 1, 0)
        sheet.set_row(first_row, 30)

        # The row loop is the hot path of a 100,000-row export: columns are grouped by kind so that each cell is
        # one call. xlsxwriter's underscore methods are its public write_* minus the A1-notation wrapper; the
        # public ones are the fallback should a release rename them.
        write_string = getattr(sheet, "_write_string", sheet.write_string)
        write_number = getattr(sheet, "_write_number", sheet.write_number)
        write_datetime = getattr(sheet, "_write_datetime", sheet.write_datetime)
        formats = self.formats
        text_cols = [c for c, column in enumerate(columns) if column.kind == TEXT]
        int_cols = [(c, formats[INT] if column.kind == INT else None) for c, column in enumerate(columns)
                    if column.kind in (INT, PLAIN)]
        decimal_cols = [(c, formats[column.kind]) for c, column in enumerate(columns)
                        if column.kind in (MONEY, PRICE, PERCENT)]
        date_cols = [(c, formats[DATE]) for c, column in enumerate(columns) if column.kind == DATE]
        summed = [c for c, column in enumerate(columns) if column.total]
        totals = table.totals
        sums = [[0] * len(summed) for _ in totals]
        row_index = first_row
        for row in table.rows:
            row_index += 1
            for c in text_cols:
                value = row[c]
                if value:
                    write_string(row_index, c, escape_cell(value) if isinstance(value, str) else str(value))
            for c, fmt in int_cols:
                value = row[c]
                if value is not None:
                    write_number(row_index, c, value, fmt)
            for c, fmt in decimal_cols:
                value = row[c]
                if value is not None:
                    write_number(row_index, c, float(value), fmt)
            for c, fmt in date_cols:
                value = row[c]
                if value is not None:
                    write_datetime(row_index, c, value, fmt)
            if totals:
                for t, spec in enumerate(totals):
                    if spec.matches(row):
                        acc = sums[t]
                        for i, c in enumerate(summed):
                            if row[c] is not None:
                                acc[i] += row[c]
        first_data, last_data = first_row + 2, row_index + 1  # 1-based spreadsheet rows
        for t, spec in enumerate(totals):
            row_index += 1
            sheet.write_string(row_index, 0, spec.label, self.formats["total_label"])
            for i, c in enumerate(summed):
                letter = xl_col_to_name(c)
                span = f"{letter}{first_data}:{letter}{last_data}"
                if last_data < first_data:
                    formula = "=0"
                elif spec.where is None:
                    formula = f"=SUM({span})"
                else:
                    crit = xl_col_to_name(spec.where[0])
                    formula = f"=SUMIFS({span},{crit}{first_data}:{crit}{last_data},{spec.criteria()})"
                value = sums[t][i]
                sheet.write_formula(row_index, c, formula, self.formats["total_" + columns[c].kind],
                                    float(value) if isinstance(value, Decimal) else value)
        if table.notes:
            row_index += 1
            for note in table.notes:
                row_index += 1
                sheet.write_string(row_index, 0, escape_cell(note))
        return row_index + 1


# --- CSV -------------------------------------------------------------------------------------------------------

CSV_FLUSH_ROWS = 2000


def csv_value(value):
    """A value as CSV text: dates ISO 8601, decimals without exponent or trailing zeros, text escaped."""
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_cell(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def iter_csv(tables: list[Table], *, bom: bool = True) -> Iterator[str]:
    """The tables as CSV text in chunks of about CSV_FLUSH_ROWS rows; several tables are separated by a blank line
    and introduced by their title. Starts with a UTF-8 byte-order mark so that Excel reads the text as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write("\ufeff")
    for number, table in enumerate(tables):
        if len(tables) > 1:
            if number:
                writer.writerow([])
            writer.writerow([escape_cell(table.title)])
        writer.writerow([escape_cell(column.header) for column in table.columns])
        summed = [c for c, column in enumerate(table.columns) if column.total]
        sums = [[0] * len(summed) for _ in table.totals]
        pending = 0
        for row in table.rows:
            writer.writerow([csv_value(value) for value in row])
            for t, spec in enumerate(table.totals):
                if spec.matches(row):
                    for i, c in enumerate(summed):
                        if row[c] is not None:
                            sums[t][i] += row[c]
            pending += 1
            if pending >= CSV_FLUSH_ROWS:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                pending = 0
        for t, spec in enumerate(table.totals):
            line = [""] * len(table.columns)
            line[0] = spec.label
            for i, c in enumerate(summed):
                line[c] = csv_value(sums[t][i])
            writer.writerow(line)
        for note in table.notes:
            writer.writerow([escape_cell(note)])
    yield buffer.getvalue()
