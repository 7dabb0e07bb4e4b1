"""Issue 15: axe-core on every page of every role, no serious or critical violation.

axe-playwright-python bundles axe-core (no network). Each role logs in once and walks its pages, one load each;
the test lists every violation of every page before failing, so one run shows all there is to fix.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from plan_admin.security.models import EnrolmentLink
from tests.e2e.ledger import build_ledger, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Axe()
SERIOUS = {"serious", "critical"}
# No CSSOM preload: axe would re-parse @imported stylesheets (the admin's forms.css imports widgets.css) through
# <style> elements it adds itself, which the Content-Security-Policy rightly blocks.
OPTIONS = {"resultTypes": ["violations"], "preload": False}


def axe_problems(page) -> list[str]:
    """The serious and critical axe-core violations of the page as loaded, one line each."""
    results = AXE.run(page, options=OPTIONS)
    problems = []
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            problems.append(f"{page.url}: {violation['impact']} {violation['id']} ({violation['help']}) at {targets}")
    return problems


# Links the walk does not follow: downloads, documents and the way out.
NOT_FOLLOWED = ("/logout", "/export.", ".xlsx", ".csv", ".zip", "/documents/", "/import/template.", "/password_change")


def dead_ends(page, followed: set[str]) -> list[str]:
    """The page's links (same site) that answer 403 to this user: a link is offered only where the role may go."""
    problems = []
    hrefs = page.locator("a[href^='/']").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    for href in hrefs:
        path = href.split("?")[0].split("#")[0]
        if path in followed or any(marker in href for marker in NOT_FOLLOWED):
            continue
        followed.add(path)
        status = page.request.get(path, max_redirects=0).status
        if status == 403:
            problems.append(f"{page.url}: a link to {path} answers 403")
    return problems


def walk(page, urls, *, follow_links: bool = True) -> list[str]:
    problems, followed = [], set()
    for url in urls:
        response = page.goto(url)
        assert response.ok, f"{url}: {response.status}"
        problems += axe_problems(page)
        if follow_links:
            problems += dead_ends(page, followed)
    return problems


def admin(name: str, *args) -> str:
    return reverse(f"admin:plan_admin_{name}", args=args)


@pytest.fixture
def ledger():
    return build_ledger()


def test_login_page_is_accessible(page):
    page.goto(reverse("login"))
    problems = axe_problems(page)
    page.goto(reverse("admin:login"))
    problems += axe_problems(page)
    assert not problems, "\n".join(problems)


def test_board_members_pages_are_accessible(page, ledger):
    """The board's pages, as a member who may vote and as the director whose own designation waits."""
    log_in(page, "board", landing="Board dashboard")
    resolution = ledger["resolution"]
    problems = walk(
        page,
        [
            reverse("board-dashboard"),
            reverse("designation-detail", args=[ledger["proposal"].pk]),
            reverse("designation-detail", args=[ledger["approved"].pk]),
            reverse("proposal-detail", args=[ledger["reserve"].pk]),
            reverse("plan-detail", args=[ledger["plan"].pk]),
            reverse("participant-detail", args=[ledger["participant"].pk]),
            reverse("resolution-list"),
            reverse("resolution-detail", args=[resolution.pk]),  # the signing page: the PDF and the password
            reverse("past-records"),
            reverse("reports"),
            reverse("notification-preferences"),
            reverse("two-factor"),
        ],
    )
    # The vote's confirmation page, reached as a member reaches it.
    page.goto(reverse("board-dashboard"))
    page.locator(f"#designation-{ledger['proposal'].pk}").get_by_role("button", name="Approve").click()
    page.get_by_test_id("vote-confirmation").wait_for()
    problems += axe_problems(page)
    # The second factor's pages: enrolling with a link a superuser issued, then entering a code.
    _, token = EnrolmentLink.issue(user=ledger["users"]["board"], by=ledger["users"]["root"])
    problems += walk(page, [reverse("two-factor-enrol", args=[token])], follow_links=False)
    TOTPDevice.objects.create(user=ledger["users"]["board"], name="Phone", confirmed=True)
    problems += walk(page, [reverse("two-factor")], follow_links=False)
    page.get_by_role("button", name="Log out").click()
    log_in(page, "director", landing="Board dashboard")
    problems += axe_problems(page)
    assert not problems, "\n".join(problems)


