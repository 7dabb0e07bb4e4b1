"""Reports: every report in XLSX and CSV, figures checked against the ledger, real types, escaping, permissions."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from plan_admin import services
from plan_admin.models import Issuance, Participant
from plan_admin.reports.writers import csv_value, escape_cell
from tests import factories

EVIL = '=HYPERLINK("http://x","y")'
pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(plan, participant, staff_user, board_member):
    """Dana (key employee, 2024: a debt settlement, $150,500 of debt at $0.15 a share or more), an evil-named
    consultant (2024), Lee (director, 2023, issuance cancelled), a proposed 2024 designation for Lee, and a reserve
    increase of 500,000."""
    dana_2024 = factories.make_debt_designation(
        plan=plan,
        participant=participant,
        year=2024,
        shares=1_000_000,
        staff=staff_user,
        approver=board_member,
        debt_amount="150500.00",
        debt_reference="Loan of 2023",
        price_per_share="0.15",
    )
    evil = factories.make_participant(EVIL, by=staff_user, category=Participant.Category.CONSULTANT)
    lee = factories.make_participant("Lee Chen", by=staff_user, category=Participant.Category.NON_EMPLOYEE_DIRECTOR)
    evil_2024 = factories.make_designation(
        plan=plan, participant=evil, year=2024, shares=50_000, staff=staff_user, approver=board_member
    )
    lee_2023 = factories.make_designation(
        plan=plan, participant=lee, year=2023, shares=20_000, staff=staff_user, approver=board_member
    )
    factories.make_designation(plan=plan, participant=lee, year=2024, shares=10_000, staff=staff_user)
    factories.issue(
        dana_2024,
        by=staff_user,
        shares=1_000,
        on=datetime.date(2024, 6, 30),
        kind=Issuance.Kind.DEBT_SETTLEMENT,
        debt_amount=Decimal("150.00"),
        debt_reference="INV-6",
    )
    factories.issue(
        dana_2024,
        by=staff_user,
        shares=2_500,
        on=datetime.date(2024, 7, 1),
        price=Decimal("0.20"),
        kind=Issuance.Kind.DEBT_SETTLEMENT,
        debt_amount=Decimal("500.00"),
        debt_reference="-INV-7",
    )
    factories.issue(evil_2024, by=staff_user, shares=5_000, on=datetime.date(2024, 3, 1), price=Decimal("0.10"))
    cancelled = factories.issue(
        lee_2023, by=staff_user, shares=20_000, on=datetime.date(2023, 5, 5), price=Decimal("0.05")
    )
    services.issuance_cancel(
        issuance=cancelled, cancelled_on=datetime.date(2023, 6, 1), reason="Wrong participant", by=staff_user
    )
    factories.change_reserve(
        plan, shares=500_000, staff=staff_user, approver=board_member, on=datetime.date(2010, 1, 1)
    )
    plan.refresh_from_db()
    return plan


def download(client, user, slug, fmt, **params):
    client.force_login(user)
    response = client.get(reverse("reports-download", args=[slug, fmt]), params)
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content)
    return response, body


def read_xlsx(body, *, data_only=True):
    return openpyxl.load_workbook(io.BytesIO(body), data_only=data_only)


def read_csv(body):
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), "CSV starts with a BOM so that Excel reads UTF-8"
    return list(csv.reader(io.StringIO(text[1:])))


def table_rows(sheet):
    """The data rows of a sheet's Excel table (header row 1, rows until the first blank row) as dicts by header."""
    header = [cell.value for cell in sheet[1]]
    return [dict(zip(header, row, strict=True)) for row in rows_until_blank(sheet)]


def totals_of(sheet):
    """The total rows below the table: {label: row}."""
    return {
        row[0]: row
        for row in sheet.iter_rows(min_row=2, values_only=True)
        if isinstance(row[0], str) and row[0].startswith(("Total", "Cancelled", "Standing", "Authorized"))
    }


def csv_dicts(body):
    rows = read_csv(body)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def rows_until_blank(sheet, start=2):
    rows = []
    for row in sheet.iter_rows(min_row=start, values_only=True):
        if row[0] is None:
            break
        rows.append(row)
    return rows


