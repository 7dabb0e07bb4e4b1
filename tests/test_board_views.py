"""The board's pages: dashboard, vote endpoint, designation, plan and participant pages, through the test client.

Every refusal test asserts the message the member sees AND that the ledger is unchanged (factories.ledger_snapshot).
"""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plan_admin import services
from plan_admin.models import BoardDesignation, DesignationVote, Participant
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(plan, participant, staff_user):
    """A 2025 proposal of 250,000 shares for Dana Whitfield, proposed by staff."""
    return factories.make_designation(
        plan=plan,
        participant=participant,
        year=2025,
        shares=250_000,
        staff=staff_user,
        factors="Led the 2024 debt restructuring.",
    )


def login(client, user):
    client.force_login(user)
    return client


def vote(client, designation, decision, comment="", **extra):
    return client.post(
        reverse("designation-vote", args=[designation.pk]), {"decision": decision, "comment": comment, **extra}
    )


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_home_sends_board_and_auditors_to_the_board_page(client, board_member, auditor, staff_user, superuser):
    for user, expected in [
        (board_member, reverse("board-dashboard")),
        (auditor, reverse("board-dashboard")),
        (staff_user, reverse("admin:index")),
        (superuser, reverse("admin:index")),
    ]:
        response = login(client, user).get(reverse("home"))
        assert response.status_code == 302, user
        assert response.url == expected, user


