"""A board member's work in a real browser: log in, review, approve, reject, and be refused when the pool is short."""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from plan_admin.models import BoardDesignation, DesignationVote, Participant
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people():
    users = {
        "root": factories.make_user("root", role=None, superuser=True),
        "staff": factories.make_user("staff", role=factories.roles.STAFF),
        "board": factories.make_user("board", role=factories.roles.BOARD),
        "board2": factories.make_user("board2", role=factories.roles.BOARD),
    }
    for username, (first, last) in {
        "board": ("Beatrice", "Moreau"),
        "staff": ("Sam", "Okafor"),
        "board2": ("Tomás", "Ibarra"),
    }.items():
        users[username].first_name, users[username].last_name = first, last
        users[username].save(update_fields=["first_name", "last_name"])
    return users


def log_in(page, username: str):
    page.goto(reverse("login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Board dashboard")).to_be_visible()


def log_out(page):
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def card(page, designation):
    return page.locator(f"#designation-{designation.pk}")


def confirm(page, verb: str):
    """The vote's confirmation page: restates the decision; its one button records it."""
    page.get_by_test_id("vote-confirmation").get_by_role("button", name=f"Confirm: {verb}").click()


def test_board_member_logs_in_reviews_and_approves(page, people, screenshot):
    staff = people["staff"]
    plan = factories.make_plan(by=people["root"])
    # A ledger worth looking at: issuances over three years in every category, and proposals for two years.
    for index, (name, category) in enumerate(
        [("Dana Whitfield", "key_employee"), ("Lee Park", "consultant"), ("Ines Alvarez", "non_employee_director")]
    ):
        person = factories.make_participant(name, by=staff, category=category)
        for year in (2022, 2023, 2024):
            designation = factories.make_designation(
                plan=plan,
                participant=person,
                year=year,
                shares=(index + 2) * 150_000,
                staff=staff,
                approver=people["board2"],
            )
            factories.issue(designation, by=staff, shares=(index + 1) * 100_000 + year % 10 * 20_000)
    omar = factories.make_participant("Omar Haddad", by=staff)
    proposal = factories.make_designation(
        plan=plan,
        participant=omar,
        year=2025,
        shares=250_000,
        staff=staff,
        factors="Led the 2024 debt restructuring; retention through the 2026 financing.",
    )
    other = factories.make_designation(
        plan=plan,
        participant=factories.make_participant("Mei Chen", by=staff),
        year=2026,
        shares=75_000,
        staff=staff,
        factors="Consulting on the patent portfolio.",
    )

    log_in(page, "board")
    assert page.url.endswith(reverse("board-dashboard"))
    pending = card(page, proposal)
    expect(pending).to_contain_text("Omar Haddad")
    expect(pending).to_contain_text("Key employee")
    expect(pending).to_contain_text("250,000")
    expect(pending).to_contain_text("Led the 2024 debt restructuring")
    # Every year's approved designations count: 4,050,000 issued or committed of 10,000,000.
    expect(pending.locator('[data-figure="available-after"]')).to_contain_text("5,950,000 → 5,700,000")
    expect(card(page, other)).to_contain_text("Mei Chen")
    expect(page.locator("#awaiting .year-heading")).to_have_text(["2026", "2025"])
    screenshot(page, "board-dashboard", readme=True)

    pending.get_by_label("Comment").fill("Well earned.")
    pending.get_by_role("button", name="Approve").click()
    confirmation = page.get_by_test_id("vote-confirmation")
    expect(confirmation.get_by_role("heading")).to_have_text("Approve the 2025 designation of Omar Haddad?")
    expect(confirmation.locator('[data-fact="shares"]')).to_have_text("250,000")
    expect(confirmation.locator('[data-fact="year"]')).to_have_text("2025")
    expect(confirmation.get_by_test_id("pool-effect")).to_contain_text("5,950,000 before → 5,700,000 after")
    expect(confirmation.get_by_test_id("consequence")).to_contain_text("Your vote decides it")
    assert not proposal.votes.exists()  # the first step records nothing
    screenshot(page, "vote-confirmation", readme=True)
    confirm(page, "approve")
    expect(page.locator(".message.success")).to_contain_text("The designation is now approved")
    decided = page.locator(f"#decision-{proposal.pk}")
    expect(decided).to_contain_text("Approved")
    expect(decided).to_contain_text("Beatrice Moreau")
    expect(decided).to_contain_text("Well earned.")
    expect(card(page, proposal)).to_have_count(0)

    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.APPROVED
    assert list(proposal.votes.values_list("voter__username", "decision", "comment")) == [
        ("board", "approve", "Well earned.")
    ]

    # The designation's page shows it approved, with the vote in its history.
    decided.get_by_role("link", name="Omar Haddad").click()
    expect(page.get_by_test_id("designation-status")).to_have_text("Approved")
    expect(page.get_by_test_id("history")).to_contain_text("Voted to approve: “Well earned.”")
    screenshot(page, "designation-page")

    # Phone width: the same page still reads (stacked columns), for the record.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(reverse("board-dashboard"))
    expect(page.get_by_role("heading", name="Board dashboard")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "board-dashboard-phone", readme=True)