# --- the issuance ledger ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["board_member", "auditor", "staff_user"])
def test_issuance_ledger_xlsx_figures_types_and_totals(client, ledger, role, request, staff_user):
    response, body = download(client, request.getfixturevalue(role), "issuances", "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert response.streaming, "the XLSX streams as it is written"
    workbook = read_xlsx(body)
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header == [
        "Plan",
        "Participant",
        "Category",
        "Designation year",
        "Kind",
        "Issue date",
        "Shares",
        "Price per share",
        "Consideration",
        "Debt amount",
        "Debt reference",
        "Reference",
        "Notes",
        "Recorded at",
        "Recorded by",
        "Cancelled on",
        "Cancellation reason",
        "Issuance no.",
    ]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width > 20
    rows = table_rows(sheet)
    assert len(rows) == Issuance.objects.count() == 4
    by_shares = {row["Shares"]: row for row in rows}
    debt = by_shares[2_500]
    assert debt["Participant"] == "Dana Whitfield" and debt["Category"] == "Key employee"
    assert debt["Designation year"] == 2024 and debt["Kind"] == "Debt settlement"
    assert isinstance(debt["Issue date"], datetime.datetime) and debt["Issue date"].date() == datetime.date(2024, 7, 1)
    assert isinstance(debt["Shares"], int)
    assert debt["Price per share"] == pytest.approx(0.20) and debt["Consideration"] == pytest.approx(500.0)
    assert debt["Debt amount"] == pytest.approx(500.0)
    assert debt["Debt reference"] == "-INV-7", "XLSX text is written as text, unaltered"
    assert debt["Recorded by"] == "staff", "a user without a full name shows as their username"
    recorded = Issuance.objects.get(shares=2_500).recorded_at
    assert isinstance(debt["Recorded at"], datetime.datetime)
    local = timezone.localtime(recorded).replace(tzinfo=None, microsecond=0)
    assert abs((debt["Recorded at"] - local).total_seconds()) < 1
    cancelled = by_shares[20_000]
    assert cancelled["Cancelled on"].date() == datetime.date(2023, 6, 1)
    assert cancelled["Cancellation reason"] == "Wrong participant"
    assert [row["Issue date"] for row in rows] == sorted(row["Issue date"] for row in rows), "oldest first"

    # An Excel table over the rows (filter buttons), the totals below it after a blank row.
    formulas = read_xlsx(body, data_only=False).worksheets[0]
    assert next(iter(formulas.tables.values())).ref == "A1:R5"
    assert sheet.cell(row=6, column=1).value is None, "a blank row separates the table from its totals"
    totals = totals_of(sheet)
    everything = sum(Issuance.objects.values_list("shares", flat=True))
    assert totals["Total issued"][6] == everything == 28_500
    assert totals["Cancelled"][6] == 20_000
    assert totals["Standing (net of cancellations)"][6] == ledger.issued_shares == 8_500
    assert totals["Total issued"][8] == pytest.approx(1_000 * 0.15 + 2_500 * 0.20 + 5_000 * 0.10 + 20_000 * 0.05)
    total_cells = next(row for row in formulas.iter_rows(min_row=2) if row[0].value == "Total issued")
    assert total_cells[6].value == "=SUM(G2:G5)"
    standing = next(row for row in formulas.iter_rows(min_row=2) if str(row[0].value).startswith("Standing"))
    assert standing[6].value.startswith("=SUMIFS(G2:G5,P2:P5,")

    staff_user.first_name, staff_user.last_name = "Sam", "Staff"
    staff_user.save()
    _, body = download(client, request.getfixturevalue(role), "issuances", "xlsx")
    assert {row["Recorded by"] for row in table_rows(read_xlsx(body).worksheets[0])} == {"Sam Staff"}


def test_issuance_ledger_csv_is_one_table(client, ledger, auditor):
    response, body = download(client, auditor, "issuances", "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = read_csv(body)
    assert rows[0][:3] == ["Plan", "Participant", "Category"]
    assert len(rows) == 1 + 4 and all(len(row) == 18 for row in rows), "header and rows only: no totals, no notes"
    data = csv_dicts(body)
    debt = next(row for row in data if row["Shares"] == "2500")
    assert debt["Issue date"] == "2024-07-01" and debt["Price per share"] == "0.2"
    assert debt["Consideration"] == "500" and debt["Debt amount"] == "500"
    assert debt["Debt reference"] == "'-INV-7", "CSV text that begins with - is escaped"
    assert sum(int(row["Shares"]) for row in data) == 28_500
    assert sum(int(row["Shares"]) for row in data if not row["Cancelled on"]) == ledger.issued_shares


def test_filters_narrow_the_rows(client, ledger, board_member):
    _, body = download(client, board_member, "issuances", "csv", year=2023, plan=ledger.pk)
    assert [row["Participant"] for row in csv_dicts(body)] == ["Lee Chen"]
    _, body = download(client, board_member, "issuances", "xlsx", category="consultant")
    assert [row["Participant"] for row in table_rows(read_xlsx(body).worksheets[0])] == [EVIL]


@pytest.mark.parametrize(
    "params, words",
    [
        ({"year": "twenty"}, "year"),
        ({"year": "99999"}, "year"),
        ({"plan": "abc"}, "plan"),
        ({"plan": "999999"}, "no plan number 999999"),
        ({"category": "ceo"}, "category"),
    ],
)
def test_bad_filters_are_a_400_with_a_reason(client, ledger, auditor, params, words):
    client.force_login(auditor)
    for url in (
        reverse("reports-download", args=["issuances", "xlsx"]),
        reverse("reports-download", args=["participants", "csv"]),
        reverse("reports"),
    ):
        response = client.get(url, params)
        assert response.status_code == 400
        assert words in response.content.decode()


def test_unknown_report_or_format_is_404(client, auditor):
    client.force_login(auditor)
    assert client.get(reverse("reports-download", args=["salaries", "xlsx"])).status_code == 404
    assert client.get(reverse("reports-download", args=["issuances", "pdf"])).status_code == 404


# --- formula injection -----------------------------------------------------------------------------------------


def test_escape_cell_is_the_one_rule():
    for text in [
        "=1+1",
        "+1",
        "-1",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "Acme\t=cmd|' /C calc'!A0",
        "a\n+1",
        "a\r\n@x",
        "x\t-1",
        "a\r=1",
    ]:
        assert escape_cell(text) == "'" + text, text
    for text in ["Dana", "a-b", "1+1", "a\tb", "a\nb", "a\t", "x @y", ""]:
        assert escape_cell(text) == text, text
    assert escape_cell(-5) == -5 and escape_cell(Decimal("-1.5")) == Decimal("-1.5")
    assert escape_cell(None) is None


def test_csv_fields_with_separators_tabs_and_line_breaks_are_quoted():
    assert csv_value("Acme\t=cmd|' /C calc'!A0") == "\"'Acme\t=cmd|' /C calc'!A0\""
    assert csv_value("two\nlines") == '"two\nlines"'
    assert csv_value('say "hi"') == '"say ""hi"""'
    assert csv_value("a;b") == '"a;b"' and csv_value("a,b") == '"a,b"'
    assert csv_value("plain") == "plain"


def test_a_tab_in_a_name_never_becomes_a_formula_in_the_csv(client, ledger, staff_user, auditor):
    """Finding 5: opened with tab among the separators, the part after the tab must not be a live formula."""
    sneaky = "Acme\t=cmd|' /C calc'!A0"
    services.participant_create(name=sneaky, category="consultant", by=staff_user)
    _, body = download(client, auditor, "participants", "csv")
    text = body.decode("utf-8")
    assert "\"'Acme\t=cmd|' /C calc'!A0\"" in text, "escaped, and quoted because it holds a tab"
    for delimiter in [",", "\t", ";"]:  # a reader that honours quotes, whichever separators it is set to
        for row in csv.reader(io.StringIO(text[1:]), delimiter=delimiter):
            for field in row:
                assert not field.startswith(("=", "+", "-", "@")), (delimiter, row)


@pytest.mark.parametrize("slug", ["issuances", "designations", "participants"])
def test_formula_text_is_escaped_in_csv_and_unaltered_in_xlsx(client, ledger, board_member, slug):
    _, body = download(client, board_member, slug, "xlsx")
    workbook = read_xlsx(body, data_only=False)
    cells = [
        cell for row in workbook.worksheets[0].iter_rows() for cell in row if cell.value and EVIL in str(cell.value)
    ]
    assert cells, "the participant is in the report"
    for cell in cells:
        assert cell.data_type == "s" and cell.value == EVIL, "an XLSX string cell is never a formula"
    _, body = download(client, board_member, slug, "csv")
    values = [value for row in read_csv(body) for value in row if EVIL in value]
    assert values and all(value == "'" + EVIL for value in values)


# --- designations by year --------------------------------------------------------------------------------------


def test_designations_report_votes_and_issued_vs_designated(client, ledger, auditor):
    _, body = download(client, auditor, "designations", "xlsx")
    sheet = read_xlsx(body).worksheets[0]
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True) if row[2]]
    assert len(rows) == 4
    assert [row["Year"] for row in rows] == [2023, 2024, 2024, 2024]
    dana = next(row for row in rows if row["Participant"] == "Dana Whitfield")
    assert dana["Status"] == "Approved" and dana["Designated shares"] == 1_000_000
    assert dana["Issued shares (net)"] == 3_500 and dana["Unissued shares"] == 996_500
    assert dana["Approving votes"] == 1 and dana["Rejecting votes"] == 0
    assert dana["Votes"].startswith("board: approve (")
    assert isinstance(dana["Proposed on"], datetime.datetime)
    lee_2024 = next(row for row in rows if row["Participant"] == "Lee Chen" and row["Year"] == 2024)
    assert lee_2024["Status"] == "Proposed" and lee_2024["Approving votes"] == 0 and lee_2024["Unissued shares"] == 0
    lee_2023 = next(row for row in rows if row["Participant"] == "Lee Chen" and row["Year"] == 2023)
    assert lee_2023["Issued shares (net)"] == 0, "the cancellation returned the shares"

    assert next(iter(read_xlsx(body, data_only=False).worksheets[0].tables.values())).ref == "A1:O5"
    totals = totals_of(sheet)
    approved = totals["Total, approved designations"]
    assert approved[5] == 1_070_000 and approved[6] == 8_500 and approved[7] == 1_070_000 - 8_500
    assert totals["Total, all designations"][5] == 1_080_000

    _, body = download(client, auditor, "designations", "csv", year=2024)
    rows = read_csv(body)
    data = [row for row in rows[1:] if len(row) > 2 and row[2]]
    assert {row[1] for row in data} == {"2024"} and len(data) == 3