def test_dashboard_shows_the_pool_and_the_proposal_awaiting_this_member(
    client, board_member, plan, proposal, approved_designation
):
    response = login(client, board_member).get(reverse("board-dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    # The pool at a glance, with thousands separators (2025: nothing approved for that year yet).
    assert 'data-figure="authorized">10,000,000<' in html
    assert 'data-figure="issued">0<' in html
    assert "2002 Stock Incentive Plan" in html
    # The proposal: participant, category, shares, factors, the effect on the pool, vote buttons.
    card = re.search(rf'<article[^>]*id="designation-{proposal.pk}".*?</article>', html, re.S).group(0)
    assert "Dana Whitfield" in card
    assert "Key employee" in card
    assert "250,000" in card
    assert "Led the 2024 debt restructuring." in card
    # The approved 2024 designation already commits 1,000,000 shares, whatever the year of this proposal.
    assert "9,000,000 → <strong>8,750,000</strong>" in card
    # Approve and Reject open the confirmation step first (issue 15); only its form posts to the voting view.
    assert f'action="{reverse("designation-vote-confirm", args=[proposal.pk])}"' in card
    assert 'value="approve"' in card and 'value="reject"' in card
    assert "csrfmiddlewaretoken" in card
    # Grouped by year, under the member's own heading.
    awaiting = html.split('id="awaiting"')[1].split('id="before-board"')[0]
    assert '<h3 class="year-heading">2025</h3>' in awaiting
    assert "1 proposal awaits your vote." in html
    # The approved 2024 designation is a recent decision with its vote.
    row = re.search(rf'<tr id="decision-{approved_designation.pk}".*?</tr>', html, re.S).group(0)
    assert "Approved" in row and "1,000,000" in row
    assert '<strong><span class="person" title="board">board</span></strong>' in row  # by name, username on hover


def test_dashboard_charts_issuance_by_year_and_category(client, board_member, approved_designation, staff_user):
    factories.issue(approved_designation, by=staff_user, shares=12_345)
    html = login(client, board_member).get(reverse("board-dashboard")).content.decode()
    assert "Shares issued by year" in html and "Shares issued by participant category" in html
    assert re.search(
        r'<span class="bar-label">2024</span>.*?<rect class="bar-fill" width="100.00".*?12,345', html, re.S
    )
    assert re.search(r'<span class="bar-label">Key employee</span>.*?12,345', html, re.S)
    assert 'data-figure="issued">12,345<' in html


def test_auditor_sees_the_dashboard_read_only(client, auditor, proposal):
    response = login(client, auditor).get(reverse("board-dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Proposals before the board" in html
    assert f'id="designation-{proposal.pk}"' in html
    assert "designation-vote" not in html and 'value="approve"' not in html
    assert reverse("designation-vote", args=[proposal.pk]) not in html


def test_approve_records_the_vote_and_approves(client, board_member, proposal):
    response = vote(login(client, board_member), proposal, "approve", "Well earned.")
    assert response.status_code == 302
    assert response.url == reverse("board-dashboard")
    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.APPROVED
    cast = DesignationVote.objects.get(designation=proposal)
    assert (cast.voter, cast.decision, cast.comment) == (board_member, "approve", "Well earned.")
    assert any("now approved" in text for text in message_texts(response))
    # The dashboard shows it decided, with the member's vote and comment; nothing awaits any more.
    html = client.get(reverse("board-dashboard")).content.decode()
    row = re.search(rf'<tr id="decision-{proposal.pk}".*?</tr>', html, re.S).group(0)
    assert "Approved" in row and "board" in row and "Well earned." in row
    assert "Nothing awaits your vote." in html


def test_the_confirmation_step_restates_and_writes_nothing(client, board_member, staff_user, auditor, proposal):
    """Approve opens the confirmation (issue 15): participant, shares, year and the pool before → after; nothing is
    written until its form posts to the voting view. Only board members reach it."""
    before = factories.ledger_snapshot()
    url = reverse("designation-vote-confirm", args=[proposal.pk])
    response = login(client, board_member).post(
        url, {"decision": "approve", "comment": "Yes.", "next": reverse("board-dashboard")}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Approve the 2025 designation of Dana Whitfield?" in html
    assert '<dd data-fact="shares">250,000</dd>' in html
    available = proposal.plan.available_shares
    assert f"{available:,} before → {available - 250_000:,} after" in html
    assert f'action="{reverse("designation-vote", args=[proposal.pk])}"' in html
    assert 'name="comment" value="Yes."' in html
    assert factories.ledger_snapshot() == before
    for outsider in (staff_user, auditor):
        client.logout()
        assert login(client, outsider).post(url, {"decision": "approve"}).status_code == 403
    assert factories.ledger_snapshot() == before
    # Once decided, the step says so and offers no confirmation.
    services.designation_vote(designation=proposal, voter=board_member, decision="approve")
    client.logout()
    html = login(client, board_member).post(url, {"decision": "reject"}).content.decode()
    assert "This designation is approved: it is no longer open to votes." in html
    assert "Confirm: reject</button>" not in html


def test_reject_records_the_vote_and_rejects(client, board_member, proposal):
    response = vote(login(client, board_member), proposal, "reject", "Too many shares.")
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.REJECTED
    assert DesignationVote.objects.get(designation=proposal).decision == "reject"
    html = client.get(reverse("designation-detail", args=[proposal.pk])).content.decode()
    assert 'data-testid="designation-status">Rejected<' in html
    assert "Too many shares." in html


def test_vote_returns_to_a_safe_next_page_only(
    client, board_member, second_board_member, superuser, staff_user, participant
):
    plan = factories.make_plan(by=superuser, required_approvals=2, name="Two-approval plan")
    designation = factories.make_designation(plan=plan, participant=participant, year=2025, shares=10, staff=staff_user)
    detail = reverse("designation-detail", args=[designation.pk])
    assert vote(login(client, board_member), designation, "approve", next=detail).url == detail
    response = vote(login(client, second_board_member), designation, "approve", next="https://evil.example/")
    assert response.url == reverse("board-dashboard")


def test_two_approvals_needed_stays_pending_after_one(
    client, board_member, second_board_member, superuser, staff_user, participant
):
    plan = factories.make_plan(by=superuser, required_approvals=2, name="Two-approval plan")
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2025, shares=5_000, staff=staff_user
    )
    response = vote(login(client, board_member), designation, "approve")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.PROPOSED
    assert any("stays pending: 1 of 2 required approvals" in text for text in message_texts(response))
    # The first member now sees it as pending with the others, not awaiting them.
    html = client.get(reverse("board-dashboard")).content.decode()
    assert f'id="designation-{designation.pk}"' in html.split('id="before-board"')[1]
    vote(login(client, second_board_member), designation, "approve")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.APPROVED
    assert designation.votes.count() == 2


def _refused(client, designation, decision, expected_message):
    before = factories.ledger_snapshot()
    response = vote(client, designation, decision, "comment that must not be saved")
    assert response.status_code == 302
    texts = message_texts(response)
    assert expected_message in " ".join(texts), texts
    assert factories.ledger_snapshot() == before
    # The message is shown on the page the member is sent back to.
    assert expected_message in client.get(response.url).content.decode()


def test_refused_when_already_voted(client, board_member, superuser, staff_user, participant):
    plan = factories.make_plan(by=superuser, required_approvals=2, name="Two-approval plan")
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2025, shares=5_000, staff=staff_user
    )
    vote(login(client, board_member), designation, "approve")
    _refused(client, designation, "reject", "You have already voted on this designation.")


def test_refused_when_already_decided(client, second_board_member, approved_designation):
    _refused(
        login(client, second_board_member), approved_designation, "approve", "This designation is already approved."
    )


def test_refused_on_own_proposal(client, board_member, plan, participant):
    designation = services.designation_propose(
        plan=plan, participant=participant, year=2025, shares=1_000, factors_considered="Retention.", by=board_member
    )
    _refused(
        login(client, board_member), designation, "approve", "You proposed this designation, so you may not vote on it."
    )


def test_non_employee_director_cannot_vote_on_own_designation(client, board_member, plan, staff_user):
    director = factories.make_participant(
        "Beatrice Moreau", by=staff_user, category=Participant.Category.NON_EMPLOYEE_DIRECTOR, user=board_member
    )
    designation = factories.make_designation(
        plan=plan, participant=director, year=2025, shares=20_000, staff=staff_user
    )
    login(client, board_member)
    html = client.get(reverse("board-dashboard")).content.decode()
    assert f'id="designation-{designation.pk}"' not in html.split('id="awaiting"')[1].split('id="before-board"')[0]
    assert reverse("designation-vote", args=[designation.pk]) not in html
    detail = client.get(reverse("designation-detail", args=[designation.pk])).content.decode()
    assert reverse("designation-vote", args=[designation.pk]) not in detail
    _refused(client, designation, "approve", "This designation is of you, so you may not vote on it.")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.PROPOSED


def test_refused_when_approval_would_over_commit_the_pool(client, board_member, superuser, staff_user, participant):
    plan = factories.make_plan(by=superuser, shares=1_000_000, name="Small plan")
    other = factories.make_participant("Lee Park", by=staff_user)
    factories.make_designation(
        plan=plan, participant=other, year=2025, shares=800_000, staff=staff_user, approver=board_member
    )
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2025, shares=300_000, staff=staff_user
    )
    login(client, board_member)
    card = client.get(reverse("board-dashboard")).content.decode()
    assert "200,000 → <strong>-100,000</strong>" in card
    assert "approval will be refused" in card
    _refused(
        client,
        designation,
        "approve",
        "Approving 300,000 shares for Dana Whitfield in 2025 would over-commit the plan: of 1,000,000 "
        "authorized shares, 0 are issued and 800,000 are committed to approved designations (2025: 800,000), so "
        "200,000 remain.",
    )


def test_invalid_decision_is_refused_and_writes_nothing(client, board_member, proposal):
    _refused(login(client, board_member), proposal, "abstain", "Your vote was not recorded")


def test_vote_endpoint_refuses_get(client, board_member, proposal):
    response = login(client, board_member).get(reverse("designation-vote", args=[proposal.pk]))
    assert response.status_code == 405


def test_vote_on_unknown_designation_is_404(client, board_member):
    assert vote(login(client, board_member), BoardDesignation(pk=999_999), "approve").status_code == 404


def test_vote_needs_csrf_token(board_member, proposal):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(board_member)
    before = factories.ledger_snapshot()
    assert vote(client, proposal, "approve").status_code == 403
    assert factories.ledger_snapshot() == before


def test_designation_page_shows_votes_issuances_and_vote_form(
    client, board_member, second_board_member, approved_designation, staff_user, proposal
):
    factories.issue(approved_designation, by=staff_user, shares=4_000)
    html = (
        login(client, second_board_member)
        .get(reverse("designation-detail", args=[approved_designation.pk]))
        .content.decode()
    )
    assert "Dana Whitfield" in html and "1,000,000" in html and "4,000" in html
    assert "Approve" in html and "board" in html  # the vote
    assert reverse("designation-vote", args=[approved_designation.pk]) not in html  # decided: no form
    html = client.get(reverse("designation-detail", args=[proposal.pk])).content.decode()
    assert reverse("designation-vote", args=[proposal.pk]) in html  # proposed: may vote


def test_plan_page_shows_terms_pool_and_reserve_history(client, auditor, staff_user, board_member, plan):
    factories.change_reserve(
        plan, shares=5_000_000, staff=staff_user, approver=board_member, on=datetime.date(2004, 6, 1)
    )
    html = login(client, auditor).get(reverse("plan-detail", args=[plan.pk])).content.decode()
    for text in [
        "American Technologies Group, Inc.",
        "Common Stock",
        "$0.001 per share",
        "January 15, 2002",
        "March 1, 2002",
        "In effect until terminated by action of the Board.",
        "1 approving board vote per decision",
        "June 1, 2004",
        "Votes of the board in plan-admin",
        "+5,000,000",
        "15,000,000",
    ]:
        assert text in html, text


def test_plan_page_says_plainly_when_the_effective_date_is_unknown(client, board_member, superuser):
    plan = factories.make_plan(by=superuser, effective_date=None, name="Undated plan")
    html = login(client, board_member).get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert "Not yet recorded" in html and "no shares can be issued until it is" in html


def test_plan_page_shows_termination(client, board_member, staff_user, superuser):
    plan = factories.make_plan(by=superuser, name="Ended plan")
    factories.terminate(
        plan,
        termination_date=datetime.date(2010, 12, 31),
        staff=staff_user,
        approver=board_member,
        on=datetime.date(2010, 11, 30),
    )
    html = login(client, board_member).get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert (
        "Terminated by action of the Board on December 31, 2010 (November 30, 2010 (Votes of the board in plan-admin))."
    ) in html


def test_participant_page_shows_designated_and_issued_by_year(
    client, auditor, approved_designation, staff_user, proposal
):
    factories.issue(approved_designation, by=staff_user, shares=1_500)
    issuance = factories.issue(approved_designation, by=staff_user, shares=700)
    services.issuance_cancel(issuance=issuance, cancelled_on=datetime.date(2024, 7, 1), reason="Typo", by=staff_user)
    html = login(client, auditor).get(reverse("participant-detail", args=[approved_designation.participant_id]))
    html = html.content.decode()
    assert "Key employee" in html
    assert re.search(r"<td data-label=\"Year\">2024</td>\s*<td[^>]*>1,000,000</td>\s*<td[^>]*>1,500</td>", html)
    assert re.search(r"<td data-label=\"Year\">2025</td>\s*<td[^>]*>0</td>", html)  # proposed, not approved
    assert "Cancelled" in html


def test_pages_404_for_unknown_objects(client, auditor):
    login(client, auditor)
    for name in ["designation-detail", "plan-detail", "participant-detail"]:
        assert client.get(reverse(name, args=[999_999])).status_code == 404


def _grow_ledger(*, plan, staff, voters, count: int, start_year: int):
    """`count` approved designations with an issuance each, and `count` proposals, each with votes."""
    for index in range(count):
        person = factories.make_participant(
            f"Grown {start_year} {index}", by=staff, category=Participant.Category.values[index % 3]
        )
        year = start_year + index
        approved = factories.make_designation(plan=plan, participant=person, year=year, shares=100, staff=staff)
        with factories.on_day(datetime.date(year, 1, 2)):
            for voter in voters:
                services.designation_vote(designation=approved, voter=voter, decision="approve", comment="ok")
        approved.refresh_from_db()
        factories.issue(approved, by=staff, shares=10)
        pending = factories.make_designation(
            plan=plan, participant=person, year=start_year + index + 100, shares=5, staff=staff
        )
        services.designation_vote(designation=pending, voter=voters[0], decision="approve")


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("board-dashboard"))
    assert response.status_code == 200
    return len(queries)


def test_dashboard_query_count_does_not_grow_with_the_ledger(
    client, superuser, staff_user, board_member, second_board_member
):
    third = factories.make_user("board3", role=factories.roles.BOARD)
    plan = factories.make_plan(by=superuser, required_approvals=2, name="Busy plan")
    _grow_ledger(plan=plan, staff=staff_user, voters=[board_member, second_board_member], count=1, start_year=2003)
    login(client, third)
    small = _dashboard_queries(client)
    _grow_ledger(plan=plan, staff=staff_user, voters=[board_member, second_board_member], count=6, start_year=2010)
    html = client.get(reverse("board-dashboard")).content.decode()
    assert html.count('class="card designation-card') == 7  # every proposal awaits the third member
    assert "Grown 2010 5" in html
    large = _dashboard_queries(client)
    assert large == small, f"{small} queries with 1 designation, {large} with 7"


def test_the_plan_page_title_is_the_plan_name(client, auditor, plan):
    html = login(client, auditor).get(reverse("plan-detail", args=[plan.pk])).content.decode()
    assert re.search(r"<title>2002 Stock Incentive Plan · plan-admin</title>", html)
    assert html.count('id="proposals-heading"') == 1 and "proposals-heading" in html.split("</title>")[1]


def test_the_dashboard_shows_open_proposals_a_page_at_a_time(
    client, superuser, staff_user, board_member, second_board_member, monkeypatch
):
    """Thousands of open proposals would make a page no one reads and a server that slows with the ledger: each
    section shows CARDS_PER_PAGE cards, says how many there are, and links to the next and previous pages."""
    from plan_admin import dashboard

    monkeypatch.setattr(dashboard, "CARDS_PER_PAGE", 2)
    plan = factories.make_plan(by=superuser, required_approvals=2, name="Busy plan")
    # 5 proposals board_member voted on (pending with the others), 5 awaiting her vote.
    _grow_ledger(plan=plan, staff=staff_user, voters=[board_member, second_board_member], count=5, start_year=2010)
    for index in range(5):
        person = factories.make_participant(f"Fresh {index}", by=staff_user)
        factories.make_designation(plan=plan, participant=person, year=2020, shares=5, staff=staff_user)
    login(client, board_member)

    def cards(query: str) -> tuple[set[str], set[str], str]:
        html = client.get(reverse("board-dashboard") + query).content.decode()
        awaiting, _, rest = html.partition('id="before-board"')
        before = rest.partition('id="recent"')[0]
        return set(re.findall(r"Fresh \d", awaiting)), set(re.findall(r"Grown 2010 \d", before)), html

    awaiting, before, html = cards("")
    assert len(awaiting) == 2 and len(before) == 2
    assert "Designations awaiting your vote 1–2 of 5." in html and "Other pending designations 1–2 of 5." in html
    assert "5 proposals await your vote." in html
    assert 'href="?awaiting_page=2#awaiting"' in html and 'href="?others_page=2#before-board"' in html
    seen = set()
    for page in (1, 2, 3):
        awaiting, before_again, html = cards(f"?awaiting_page={page}&others_page=1")
        assert before_again == before  # the other section keeps its page
        assert len(awaiting) == (1 if page == 3 else 2) and not awaiting & seen
        seen |= awaiting
    assert len(seen) == 5
    assert 'href="?awaiting_page=2&amp;others_page=1#awaiting" rel="prev"' in html
    for odd in ("abc", "0", "-1", "99999999999999999999"):
        response = client.get(reverse("board-dashboard") + f"?awaiting_page={odd}&others_page={odd}")
        assert response.status_code == 200, odd
    small = _dashboard_queries(client)
    _grow_ledger(plan=plan, staff=staff_user, voters=[board_member, second_board_member], count=4, start_year=2016)
    assert _dashboard_queries(client) == small
