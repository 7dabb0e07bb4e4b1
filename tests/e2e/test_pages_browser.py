"""Issue 15 in a real browser, one test per bullet, on every role's pages: one formatting rule (years plain, shares
grouped, money with its currency and decimals, people by full name with the username on hover), links only where
the role can follow them, the vote's confirmation step, why a member may not vote, the reports page and the
cancellation form, keyboard alone, and the board's pages on a phone.
"""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from plan_admin.models import BoardDesignation, Issuance
from tests import factories
from tests.e2e.ledger import build_ledger, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ledger():
    return build_ledger()


def admin(name: str, *args) -> str:
    return reverse(f"admin:plan_admin_{name}", args=args)


def no_grouped_year(text: str, year: int) -> None:
    grouped = f"{str(year)[0]},{str(year)[1:]}"
    assert grouped not in text, f"{grouped!r} (a year with a thousands separator) on the page"


def expect_person(locator, *, name: str, username: str):
    """A person shown by full name, the username on hover, and not a link."""
    person = locator.locator(".person")
    expect(person.first).to_have_text(name)
    expect(person.first).to_have_attribute("title", username)
    assert person.first.evaluate("element => !element.closest('a') && !element.querySelector('a')")


# --- (1) one formatting rule, (2) links only where the role can follow them ---------------------------------------


def test_board_pages_format_years_shares_money_and_people(page, ledger):
    year = ledger["year"]
    debt, debt_issuance = ledger["debt"], ledger["debt_issuance"]
    log_in(page, "auditor", landing="Board dashboard")
    expect(page.locator("#before-board .year-heading").filter(has_text=str(year))).to_have_text([str(year)])
    expect(page.locator(f"#designation-{ledger['proposal'].pk} [data-figure='shares']")).to_have_text("250,000")
    expect_person(
        page.locator(f"#designation-{ledger['proposal'].pk} .meta").first, name="Sam Okafor", username="staff"
    )
    no_grouped_year(page.content(), year)
    assert "{#" not in page.inner_text("body") and "#}" not in page.inner_text("body")  # no template comment shown

    # The designation's page: a debt settlement at $0.001 settling $500.00, recorded by a name, not a link.
    page.goto(reverse("designation-detail", args=[debt.pk]))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{year - 1} designation of Harbor Capital LLC")
    row = page.locator(f"#issuance-{debt_issuance.pk}")
    expect(row.locator('[data-label="Price / share"]')).to_have_text("$0.001")
    expect(row.locator('[data-label="Kind"]')).to_contain_text("$500.00")
    expect(row.locator('[data-label="Shares"]')).to_have_text("500,000")
    expect_person(row.locator('[data-label="Recorded by"]'), name="Sam Okafor", username="staff")
    no_grouped_year(page.content(), year - 1)

    # The participant's page and the plan's page.
    page.goto(reverse("participant-detail", args=[ledger["participant"].pk]))
    row = page.locator(f"#issuance-{ledger['compensation'].pk}")
    expect(row.locator('[data-label="Price / share"]')).to_have_text("$0.15")
    expect_person(row.locator('[data-label="Recorded by"]'), name="Sam Okafor", username="staff")
    no_grouped_year(page.content(), year - 1)
    page.goto(reverse("plan-detail", args=[ledger["plan"].pk]))
    expect(page.locator("dd", has_text="per share")).to_have_text("$0.001 per share")
    no_grouped_year(page.content(), year)

    # A proposal to change the plan, the resolutions list and a resolution: who proposed or prepared, by name.
    page.goto(reverse("proposal-detail", args=[ledger["reserve"].pk]))
    expect_person(page.locator("dd", has_text="Sam Okafor"), name="Sam Okafor", username="staff")
    expect(page.locator('[data-figure="shares"]')).to_have_text("+500,000")
    page.goto(reverse("resolution-list"))
    expect_person(page.locator(f"#resolution-{ledger['resolution'].pk} .meta"), name="Sam Okafor", username="staff")
    page.goto(reverse("resolution-detail", args=[ledger["resolution"].pk]))
    expect_person(page.locator("dd", has_text="Sam Okafor"), name="Sam Okafor", username="staff")
    no_grouped_year(page.content(), year)