# --- participant summary ---------------------------------------------------------------------------------------


def test_participant_summary_by_year_and_total(client, ledger, staff_user):
    _, body = download(client, staff_user, "participants", "xlsx")
    sheet = read_xlsx(body).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header == ["Participant", "Category", "Email", "2023", "2024", "Total shares"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    assert rows["Dana Whitfield"][3:] == (0, 3_500, 3_500)
    assert rows["Lee Chen"][3:] == (0, 0, 0), "cancelled shares are not counted"
    assert rows[EVIL][3:] == (0, 5_000, 5_000)
    assert rows["Total"][3:] == (0, 8_500, 8_500)
    assert rows["Total"][5] == ledger.issued_shares
    assert all(isinstance(value, int) for value in rows["Dana Whitfield"][3:])

    _, body = download(client, staff_user, "participants", "csv", category="key_employee")
    rows = read_csv(body)
    assert rows[0][-1] == "Total shares"
    assert rows[1:] == [["Dana Whitfield", "Key employee", "", "3500", "3500"]], "one table: no total row"


# --- pool status and plan history ------------------------------------------------------------------------------


def test_pool_xlsx_has_a_plan_history_with_live_reconciliation(client, ledger, auditor):
    _, body = download(client, auditor, "pool", "xlsx", year=2024)
    values = read_xlsx(body)
    formulas = read_xlsx(body, data_only=False)
    assert values.worksheets[0].title == "Pool status"
    status = values.worksheets[0]
    header = [cell.value for cell in status[1]]
    line = dict(zip(header, next(status.iter_rows(min_row=2, values_only=True)), strict=True))
    assert line["Authorized"] == 10_500_000 == ledger.authorized_shares
    assert line["Issued (net)"] == 8_500 and line["Cancelled"] == 20_000
    # Every year's approved, unissued shares: Dana 2024, the consultant 2024, and Lee's 2023 (its issuance cancelled).
    assert line["Committed"] == (1_000_000 - 3_500) + (50_000 - 5_000) + 20_000 == ledger.committed_shares
    assert line["Available"] == 10_500_000 - 8_500 - line["Committed"]

    history, history_formulas = values.worksheets[1], formulas.worksheets[1]
    labels = {row[0].value: row for row in history.iter_rows()}
    formula_labels = {row[0].value: row for row in history_formulas.iter_rows()}
    assert labels["Initial reserve"][2].value == 10_000_000
    assert isinstance(labels["Initial reserve"][1].value, datetime.datetime)
    assert labels["Increase"][2].value == 500_000 and labels["Increase"][3].value == 10_500_000
    assert formula_labels["Increase"][3].value.startswith("=D")
    assert labels["Authorized shares"][1].value == 10_500_000
    assert labels["Issued shares (gross)"][1].value == 28_500
    assert labels["Cancelled shares"][1].value == 20_000
    assert labels["Issued shares (net)"][1].value == ledger.issued_shares
    assert labels["Committed to approved designations (all years)"][1].value == line["Committed"]
    assert labels["Available (authorized - issued - committed)"][1].value == line["Available"]
    assert labels["Authorized agrees with the counter"][1].value == "OK"
    assert labels["Issued agrees with the counter"][1].value == "OK"
    assert labels["Committed agrees with the counter"][1].value == "OK"
    for label in [
        "Authorized shares (sum of changes)",
        "Issued shares (gross)",
        "Cancelled shares",
        "Issued shares (net)",
        "Available (authorized - issued - committed)",
        "Committed to approved designations (all years)",
    ]:
        row = formula_labels[label]
        formula = row[2].value if label.startswith("Authorized shares (sum") else row[1].value
        assert isinstance(formula, str) and formula.startswith("="), label
    assert formula_labels["Authorized shares (sum of changes)"][2].value.startswith("=SUM(C")
    assert formula_labels["Issued shares (gross)"][1].value.startswith("=SUM(B")
    assert history.freeze_panes == "A2"


def test_pool_csv_status_and_reserve_history_csv(client, ledger, board_member):
    _, body = download(client, board_member, "pool", "csv", plan=ledger.pk, year=2024)
    rows = read_csv(body)
    assert len(rows) == 2, "one table: the header and one plan"
    status = dict(zip(rows[0], rows[1], strict=True))
    assert int(status["Authorized"]) == ledger.authorized_shares
    assert int(status["Issued (net)"]) == ledger.issued_shares
    _, body = download(client, board_member, "reserve", "csv", plan=ledger.pk)
    reserve = csv_dicts(body)
    assert [row["Change"] for row in reserve] == ["Initial reserve", "Increase"]
    assert [row["Board approval date"] for row in reserve] == ["2002-01-15", "2010-01-01"]
    assert [int(row["Authorized after"]) for row in reserve] == [10_000_000, 10_500_000]
    _, body = download(client, board_member, "reserve", "xlsx")
    sheet = read_xlsx(body).worksheets[0]
    assert [row["Shares"] for row in table_rows(sheet)] == [10_000_000, 500_000]
    assert totals_of(sheet)["Authorized shares (sum of changes)"][3] == ledger.authorized_shares


# --- pages and permissions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["board_member", "auditor", "staff_user"])
def test_reports_page_lists_every_download(client, ledger, role, request):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("reports"), {"year": 2024})
    assert response.status_code == 200
    page = response.content.decode()
    for slug in ["issuances", "designations", "participants", "pool", "reserve"]:
        for fmt in ["xlsx", "csv"]:
            assert reverse("reports-download", args=[slug, fmt]) + "?year=2024" in page


