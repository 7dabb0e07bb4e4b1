"""Staff's admin pages and the site's other pages in a real browser, under the Content-Security-Policy.

The `page` fixture (tests/e2e/conftest.py) fails any test whose pages log a CSP violation; these tests open the
pages that use the admin's JavaScript (calendar, actions, filters, collapsible fieldsets) and our own pages.
"""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from plan_admin import services
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ledger():
    root = factories.make_user("root", role=None, superuser=True)
    staff = factories.make_user("staff", role=factories.roles.STAFF)
    board = factories.make_user("board", role=factories.roles.BOARD)
    plan = factories.make_plan(by=root)
    participant = factories.make_participant("Dana Whitfield", by=staff)
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=100_000, staff=staff, approver=board
    )
    issuance = factories.issue(designation, by=staff, shares=1_000)
    mistaken = factories.issue(designation, by=staff, shares=10)
    services.issuance_cancel(issuance=mistaken, cancelled_on=datetime.date(2024, 7, 1), reason="Typo", by=staff)
    return {"plan": plan, "participant": participant, "designation": designation, "issuance": issuance}


def admin_log_in(page, username: str):
    page.goto(reverse("admin:login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Plan ledger")).to_be_visible()


def test_the_policy_is_on_and_a_violation_is_caught(page, ledger):
    """The check itself: an inline style set by script is blocked by the policy and seen by the fixture."""
    response = page.goto(reverse("login"))
    assert "style-src 'self'" in response.headers["content-security-policy"]
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_timeout(200)
    assert any("style-src" in violation for violation in page.csp_violations), page.csp_violations
    page.csp_violations.clear()


def test_staff_work_in_the_admin_without_a_policy_violation(page, ledger):
    admin_log_in(page, "staff")

    # The issuance form with its pool panel.
    page.goto(reverse("admin:plan_admin_issuance_add"))
    expect(page.get_by_role("heading", name="Record an issuance")).to_be_visible()

    # A changelist with filters, search, and the actions bar (JavaScript select-all).
    page.goto(reverse("admin:plan_admin_issuance_changelist") + "?designation__year=2024")
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text("2 of 2 selected")

    # A read-only issuance with its cancel button, its history, and the cancel form.
    page.goto(reverse("admin:plan_admin_issuance_change", args=[ledger["issuance"].pk]))
    page.goto(reverse("admin:plan_admin_issuance_history", args=[ledger["issuance"].pk]))
    page.goto(reverse("admin:plan_admin_issuance_cancel", args=[ledger["issuance"].pk]))
    expect(page.get_by_role("heading", name="Cancel issuance")).to_be_visible()

    # The plan's page with its pool bar, a participant's change form, the import page.
    page.goto(reverse("admin:plan_admin_plan_change", args=[ledger["plan"].pk]))
    expect(page.locator(".pool-bar svg")).to_be_visible()
    page.goto(reverse("admin:plan_admin_participant_change", args=[ledger["participant"].pk]))
    expect(page.get_by_label("Name")).to_have_value("Dana Whitfield")
    page.goto(reverse("admin:plan_admin_issuance_import"))
    # django-import-export's export page (the reserve history), whose "Select all" box is bound by our script.
    page.goto(reverse("admin:plan_admin_sharereservechange_export"))
    toggle = page.locator("#select-all-toggle")
    if toggle.count():
        toggle.uncheck()
        expect(page.locator(".selectable-field-export-row input[type=checkbox]").first).not_to_be_checked()
    page.goto(reverse("admin:plan_admin_boarddesignation_change", args=[ledger["designation"].pk]))

    # The board's and report pages as staff see them, and the site's error pages.
    page.goto(reverse("participant-detail", args=[ledger["participant"].pk]))
    expect(page.locator(".bar-track svg")).to_have_count(1)
    page.goto(reverse("reports"))
    response = page.goto("/admin/plan_admin/issuance/abc/cancel/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="There is no such page")).to_be_visible()
    expect(page.get_by_role("link", name="Back to your start page")).to_be_visible()
    response = page.goto(reverse("admin:plan_admin_plan_add"))
    assert response.status == 403
    expect(page.get_by_role("heading", name="You may not open this page")).to_be_visible()


def test_the_superuser_pages_work_without_a_policy_violation(page, ledger):
    admin_log_in(page, "root")
    page.goto(reverse("admin:auth_user_change", args=[ledger["designation"].proposed_by_id]))
    # Groups and permissions are plain labelled lists (issue 15: SelectFilter2's two panes fail axe-core).
    expect(page.get_by_label("Groups")).to_be_visible()
    expect(page.locator(".selector")).to_have_count(0)
    page.goto(reverse("admin:plan_admin_plan_change", args=[ledger["plan"].pk]))
    page.goto(reverse("board-dashboard"))
    expect(page.locator(".pool-bar svg")).to_have_count(1)


def test_a_fresh_browser_gets_the_favicon(page, ledger):
    response = page.goto("/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"] == "image/svg+xml"
