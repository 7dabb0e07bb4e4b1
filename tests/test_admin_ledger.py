"""The staff's admin: recording issuances, proposals, reserve changes and cancellations through the browser forms.

Refusals show as form errors and write nothing; a valid issuance moves the pool figures shown on the page.
"""

import datetime
import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plan_admin import services
from plan_admin.models import BoardDesignation, Issuance, Plan, PlanProposal, ShareReserveChange
from tests import factories

pytestmark = pytest.mark.django_db

ADD_ISSUANCE = reverse("admin:plan_admin_issuance_add")


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def pool_figure(response, name: str) -> int:
    match = re.search(rf'data-figure="{name}">([\d,]+)<', response.content.decode())
    assert match, f"pool figure {name} not on the page"
    return int(match.group(1).replace(",", ""))


def issuance_post(designation, **overrides):
    data = {
        "designation": designation.pk,
        "issue_date": "2024-06-30",
        "shares": "1000",
        "kind": "compensation",
        "price_per_share": "0.15",
        "debt_amount": "",
        "debt_reference": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_issuance_form_shows_the_pool(staff_client, approved_designation):
    response = staff_client.get(ADD_ISSUANCE)
    assert response.status_code == 200
    assert pool_figure(response, "authorized") == 10_000_000
    assert pool_figure(response, "issued") == 0
    assert "Dana Whitfield – 2024 – 1,000,000 of 1,000,000 shares left" in response.content.decode()


def test_valid_issuance_is_recorded_and_pool_figures_change(staff_client, approved_designation, staff_user):
    response = staff_client.post(ADD_ISSUANCE, issuance_post(approved_designation, shares="250,000"), follow=True)

    assert response.status_code == 200
    issuance = Issuance.objects.get()
    assert (issuance.shares, issuance.recorded_by) == (250_000, staff_user)
    assert "recorded" in response.content.decode()
    page = staff_client.get(ADD_ISSUANCE)
    assert pool_figure(page, "issued") == 250_000
    # The designation reserves all of its 1,000,000 shares: 250,000 are now issued, 750,000 still committed.
    assert pool_figure(page, "available") == 10_000_000 - 1_000_000


@pytest.mark.parametrize(
    ("setup", "overrides", "message"),
    [
        (
            None,
            {"shares": "1000001"},
            "This issuance of 1,000,001 shares would exceed Dana Whitfield&#x27;s 2024 designation of "
            "1,000,000 shares: "
            "0 are issued, 1,000,000 remain.",
        ),
        (
            None,
            {"issue_date": "2025-01-01"},
            "This designation is for 2024; shares issued on January 1, 2025 need a designation for 2025.",
        ),
        (
            "terminate",
            {"issue_date": "2024-06-30"},
            "The plan was terminated on June 1, 2024: no shares may be issued on or after that date.",
        ),
        (
            "unknown_effective_date",
            {},
            "The plan&#x27;s effective date is not yet recorded: no shares may be issued until it is.",
        ),
        (None, {"price_per_share": "0.0005"}, "The price of $0.0005 per share is below the par value of $0.001."),
    ],
    ids=["exceeds-designation", "wrong-year", "after-termination", "effective-date-unknown", "below-par"],
)
def test_refused_issuance_shows_the_error_and_writes_nothing(
    staff_client, approved_designation, staff_user, board_member, setup, overrides, message
):
    plan = approved_designation.plan
    if setup == "terminate":
        factories.terminate(plan, termination_date=datetime.date(2024, 6, 1), staff=staff_user, approver=board_member)
    elif setup == "unknown_effective_date":
        services.plan_set_effective_date(plan=plan, effective_date=None, by=staff_user)
    before = factories.ledger_snapshot()

    response = staff_client.post(ADD_ISSUANCE, issuance_post(approved_designation, **overrides))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "nothing was recorded" in response.content.decode() or "errornote" in response.content.decode()
    assert factories.ledger_snapshot() == before


def test_form_level_bad_input_writes_nothing(staff_client, approved_designation):
    before = factories.ledger_snapshot()
    response = staff_client.post(ADD_ISSUANCE, issuance_post(approved_designation, shares="-5", price_per_share="x"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Ensure this value is greater than or equal to 1." in content
    assert "Enter a number." in content
    assert factories.ledger_snapshot() == before


def test_resubmitted_form_records_once(staff_client, approved_designation):
    staff_client.get(ADD_ISSUANCE)
    data = issuance_post(approved_designation, submission_key="1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    staff_client.post(ADD_ISSUANCE, data)
    staff_client.post(ADD_ISSUANCE, data)
    assert Issuance.objects.count() == 1
    approved_designation.plan.refresh_from_db()
    assert approved_designation.plan.issued_shares == 1_000


def test_issuances_are_read_only_and_never_deletable(staff_client, superuser, client, approved_designation, staff_user):
    issuance = factories.issue(approved_designation, by=staff_user, shares=10)
    change_url = reverse("admin:plan_admin_issuance_change", args=[issuance.pk])
    response = staff_client.post(change_url, {"shares": "99"})
    assert response.status_code == 403
    client.force_login(superuser)
    assert client.post(reverse("admin:plan_admin_issuance_delete", args=[issuance.pk])).status_code == 403
    assert client.post(change_url, {"shares": "99"}).status_code == 403
    issuance.refresh_from_db()
    assert issuance.shares == 10


def test_cancel_button_cancels_through_the_service(staff_client, approved_designation, staff_user):
    issuance = factories.issue(approved_designation, by=staff_user, shares=10)
    page = staff_client.get(reverse("admin:plan_admin_issuance_change", args=[issuance.pk]))
    cancel_url = reverse("admin:plan_admin_issuance_cancel", args=[issuance.pk])
    assert cancel_url in page.content.decode()

    refused = staff_client.post(cancel_url, {"cancelled_on": "2024-06-01", "reason": "Typo."})
    assert "The cancellation date may not precede the issue date, June 30, 2024." in refused.content.decode()
    assert not hasattr(Issuance.objects.get(pk=issuance.pk), "cancellation")

    staff_client.post(cancel_url, {"cancelled_on": "2024-07-01", "reason": "Typo."})
    approved_designation.plan.refresh_from_db()
    assert approved_designation.plan.issued_shares == 0
    assert Issuance.objects.get(pk=issuance.pk).cancellation.recorded_by == staff_user


def test_board_member_cannot_record_issuances(client, board_member, approved_designation):
    client.force_login(board_member)
    assert client.get(ADD_ISSUANCE).status_code == 403
    before = factories.ledger_snapshot()
    assert client.post(ADD_ISSUANCE, issuance_post(approved_designation)).status_code == 403
    assert factories.ledger_snapshot() == before


def test_staff_proposes_a_designation_and_refusal_shows(staff_client, plan, participant, approved_designation):
    url = reverse("admin:plan_admin_boarddesignation_add")
    data = {
        "plan": plan.pk,
        "participant": participant.pk,
        "year": "2025",
        "shares": "5000",
        "factors_considered": "Retention.",
    }
    response = staff_client.post(url, data, follow=True)
    assert response.status_code == 200
    assert BoardDesignation.objects.filter(year=2025, status="proposed").exists()

    before = factories.ledger_snapshot()
    response = staff_client.post(url, {**data, "year": "2024"})
    assert (
        "Dana Whitfield already has a designation for 2024 (approved, 1,000,000 shares)." in response.content.decode()
    )
    assert factories.ledger_snapshot() == before


def test_staff_withdraws_a_proposal(staff_client, plan, participant, staff_user):
    proposal = factories.make_designation(plan=plan, participant=participant, year=2025, shares=10, staff=staff_user)
    staff_client.post(reverse("admin:plan_admin_boarddesignation_withdraw", args=[proposal.pk]))
    proposal.refresh_from_db()
    assert proposal.status == "withdrawn"


def test_reserve_change_is_proposed_by_staff_and_decided_by_the_board(staff_client, approved_designation, board_member):
    plan = approved_designation.plan
    url = reverse("admin:plan_admin_planproposal_add")
    staff_client.post(url, {"plan": plan.pk, "shares": "-9,500,000", "explanation": "Return unneeded shares."})
    proposal = PlanProposal.objects.get()
    plan.refresh_from_db()
    assert (proposal.status, proposal.shares, plan.authorized_shares) == ("proposed", -9_500_000, 10_000_000)

    # The board's vote is refused: 1,000,000 shares are committed to the approved 2024 designation.
    before = factories.ledger_snapshot()
    client = Client()
    client.force_login(board_member)
    response = client.post(reverse("proposal-vote", args=[proposal.pk]), {"decision": "approve"}, follow=True)
    assert (
        "Reducing the reserve by 9,500,000 shares to 500,000 would leave it below the 1,000,000 shares already "
        "issued (0) or committed to approved designations (1,000,000: 2024: 1,000,000)."
    ) in html.unescape(response.content.decode())
    assert factories.ledger_snapshot() == before

    staff_client.post(reverse("admin:plan_admin_planproposal_withdraw", args=[proposal.pk]))
    staff_client.post(url, {"plan": plan.pk, "shares": "2,500,000", "explanation": "Room for next year."})
    increase = PlanProposal.objects.get(status="proposed")
    client.post(reverse("proposal-vote", args=[increase.pk]), {"decision": "approve"})
    plan.refresh_from_db()
    assert plan.authorized_shares == 12_500_000
    change = ShareReserveChange.objects.get(proposal=increase)
    assert (change.shares, change.board_approval_date, change.recorded_by) == (
        2_500_000,
        datetime.date.today(),
        board_member,
    )


def test_staff_cannot_record_a_reserve_change_without_the_board(staff_client, approved_designation):
    """The reserve's add page is for history entered from records only: before a ledger start date, never now."""
    before = factories.ledger_snapshot()
    response = staff_client.post(
        reverse("admin:plan_admin_sharereservechange_add"),
        {
            "plan": approved_designation.plan_id,
            "shares": "2500000",
            "board_approval_date": "2024-08-01",
            "resolution_reference": "Res. 2024-08",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()  # the plan has no ledger start date
    assert factories.ledger_snapshot() == before


def test_plan_page_shows_pool_and_term_buttons(client, superuser, approved_designation, staff_user):
    factories.issue(approved_designation, by=staff_user, shares=1_234)
    client.force_login(superuser)
    page = client.get(reverse("admin:plan_admin_plan_change", args=[approved_designation.plan_id]))
    assert page.status_code == 200
    assert pool_figure(page, "issued") == 1_234
    assert pool_figure(page, "committed") == 1_000_000 - 1_234  # every year's approved, unissued shares
    content = page.content.decode()
    assert "American Technologies Group, Inc. · 2002 Stock Incentive Plan" in content
    assert reverse("admin:plan_admin_plan_propose_termination", args=[approved_designation.plan_id]) in content
    assert "10,000,000" in content


def test_effective_date_recorded_through_admin(staff_client, superuser):
    plan = factories.make_plan(by=superuser, effective_date=None)
    url = reverse("admin:plan_admin_plan_effective_date", args=[plan.pk])
    staff_client.post(url, {"effective_date": "2002-03-01"})
    plan.refresh_from_db()
    assert plan.effective_date == datetime.date(2002, 3, 1)


def test_superuser_sets_up_a_plan_through_admin(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:plan_admin_plan_add"),
        {
            "company_name": "Acme, Inc.",
            "name": "2026 Equity Plan",
            "purpose": "",
            "stock_class": "Common Stock",
            "par_value": "0.0001",
            "initial_shares": "5000000",
            "board_approval_date": "2026-01-10",
            "resolution_reference": "",
            "effective_date": "",
            "required_approvals": "2",
        },
    )
    assert response.status_code == 302
    plan = Plan.objects.get(name="2026 Equity Plan")
    assert (plan.authorized_shares, plan.required_approvals, plan.effective_date) == (5_000_000, 2, None)


def test_changelists_render_without_n_plus_one(client, superuser, approved_designation, staff_user):
    client.force_login(superuser)
    urls = [
        reverse(f"admin:plan_admin_{model}_changelist")
        for model in (
            "plan",
            "sharereservechange",
            "participant",
            "boarddesignation",
            "designationvote",
            "issuance",
            "issuancecancellation",
        )
    ]

    def query_counts():
        counts = {}
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts[url] = len(queries)
        return counts

    factories.issue(approved_designation, by=staff_user, shares=1)
    few = query_counts()
    for n in range(20):
        person = factories.make_participant(f"Person {n}", by=staff_user)
        designation = factories.make_designation(
            plan=approved_designation.plan,
            participant=person,
            year=2024,
            shares=10,
            staff=staff_user,
            approver=factories.make_user(f"b{n}", role=factories.roles.BOARD),
        )
        issuance = factories.issue(designation, by=staff_user, shares=5)
        services.issuance_cancel(issuance=issuance, cancelled_on=datetime.date(2024, 7, 1), reason="x", by=staff_user)
    many = query_counts()
    assert many == few


def test_issuance_search_by_participant_name_or_debt_reference(
    staff_client, approved_designation, staff_user, board_member, plan
):
    other = factories.make_debt_designation(
        plan=plan,
        participant=factories.make_participant("Priya Raman", by=staff_user),
        year=2024,
        shares=100,
        staff=staff_user,
        approver=board_member,
        debt_amount="100.00",
        price_per_share="0.15",
    )
    by_name = factories.issue(approved_designation, by=staff_user, shares=7)
    by_reference = factories.issue(
        other, by=staff_user, shares=9, kind="debt_settlement", debt_amount=10, debt_reference="INV-42"
    )
    changelist = reverse("admin:plan_admin_issuance_changelist")

    def found(term):
        return {issuance.pk for issuance in staff_client.get(changelist, {"q": term}).context["cl"].result_list}

    assert found("whitf") == {by_name.pk}
    assert found("INV-42") == {by_reference.pk}
    assert found("nobody") == set()


def test_standing_and_cancelled_filters(staff_client, approved_designation, staff_user):
    standing = factories.issue(approved_designation, by=staff_user, shares=7)
    cancelled = factories.issue(approved_designation, by=staff_user, shares=9)
    services.issuance_cancel(issuance=cancelled, cancelled_on=datetime.date(2024, 7, 1), reason="x", by=staff_user)
    changelist = reverse("admin:plan_admin_issuance_changelist")

    def listed(value):
        response = staff_client.get(changelist, {"cancelled": value})
        return {issuance.pk for issuance in response.context["cl"].result_list}

    assert listed("no") == {standing.pk}
    assert listed("yes") == {cancelled.pk}


def test_year_filters_list_the_years_without_reading_every_designation(staff_client, approved_designation, staff_user):
    """The year filters of the issuance, designation and vote lists offer every year from the first designation's to
    the last's, filter by it, and read the range with MIN/MAX (not SELECT DISTINCT over every designation)."""
    factories.issue(approved_designation, by=staff_user, shares=100)
    year = approved_designation.year
    for url, parameter in (
        (reverse("admin:plan_admin_issuance_changelist"), "designation__year"),
        (reverse("admin:plan_admin_boarddesignation_changelist"), "year"),
        (reverse("admin:plan_admin_designationvote_changelist"), "designation__year"),
    ):
        with CaptureQueriesContext(connection) as queries:
            listed = staff_client.get(url)
        assert listed.status_code == 200
        assert f'href="?{parameter}={year}"' in listed.content.decode(), url
        assert not [q["sql"] for q in queries if "DISTINCT" in q["sql"] and "year" in q["sql"]], url

        assert staff_client.get(f"{url}?{parameter}={year}").context["cl"].result_count == 1, url
        assert staff_client.get(f"{url}?{parameter}={year + 1}").context["cl"].result_count == 0, url
        for odd in ("abc", "²", "99999", "-1", ""):
            answer = staff_client.get(url, {parameter: odd})
            assert answer.status_code in (200, 302, 400), (url, odd)
            if answer.status_code == 200 and odd:
                assert answer.context["cl"].result_count == 0, (url, odd)
