"""Spreadsheet imports of participants, designations (as proposals) and issuances: all or nothing.

    report = run_import("issuances", uploaded_file, by=request.user, commit=False)   # preview
    report = run_import("issuances", uploaded_file, by=request.user, commit=True,    # for real
                        decimal_separator=",")                                       # as declared at upload

engine.py     the importers (columns of each kind), row checks, duplicates and references, the transaction
cells.py      one cell read as its column's type: numbers that never guess, dates, text, choices
files.py      the upload read as rows: CSV or XLSX, bounded by what the file holds (rows, columns, time)
templates.py  the downloadable XLSX/CSV templates with drop-down lists and instructions

The engine is our own, around openpyxl's sheet parser and the csv module, not django-import-export: that library
skips bad rows and commits the rest by default and validates rows outside the services. Every write goes through
plan_admin.services (participant_create, designation_propose, issuance_record_many).

A file that cannot be read (wrong or missing columns, empty, not a spreadsheet, larger than
settings.IMPORT_MAX_BYTES, CSV that is not UTF-8, a value beyond the row or column limit, past the time budget,
already imported) is refused before anything is written; its error has row None. Row numbers are the spreadsheet's
own: the header is row 1, the first data row is row 2; cells are named as in the spreadsheet ("shares (cell E3)").
"""

from .cells import DECIMAL_SEPARATORS, CellProblem, ReadOptions
from .engine import IMPORTERS, KINDS, ImportColumn, Importer, ImportReport, RowError, parse_row, run_import
from .files import MAX_COLUMNS, MAX_ROWS, MAX_SHEET_ROW, MAX_UNCOMPRESSED_BYTES, FileRejected
from .templates import template_csv, template_xlsx

__all__ = [
    "DECIMAL_SEPARATORS",
    "IMPORTERS",
    "KINDS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_SHEET_ROW",
    "MAX_UNCOMPRESSED_BYTES",
    "CellProblem",
    "FileRejected",
    "ImportColumn",
    "ImportReport",
    "Importer",
    "ReadOptions",
    "RowError",
    "parse_row",
    "run_import",
    "template_csv",
    "template_xlsx",
]
