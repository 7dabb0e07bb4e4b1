"""The inputs issue 10 found answered with a server error, each now a clear 4xx (or a form error) that writes nothing.

tests/test_odd_input_walk.py walks every URL with odd values; these are the reported cases, readable one by one.
"""

import pytest
from django.urls import reverse

from plan_admin.models import Participant, Plan
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(approved_designation, staff_user):
    issuance = factories.issue(approved_designation, by=staff_user, shares=1_000)
    return {
        "plan": approved_designation.plan,
        "designation": approved_designation,
        "issuance": issuance,
        "participant": approved_designation.participant,
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/plan_admin/issuance/abc/cancel/"),
        ("get", "/admin/plan_admin/plan/abc/effective-date/"),
        ("get", "/admin/plan_admin/plan/abc/terminate/"),
        ("post", "/admin/plan_admin/boarddesignation/abc/withdraw/"),
        ("get", "/admin/plan_admin/participant/abc/history/"),
        ("get", "/admin/plan_admin/issuance/abc/history/"),
        ("get", "/admin/plan_admin/issuance/%C2%B2/change/"),
        ("get", "/admin/plan_admin/issuance/%C2%B2/cancel/"),
        ("get", "/admin/plan_admin/plan/-1/change/"),
        ("get", "/admin/plan_admin/plan/99999999999999999999999999/change/"),
        ("get", "/admin/plan_admin/plan/99999999999999999999999999/history/"),
        ("get", "/admin/otp_totp/totpdevice/424242/config/"),
    ],
)
def test_an_admin_url_naming_no_record_is_404(client, superuser, staff_user, ledger, method, path):
    for user in (staff_user, superuser):
        client.force_login(user)
        before = factories.ledger_snapshot()
        response = getattr(client, method)(path)
        assert response.status_code == 404, (user, response.status_code)
        assert "There is no such page" in response.content.decode()
        assert factories.ledger_snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        "plan=%C2%B2",
        "year=%C2%B2",
        "plan=%D9%A1",
        "year=99999999999999999999",
        "plan=99999999999999999999999",
        "plan=-1",
        "year=-2024",
    ],
)
@pytest.mark.parametrize("path", ["/reports/", "/reports/issuances.csv", "/reports/pool.xlsx"])
def test_a_report_filter_that_is_not_an_ascii_number_is_400(client, auditor, ledger, path, query):
    client.force_login(auditor)
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert "not" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "board_approval_date__year=99999999999999999999",
        "board_approval_date__year=%C2%B2",
        "_to_field=",
        "q=%00",
        "board_approval_date__month=abc",
    ],
)
def test_odd_admin_list_parameters_are_refused_not_a_server_error(client, staff_user, ledger, query):
    client.force_login(staff_user)
    for path in (
        "/admin/plan_admin/sharereservechange/",
        "/admin/plan_admin/sharereservechange/export/",
        f"/admin/plan_admin/plan/{ledger['plan'].pk}/change/",
    ):
        response = client.get(f"{path}?{query}")
        assert response.status_code in (302, 400), (path, response.status_code)


@pytest.mark.parametrize("target", ["abc", "²", "//evil.example.com/", "https://evil.example.com/"])
def test_a_vote_with_an_odd_next_goes_back_to_the_board(client, board_member, plan, participant, staff_user, target):
    proposal = factories.make_designation(plan=plan, participant=participant, year=2025, shares=10, staff=staff_user)
    client.force_login(board_member)
    response = client.post(reverse("designation-vote", args=[proposal.pk]), {"decision": "bogus", "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("board-dashboard")


@pytest.mark.parametrize("field", ["name", "notes"])
def test_a_participant_saved_in_the_admin_with_unreadable_text_gets_a_form_error(client, staff_user, ledger, field):
    participant = ledger["participant"]
    client.force_login(staff_user)
    data = {"name": participant.name, "category": participant.category, "email": "", "user": "", "notes": ""}
    data[field] = "Dana \ufffd Whitfield"
    before = factories.ledger_snapshot()

    changed = client.post(reverse("admin:plan_admin_participant_change", args=[participant.pk]), data)
    added = client.post(reverse("admin:plan_admin_participant_add"), {**data, "name": data["name"] + " 2"})

    for response in (changed, added):
        assert response.status_code == 200
        assert "some characters could not be read; enter UTF-8 text." in response.content.decode()
    assert factories.ledger_snapshot() == before
    assert Participant.objects.get(pk=participant.pk).name == "Dana Whitfield"


def test_a_plan_saved_in_the_admin_with_unreadable_text_gets_a_form_error(client, superuser, ledger):
    plan = ledger["plan"]
    client.force_login(superuser)
    data = {
        "company_name": plan.company_name,
        "name": "Plan \ufffd",
        "purpose": plan.purpose,
        "stock_class": plan.stock_class,
        "required_approvals": "1",
    }
    before = factories.ledger_snapshot()
    response = client.post(reverse("admin:plan_admin_plan_change", args=[plan.pk]), data)
    assert response.status_code == 200
    assert "Plan name: some characters could not be read; enter UTF-8 text." in response.content.decode()
    assert factories.ledger_snapshot() == before
    assert Plan.objects.get(pk=plan.pk).name == plan.name


@pytest.mark.parametrize("role", ["staff", "auditor", "board", "superuser"])
def test_the_history_revert_page_writes_nothing_on_post(
    client, role, staff_user, auditor, board_member, superuser, ledger
):
    """django-simple-history saves the old version on POST for anyone who may view the row: refused by code."""
    user = {"staff": staff_user, "auditor": auditor, "board": board_member, "superuser": superuser}[role]
    client.force_login(user)
    before = factories.ledger_snapshot()
    for obj, name in [
        (ledger["designation"], "boarddesignation"),
        (ledger["plan"], "plan"),
        (ledger["participant"], "participant"),
        (ledger["issuance"], "issuance"),
    ]:
        record = obj.history.order_by("history_id").first()
        url = reverse(f"admin:plan_admin_{name}_simple_history", args=[obj.pk, record.history_id])
        response = client.post(url, {})
        assert response.status_code == 403, (name, response.status_code)
    assert factories.ledger_snapshot() == before
