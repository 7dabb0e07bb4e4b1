"""Import templates, and the round trip: an export of the issuance ledger imports as it is (every row already
recorded, skipped), an edited export records only its new rows, and a cancelled issuance never comes back."""

import csv
import datetime
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from plan_admin.imports import IMPORTERS, run_import
from plan_admin.models import Issuance
from tests import factories
from tests.test_reports import download, ledger  # noqa: F401 - the ledger fixture

pytestmark = pytest.mark.django_db


# --- templates --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, model", [("participants", "participant"), ("designations", "boarddesignation"), ("issuances", "issuance")]
)
def test_xlsx_template_has_the_columns_drop_downs_and_instructions(client, ledger, staff_user, kind, model):
    client.force_login(staff_user)
    response = client.get(reverse(f"admin:plan_admin_{model}_import_template", args=["xlsx"]))
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    names = [column.name for column in IMPORTERS[kind].columns]
    assert [cell.value for cell in sheet[1]] == names
    assert sheet.max_row == 1, "no example row to forget"
    assert sheet.freeze_panes == "A2"
    validations = {str(v.sqref).split(":")[0]: v for v in sheet.data_validations.dataValidation}
    letter = {name: openpyxl.utils.get_column_letter(index + 1) for index, name in enumerate(names)}
    if kind == "participants":
        category = validations[f"{letter['category']}2"]
        assert category.type == "list" and category.formula1 == '"Key employee,Consultant,Non-employee director"'
        assert category.errorStyle in (None, "stop"), "stop is the default"
    if kind == "issuances":
        assert validations[f"{letter['kind']}2"].formula1 == '"Compensation,Debt settlement"'
        assert validations[f"{letter['shares']}2"].type == "whole"
        assert validations[f"{letter['issue_date']}2"].type == "date"
    if kind in ("designations", "issuances"):
        plan = validations[f"{letter['plan']}2"]
        assert plan.type == "list" and plan.formula1.startswith("Lists!$A$2")
        assert workbook["Lists"]["A2"].value == ledger.name
        participants = validations[f"{letter['participant']}2"]
        assert participants.formula1.startswith("Lists!$B$2") and participants.errorStyle == "warning"
    instructions = workbook["Instructions"]
    text = [cell.value for row in instructions.iter_rows() for cell in row if cell.value]
    for name in names:
        assert name in text
    assert any("decimal comma" in str(value) for value in text)


@pytest.mark.parametrize("kind, model", [("participants", "participant"), ("issuances", "issuance")])
def test_csv_template_is_the_header_alone(client, staff_user, kind, model):
    client.force_login(staff_user)
    response = client.get(reverse(f"admin:plan_admin_{model}_import_template", args=["csv"]))
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [[column.name for column in IMPORTERS[kind].columns]]


