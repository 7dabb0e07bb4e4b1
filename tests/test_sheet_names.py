"""Sheet names are valid for any plan name (finding 3): the pool XLSX never fails on a name, whatever it is."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
import xlsxwriter
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plan_admin.models import Plan
from plan_admin.reports.queries import PlanHistory, YearLine
from plan_admin.reports.writers import SheetNames, _utf16_len, iter_xlsx
from tests import factories


def assert_excel_accepts(names):
    """xlsxwriter implements Excel's rules (length, characters, apostrophes, "History", case-blind uniqueness)."""
    workbook = xlsxwriter.Workbook(io.BytesIO(), {"in_memory": True})
    for name in names:
        workbook.add_worksheet(name)  # raises InvalidWorksheetName / DuplicateWorksheetName
        assert 0 < _utf16_len(name) <= 31
        assert not name.startswith("'") and not name.endswith("'")
    assert len({name.casefold() for name in names}) == len(names)


def test_the_finding_and_its_collisions():
    names = SheetNames()
    made = [
        names("Pool status"),
        names("History Non-Employee Directors' Plan"),
        names("History Non-Employee Directors' Plan B"),
        names("History"),
        names("history"),
        names("[Q1]: a/b\\c*d?"),
        names("'''"),
        names(""),
        names("x" * 40),
        names("x" * 40 + "y"),
    ]
    assert made[1] == "History Non-Employee Directors"
    assert made[2] == "History Non-Employee Direct (2)"
    assert made[3] == "History (2)" and made[4] == "history (3)"
    assert made[5] == "Q1   a b c d" and made[6] == "Sheet" and made[7] == "Sheet (2)"
    assert made[8] == "x" * 31 and made[9] == "x" * 27 + " (2)"
    assert_excel_accepts(made)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=0, max_size=45), min_size=1, max_size=8))
def test_any_titles_give_names_excel_accepts(titles):
    names = SheetNames()
    assert_excel_accepts([names(title) for title in titles])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.text(min_size=1, max_size=40),
            st.text(alphabet="'", min_size=1, max_size=3).map(
                lambda quotes: "Non-Employee Directors" + quotes + " Plan"
            ),
            st.just("A" * 23 + "'"),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_the_pool_workbook_opens_for_any_plan_names(names):
    histories = [
        PlanHistory(
            plan=Plan(
                pk=index + 1,
                company_name="Co",
                name=name,
                par_value=Decimal("0.001"),
                authorized_shares=10,
                issued_shares=0,
            ),
            year=2024,
            reserve=[(datetime.date(2024, 1, 1), 10, "", "", "admin", None)],
            years=[YearLine(2024)],
        )
        for index, name in enumerate(names)
    ]
    data = b"".join(iter_xlsx([], histories))
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert len(workbook.worksheets) == len(names)
    assert_excel_accepts([sheet.title for sheet in workbook.worksheets])


@pytest.mark.django_db
def test_pool_xlsx_for_plans_whose_names_end_in_an_apostrophe(client, superuser, auditor):
    for name in ["Non-Employee Directors' Plan", "Non-Employee Directors' Plan 2", "'Quoted'"]:
        factories.make_plan(by=superuser, name=name)
    client.force_login(auditor)
    response = client.get(reverse("reports-download", args=["pool", "xlsx"]))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    titles = [sheet.title for sheet in workbook.worksheets]
    assert titles == [
        "Pool status",
        "History Non-Employee Directors",
        "History Non-Employee Direct (2)",
        "History 'Quoted",
    ]
