"""Building spreadsheets for import tests: CSV and XLSX uploads, and XLSX files patched at the XML level (a declared
dimension that lies, a formula without a saved value) the way other programs write them."""

import contextlib
import csv
import io
import re
import signal
import time
import zipfile

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile


def csv_file(rows, name="import.csv", encoding="utf-8", delimiter=","):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


def xlsx_bytes(rows, *, cells=None) -> bytes:
    """A workbook whose first sheet holds `rows` from A1, then `cells` ({"E2": value}) written over them."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for ref, value in (cells or {}).items():
        sheet[ref] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_file(rows, name="import.xlsx", *, cells=None):
    return SimpleUploadedFile(name, xlsx_bytes(rows, cells=cells))


def patch_sheet(data: bytes, change) -> bytes:
    """The workbook `data` with its first sheet's XML passed through `change(xml: str) -> str`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content.decode("utf-8")).encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


def declare_dimension(data: bytes, ref: str) -> bytes:
    """Make the sheet declare `ref` as its dimension (what it claims to hold), whatever it holds."""

    def change(xml):
        if "<dimension" in xml:
            return re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', xml)
        return xml.replace("<sheetViews>", f'<dimension ref="{ref}"/><sheetViews>', 1)

    return patch_sheet(data, change)


@contextlib.contextmanager
def within(seconds: float):
    """Fail (instead of hanging for minutes) when the block takes longer than `seconds`."""

    def too_slow(signum, frame):
        raise AssertionError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield lambda: time.monotonic() - started
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
