"""Spreadsheet imports: all or nothing through the services, every bad row named, bad files refused, staff only."""

import csv
import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from plan_admin.imports import IMPORTERS, run_import
from plan_admin.models import BoardDesignation, Issuance, Participant
from tests import factories

pytestmark = pytest.mark.django_db

ISSUANCE_HEADER = [
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


def csv_file(rows, name="import.csv", encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


def xlsx_file(rows, name="import.xlsx"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.fixture
def small_pool(superuser, staff_user, board_member):
    """A 10,500-share plan, fully committed: Dana has an approved 8,000 for 2023, Lee an approved 2,000 for 2024,
    and Halvorsen an approved debt settlement of 500 shares for 2024 ($60.00 of invoices at $0.12 a share)."""
    plan = factories.make_plan(by=superuser, shares=10_500, name="Small Plan")
    halvorsen = factories.make_participant("Halvorsen LLC", by=staff_user, category=Participant.Category.CONSULTANT)
    factories.make_debt_designation(
        plan=plan,
        participant=halvorsen,
        year=2024,
        shares=500,
        staff=staff_user,
        approver=board_member,
        debt_amount="60.00",
        debt_reference="INV-9",
        price_per_share="0.12",
    )
    dana = factories.make_participant("Dana Whitfield", by=staff_user)
    lee = factories.make_participant("Lee Chen", by=staff_user, category=Participant.Category.CONSULTANT)
    factories.make_designation(
        plan=plan, participant=dana, year=2023, shares=8_000, staff=staff_user, approver=board_member
    )
    factories.make_designation(
        plan=plan, participant=lee, year=2024, shares=2_000, staff=staff_user, approver=board_member
    )
    return plan


def issuance_rows(plan):
    return [
        ISSUANCE_HEADER,
        [plan.name, "Dana Whitfield", 2023, "2023-04-01", 8_000, "0.10", "", "", "", "first"],
        [plan.name, "Lee Chen", 2024, "2024-02-01", 1_000, "0.10", "compensation", "", "", ""],
        [plan.name, "Lee Chen", 2024, "2024-03-01", 3_000, "0.10", "", "", "", "one too many"],
        [plan.name, "Halvorsen LLC", "", "2024-04-01", 500, "0.12", "debt_settlement", "60.00", "INV-9", ""],
    ]


# --- issuances -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("commit", [False, True])
@pytest.mark.parametrize("make_file", [csv_file, xlsx_file])
def test_one_row_over_a_designation_writes_nothing_and_names_the_row(small_pool, staff_user, commit, make_file):
    before = factories.ledger_snapshot()
    report = run_import("issuances", make_file(issuance_rows(small_pool)), by=staff_user, commit=commit)
    assert factories.ledger_snapshot() == before
    assert not report.ok and not report.committed
    assert report.rows == 4
    assert len(report.errors) == 1
    row, message = report.errors[0]
    assert row == 4
    assert "would exceed Lee Chen's 2024 designation of 2,000 shares: 1,000 are issued, 1,000 remain" in message
    assert [number for number, _ in report.done] == [2, 3, 5]


@pytest.mark.parametrize("make_file", [csv_file, xlsx_file])
def test_valid_issuance_file_imports_completely(small_pool, staff_user, make_file):
    rows = issuance_rows(small_pool)
    del rows[3]  # the row over Lee's designation
    preview_before = factories.ledger_snapshot()
    preview = run_import("issuances", make_file(rows), by=staff_user, commit=False)
    assert preview.ok and not preview.committed and preview.rows == 3
    assert factories.ledger_snapshot() == preview_before, "a preview writes nothing"

    report = run_import("issuances", make_file(rows), by=staff_user, commit=True)
    assert report.ok and report.committed and report.rows == 3 and report.errors == []
    small_pool.refresh_from_db()
    issued = Issuance.objects.filter(designation__plan=small_pool)
    assert issued.count() == 3
    assert small_pool.issued_shares == sum(issued.values_list("shares", flat=True)) == 9_500
    lee_2024 = BoardDesignation.objects.get(plan=small_pool, participant__name="Lee Chen", year=2024)
    assert lee_2024.issued_shares == 1_000
    debt = issued.get(kind=Issuance.Kind.DEBT_SETTLEMENT)
    assert debt.debt_amount == Decimal("60.00") and debt.debt_reference == "INV-9"
    assert debt.price_per_share == Decimal("0.12") and debt.recorded_by == staff_user
    assert debt.history.first().history_user == staff_user


def test_xlsx_date_and_number_cells(small_pool, staff_user):
    rows = [ISSUANCE_HEADER, [small_pool.pk, "Dana Whitfield", 2023.0, datetime.datetime(2023, 4, 1), 100.0, 0.1]]
    report = run_import("issuances", xlsx_file(rows), by=staff_user, commit=True)
    assert report.ok, report.errors
    issuance = Issuance.objects.get()
    assert issuance.issue_date == datetime.date(2023, 4, 1) and issuance.shares == 100
    assert issuance.price_per_share == Decimal("0.1")


def test_every_bad_row_is_named(small_pool, staff_user):
    rows = [
        ISSUANCE_HEADER,
        [small_pool.name, "Nobody", 2023, "2023-04-01", 10, "0.10"],
        [small_pool.name, "Dana Whitfield", 2023, "tomorrow", "lots", "0.10"],
        [small_pool.name, "Dana Whitfield", 2023, "2023-04-01", 10, "0.0001"],
        [small_pool.name, "Dana Whitfield", 2022, "2022-04-01", 10, "0.10"],
        [small_pool.name, "Dana Whitfield", 2023, "2023-04-01", 9_000, "0.10"],
        ["No Such Plan", "Dana Whitfield", 2023, "2023-04-01", 10, "0.10"],
        [small_pool.name, "Dana Whitfield", 2023, "2023-04-01", 10, "0.10"],
    ]
    before = factories.ledger_snapshot()
    report = run_import("issuances", csv_file(rows), by=staff_user, commit=True)
    assert factories.ledger_snapshot() == before
    errors = dict(report.errors)
    assert sorted(errors) == [2, 3, 4, 5, 6, 7]
    assert "no participant named 'Nobody'" in errors[2]
    assert errors[3] == (
        "issue_date (cell D3): expected a date as YYYY-MM-DD, got 'tomorrow'. "
        "shares (cell E3): expected a whole number, got 'lots'."
    )
    assert "below the par value" in errors[4]
    assert "no 2022 designation" in errors[5]
    assert "would exceed Dana Whitfield's 2023 designation of 8,000 shares" in errors[6]
    assert "no plan named 'No Such Plan'" in errors[7]
    assert [number for number, _ in report.done] == [8]


# --- designations and participants ------------------------------------------------------------------------------


def test_designations_import_as_proposals(plan, participant, staff_user):
    lee = factories.make_participant("Lee Chen", by=staff_user)
    rows = [
        ["Plan", "Participant", "Year", "Shares", "Factors considered"],
        [plan.name, "Dana Whitfield", 2025, "100,000", "Retention"],
        [str(plan.pk), f"#{lee.pk}", 2025, 50_000, "Performance"],
    ]
    report = run_import("designations", xlsx_file(rows), by=staff_user, commit=True)
    assert report.ok, report.errors
    created = BoardDesignation.objects.filter(year=2025).order_by("shares")
    assert [(d.participant.name, d.shares, d.status, d.proposed_by) for d in created] == [
        ("Lee Chen", 50_000, "proposed", staff_user),
        ("Dana Whitfield", 100_000, "proposed", staff_user),
    ]
    plan.refresh_from_db()
    assert plan.issued_shares == 0


def test_designations_import_duplicate_rolls_back_all(plan, participant, staff_user):
    rows = [
        ["plan", "participant", "year", "shares", "factors_considered"],
        [plan.name, "Dana Whitfield", 2025, 100, "Retention"],
        [plan.name, "Dana Whitfield", 2025, 200, "Again"],
        [plan.name, "Dana Whitfield", 1990, 200, "Before the plan"],
        [plan.name, "Dana Whitfield", 2026, 100, ""],
    ]
    before = factories.ledger_snapshot()
    report = run_import("designations", csv_file(rows), by=staff_user, commit=True)
    assert factories.ledger_snapshot() == before
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4, 5]
    assert "already has a designation for 2025 (proposed" in errors[3]
    assert "took effect on March 1, 2002" in errors[4]
    assert errors[5] == "factors_considered (cell E5) is empty."


def test_participants_import(staff_user):
    rows = [
        ["name", "category", "email", "notes"],
        ["Ana Ruiz", "Key employee", "ana@example.com", ""],
        ["Bo Li", "consultant", "", "Advisor"],
        ["Cy Ode", "non_employee_director", "", ""],
    ]
    report = run_import("participants", csv_file(rows), by=staff_user, commit=True)
    assert report.ok and report.rows == 3
    assert list(Participant.objects.order_by("name").values_list("name", "category")) == [
        ("Ana Ruiz", "key_employee"),
        ("Bo Li", "consultant"),
        ("Cy Ode", "non_employee_director"),
    ]


def test_semicolon_separated_csv_is_read(staff_user):
    upload = SimpleUploadedFile("p.csv", b"name;category;notes\r\nAna Ruiz;consultant;Advisor, part time\r\n")
    report = run_import("participants", upload, by=staff_user, commit=True)
    assert report.ok, report.errors
    assert Participant.objects.get().notes == "Advisor, part time"


def test_participants_import_bad_category_writes_nothing(staff_user):
    before = factories.ledger_snapshot()
    report = run_import(
        "participants",
        xlsx_file([["name", "category"], ["Ana", "consultant"], ["Bo", "ceo"]]),
        by=staff_user,
        commit=True,
    )
    assert factories.ledger_snapshot() == before
    assert report.errors == [
        (
            3,
            "category (cell B3): 'ceo' is not a participant category; use one of key_employee, "
            "consultant, non_employee_director.",
        )
    ]


# --- bad files --------------------------------------------------------------------------------------------------


def _header_only():
    return csv_file([ISSUANCE_HEADER])


BAD_FILES = {
    "wrong columns": (lambda: csv_file([["foo", "bar"], [1, 2]]), "missing columns plan, participant"),
    "unknown column": (lambda: csv_file([ISSUANCE_HEADER + ["salary"], ["x"] * 11]), "unknown column 'salary'"),
    "wrong types": (
        lambda: xlsx_file([ISSUANCE_HEADER, ["P", "Dana", "soon", "2024-13-45", 1.5, "cheap"]]),
        "expected a whole number",
    ),
    "empty": (lambda: SimpleUploadedFile("empty.csv", b""), "The file is empty"),
    "blank lines only": (lambda: SimpleUploadedFile("blank.csv", b"\r\n,,\r\n"), "The file is empty"),
    "header only": (_header_only, "no rows to import"),
    "not a spreadsheet": (lambda: SimpleUploadedFile("grants.xlsx", b"%PDF-1.4 not a zip"), "not an XLSX"),
    "damaged xlsx": (lambda: SimpleUploadedFile("grants.xlsx", _zip_without_workbook()), "cannot be read"),
    "wrong extension": (lambda: SimpleUploadedFile("grants.pdf", b"plan,participant"), "Upload a .csv or .xlsx"),
    "binary as csv": (lambda: SimpleUploadedFile("grants.csv", b"plan,participant\x00\x00"), "does not look like CSV"),
    "non-UTF-8": (lambda: csv_file([["name", "category"], ["José", "consultant"]], encoding="latin-1"), "not UTF-8"),
    "huge": (
        lambda: SimpleUploadedFile("huge.csv", b"name,category\r\n" + b"A,consultant\r\n" * 200),
        "the largest file accepted is 1,000 bytes",
    ),
}


def _zip_without_workbook():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize("case", BAD_FILES)
def test_bad_files_are_refused_and_write_nothing(small_pool, staff_user, settings, case):
    if case == "huge":
        settings.IMPORT_MAX_BYTES = 1_000
    make, words = BAD_FILES[case]
    kind = "participants" if case in {"non-UTF-8", "huge"} else "issuances"
    before = factories.ledger_snapshot()
    report = run_import(kind, make(), by=staff_user, commit=True)
    assert factories.ledger_snapshot() == before
    assert not report.ok and not report.committed
    assert any(words in message for _, message in report.errors), report.errors
    if case not in {"wrong types"}:
        assert report.errors[0][0] is None, "a file-level error has no row"


def test_import_engine_rejects_unknown_kind(staff_user):
    with pytest.raises(ValueError):
        run_import("salaries", csv_file([["a"]]), by=staff_user, commit=False)


def test_plain_binary_file_object_with_a_name_works(small_pool, staff_user, tmp_path):
    path = tmp_path / "grants.csv"
    path.write_text("name,category\nAna Ruiz,consultant\n", encoding="utf-8")
    with open(path, "rb") as handle:
        report = run_import("participants", handle, by=staff_user, commit=True)
    assert report.ok and Participant.objects.filter(name="Ana Ruiz").exists()


# --- the admin: permissions, preview and confirm ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "board_member"])
@pytest.mark.parametrize("model", ["issuance", "boarddesignation", "participant"])
def test_auditors_and_board_cannot_import(client, small_pool, role, model, request):
    client.force_login(request.getfixturevalue(role))
    before = factories.ledger_snapshot()
    url = reverse(f"admin:plan_admin_{model}_import")
    assert client.get(url).status_code == 403
    upload = csv_file([["name", "category"], ["Ana Ruiz", "consultant"]])
    assert client.post(url, {"action": "preview", "file": upload}).status_code == 403
    assert client.post(url, {"action": "confirm", "token": "0" * 32}).status_code == 403
    assert client.get(reverse(f"admin:plan_admin_{model}_import_template", args=["csv"])).status_code == 403
    assert factories.ledger_snapshot() == before
    changelist = client.get(reverse(f"admin:plan_admin_{model}_changelist")).content.decode()
    assert url not in changelist


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "kind, model", [("participants", "participant"), ("designations", "boarddesignation"), ("issuances", "issuance")]
)
def test_templates_download_and_name_every_column(client, small_pool, staff_user, fmt, kind, model):
    client.force_login(staff_user)
    response = client.get(reverse(f"admin:plan_admin_{model}_import_template", args=[fmt]))
    assert response.status_code == 200
    if fmt == "csv":
        header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        header = [cell.value for cell in openpyxl.load_workbook(io.BytesIO(response.content)).active[1]]
    assert header == [column.name for column in IMPORTERS[kind].columns]
    page = client.get(reverse(f"admin:plan_admin_{model}_import")).content.decode()
    for column in IMPORTERS[kind].columns:
        assert f"<code>{column.name}</code>" in page


def test_admin_preview_then_confirm(client, small_pool, staff_user):
    client.force_login(staff_user)
    changelist = client.get(reverse("admin:plan_admin_issuance_changelist")).content.decode()
    url = reverse("admin:plan_admin_issuance_import")
    assert url in changelist
    rows = issuance_rows(small_pool)
    del rows[3]
    before = factories.ledger_snapshot()
    response = client.post(url, {"action": "preview", "file": xlsx_file(rows)})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Preview: 3 rows ready to import" in page
    assert "Issue 8,000 shares to Dana Whitfield on April 1, 2023" in page
    assert factories.ledger_snapshot() == before, "the preview wrote nothing"
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)

    response = client.post(url, {"action": "confirm", "token": token})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:plan_admin_issuance_changelist")
    small_pool.refresh_from_db()
    assert small_pool.issued_shares == 9_500 and Issuance.objects.count() == 3

    after = factories.ledger_snapshot()
    response = client.post(url, {"action": "confirm", "token": token}, follow=True)
    assert "expired or was already imported" in response.content.decode()
    assert factories.ledger_snapshot() == after, "a confirmation cannot be replayed"


