"""The legal record in a real browser: the board decides a reserve increase staff proposed, sees every year's
commitments, reads a decision's date and reference, and confirms history entered from records."""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from plan_admin import services
from plan_admin.models import PlanProposal, RecordConfirmation
from tests import factories
from tests.e2e.test_board_browser import log_in, log_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people():
    users = {
        "root": factories.make_user("root", role=None, superuser=True),
        "staff": factories.make_user("staff", role=factories.roles.STAFF),
        "board": factories.make_user("board", role=factories.roles.BOARD),
        "board2": factories.make_user("board2", role=factories.roles.BOARD),
    }
    for user, (first, last) in zip(
        users.values(), [("Site", "Admin"), ("Sam", "Okafor"), ("Beatrice", "Moreau"), ("Tomás", "Ibarra")], strict=True
    ):
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
    return users


def staff_logs_in(page):
    page.goto(reverse("admin:login"))
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Plan ledger")).to_be_visible()


def test_board_approves_a_reserve_increase_proposed_by_staff(page, people, screenshot):
    staff, board2 = people["staff"], people["board2"]
    plan = factories.make_plan(by=people["root"], shares=1_000_000, name="Small plan")
    this_year = datetime.date.today().year
    lee = factories.make_participant("Lee Park", by=staff)
    dana = factories.make_participant("Dana Whitfield", by=staff)
    last = factories.make_designation(
        plan=plan, participant=lee, year=this_year - 1, shares=400_000, staff=staff, approver=board2
    )
    factories.issue(last, by=staff, shares=100_000)
    factories.make_designation(
        plan=plan, participant=dana, year=this_year, shares=550_000, staff=staff, approver=board2
    )

    # Staff propose the increase in the admin.
    staff_logs_in(page)
    page.goto(reverse("admin:plan_admin_planproposal_add") + f"?plan={plan.pk}")
    page.get_by_label("Shares").fill("500,000")
    page.get_by_label("Explanation").fill("Room for next year's key-employee grants.")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("Proposed to the board")
    proposal = PlanProposal.objects.get()
    assert (proposal.status, proposal.shares, proposal.proposed_by) == ("proposed", 500_000, staff)
    page.get_by_role("button", name="Log out").click()

    # The board member sees the pool nearly full, every year's commitment, and the proposal with its effect.
    log_in(page, "board")
    commitments = page.get_by_test_id("commitments")
    expect(commitments).to_contain_text(f"{this_year - 1}")
    expect(commitments).to_contain_text("300,000")
    expect(commitments).to_contain_text(f"{this_year}")
    expect(commitments).to_contain_text("550,000")
    expect(page.locator('[data-figure="committed"]').first).to_have_text("850,000")
    expect(page.locator('[data-figure="available"]').first).to_have_text("50,000")
    expect(page.get_by_test_id("pool-alert").first).to_contain_text("running low")
    card = page.locator(f"#proposal-{proposal.pk}")
    expect(card).to_contain_text("Increase the share reserve by 500,000 shares")
    expect(card.locator('[data-figure="effect"]')).to_contain_text("Authorized shares 1,000,000 → 1,500,000")
    screenshot(page, "board-reserve-proposal")
    card.get_by_role("button", name="Approve").click()
    confirmation = page.get_by_test_id("vote-confirmation")
    expect(confirmation).to_contain_text("Authorized shares 1,000,000 → 1,500,000")
    assert proposal.votes.count() == 0  # nothing recorded before the confirmation
    confirmation.get_by_role("button", name="Confirm: approve").click()
    expect(page.locator(".message.success")).to_contain_text("The proposal is now approved, decided today")
    expect(page.locator('[data-figure="authorized"]').first).to_have_text("1,500,000")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_on) == ("approved", datetime.date.today())
    plan.refresh_from_db()
    assert plan.authorized_shares == 1_500_000
    change = plan.reserve_changes.get(proposal=proposal)
    assert (change.shares, change.board_approval_date, change.recorded_by) == (
        500_000,
        datetime.date.today(),
        people["board"],
    )


def test_designation_page_shows_the_decision_date_and_reference(page, people):
    plan = factories.make_plan(by=people["root"])
    person = factories.make_participant("Dana Whitfield", by=people["staff"])
    designation = factories.make_designation(
        plan=plan,
        participant=person,
        year=2024,
        shares=100_000,
        staff=people["staff"],
        approver=people["board2"],
        decided_on=datetime.date(2024, 3, 5),
    )
    log_in(page, "board")
    page.goto(reverse("designation-detail", args=[designation.pk]))
    expect(page.get_by_test_id("decided-on")).to_have_text("March 5, 2024")
    expect(page.get_by_test_id("decision-reference")).to_contain_text("Votes of the board in plan-admin")
    expect(page.get_by_test_id("history")).to_contain_text(
        "Approved by the board on March 5, 2024 (Votes of the board in plan-admin)"
    )


def test_a_past_record_waits_for_a_board_members_confirmation(page, people, screenshot):
    staff = people["staff"]
    plan = factories.make_plan(by=people["root"], name="Older plan")
    services.plan_set_ledger_start(plan=plan, ledger_start_date=datetime.date(2020, 1, 1), by=people["root"])
    person = factories.make_participant("Halvorsen Engineering LLC", by=staff, category="consultant")

    # Staff enter a 2018 designation from the board's minutes, in the admin.
    staff_logs_in(page)
    page.goto(reverse("admin:plan_admin_boarddesignation_past"))
    page.locator("#id_plan").select_option(str(plan.pk))
    page.locator("#id_participant").select_option(str(person.pk))
    page.get_by_label("Year").fill("2018")
    page.get_by_label("Shares").fill("300,000")
    page.get_by_label("Factors considered").fill("Settles unpaid engineering invoices in stock.")
    page.get_by_label("The board's decision").select_option("approve")
    page.get_by_label("Date the board decided").fill("2018-10-20")
    page.get_by_label("Minutes or written consent").fill("Unanimous written consent of October 20, 2018")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("entered from records")
    designation = plan.designations.get()
    assert (designation.status, designation.decided_on, designation.decision_source) == (
        "approved",
        datetime.date(2018, 10, 20),
        "records",
    )
    page.get_by_role("button", name="Log out").click()

    # The board's dashboard says something waits; the records page lists it; a member confirms it.
    log_in(page, "board")
    expect(page.get_by_test_id("unconfirmed-records")).to_contain_text("1 record entered from the board's records")
    page.get_by_test_id("unconfirmed-records").get_by_role("link").click()
    row = page.locator(f"#record-designation-{designation.pk}")
    expect(row).to_contain_text("Halvorsen Engineering LLC")
    expect(row).to_contain_text("October 20, 2018")
    expect(row).to_contain_text("Unanimous written consent of October 20, 2018")
    screenshot(page, "past-records")
    row.get_by_label("Checked against its source").check()
    row.get_by_role("button", name="Confirm").click()
    expect(page.locator(".message.success")).to_contain_text("Confirmed")
    expect(page.get_by_test_id("no-unconfirmed")).to_be_visible()
    confirmation = RecordConfirmation.objects.get(designation=designation)
    assert confirmation.confirmed_by == people["board"]
    page.goto(reverse("designation-detail", args=[designation.pk]))
    expect(page.get_by_test_id("confirmation")).to_contain_text("Beatrice Moreau")
    log_out(page)
