"""The streaming XLSX writer: text exactly as given (XML and control characters included), numbers, dates, an Excel
table per data sheet with the totals below it, and bytes that leave before the last row is read."""

import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl

from plan_admin.reports.writers import DATE, DATETIME, INT, MONEY, PLAIN, Column, Table, Total, iter_xlsx
from plan_admin.reports.xlsx import excel_serial

TRICKY = [
    "<b>&amp;</b>",
    "  leading and trailing  ",
    "tab\there",
    "line\nbreak",
    "bell\x07",
    "_x0041_ literal",
    "=1+1",
    "-5",
    "@x",
    "Ünïcödé ✓ 𝔘",
]


def _read(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)), openpyxl.load_workbook(io.BytesIO(data), data_only=True)


def test_text_is_written_exactly_and_types_are_kept():
    rows = [
        (text, index, Decimal("1.50"), datetime.date(2024, 2, 29), datetime.datetime(2024, 2, 29, 13, 45), 2024)
        for index, text in enumerate(TRICKY)
    ]
    table = Table(
        "Tricky",
        [
            Column("Text"),
            Column("N", INT, total=True),
            Column("Amount", MONEY, total=True),
            Column("Day", DATE),
            Column("At", DATETIME),
            Column("Year", PLAIN),
        ],
        rows,
        totals=[Total("Total")],
        notes=["Filters: none."],
    )
    data = b"".join(iter_xlsx([table]))
    formulas, values = _read(data)
    sheet = values.worksheets[0]
    # openpyxl does not decode Excel's _xHHHH_ escapes (Excel and LibreOffice do): compare those two in the XML.
    shown = {"bell\x07": "bell_x0007_", "_x0041_ literal": "_x005F_x0041_ literal"}
    assert [sheet.cell(row=2 + i, column=1).value for i in range(len(TRICKY))] == [shown.get(t, t) for t in TRICKY]
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<t>bell_x0007_</t>" in xml and "<t>_x005F_x0041_ literal</t>" in xml
    assert '<t xml:space="preserve">  leading and trailing  </t>' in xml
    assert all(formulas.worksheets[0].cell(row=2 + i, column=1).data_type == "s" for i in range(len(TRICKY)))
    assert sheet["B2"].value == 0 and isinstance(sheet["B3"].value, int) and sheet["C2"].value == 1.5
    assert sheet["D2"].value == datetime.datetime(2024, 2, 29) and sheet["E2"].value == datetime.datetime(
        2024, 2, 29, 13, 45
    )
    assert sheet["F2"].value == 2024 and sheet["F2"].number_format == "General"
    last = 1 + len(TRICKY)
    table_ref = formulas.worksheets[0].tables["Tricky"].ref
    assert table_ref == f"A1:F{last}"
    assert sheet.cell(row=last + 1, column=1).value is None
    assert sheet.cell(row=last + 2, column=1).value == "Total"
    assert sheet.cell(row=last + 2, column=2).value == sum(range(len(TRICKY)))
    assert formulas.worksheets[0].cell(row=last + 2, column=2).value == f"=SUM(B2:B{last})"
    assert sheet.cell(row=last + 4, column=1).value == "Filters: none."


def test_an_empty_table_is_still_a_valid_table():
    table = Table("Nothing", [Column("A"), Column("B", INT, total=True)], [], totals=[Total("Total")])
    formulas, values = _read(b"".join(iter_xlsx([table])))
    assert formulas.worksheets[0].tables["Nothing"].ref == "A1:B2"
    assert values.worksheets[0]["A4"].value == "Total" and values.worksheets[0]["B4"].value == 0


def test_the_first_bytes_leave_before_the_rows_are_read():
    read = []

    def rows():
        for number in range(3000):
            read.append(number)
            yield (f"row {number}", number)

    chunks = iter_xlsx([Table("Many", [Column("Name"), Column("N", INT)], rows())])
    first = next(chunks)
    assert first.startswith(b"PK") and read == [], "the package's first parts leave before any row is read"
    second = next(chunks)
    assert second and len(read) < 3000, "rows leave in chunks while later rows are still unread"
    data = first + second + b"".join(chunks)
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    assert openpyxl.load_workbook(io.BytesIO(data)).worksheets[0].max_row == 3001


def test_excel_serials():
    assert excel_serial(datetime.date(1900, 1, 1)) == 1
    assert excel_serial(datetime.date(1900, 3, 1)) == 61  # after Excel's phantom 1900-02-29
    assert excel_serial(datetime.date(2024, 1, 1)) == 45292
    assert excel_serial(datetime.datetime(2024, 1, 1, 12, 0)) == 45292.5
    assert excel_serial(datetime.date(1899, 12, 31)) is None