def test_admin_preview_lists_the_bad_rows_and_offers_no_confirm(client, small_pool, staff_user):
    client.force_login(staff_user)
    before = factories.ledger_snapshot()
    response = client.post(
        reverse("admin:plan_admin_issuance_import"), {"action": "preview", "file": csv_file(issuance_rows(small_pool))}
    )
    page = response.content.decode()
    assert "1 of 4 rows cannot be imported, so nothing was imported" in page
    assert "would exceed Lee Chen&#x27;s 2024 designation of 2,000 shares" in page
    assert 'name="token"' not in page
    assert factories.ledger_snapshot() == before


def test_admin_bad_file_shows_the_reason(client, small_pool, staff_user):
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:plan_admin_participant_import"),
        {"action": "preview", "file": SimpleUploadedFile("x.xlsx", b"nope")},
    )
    assert "not an XLSX spreadsheet" in response.content.decode()


def test_admin_confirm_rechecks_a_ledger_that_changed(client, small_pool, staff_user):
    client.force_login(staff_user)
    url = reverse("admin:plan_admin_issuance_import")
    rows = [ISSUANCE_HEADER, [small_pool.name, "Lee Chen", 2024, "2024-02-01", 2_000, "0.10"]]
    page = client.post(url, {"action": "preview", "file": csv_file(rows)}).content.decode()
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    dana_2023 = BoardDesignation.objects.get(plan=small_pool, year=2023)
    factories.issue(dana_2023, by=staff_user, shares=8_000, on=datetime.date(2023, 4, 1))  # 2,000 left
    factories.issue(
        BoardDesignation.objects.get(plan=small_pool, year=2024, participant__name="Lee Chen"),
        by=staff_user,
        shares=1_000,
        on=datetime.date(2024, 1, 5),
    )  # 1,000 left
    before = factories.ledger_snapshot()
    response = client.post(url, {"action": "confirm", "token": token})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported" in page and "1,000 remain" in page
    assert factories.ledger_snapshot() == before