def test_admin_formats_and_links_for_staff(page, ledger, screenshot):
    year = ledger["year"]
    compensation, debt_issuance = ledger["compensation"], ledger["debt_issuance"]
    log_in(page, "staff", landing="Plan ledger")

    page.goto(admin("issuance_changelist"))
    table = page.locator("#result_list")
    expect(table.locator(f"tr:has(a[href$='/{compensation.pk}/change/']) td.field-year")).to_have_text(str(year - 1))
    expect(table.locator(f"tr:has(a[href$='/{compensation.pk}/change/']) td.field-price_per_share_shown")).to_have_text(
        "$0.15"
    )
    expect(
        table.locator(f"tr:has(a[href$='/{debt_issuance.pk}/change/']) td.field-price_per_share_shown")
    ).to_have_text("$0.001")
    expect(table.locator(f"tr:has(a[href$='/{debt_issuance.pk}/change/']) td.field-debt_amount_shown")).to_have_text(
        "$500.00"
    )
    expect(table.locator(f"tr:has(a[href$='/{compensation.pk}/change/']) td.field-shares_display")).to_have_text(
        "150,000"
    )
    no_grouped_year(table.inner_text(), year - 1)

    # A compensation issuance: price with its currency, the recorder's name as text, no debt fields or hint.
    page.goto(admin("issuance_change", compensation.pk))
    expect(page.locator(".field-price_per_share_shown .readonly")).to_have_text("$0.15")
    expect_person(page.locator(".field-recorded_by_shown .readonly"), name="Sam Okafor", username="staff")
    expect(page.locator(".field-debt_amount_shown")).to_have_count(0)
    expect(page.get_by_text("Debt settled")).to_have_count(0)
    screenshot(page, "admin-issuance")
    # "View on site" goes to the board-facing page: the designation's history, at this issuance.
    page.get_by_role("link", name="View on site").click()
    expect(page).to_have_url(
        f"{page.url.split('/designations/')[0]}/designations/{compensation.designation_id}/#issuance-{compensation.pk}"
    )
    expect(page.locator(f"#issuance-{compensation.pk}")).to_contain_text("150,000")

    page.goto(admin("issuance_change", debt_issuance.pk))
    expect(page.locator(".field-debt_amount_shown .readonly")).to_have_text("$500.00")
    expect(page.locator(".field-price_per_share_shown .readonly")).to_have_text("$0.001")

    # Designations: the list's Year column and the change page's Year field.
    page.goto(admin("boarddesignation_changelist"))
    expect(
        page.locator(f"#result_list tr:has(a[href$='/{ledger['approved'].pk}/change/']) td.field-year_shown")
    ).to_have_text(str(year - 1))
    no_grouped_year(page.locator("#result_list").inner_text(), year)
    no_grouped_year(page.locator("#result_list").inner_text(), year - 1)
    page.goto(admin("boarddesignation_change", ledger["approved"].pk))
    expect(page.locator(".field-year_shown .readonly")).to_have_text(str(year - 1))
    expect_person(page.locator(".field-proposed_by_shown .readonly"), name="Sam Okafor", username="staff")
    page.goto(admin("plan_change", ledger["plan"].pk))
    expect(page.locator(".field-par_value_shown .readonly")).to_have_text("$0.001")

    # The cancellation form proposes today's date.
    page.goto(admin("issuance_cancel", compensation.pk))
    expect(page.get_by_label("Cancellation date")).to_have_value(datetime.date.today().isoformat())

    # The reports page: the year filter's bounds and value are years, not "1,900".
    page.goto(reverse("reports") + f"?year={year - 1}")
    year_field = page.get_by_label("Designation year")
    expect(year_field).to_have_value(str(year - 1))
    assert "," not in year_field.get_attribute("min") + year_field.get_attribute("max")


# --- (3) the vote's confirmation step, and the signing page's restatement -----------------------------------------