def test_user_without_export_permission_gets_403(client, ledger):
    nobody = factories.make_user("nobody", role=None)
    client.force_login(nobody)
    assert client.get(reverse("reports")).status_code == 403
    for slug in ["issuances", "designations", "participants", "pool", "reserve"]:
        for fmt in ["xlsx", "csv"]:
            assert client.get(reverse("reports-download", args=[slug, fmt])).status_code == 403
    for model in ["issuance", "boarddesignation", "participant"]:
        assert client.get(reverse(f"admin:plan_admin_{model}_export", args=["csv"])).status_code == 403


def test_anonymous_is_sent_to_login(client, ledger):
    response = client.get(reverse("reports-download", args=["issuances", "csv"]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- the admin's downloads follow the changelist's filters -----------------------------------------------------


def test_admin_changelist_download_respects_filters(client, ledger, auditor):
    client.force_login(auditor)
    changelist = client.get(reverse("admin:plan_admin_issuance_changelist"), {"designation__year": 2023})
    assert changelist.status_code == 200
    export_url = reverse("admin:plan_admin_issuance_export", args=["xlsx"])
    assert f"{export_url}?designation__year=2023" in changelist.content.decode()
    response = client.get(export_url, {"designation__year": 2023})
    assert response.status_code == 200
    sheet = read_xlsx(b"".join(response.streaming_content)).worksheets[0]
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True) if row[1]]
    assert names == ["Lee Chen"]
    response = client.get(reverse("admin:plan_admin_issuance_export", args=["csv"]), {"q": "Dana"})
    rows = read_csv(b"".join(response.streaming_content))
    assert sorted(int(row[6]) for row in rows[1:] if len(row) > 1 and row[1]) == [1_000, 2_500]
    response = client.get(reverse("admin:plan_admin_boarddesignation_export", args=["csv"]), {"status": "proposed"})
    rows = read_csv(b"".join(response.streaming_content))
    assert [row[2] for row in rows[1:] if len(row) > 2 and row[2]] == ["Lee Chen"]
    response = client.get(
        reverse("admin:plan_admin_participant_export", args=["xlsx"]), {"category": "non_employee_director"}
    )
    sheet = read_xlsx(b"".join(response.streaming_content)).worksheets[0]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]][:2] == ["Lee Chen", "Total"]


