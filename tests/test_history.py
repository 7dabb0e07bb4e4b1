"""The audit trail: who proposed a designation, each vote, who recorded each issuance (and cancellation) against it.

Asserted on the rendered designation page and on the admin's history pages (django-simple-history).
"""

import datetime
import html as html_lib
import re

import pytest
from django.urls import reverse

from plan_admin import services
from plan_admin.models import BoardDesignation, Issuance
from tests import factories

pytestmark = pytest.mark.django_db

ENTRY = re.compile(
    r'<li class="timeline-entry (?P<kind>\w+)">\s*<time[^>]*>[^<]*</time>\s*<span class="who">'
    r'(?:<span class="person" title="[^"]*">)?(?P<who>[^<]*)(?:</span>)?</span>\s*'
    r'<span class="what">(?P<what>[^<]*)</span>',
    re.S,
)


@pytest.fixture
def two_vote_designation(superuser, staff_user, board_member, second_board_member, participant, client):
    """A designation of a two-approval plan: proposed by staff, approved through the page by two members, with an
    issuance recorded and another recorded and cancelled by staff."""
    plan = factories.make_plan(by=superuser, required_approvals=2)
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=1_000_000, staff=staff_user, factors="Retention."
    )
    for hour, (member, comment) in enumerate([(board_member, "Agreed."), (second_board_member, "")], start=10):
        client.force_login(member)
        with factories.on_day(datetime.date(2024, 1, 3), hour=hour):
            response = client.post(
                reverse("designation-vote", args=[designation.pk]), {"decision": "approve", "comment": comment}
            )
        assert response.status_code == 302
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.APPROVED
    kept = factories.issue(designation, by=staff_user, shares=1_000)
    mistaken = factories.issue(designation, by=staff_user, shares=250, on=datetime.date(2024, 7, 2))
    services.issuance_cancel(
        issuance=mistaken, cancelled_on=datetime.date(2024, 7, 3), reason="Entered twice", by=staff_user
    )
    return designation, kept, mistaken


def timeline(client, designation) -> list[tuple[str, str, str]]:
    response = client.get(reverse("designation-detail", args=[designation.pk]))
    assert response.status_code == 200
    section = response.content.decode().split('data-testid="history"')[1].split("</ol>")[0]
    return [(m["kind"], m["who"].strip(), html_lib.unescape(m["what"]).strip()) for m in ENTRY.finditer(section)]


def test_designation_page_shows_who_proposed_voted_and_recorded(client, auditor, two_vote_designation):
    designation, kept, mistaken = two_vote_designation
    client.force_login(auditor)
    entries = timeline(client, designation)
    assert entries == [
        ("proposed", "staff", "Proposed 1,000,000 shares for 2024"),
        ("vote", "board", "Voted to approve: “Agreed.”"),
        ("vote", "board2", "Voted to approve"),
        ("status", "board2", "Approved by the board on January 3, 2024 (Votes of the board in plan-admin)"),
        ("issuance", "staff", f"Recorded issuance #{kept.pk}: 1,000 shares on June 30, 2024 (compensation)"),
        ("issuance", "staff", f"Recorded issuance #{mistaken.pk}: 250 shares on July 2, 2024 (compensation)"),
        ("cancellation", "staff", f"Cancelled issuance #{mistaken.pk} as of July 3, 2024: Entered twice"),
    ]


def test_vote_history_record_names_the_voter(two_vote_designation, board_member, second_board_member):
    designation, _, _ = two_vote_designation
    voters = {record.history_user for record in designation.votes.model.history.filter(designation_id=designation.pk)}
    assert voters == {board_member, second_board_member}
    approval = designation.history.filter(status=BoardDesignation.Status.APPROVED).earliest("history_date")
    assert approval.history_user == second_board_member


def test_withdrawal_is_in_the_history(client, board_member, plan, participant, staff_user):
    designation = factories.make_designation(plan=plan, participant=participant, year=2025, shares=10, staff=staff_user)
    services.designation_withdraw(designation=designation, by=staff_user)
    client.force_login(board_member)
    assert timeline(client, designation)[-1] == ("status", "staff", "Status changed to withdrawn")


def test_admin_history_of_a_designation_lists_each_change_and_its_user(client, auditor, two_vote_designation):
    designation, _, _ = two_vote_designation
    client.force_login(auditor)
    response = client.get(reverse("admin:plan_admin_boarddesignation_history", args=[designation.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    rows = re.findall(r"<tr>.*?</tr>", page.split("<tbody>")[1].split("</tbody>")[0], re.S)
    assert len(rows) == designation.history.count() == 2  # proposed, then approved
    assert "staff" in rows[-1] and "Created" in rows[-1]  # newest first
    assert "board2" in rows[0] and "Changed" in rows[0]


def test_admin_history_of_an_issuance_names_who_recorded_it(client, auditor, two_vote_designation):
    _, kept, _ = two_vote_designation
    client.force_login(auditor)
    response = client.get(reverse("admin:plan_admin_issuance_history", args=[kept.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "staff" in page and "Created" in page
    record = Issuance.history.get(id=kept.pk)
    version = client.get(reverse("admin:plan_admin_issuance_simple_history", args=[kept.pk, record.history_id]))
    assert version.status_code == 200
    assert "Revert" not in version.content.decode()  # SIMPLE_HISTORY_REVERT_DISABLED


def test_history_needs_a_login_and_a_view_permission(client, two_vote_designation):
    designation, _, _ = two_vote_designation
    url = reverse("designation-detail", args=[designation.pk])
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("outsider", password=factories.PASSWORD))
    assert client.get(url).status_code == 403