def test_reject_is_confirmed_with_what_it_decides(page, ledger):
    proposal = ledger["proposal"]
    log_in(page, "board", landing="Board dashboard")
    card = page.locator(f"#designation-{proposal.pk}")
    card.get_by_label("Comment").fill("Not this year.")
    card.get_by_role("button", name="Reject").click()
    confirmation = page.get_by_test_id("vote-confirmation")
    expect(confirmation.get_by_role("heading", level=1)).to_have_text(
        f"Reject the {ledger['year']} designation of Lee Park?"
    )
    expect(confirmation.locator('[data-fact="participant"]')).to_have_text("Lee Park (Consultant)")
    expect(confirmation.locator('[data-fact="shares"]')).to_have_text("250,000")
    expect(confirmation.get_by_test_id("pool-effect")).to_contain_text("before →")
    assert not proposal.votes.exists()
    # Going back records nothing.
    confirmation.get_by_role("link", name="Go back without voting").click()
    expect(page.get_by_role("heading", name="Board dashboard")).to_be_visible()
    assert not proposal.votes.exists()
    card.get_by_label("Comment").fill("Not this year.")
    card.get_by_role("button", name="Reject").click()
    page.get_by_role("button", name="Confirm: reject").click()
    expect(page.locator(".message.success")).to_contain_text("The designation is now rejected")
    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.REJECTED
    assert list(proposal.votes.values_list("voter__username", "decision", "comment")) == [
        ("board", "reject", "Not this year.")
    ]


def test_signing_page_restates_what_is_signed(page, ledger):
    resolution = ledger["resolution"]
    log_in(page, "board", landing="Board dashboard")
    page.goto(reverse("resolution-detail", args=[resolution.pk]))
    restated = page.get_by_test_id("sign-restates")
    expect(restated).to_contain_text(f"the {ledger['year']} designation of Mei Chen: 75,000 shares")
    expect(restated.locator('[data-figure="sign-effect"]')).to_contain_text("before →")
    expect(page.get_by_label("Password")).to_be_visible()  # the signature is confirmed by the password


# --- (4) why a member may not vote ------------------------------------------------------------------------------


def test_director_is_told_plainly_she_cannot_vote_on_her_own_designation(page, ledger):
    own = ledger["own"]
    log_in(page, "director", landing="Board dashboard")
    card = page.locator(f"#before-board #designation-{own.pk}")
    expect(card.get_by_test_id("why-not")).to_have_text("This designation is for you, so you cannot vote on it.")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    # The server refuses it all the same: a hidden button is not a permission.
    token = page.context.cookies()
    csrf = next(cookie["value"] for cookie in token if cookie["name"] == "csrftoken")
    page.request.post(
        reverse("designation-vote", args=[own.pk]),
        form={"decision": "approve"},
        headers={"X-CSRFToken": csrf, "Referer": page.url},
    )
    own.refresh_from_db()
    assert own.status == BoardDesignation.Status.PROPOSED and not own.votes.exists()


def test_a_member_who_proposed_is_told_why(page, ledger):
    board2 = ledger["users"]["board2"]
    mine = factories.make_designation(
        plan=ledger["plan"], participant=ledger["participant"], year=ledger["year"], shares=10_000, staff=board2
    )
    log_in(page, "board2", landing="Board dashboard")
    card = page.locator(f"#before-board #designation-{mine.pk}")
    expect(card.get_by_test_id("why-not")).to_have_text("You proposed this designation, so you cannot vote on it.")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)


# --- (5) the reports page -----------------------------------------------------------------------------------------