def test_admin_download_selected_action(client, ledger, board_member):
    client.force_login(board_member)
    chosen = list(Issuance.objects.filter(shares__in=[1_000, 5_000]).values_list("pk", flat=True))
    response = client.post(
        reverse("admin:plan_admin_issuance_changelist"), {"action": "download_selected_csv", "_selected_action": chosen}
    )
    assert response.status_code == 200
    assert sorted(int(row["Issuance no."]) for row in csv_dicts(b"".join(response.streaming_content))) == sorted(chosen)


def test_admin_download_bad_filter_is_400(client, ledger, auditor):
    client.force_login(auditor)
    response = client.get(reverse("admin:plan_admin_issuance_export", args=["csv"]), {"issue_date__gte": "notadate"})
    assert response.status_code == 400


# --- django-import-export's admin export of the reserve history ------------------------------------------------


def _reserve_export(client, fmt_index):
    fields = [
        "id",
        "plan",
        "board_approval_date",
        "shares",
        "resolution_reference",
        "note",
        "recorded_by",
        "recorded_at",
    ]
    data = {"format": str(fmt_index), "resource": "0"}
    data.update({f"sharereservechangeresource_{name}": "on" for name in fields})
    return client.post(reverse("admin:plan_admin_sharereservechange_export"), data)