def test_a_filled_template_imports(ledger, staff_user):
    """The template's own columns, as a finance user fills them (labels from the drop-downs)."""
    from plan_admin.imports import template_xlsx

    workbook = openpyxl.load_workbook(io.BytesIO(template_xlsx("issuances")))
    sheet = workbook.worksheets[0]
    row = {
        "plan": ledger.name,
        "participant": "Dana Whitfield",
        "year": 2024,  # her designation settles a debt
        "issue_date": datetime.datetime(2024, 8, 1),
        "shares": 700,
        "price_per_share": 0.15,
        "kind": "Debt settlement",
        "debt_amount": 105,
        "debt_reference": "INV-8",
        "reference": "G-77",
    }
    sheet.append([row.get(cell.value) for cell in sheet[1]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run_import("issuances", SimpleUploadedFile("filled.xlsx", buffer.getvalue()), by=staff_user, commit=True)
    assert report.committed, report.errors
    assert Issuance.objects.get(reference="G-77").shares == 700


# --- the round trip ---------------------------------------------------------------------------------------------


def _preview(client, upload):
    page = client.post(reverse("admin:plan_admin_issuance_import"), {"action": "preview", "file": upload})
    return page.content.decode()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_unchanged_export_imports_as_already_recorded(client, ledger, staff_user, fmt):
    _, body = download(client, staff_user, "issuances", fmt)
    before = factories.ledger_snapshot()
    report = run_import("issuances", SimpleUploadedFile(f"ledger.{fmt}", body), by=staff_user, commit=False)
    assert report.ok, report.errors
    assert report.done == [] and len(report.skipped) == 4
    cancelled = Issuance.objects.get(shares=20_000)
    assert (
        2,
        f"Already recorded as issuance #{cancelled.pk}, cancelled on June 1, 2023 (Issuance number "
        f"{cancelled.pk}): skipped.",
    ) in report.skipped, "the oldest row: the cancelled one"
    assert report.ignored_columns == ["Category", "Consideration", "Recorded at", "Recorded by", "Cancellation reason"]
    if fmt == "xlsx":
        assert report.trailer == [7, 8, 9, 11], "the totals below the table and the note"
    assert factories.ledger_snapshot() == before


def test_an_edited_export_records_only_its_new_rows(client, ledger, staff_user):
    _, body = download(client, staff_user, "issuances", "xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    sheet.delete_rows(6, sheet.max_row)  # the finance user drops the totals and notes ...
    new = {
        "Plan": ledger.name,
        "Participant": "Dana Whitfield",
        "Designation year": 2024,
        "Kind": "Debt settlement",
        "Issue date": datetime.datetime(2024, 9, 1),
        "Shares": 1_234,
        "Price per share": 0.2,
        "Debt amount": 246.8,
        "Debt reference": "INV-9",
        "Reference": "G-9",
    }
    sheet.append([new.get(name) for name in header])  # ... and adds a grant
    buffer = io.BytesIO()
    workbook.save(buffer)
    client.force_login(staff_user)
    page = _preview(client, SimpleUploadedFile("edited.xlsx", buffer.getvalue()))
    assert "1 row will be recorded; 4 are already recorded and will be skipped." in page
    assert (
        "Issue 1,234 shares to Dana Whitfield on September 1, 2024 at $0.20, settling $246.80 of debt (reference G-9)."
        in page
    )
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    assert (
        client.post(reverse("admin:plan_admin_issuance_import"), {"action": "confirm", "token": token}).status_code
        == 302
    )
    assert Issuance.objects.count() == 5
    assert Issuance.objects.get(reference="G-9").shares == 1_234
    ledger.refresh_from_db()
    assert ledger.issued_shares == 8_500 + 1_234


def test_a_cancelled_issuance_never_comes_back_as_standing(client, ledger, staff_user):
    _, body = download(client, staff_user, "issuances", "xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    cancelled = Issuance.objects.get(shares=20_000)
    row = next(
        r for r in range(2, 6) if sheet.cell(row=r, column=header.index("Issuance no.") + 1).value == cancelled.pk
    )
    sheet.cell(row=row, column=header.index("Cancelled on") + 1).value = None  # "un-cancel" it in the file
    # A copy without its issuance number, still dated cancelled: never recorded either.
    copy = [sheet.cell(row=row, column=c + 1).value for c in range(len(header))]
    copy[header.index("Issuance no.")] = None
    copy[header.index("Cancelled on")] = datetime.datetime(2023, 6, 1)
    sheet.delete_rows(6, sheet.max_row)
    sheet.append(copy)
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = factories.ledger_snapshot()
    report = run_import("issuances", SimpleUploadedFile("edited.xlsx", buffer.getvalue()), by=staff_user, commit=True)
    assert dict(report.errors) == {
        row: (
            f"Issuance number {cancelled.pk} is issuance #{cancelled.pk}, which was cancelled on June 1, 2023; this "
            "row has no cancellation date. An import never brings a cancelled issuance back: delete the row."
        ),
        6: (
            "This row has a cancellation date (June 1, 2023): an import records standing issuances only, and a "
            "cancelled issuance is never imported. Delete the row."
        ),
    }
    assert factories.ledger_snapshot() == before


def test_a_changed_recorded_row_is_refused(ledger, staff_user, client):
    _, body = download(client, staff_user, "issuances", "csv")
    text = body.decode("utf-8").replace(",2500,", ",2600,", 1)
    before = factories.ledger_snapshot()
    report = run_import("issuances", SimpleUploadedFile("x.csv", text.encode()), by=staff_user, commit=True)
    assert len(report.errors) == 1
    assert (
        "with other values: shares (ledger 2,500, this row 2,600). An import never changes a recorded issuance"
        in report.errors[0][1]
    )
    assert factories.ledger_snapshot() == before