def test_a_refused_confirmation_cannot_be_retried_with_the_same_preview(
    client, small_pool, staff_user, tmp_path, settings
):
    settings.IMPORT_PENDING_DIR = str(tmp_path)
    client.force_login(staff_user)
    url = reverse("admin:plan_admin_issuance_import")
    rows = [ISSUANCE_HEADER, [small_pool.name, "Lee Chen", 2024, "2024-02-01", 9_000, "0.10"]]
    page = client.post(url, {"action": "preview", "file": csv_file(rows)}).content.decode()
    assert "would exceed" in page and 'name="token"' not in page, "over Lee's 2,000-share designation"
    rows[1][4] = 2_000
    page = client.post(url, {"action": "preview", "file": csv_file(rows)}).content.decode()
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    assert [path.name for path in tmp_path.iterdir()] == [token]
    factories.issue(
        BoardDesignation.objects.get(plan=small_pool, year=2024, participant__name="Lee Chen"),
        by=staff_user,
        shares=1_500,
        on=datetime.date(2024, 1, 5),
    )
    before = factories.ledger_snapshot()
    assert "Nothing was imported" in client.post(url, {"action": "confirm", "token": token}).content.decode()
    assert list(tmp_path.iterdir()) == [], "the claimed file is gone"
    response = client.post(url, {"action": "confirm", "token": token}, follow=True)
    assert "expired or was already imported" in response.content.decode()
    assert factories.ledger_snapshot() == before