def test_two_approvals_needed(page, people):
    plan = factories.make_plan(by=people["root"], required_approvals=2)
    person = factories.make_participant("Dana Whitfield", by=people["staff"])
    proposal = factories.make_designation(
        plan=plan, participant=person, year=2025, shares=40_000, staff=people["staff"]
    )

    log_in(page, "board")
    expect(card(page, proposal)).to_contain_text("0 of 2 needed")
    card(page, proposal).get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("consequence")).to_contain_text("1 of the 2 needed")
    confirm(page, "approve")
    expect(page.locator(".message.success")).to_contain_text("It stays pending: 1 of 2 required approvals.")
    waiting = page.locator("#before-board").locator(f"#designation-{proposal.pk}")
    expect(waiting).to_contain_text("1 of 2 needed")
    expect(waiting.get_by_role("button", name="Approve")).to_have_count(0)
    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.PROPOSED

    log_out(page)
    log_in(page, "board2")
    card(page, proposal).get_by_role("button", name="Approve").click()
    confirm(page, "approve")
    expect(page.locator(".message.success")).to_contain_text("The designation is now approved")
    expect(page.locator(f"#decision-{proposal.pk}")).to_contain_text("Approved")
    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.APPROVED
    assert proposal.votes.filter(decision=DesignationVote.Decision.APPROVE).count() == 2


def test_rejection_is_shown_as_rejected(page, people):
    plan = factories.make_plan(by=people["root"])
    person = factories.make_participant("Lee Park", by=people["staff"], category=Participant.Category.CONSULTANT)
    proposal = factories.make_designation(
        plan=plan, participant=person, year=2025, shares=900_000, staff=people["staff"]
    )

    log_in(page, "board")
    card(page, proposal).get_by_label("Comment").fill("Out of proportion to the engagement.")
    card(page, proposal).get_by_role("button", name="Reject").click()
    confirmation = page.get_by_test_id("vote-confirmation")
    expect(confirmation.get_by_role("heading")).to_have_text("Reject the 2025 designation of Lee Park?")
    expect(confirmation.locator('[data-fact="shares"]')).to_have_text("900,000")
    expect(confirmation.get_by_test_id("pool-effect")).to_contain_text("10,000,000 before → 10,000,000 after")
    expect(confirmation).to_contain_text("Out of proportion to the engagement.")
    confirm(page, "reject")
    expect(page.locator(".message.success")).to_contain_text("The designation is now rejected")
    decided = page.locator(f"#decision-{proposal.pk}")
    expect(decided).to_contain_text("Rejected")
    expect(decided).to_contain_text("Out of proportion to the engagement.")
    page.goto(reverse("designation-detail", args=[proposal.pk]))
    expect(page.get_by_test_id("designation-status")).to_have_text("Rejected")
    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.REJECTED


def test_approval_that_would_over_commit_the_pool_is_refused(page, people, screenshot):
    plan = factories.make_plan(by=people["root"], shares=1_000_000, name="Small plan")
    factories.change_reserve(
        plan, shares=500_000, staff=people["staff"], approver=people["board2"], on=datetime.date(2005, 3, 14)
    )
    first = factories.make_participant("Lee Park", by=people["staff"])
    factories.make_designation(
        plan=plan, participant=first, year=2025, shares=1_300_000, staff=people["staff"], approver=people["board2"]
    )
    person = factories.make_participant("Dana Whitfield", by=people["staff"])
    proposal = factories.make_designation(
        plan=plan, participant=person, year=2025, shares=300_000, staff=people["staff"]
    )
    before = factories.ledger_snapshot()

    log_in(page, "board")
    expect(card(page, proposal)).to_contain_text("approval will be refused")
    card(page, proposal).get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("pool-effect")).to_contain_text("the approval will be refused")
    confirm(page, "approve")
    expect(page.locator(".message.error")).to_have_text(
        "Approving 300,000 shares for Dana Whitfield in 2025 would over-commit the plan: of 1,500,000 authorized "
        "shares, 0 are issued and 1,300,000 are committed to approved designations (2025: 1,300,000), so 200,000 "
        "remain."
    )
    expect(card(page, proposal)).to_contain_text("Proposed")
    assert factories.ledger_snapshot() == before
    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.PROPOSED
    assert not proposal.votes.exists()

    # The plan's page: terms, pool and the reserve's history with board dates and resolutions.
    page.get_by_role("link", name="Small plan").first.click()
    expect(page.get_by_role("heading", name="Small plan", exact=True)).to_be_visible()
    expect(page.get_by_test_id("term")).to_have_text("In effect until terminated by action of the Board.")
    expect(page.locator("table.reserve")).to_contain_text("March 14, 2005")
    expect(page.locator("table.reserve")).to_contain_text("Votes of the board in plan-admin")
    expect(page.locator("table.reserve")).to_contain_text("1,500,000")
    expect(page.get_by_test_id("commitments")).to_contain_text("1,300,000")  # approved for 2025, not yet issued
    screenshot(page, "plan-page")