def test_reports_page_has_a_labelled_filter_form_and_says_what_each_report_holds(page, ledger, screenshot):
    log_in(page, "auditor", landing="Board dashboard")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Filters")).to_be_visible()
    page.get_by_label("Plan", exact=True).select_option(label=str(ledger["plan"]))
    page.get_by_label("Designation year").fill(str(ledger["year"] - 1))
    page.get_by_label("As of date").fill((datetime.date.today() - datetime.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_test_id("filters-now")).to_contain_text(f"designation year {ledger['year'] - 1}")
    expect(page.get_by_role("heading", name="Issuance ledger", level=3)).to_be_visible()
    contains = page.get_by_test_id("report-contains")
    expect(contains).to_have_count(5)
    expect(contains.first).to_contain_text("Every issuance")
    screenshot(page, "reports", readme=True)
    link = page.get_by_role("link", name="Download Issuance ledger as CSV")
    assert f"year={ledger['year'] - 1}" in link.get_attribute("href")
    response = page.request.get(link.get_attribute("href"))
    assert response.ok and "Dana Whitfield" in response.text()
    # Table headers read left to right, numbers right-aligned (the designation's page).
    page.goto(reverse("designation-detail", args=[ledger["approved"].pk]))
    aligns = page.locator("table.data thead th").evaluate_all(
        "cells => cells.map(c => [c.classList.contains('num'), getComputedStyle(c).textAlign])"
    )
    assert aligns and all(align == ("right" if num else "left") for num, align in aligns), aligns


# --- (6) keyboard alone ---------------------------------------------------------------------------------------------


def tab_to(page, locator, *, limit: int = 80):
    """Press Tab until `locator` has the focus (no mouse)."""
    for _ in range(limit):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{locator} never took the focus after {limit} Tabs")


def keyboard_log_in(page, username: str):
    page.goto(reverse("login"))
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(factories.PASSWORD)
    page.keyboard.press("Enter")


def test_approve_with_its_confirmation_by_keyboard_alone(page, ledger):
    proposal = ledger["proposal"]
    keyboard_log_in(page, "board")
    expect(page.get_by_role("heading", name="Board dashboard")).to_be_visible()
    card = page.locator(f"#designation-{proposal.pk}")
    tab_to(page, card.get_by_label("Comment"))
    page.keyboard.type("Agreed.")
    tab_to(page, card.get_by_role("button", name="Approve"))
    page.keyboard.press("Enter")
    confirm = page.get_by_role("button", name="Confirm: approve")
    expect(confirm).to_be_focused()  # the confirmation takes the focus
    assert not proposal.votes.exists()
    page.keyboard.press("Space")
    expect(page.locator(".message.success")).to_contain_text("The designation is now approved")
    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.APPROVED
    assert list(proposal.votes.values_list("voter__username", "decision", "comment")) == [
        ("board", "approve", "Agreed.")
    ]


def test_record_an_issuance_by_keyboard_alone(page):
    root = factories.make_user("root", role=None, superuser=True)
    staff = factories.make_user("staff", role=factories.roles.STAFF)
    board = factories.make_user("board", role=factories.roles.BOARD)
    plan = factories.make_plan(by=root)
    designation = factories.make_designation(
        plan=plan,
        participant=factories.make_participant("Dana Whitfield", by=staff),
        year=datetime.date.today().year,
        shares=10_000,
        staff=staff,
        approver=board,
    )
    keyboard_log_in(page, "staff")
    expect(page.get_by_role("heading", name="Plan ledger")).to_be_visible()
    page.goto(admin("issuance_changelist"))
    tab_to(page, page.get_by_role("link", name="Add issuance"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Record an issuance")).to_be_visible()
    tab_to(page, page.get_by_label("Designation"))
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Designation")).to_have_value(str(designation.pk))
    tab_to(page, page.get_by_label("Shares"))
    page.keyboard.type("1,500")
    tab_to(page, page.get_by_label("Price per share"))
    page.keyboard.type("0.15")
    tab_to(page, page.get_by_role("button", name="Save"))
    page.keyboard.press("Enter")
    expect(page.locator(".messagelist .success")).to_contain_text("1,500 shares to Dana Whitfield")
    issuance = Issuance.objects.get()
    assert (issuance.designation_id, issuance.shares, str(issuance.price_per_share), issuance.recorded_by) == (
        designation.pk,
        1_500,
        "0.150000",
        staff,
    )


# --- (7) the board's pages on a phone ------------------------------------------------------------------------------


def test_board_pages_fit_a_phone(page, ledger, screenshot):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "board", landing="Board dashboard")
    pages = {
        "board-dashboard-phone": reverse("board-dashboard"),
        "designation-phone": reverse("designation-detail", args=[ledger["debt"].pk]),
        "resolution-sign-phone": reverse("resolution-detail", args=[ledger["resolution"].pk]),
    }
    for name, url in pages.items():
        page.goto(url)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"{url} scrolls sideways at 390 px: {widths}"
        screenshot(page, name)
    page.goto(pages["resolution-sign-phone"])
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign Resolution")).to_be_visible()