def test_issuance_import_looks_up_each_value_once(small_pool, staff_user):
    """Plan, participant and designation are looked up once per distinct value, and the rows are recorded in one
    batch: the import's queries do not grow with its rows (beyond the bulk inserts)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def import_queries(count: int) -> int:
        rows = [ISSUANCE_HEADER] + [
            [small_pool.name, name, "", f"{year}-05-0{1 + i % 5}", 1, "0.10", "", "", "", f"row {i}"]
            for i in range(count)
            for name, year in [("Dana Whitfield", 2023), ("Lee Chen", 2024)]
        ]
        with CaptureQueriesContext(connection) as queries:
            report = run_import("issuances", csv_file(rows), by=staff_user, commit=False)
        assert report.ok and len(report.done) == 2 * count, report.errors
        return sum(1 for query in queries if not query["sql"].lstrip().upper().startswith("INSERT"))

    assert import_queries(3) == import_queries(60)


# --- history entered from records, by import ------------------------------------------------------------------


def test_history_before_the_ledger_start_imports_as_records_awaiting_confirmation(superuser, staff_user):
    """Imports of past records go the same way as the forms: the board's decision date and reference on each
    designation, the source document on each issuance, all marked as entered from records."""
    import datetime as dt

    from plan_admin import services
    from plan_admin.selectors import unconfirmed_count

    plan = factories.make_plan(by=superuser, name="Older Plan")
    services.plan_set_ledger_start(plan=plan, ledger_start_date=dt.date(2020, 1, 1), by=superuser)
    factories.make_participant("Dana Whitfield", by=staff_user)
    designations = [
        ["plan", "participant", "year", "shares", "factors_considered", "decision", "decided_on", "decision_reference"],
        [
            plan.name,
            "Dana Whitfield",
            2018,
            5_000,
            "From the minutes.",
            "Approved",
            "2018-02-01",
            "Minutes of February 1, 2018",
        ],
    ]
    report = run_import("designations", csv_file(designations), by=staff_user, commit=True)
    assert report.committed, report.errors
    designation = BoardDesignation.objects.get(plan=plan)
    assert (designation.status, designation.decision_source, designation.decided_on) == (
        "approved",
        "records",
        dt.date(2018, 2, 1),
    )

    issuances = [
        ISSUANCE_HEADER + ["source_reference"],
        [plan.name, "Dana Whitfield", 2018, "2018-03-01", 1_000, "0.10", "", "", "", "", "Stock ledger page 12"],
    ]
    report = run_import("issuances", csv_file(issuances), by=staff_user, commit=True)
    assert report.committed, report.errors
    issuance = Issuance.objects.get(designation=designation)
    assert (issuance.entered_from_records, issuance.source_reference) == (True, "Stock ledger page 12")
    assert unconfirmed_count() == 2

    # Without its source document, a row dated before the ledger start date is refused, naming what is missing.
    before = factories.ledger_snapshot()
    issuances[1][-1] = ""
    issuances[1][3] = "2018-04-01"
    report = run_import("issuances", csv_file(issuances), by=staff_user, commit=True)
    assert not report.committed
    assert "Name the document this record comes from" in report.errors[0][1]
    assert factories.ledger_snapshot() == before