def test_staff_pages_are_accessible(page, ledger):
    log_in(page, "staff", landing="Plan ledger")
    problems = walk(
        page,
        [
            reverse("admin:index"),
            admin("issuance_changelist"),
            admin("issuance_change", ledger["compensation"].pk),
            admin("issuance_change", ledger["debt_issuance"].pk),
            admin("issuance_add"),
            admin("issuance_cancel", ledger["compensation"].pk),
            admin("issuance_import"),
            admin("boarddesignation_changelist"),
            admin("boarddesignation_change", ledger["approved"].pk),
            admin("boarddesignation_add"),
            admin("participant_changelist"),
            admin("participant_change", ledger["participant"].pk),
            admin("participant_add"),
            admin("plan_changelist"),
            admin("plan_change", ledger["plan"].pk),
            admin("sharereservechange_changelist"),
            admin("planproposal_changelist"),
            admin("planproposal_change", ledger["reserve"].pk),
            admin("issuancecancellation_changelist"),
            admin("designationvote_changelist"),
            admin("importrecord_changelist"),
            admin("issuance_history", ledger["compensation"].pk),
            reverse("resolution-list"),
            reverse("resolution-prepare"),
            reverse("reports"),
            admin("issuance_past"),
            admin("boarddesignation_past"),
            admin("boarddesignation_import"),
            admin("participant_import"),
        ],
    )
    assert not problems, "\n".join(problems)


def test_superuser_pages_are_accessible(page, ledger):
    log_in(page, "root", landing="Plan ledger")
    problems = walk(
        page,
        [
            reverse("admin:index"),
            admin("plan_add"),
            admin("plan_change", ledger["plan"].pk),
            reverse("admin:auth_user_changelist"),
            reverse("admin:auth_user_change", args=[ledger["users"]["staff"].pk]),
            admin("issuance_change", ledger["compensation"].pk),
        ],
        follow_links=False,
    )
    assert not problems, "\n".join(problems)


def test_auditor_pages_are_accessible(page, ledger):
    log_in(page, "auditor", landing="Board dashboard")
    problems = walk(
        page,
        [
            reverse("board-dashboard"),
            reverse("designation-detail", args=[ledger["debt"].pk]),
            reverse("resolution-detail", args=[ledger["resolution"].pk]),
            reverse("reports"),
            reverse("admin:index"),
            admin("issuance_changelist"),
            admin("issuance_change", ledger["debt_issuance"].pk),
            admin("boarddesignation_change", ledger["debt"].pk),
        ],
    )
    # The refusal pages read as well: 403 (an auditor adds nothing) and 404.
    for url, status in ((admin("issuance_add"), 403), ("/designations/999999/", 404)):
        assert page.goto(url).status == status
        problems += axe_problems(page)
    assert not problems, "\n".join(problems)


def test_a_dashboard_of_many_proposals_pages_through_them_accessibly(page, ledger, monkeypatch):
    """Past CARDS_PER_PAGE open proposals the dashboard shows a page of cards with previous/next links."""
    from plan_admin import dashboard
    from tests import factories

    monkeypatch.setattr(dashboard, "CARDS_PER_PAGE", 1)
    for name in ("Ana Souza", "Ben Okafor"):
        person = factories.make_participant(name, by=ledger["users"]["staff"])
        factories.make_designation(
            plan=ledger["plan"],
            participant=person,
            year=ledger["proposal"].year,
            shares=1_000,
            staff=ledger["users"]["staff"],
        )
    log_in(page, "board", landing="Board dashboard")
    pages = page.get_by_test_id("awaiting-pages")
    assert "1–1 of" in pages.inner_text()
    problems = axe_problems(page)
    pages.get_by_role("link", name="Next 1").click()
    page.get_by_test_id("awaiting-pages").get_by_role("link", name="Previous 1").wait_for()
    assert "2–2 of" in page.get_by_test_id("awaiting-pages").inner_text()
    problems += axe_problems(page)
    assert not problems, "\n".join(problems)
