"""Downloadable templates for each import: an XLSX whose first sheet has exactly the import's columns, with drop-down
lists (data validation) for categories, kinds, plans and participants, and an instructions sheet; and a CSV with the
header row alone (an example row in a template is a row someone forgets to delete).
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

from ..models import Participant, Plan
from .cells import DECIMAL_SEPARATORS
from .engine import IMPORTERS
from .files import MAX_ROWS

GENERAL = [
    "Fill one row per {noun} on the first sheet, under the header. Headers are not case-sensitive and the order of "
    "the columns does not matter; a column the import does not know is refused.",
    "Numbers: 1000 or 1,000 (commas only between groups of three digits), and a decimal point for decimals (0.15). "
    "If the file writes numbers with a decimal comma (0,15 or 1.000,50), choose “comma” as the decimal separator "
    "when you upload it; otherwise such numbers are refused, never guessed.",
    "Dates: date cells, or text as YYYY-MM-DD. Formulas are fine if the file was saved by Excel or LibreOffice "
    "(their results are read); a formula with no saved result is refused.",
    "The import is all or nothing: the preview lists every row and every problem, and nothing is written until "
    "you confirm. Two identical rows are refused, and the same file is never imported twice.",
]
ISSUANCES = [
    "Each issuance is recorded against the participant's approved designation for the year, under the plan's "
    "rules (pool, designation, term, par value).",
    "reference: give each grant the company's own number. A file can then be imported again safely: a row whose "
    "reference is already recorded with the same values is skipped; with other values it is refused.",
    "From an export of the issuance ledger (/reports/ or the admin): the export has every column of this template "
    "and more. Keep the rows you want to add, remove the others or leave them: a row with an issuance number is "
    "checked against the ledger and skipped if unchanged; a row with a cancellation date is never recorded as a "
    "standing issuance. Category, consideration, recorded at/by and the cancellation reason are read from the "
    "ledger, so those columns are ignored.",
]


def template_rows(kind: str) -> list[str]:
    return [column.name for column in IMPORTERS[kind].columns]


def template_csv(kind: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(template_rows(kind))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(kind: str) -> bytes:
    import xlsxwriter
    from xlsxwriter.utility import xl_col_to_name

    importer = IMPORTERS[kind]
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
    )
    sheet = workbook.add_worksheet(importer.title[:31])
    instructions = workbook.add_worksheet("Instructions")
    lists = workbook.add_worksheet("Lists")
    bold = workbook.add_format({"bold": True, "bg_color": "#E8EEF4", "bottom": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    formats = {
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "int": workbook.add_format({"num_format": "#,##0"}),
        "money": workbook.add_format({"num_format": "$#,##0.00####"}),
        "text": workbook.add_format({"num_format": "@"}),
    }
    last = MAX_ROWS  # validations cover every row an import reads

    # Lists the drop-downs point at: plans and participants from the ledger (names may be long or many).
    list_columns = {}
    for col, (title, values) in enumerate(
        [
            ("plan", [plan.name for plan in Plan.objects.order_by("name")]),
            ("participant", list(Participant.objects.order_by("name").values_list("name", flat=True))),
        ]
    ):
        lists.write_string(0, col, title, bold)
        for row, value in enumerate(values, start=1):
            lists.write_string(row, col, value)
        if values:
            letter = xl_col_to_name(col)
            list_columns[title] = f"=Lists!${letter}$2:${letter}${len(values) + 1}"
        lists.set_column(col, col, 40)
    lists.hide()

    for col, column in enumerate(importer.columns):
        sheet.write_string(0, col, column.name, bold)
        sheet.write_comment(0, col, column.help, {"x_scale": 2, "y_scale": 1.5})
        kind_of = {"parse_date": "date", "parse_whole": "int", "parse_money": "money"}.get(column.parse.__name__)
        sheet.set_column(col, col, max(16, len(column.name) + 4), formats.get(kind_of or "text"))
        if column.choices:
            sheet.data_validation(
                1,
                col,
                last,
                col,
                {
                    "validate": "list",
                    "source": list(column.choices),
                    "error_type": "stop",
                    "error_title": column.name,
                    "error_message": "Choose one of: " + ", ".join(column.choices),
                    "input_title": column.name,
                    "input_message": column.help[:255],
                },
            )
        elif column.name in list_columns:
            sheet.data_validation(
                1,
                col,
                last,
                col,
                {
                    "validate": "list",
                    "source": list_columns[column.name],
                    "error_type": "warning",
                    "error_title": column.name,
                    "error_message": f"Not a {column.name} name in the ledger (a number such as #42 is also accepted).",
                },
            )
        elif kind_of == "int":
            sheet.data_validation(
                1,
                col,
                last,
                col,
                {
                    "validate": "integer",
                    "criteria": ">",
                    "value": 0,
                    "error_type": "stop",
                    "error_title": column.name,
                    "error_message": "A whole number greater than 0.",
                },
            )
        elif kind_of == "money":
            sheet.data_validation(
                1,
                col,
                last,
                col,
                {
                    "validate": "decimal",
                    "criteria": ">=",
                    "value": 0,
                    "error_type": "stop",
                    "error_title": column.name,
                    "error_message": "A number of dollars (0 or more).",
                },
            )
        elif kind_of == "date":
            sheet.data_validation(
                1,
                col,
                last,
                col,
                {
                    "validate": "date",
                    "criteria": ">=",
                    "value": datetime.date(1900, 1, 1),
                    "error_type": "stop",
                    "error_title": column.name,
                    "error_message": "A date (YYYY-MM-DD).",
                },
            )
    sheet.freeze_panes(1, 0)
    sheet.activate()

    title = workbook.add_format({"bold": True, "font_size": 13})
    instructions.set_column(0, 0, 22)
    instructions.set_column(1, 1, 10)
    instructions.set_column(2, 2, 90, wrap)
    instructions.set_column(3, 3, 26)
    instructions.write_string(0, 0, f"Import of {importer.title.lower()}: how to fill the first sheet", title)
    row = 2
    for text in GENERAL + (ISSUANCES if kind == "issuances" else []):
        instructions.write_string(row, 2, text.format(noun=importer.noun), wrap)
        row += 1
    row += 1
    for col, header in enumerate(["Column", "Required", "What it holds", "Example"]):
        instructions.write_string(row, col, header, bold)
    for column in importer.all_columns:
        row += 1
        instructions.write_string(row, 0, column.name)
        instructions.write_string(row, 1, "yes" if column.required else "no")
        note = column.help
        if column in importer.round_trip:
            note += " (Read from an export; not a template column.)"
        instructions.write_string(row, 2, note, wrap)
        example = column.example
        if isinstance(example, datetime.date):
            instructions.write_datetime(row, 3, example, formats["date"])
        elif isinstance(example, int | Decimal):
            instructions.write_number(row, 3, float(example))
        elif example:
            instructions.write_string(row, 3, str(example))
    row += 2
    instructions.write_string(row, 0, "Decimal separator", bold)
    instructions.write_string(row, 2, "On the upload form: " + "; ".join(DECIMAL_SEPARATORS.values()) + ".", wrap)
    workbook.close()
    return buffer.getvalue()
