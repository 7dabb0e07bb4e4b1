"""Reports as of a date: the ledger as the board's decisions and issuances stood at the end of that day, by their own
dates, and saying so in the title and the file name."""

import datetime

import pytest
from django.urls import reverse

from plan_admin import services
from tests import factories
from tests.test_reports import download, read_csv, read_xlsx, table_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(plan, participant, staff_user, board_member):
    """Dana's 2024 designation (decided January 2) with an issuance of 500 on March 1, cancelled July 15, and one of
    300 on June 30; Lee's 2024 designation proposed February 1 and decided May 1; a reserve increase decided April 1;
    2024 closed on January 15, 2025."""
    dana = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=1_000, staff=staff_user, approver=board_member
    )
    lee_person = factories.make_participant("Lee Chen", by=staff_user, category="consultant")
    lee = factories.make_designation(
        plan=plan,
        participant=lee_person,
        year=2024,
        shares=2_000,
        staff=staff_user,
        decided_on=datetime.date(2024, 2, 1),
    )  # proposed in February
    with factories.on_day(datetime.date(2024, 5, 1)):
        services.designation_vote(designation=lee, voter=board_member, decision="approve")
    first = factories.issue(dana, by=staff_user, shares=500, on=datetime.date(2024, 3, 1))
    factories.issue(dana, by=staff_user, shares=300, on=datetime.date(2024, 6, 30))
    services.issuance_cancel(
        issuance=first, cancelled_on=datetime.date(2024, 7, 15), reason="Wrong certificate.", by=staff_user
    )
    factories.change_reserve(
        plan, shares=250_000, staff=staff_user, approver=board_member, on=datetime.date(2024, 4, 1)
    )
    services.plan_year_close(
        plan=plan, year=2024, reason="Year over.", closed_on=datetime.date(2025, 1, 15), by=staff_user
    )
    return {"plan": plan, "dana": dana, "lee": lee}


def rows_by(rows, column):
    header = rows[0]
    return [
        dict(zip(header, row, strict=True))
        for row in rows[1:]
        if row and row[0] and not row[0].startswith(("Total", "Filters", "Cancelled", "Standing", "Unissued"))
    ]


def test_issuances_as_of_a_day_before_the_cancellation(client, history, auditor):
    response, body = download(client, auditor, "issuances", "csv", as_of="2024-04-15")
    assert "as-of-20240415" in response["Content-Disposition"]
    rows = read_csv(body)
    issued = [row for row in rows_by(rows, "Issue date") if row.get("Issue date")]
    assert [(row["Issue date"], row["Shares"], row["Cancelled on"]) for row in issued] == [
        ("2024-03-01", "500", "")
    ]  # the June issuance is later; the March one not yet cancelled
    _, body = download(client, auditor, "issuances", "xlsx", as_of="2024-04-15")
    sheet = read_xlsx(body).worksheets[0]
    assert sheet.title == "Issuances (2024-04-15)"
    assert any("as of 2024-04-15" in str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value)


def test_designations_as_of_dates_give_the_status_of_that_day(client, history, auditor):
    def statuses(as_of):
        _, body = download(client, auditor, "designations", "csv", as_of=as_of)
        return {
            row["Participant"]: (row["Status"], row["Issued shares (net)"], row["Unissued shares"])
            for row in rows_by(read_csv(body), "Participant")
            if row.get("Participant")
        }

    assert statuses("2024-04-15") == {"Dana Whitfield": ("Approved", "500", "500"), "Lee Chen": ("Proposed", "0", "0")}
    assert statuses("2024-08-01") == {
        "Dana Whitfield": ("Approved", "300", "700"),
        "Lee Chen": ("Approved", "0", "2000"),
    }
    assert statuses("2025-02-01") == {"Dana Whitfield": ("Lapsed", "300", "0"), "Lee Chen": ("Lapsed", "0", "0")}
    assert statuses("2023-12-31") == {}  # nothing was proposed or decided yet


def test_pool_as_of_a_date_and_its_plan_history(client, history, auditor):
    _, body = download(client, auditor, "pool", "xlsx", as_of="2024-04-15")
    book = read_xlsx(body)
    assert book.worksheets[0].title == "Pool status (2024-04-15)"
    line = table_rows(book.worksheets[0])[0]
    assert (line["Authorized"], line["Issued (net)"], line["Committed"]) == (10_250_000, 500, 500)
    plan_history = {row[0].value: row for row in book.worksheets[1].iter_rows()}
    assert "as of 2024-04-15" in next(iter(plan_history))
    assert plan_history["Within the reserve (issued net + committed ≤ authorized)"][1].value == "OK"
    assert "Authorized agrees with the counter" not in plan_history  # the counters are today's
    _, body = download(client, auditor, "pool", "csv", as_of="2025-02-01")
    status = rows_by(read_csv(body), "Plan")[0]
    assert (status["Issued (net)"], status["Committed"]) == ("300", "0")  # lapsed on January 15


def test_reserve_and_participants_as_of(client, history, auditor):
    _, body = download(client, auditor, "reserve", "csv", as_of="2024-03-31")
    changes = [row for row in rows_by(read_csv(body), "Plan") if row.get("Change")]
    assert [row["Change"] for row in changes] == ["Initial reserve"]
    _, body = download(client, auditor, "participants", "csv", as_of="2024-04-15")
    people = {row["Participant"]: row["Total shares"] for row in rows_by(read_csv(body), "Participant")}
    assert people["Dana Whitfield"] == "500"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-13-01", "The as-of date must be a date as YYYY-MM-DD"),
        ("yesterday", "The as-of date must be a date as YYYY-MM-DD"),
        ("２０２４-01-01", "The as-of date must be a date as YYYY-MM-DD"),
        ("2999-01-01", "The as-of date may not be in the future"),
    ],
)
def test_a_bad_as_of_date_is_a_400_with_the_reason(client, auditor, plan, value, message):
    client.force_login(auditor)
    for url in (reverse("reports"), reverse("reports-download", args=["pool", "csv"])):
        response = client.get(url, {"as_of": value})
        assert response.status_code == 400 and message in response.content.decode()


def test_the_reports_page_offers_the_as_of_date(client, auditor, plan):
    client.force_login(auditor)
    html = client.get(reverse("reports"), {"as_of": "2024-04-15"}).content.decode()
    assert 'name="as_of"' in html and 'value="2024-04-15"' in html
    assert "as_of=2024-04-15" in html  # the downloads keep the filter
