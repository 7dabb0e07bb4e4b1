"""Imports read what the file says, never a guess: numbers with a possible decimal comma, XLSX cells of every kind,
files whose declared size lies, and a time budget. Each refusal names the cell and writes nothing."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from plan_admin.imports import MAX_SHEET_ROW, ReadOptions, run_import
from plan_admin.imports.cells import CellProblem, FormulaWithoutValue, parse_date, parse_money, parse_whole
from plan_admin.models import Issuance
from tests import factories
from tests.spreadsheets import csv_file, declare_dimension, within, xlsx_bytes, xlsx_file

pytestmark = pytest.mark.django_db

AUTO, POINT, COMMA = ReadOptions(), ReadOptions(decimal_separator="."), ReadOptions(decimal_separator=",")
HEADER = [
    "plan",
    "participant",
    "year",
    "issue_date",
    "shares",
    "price_per_share",
    "kind",
    "debt_amount",
    "debt_reference",
    "notes",
]
DECIMAL_COMMA = (
    "may be written with a decimal comma, so it is not read. Choose the file's decimal separator when "
    "you upload it, or write the number with a decimal point and no other separators."
)


# --- the parsers --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, options, expected",
    [
        ("1000", AUTO, 1000),
        ("1,000", AUTO, 1000),
        ("1,000,000", AUTO, 1_000_000),
        (" 12 345 ", AUTO, 12_345),
        ("100.00", AUTO, 100),
        ("-5", AUTO, -5),
        ("1.000", COMMA, 1000),
        ("1.000.000", COMMA, 1_000_000),
        ("1 000", COMMA, 1000),
        ("1,000", POINT, 1000),
        ("2,500.0", POINT, 2500),
    ],
)
def test_whole_numbers_read(text, options, expected):
    assert parse_whole(text, options) == expected


@pytest.mark.parametrize(
    "text, options, reason",
    [
        ("1,5", AUTO, f"'1,5' {DECIMAL_COMMA}"),
        ("0,150", AUTO, f"'0,150' {DECIMAL_COMMA}"),
        ("10,00", AUTO, f"'10,00' {DECIMAL_COMMA}"),
        (
            "1.000",
            AUTO,
            "'1.000' may use a point as a thousands separator, so it is not read. Choose the file's decimal "
            "separator when you upload it, or write the number without separators.",
        ),
        ("2.5", AUTO, "expected a whole number, got '2.5'."),
        ("1,5", COMMA, "expected a whole number, got '1,5'."),
        ("1,5", POINT, "'1,5' is not a number written with a decimal point, as this upload declares."),
        ("1.5", COMMA, "'1.5' is not a number written with a decimal comma, as this upload declares."),
        ("lots", AUTO, "expected a whole number, got 'lots'."),
        (2.5, AUTO, "expected a whole number, got 2.5."),
        (True, AUTO, "expected a whole number, got True."),
        (datetime.datetime(2024, 1, 2), AUTO, "expected a whole number, got a date (2024-01-02)."),
    ],
)
def test_whole_numbers_refused(text, options, reason):
    with pytest.raises(CellProblem) as refused:
        parse_whole(text, options)
    assert str(refused.value) == reason


@pytest.mark.parametrize(
    "text, options, expected",
    [
        ("0.15", AUTO, "0.15"),
        (".5", AUTO, "0.5"),
        ("$1,234.50", AUTO, "1234.50"),
        ("1.500", AUTO, "1.500"),
        ("0,15", COMMA, "0.15"),
        ("45.000,00", COMMA, "45000.00"),
        ("45 000,00", COMMA, "45000.00"),
        ("45,000.00", POINT, "45000.00"),
        (0.15000000000000002, AUTO, "0.15"),
        (12, AUTO, "12"),
    ],
)
def test_money_read(text, options, expected):
    assert parse_money(text, options) == Decimal(expected)


@pytest.mark.parametrize(
    "text, options", [("0,15", AUTO), ("45.000,00", AUTO), ("1,5", AUTO), ("0,15", POINT), ("45,000.00", COMMA)]
)
def test_money_refused_when_it_could_mean_two_things(text, options):
    with pytest.raises(CellProblem):
        parse_money(text, options)


def test_dates_read_from_cells_serials_and_iso_text():
    assert parse_date(datetime.datetime(2024, 6, 30, 0, 0), AUTO) == datetime.date(2024, 6, 30)
    assert parse_date(45473, AUTO) == datetime.date(2024, 6, 30), "an Excel date serial stored as a plain number"
    assert parse_date("2024-06-30", AUTO) == datetime.date(2024, 6, 30)
    for bad in ["30/06/2024", "06/30/2024", "tomorrow", 0, 99_999_999]:
        with pytest.raises(CellProblem):
            parse_date(bad, AUTO)


def test_a_formula_without_its_value_says_so():
    with pytest.raises(CellProblem) as refused:
        parse_whole(FormulaWithoutValue("B2*2"), AUTO)
    assert str(refused.value).startswith("the cell holds a formula (=B2*2) with no saved value")


# --- finding 1: decimal commas, through the import ----------------------------------------------------------------


@pytest.fixture
def pool(superuser, staff_user, board_member):
    plan = factories.make_plan(by=superuser, shares=10_000_000, name="Comma Plan")
    dana = factories.make_participant("Dana Whitfield", by=staff_user)
    factories.make_designation(
        plan=plan, participant=dana, year=2024, shares=1_000_000, staff=staff_user, approver=board_member
    )
    creditor = factories.make_participant("Northwind Supply", by=staff_user, category="consultant")
    factories.make_debt_designation(
        plan=plan,
        participant=creditor,
        year=2024,
        shares=1_000_000,
        staff=staff_user,
        approver=board_member,
        price_per_share=Decimal("0.15"),
    )
    return plan


def _rows(plan, **cells):
    """One issuance row; a debt settlement goes to the creditor, whose designation is for that debt."""
    participant = "Northwind Supply" if cells.get("kind") == "debt_settlement" else "Dana Whitfield"
    row = {
        "plan": plan.name,
        "participant": participant,
        "year": 2024,
        "issue_date": "2024-06-30",
        "shares": "1,000",
        "price_per_share": "0.15",
        "kind": "",
        "debt_amount": "",
        "debt_reference": "",
        "notes": "",
    }
    row.update(cells)
    return [HEADER, [row[name] for name in HEADER]]


@pytest.mark.parametrize(
    "cells, cell, text",
    [
        ({"price_per_share": "0,15"}, "price_per_share (cell F2)", "'0,15'"),
        ({"shares": "1,5"}, "shares (cell E2)", "'1,5'"),
        (
            {"kind": "debt_settlement", "debt_amount": "45.000,00", "debt_reference": "INV-1"},
            "debt_amount (cell H2)",
            "'45.000,00'",
        ),
    ],
)
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_a_possible_decimal_comma_is_refused_naming_the_cell(pool, staff_user, cells, cell, text, delimiter):
    before = factories.ledger_snapshot()
    report = run_import("issuances", csv_file(_rows(pool, **cells), delimiter=delimiter), by=staff_user, commit=True)
    assert report.errors == [(2, f"{cell}: {text} {DECIMAL_COMMA}")]
    assert factories.ledger_snapshot() == before


def test_declared_decimal_comma_reads_the_file_that_way(pool, staff_user):
    rows = _rows(
        pool,
        shares="1.000",
        price_per_share="0,15",
        kind="debt_settlement",
        debt_amount="150,00",
        debt_reference="INV-1",
    )
    report = run_import("issuances", csv_file(rows, delimiter=";"), by=staff_user, commit=True, decimal_separator=",")
    assert report.committed, report.errors
    issuance = Issuance.objects.get()
    assert (issuance.shares, issuance.price_per_share, issuance.debt_amount) == (1000, Decimal("0.15"), Decimal("150"))


def test_admin_upload_form_declares_the_separator_through_preview_and_confirm(client, pool, staff_user):
    client.force_login(staff_user)
    url = reverse("admin:plan_admin_issuance_import")
    rows = _rows(
        pool,
        shares="1.000",
        price_per_share="0,15",
        kind="debt_settlement",
        debt_amount="45.000,00",
        debt_reference="N-7",
    )
    page = client.post(url, {"action": "preview", "file": csv_file(rows, delimiter=";")}).content.decode()
    assert "shares (cell E2): &#x27;1.000&#x27; may use a point as a thousands separator" in page
    assert "price_per_share (cell F2): &#x27;0,15&#x27; may be written with a decimal comma" in page
    assert "debt_amount (cell H2): &#x27;45.000,00&#x27; may be written with a decimal comma" in page
    assert 'name="token"' not in page

    before = factories.ledger_snapshot()
    page = client.post(
        url, {"action": "preview", "decimal_separator": ",", "file": csv_file(rows, delimiter=";")}
    ).content.decode()
    assert "Issue 1,000 shares to Northwind Supply on June 30, 2024 at $0.15, settling $45,000.00 of debt." in page
    assert "read with a decimal comma, as declared" in page
    assert factories.ledger_snapshot() == before
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    assert client.post(url, {"action": "confirm", "token": token}).status_code == 302
    issuance = Issuance.objects.get()
    assert issuance.price_per_share == Decimal("0.15") and issuance.debt_amount == Decimal("45000")


# --- XLSX cells: numbers, dates, empty, formulas ----------------------------------------------------------------


def test_xlsx_numbers_and_dates_as_stored(pool, staff_user):
    rows = [HEADER, [pool.name, "Dana Whitfield", 2024.0, 45473, 100.0, 0.15]]  # a date serial without date format
    report = run_import("issuances", xlsx_file(rows), by=staff_user, commit=True)
    assert report.committed, report.errors
    issuance = Issuance.objects.get()
    assert (issuance.issue_date, issuance.shares, issuance.price_per_share) == (
        datetime.date(2024, 6, 30),
        100,
        Decimal("0.15"),
    )


@pytest.mark.parametrize(
    "shares, message",
    [
        (2.5, "shares (cell E2): expected a whole number, got 2.5."),
        (None, "shares (cell E2) is empty."),
        ("", "shares (cell E2) is empty."),
    ],
)
def test_xlsx_shares_never_truncated_nor_empty_as_zero(pool, staff_user, shares, message):
    before = factories.ledger_snapshot()
    rows = [HEADER, [pool.name, "Dana Whitfield", 2024, datetime.date(2024, 6, 30), shares, 0.15, "", "", "", "x"]]
    report = run_import("issuances", xlsx_file(rows), by=staff_user, commit=True)
    assert report.errors == [(2, message)]
    assert factories.ledger_snapshot() == before


def test_xlsx_formula_with_no_saved_value_is_named_as_such(pool, staff_user):
    """openpyxl (like many generators) saves formulas without their results; Excel would show 1,000."""
    rows = [HEADER, [pool.name, "Dana Whitfield", 2024, datetime.date(2024, 6, 30), None, 0.15]]
    upload = xlsx_file(rows, cells={"E2": "=2*500"})
    before = factories.ledger_snapshot()
    report = run_import("issuances", upload, by=staff_user, commit=True)
    assert report.errors == [
        (
            2,
            (
                "shares (cell E2): the cell holds a formula (=2*500) with no saved value: the program that wrote "
                "the file "
                "did not calculate it. Open the file in Excel or LibreOffice, let it calculate, save it, and upload it "
                "again (or type the value instead of the formula)."
            ),
        )
    ]
    assert factories.ledger_snapshot() == before


def test_xlsx_formula_with_its_saved_value_is_read(pool, staff_user):
    rows = [HEADER, [pool.name, "Dana Whitfield", 2024, datetime.date(2024, 6, 30), None, 0.15]]
    data = xlsx_bytes(rows, cells={"E2": "=2*500"})
    from tests.spreadsheets import patch_sheet

    data = patch_sheet(data, lambda xml: re.sub(r"<f>2\*500</f><v\s*(/>|></v>)", "<f>2*500</f><v>1000</v>", xml))
    report = run_import("issuances", SimpleUploadedFile("f.xlsx", data), by=staff_user, commit=True)
    assert report.committed, report.errors
    assert Issuance.objects.get().shares == 1000


# --- finding 2: reading bounded by what the sheet holds -----------------------------------------------------------


def _bomb(*, far_cell="A1048576", dimension="A1:XFD1048576"):
    rows = [["name", "category"]]
    return SimpleUploadedFile("bomb.xlsx", declare_dimension(xlsx_bytes(rows, cells={far_cell: "x"}), dimension))


def test_dimension_bomb_is_refused_in_seconds(staff_user):
    upload = _bomb()
    assert upload.size < 10_000
    before = factories.ledger_snapshot()
    with within(20) as elapsed:
        report = run_import("participants", upload, by=staff_user, commit=True)
    assert elapsed() < 5
    assert report.errors == [
        (
            None,
            (
                f"Cell A1048576 holds a value in row 1,048,576; an import reads rows 1 to {MAX_SHEET_ROW:,} only "
                "(100,000 "
                "rows of data at most). Delete what is below your rows, or split the file."
            ),
        )
    ]
    assert factories.ledger_snapshot() == before


def test_far_column_is_refused_in_seconds(staff_user):
    with within(20) as elapsed:
        report = run_import("participants", _bomb(far_cell="XFD2"), by=staff_user, commit=True)
    assert elapsed() < 5
    assert report.errors == [
        (
            None,
            "Cell XFD2 holds a value in column XFD; an import reads columns A to CV only. "
            "Delete what is right of the import's columns.",
        )
    ]


@pytest.mark.parametrize("dimension", ["A1:XFD3", "A1:B1048576", "A1:XFD1048576"])
def test_a_lying_dimension_does_not_matter_when_the_cells_are_within_limits(staff_user, dimension):
    rows = [["name", "category"], ["Ana Ruiz", "consultant"]]
    data = declare_dimension(xlsx_bytes(rows, cells={"A90000": "Bo Li", "B90000": "consultant"}), dimension)
    with within(20) as elapsed:
        report = run_import("participants", SimpleUploadedFile("sparse.xlsx", data), by=staff_user, commit=True)
    assert elapsed() < 5
    assert report.committed, report.errors
    assert [number for number, _ in report.done] == [2, 90000]


def test_an_import_has_a_time_budget(staff_user, settings):
    settings.IMPORT_TIME_BUDGET_SECONDS = 0
    before = factories.ledger_snapshot()
    report = run_import(
        "participants", csv_file([["name", "category"], ["Ana", "consultant"]]), by=staff_user, commit=True
    )
    assert report.errors == [
        (
            None,
            "Reading and checking this file took longer than 0 seconds, the most one import "
            "may take. Split it into smaller files and import them one after another.",
        )
    ]
    assert factories.ledger_snapshot() == before


def test_values_outside_the_named_columns_are_refused_naming_the_cell(staff_user):
    rows = [["name", None, "category"], ["Ana Ruiz", "", "consultant"], ["Bo Li", "oops", "consultant", "more"]]
    before = factories.ledger_snapshot()
    report = run_import("participants", csv_file(rows), by=staff_user, commit=True)
    assert report.errors == [
        (
            3,
            "Cell D3 holds a value right of the header's last column. Cell B3 holds a value in "
            "a column without a header.",
        )
    ]
    assert factories.ledger_snapshot() == before


def test_a_shared_strings_bomb_is_refused_before_it_is_read(staff_user):
    """50 MB of shared strings compress to almost nothing; openpyxl would read them all before the first row."""
    import io
    import zipfile

    data = xlsx_bytes([["name", "category"], ["Ana", "consultant"]])
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "xl/sharedStrings.xml":
                target.writestr(info.filename, source.read(info.filename))
        strings = b"<si><t>x</t></si>" * (51 * 1024 * 1024 // 17)
        target.writestr(
            "xl/sharedStrings.xml",
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + strings + b"</sst>",
        )
    upload = SimpleUploadedFile("strings.xlsx", out.getvalue())
    assert upload.size < 1_000_000
    with within(20) as elapsed:
        report = run_import("participants", upload, by=staff_user, commit=True)
    assert elapsed() < 5
    assert report.errors == [
        (None, "The spreadsheet's xl/sharedStrings.xml expands to 51.0 MB, more than an import may hold.")
    ]


def test_a_minus_sign_after_the_dollar_sign_is_read_as_negative():
    """ "$-5" is minus five dollars, not five: the sign after the currency sign is read (and negative amounts are
    then refused by the services' rules, never silently made positive)."""
    assert parse_money("$-5", AUTO) == Decimal("-5")
    assert parse_money("$- 5.25", POINT) == Decimal("-5.25")
    assert parse_money("-$5", AUTO) == Decimal("-5")
    assert parse_whole("$-1,000", AUTO) == -1000


def test_money_and_date_cells_that_are_not_money_or_dates_are_refused_not_misread():
    formula = "the cell holds a formula (=B2*2) with no saved value"
    for parse in (parse_money, parse_date):
        with pytest.raises(CellProblem, match=re.escape(formula)):
            parse(FormulaWithoutValue("B2*2"), AUTO)
    for value in (True, float("nan"), float("inf"), float("-inf"), datetime.date(2024, 1, 2)):
        with pytest.raises(CellProblem):
            parse_money(value, AUTO)


def test_date_serials_are_read_in_the_files_epoch_up_to_the_last_excel_date():
    from openpyxl.utils.datetime import MAC_EPOCH

    from plan_admin.imports.cells import LARGEST_EXCEL_SERIAL

    assert parse_date(45474, AUTO) == datetime.date(2024, 7, 1)
    assert parse_date(45474, ReadOptions(epoch=MAC_EPOCH)) == datetime.date(2028, 7, 2)
    assert parse_date(1, AUTO) == datetime.date(1900, 1, 1)
    assert parse_date(LARGEST_EXCEL_SERIAL, AUTO) == datetime.date(9999, 12, 31)
    for serial in (0, 0.5, LARGEST_EXCEL_SERIAL + 1):
        with pytest.raises(CellProblem):
            parse_date(serial, AUTO)


def test_whole_numbers_stored_as_floats_are_read_and_nan_or_infinity_refused():
    assert parse_whole(2500.0, AUTO) == 2500 and parse_whole(Decimal("12.000"), AUTO) == 12
    for value in (float("nan"), float("inf"), float("-inf"), Decimal("NaN")):
        with pytest.raises(CellProblem):
            parse_whole(value, AUTO)