def test_reserve_history_admin_export_goes_through_the_project_writers(client, plan, staff_user, board_member, auditor):
    """Finding 7: the library's export, written by the project's writers: a BOM, the CSV escaping rule, and XLSX
    text unaltered."""
    factories.change_reserve(
        plan, shares=-1_000, staff=staff_user, approver=board_member, on=datetime.date(2011, 1, 1), explanation="@note"
    )
    client.force_login(auditor)
    response = _reserve_export(client, 0)  # CSV
    assert response.status_code == 200, response.content[:300]
    assert response.content.startswith("\ufeff".encode()), "a BOM, like every other CSV"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    decrease = next(row for row in rows if row["note"] == "'@note")
    assert decrease["shares"] == "-1000", "a negative number is a number, not text to escape"
    response = _reserve_export(client, 1)  # XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    values = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    decrease = next(row for row in values if row["note"] == "@note")
    assert decrease["shares"] == -1_000
    assert decrease["note"] == "@note", "XLSX text unaltered"
    assert sum(row["shares"] for row in values) == 10_000_000 - 1_000


def test_reserve_history_admin_export_needs_the_export_permission(client, plan):
    client.force_login(factories.make_user("viewer", role=None))
    assert client.get(reverse("admin:plan_admin_sharereservechange_export")).status_code == 403
    assert _reserve_export(client, 0).status_code == 403


def test_years_and_numbers_of_rows_have_no_thousands_separator(client, ledger, auditor):
    _, body = download(client, auditor, "issuances", "xlsx")
    sheet = read_xlsx(body, data_only=False).worksheets[0]
    assert sheet["D2"].number_format == "General" and sheet["O2"].number_format == "General"
    assert sheet["G2"].number_format == "#,##0"
    assert sheet["F2"].number_format == "yyyy-mm-dd"
    assert sheet["I2"].number_format.startswith("$")


@pytest.mark.parametrize("role", ["board_member", "auditor", "staff_user"])
def test_every_report_downloads_in_both_formats_for_every_role(client, ledger, role, request):
    user = request.getfixturevalue(role)
    for slug in ["issuances", "designations", "participants", "pool", "reserve"]:
        _, body = download(client, user, slug, "xlsx")
        workbook = read_xlsx(body)
        assert workbook.worksheets[0].max_row > 1
        _, body = download(client, user, slug, "csv")
        assert len(read_csv(body)) >= 2
