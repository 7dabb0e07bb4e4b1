"""Writers racing on one plan: exactly the grants that fit succeed, on PostgreSQL and on SQLite.

Threads are released together by a Barrier; each uses its own database connection and closes it. The tests need
real commits (`transaction=True`), since the lock is what is under test.
"""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from plan_admin import exceptions, services
from plan_admin.models import BoardDesignation, Issuance, Plan
from plan_admin.reconcile import reconcile
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 8


def race(actions):
    """Run each action in its own thread, all released at once; return (results, refusals, errors)."""
    barrier = threading.Barrier(len(actions))
    results, refusals, errors = [], [], []
    lock = threading.Lock()

    def run(action):
        try:
            barrier.wait(timeout=30)
            outcome = action()
            with lock:
                results.append(outcome)
        except exceptions.PlanRuleViolation as refusal:
            with lock:
                refusals.append(refusal)
        except Exception as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results, refusals, errors


def assert_counters_match_ledger(plan: Plan) -> None:
    report = reconcile(plan=plan)
    assert report.ok, report.problems
    plan.refresh_from_db()
    standing = Issuance.objects.filter(designation__plan=plan, cancellation__isnull=True)
    assert plan.issued_shares == (standing.aggregate(total=Sum("shares"))["total"] or 0)
    assert plan.authorized_shares == plan.reserve_changes.aggregate(total=Sum("shares"))["total"]
    assert plan.issued_shares + plan.committed_shares <= plan.authorized_shares
    for designation in BoardDesignation.objects.filter(plan=plan):
        expected = standing.filter(designation=designation).aggregate(total=Sum("shares"))["total"] or 0
        assert designation.issued_shares == expected <= designation.shares


@pytest.fixture
def small_plan(superuser):
    """A plan of 1,000 shares."""
    return factories.make_plan(by=superuser, shares=1_000)


def test_approvals_of_different_years_never_over_commit_the_pool(small_plan, staff_user):
    """Rule 3 across years: eight designations of eight years compete for one pool; only three of 300 fit."""
    voters = [factories.make_user(f"board{n}", role=factories.roles.BOARD) for n in range(WORKERS)]
    proposals = [
        factories.make_designation(
            plan=small_plan,
            participant=factories.make_participant(f"P{n}", by=staff_user),
            year=2010 + n,
            shares=300,
            staff=staff_user,
        )
        for n in range(WORKERS)
    ]
    actions = [
        lambda d=proposal, v=voter: services.designation_vote(designation=d, voter=v, decision="approve")
        for proposal, voter in zip(proposals, voters, strict=True)
    ]

    results, refusals, errors = race(actions)

    assert errors == []
    assert len(results) == 3
    assert len(refusals) == WORKERS - 3
    assert all(isinstance(refusal, exceptions.PoolOverCommitted) for refusal in refusals)
    assert BoardDesignation.objects.filter(status="approved").count() == 3
    assert_counters_match_ledger(small_plan)
    small_plan.refresh_from_db()
    assert (small_plan.committed_shares, small_plan.available_shares) == (900, 100)


def test_issuances_racing_a_year_close_never_issue_against_a_lapsed_designation(small_plan, staff_user, board_member):
    designations = [
        factories.make_designation(
            plan=small_plan,
            participant=factories.make_participant(f"P{n}", by=staff_user),
            year=2023,
            shares=100,
            staff=staff_user,
            approver=board_member,
        )
        for n in range(WORKERS - 1)
    ]
    close = [lambda: services.plan_year_close(plan=small_plan, year=2023, reason="Race test.", by=staff_user)]
    issue = [
        lambda d=designation: services.issuance_record(
            designation=d,
            issue_date=datetime.date(2023, 6, 1),
            shares=60,
            price_per_share=Decimal("0.01"),
            by=staff_user,
        )
        for designation in designations
    ]

    results, refusals, errors = race(close + issue)

    assert errors == []
    assert all(isinstance(refusal, exceptions.DesignationNotApproved) for refusal in refusals)
    assert all("has lapsed" in refusal.messages[0] for refusal in refusals)
    assert len(results) + len(refusals) == WORKERS
    assert small_plan.year_closings.filter(year=2023).count() == 1, "the close itself went through"
    # Every issuance that went through was recorded before its designation's lapse, which released the rest.
    for designation in BoardDesignation.objects.filter(plan=small_plan).select_related("lapse"):
        assert designation.status == "lapsed"
        assert designation.lapse.released_shares == designation.shares - designation.issued_shares
        for issuance in designation.issuances.all():
            assert issuance.recorded_at <= designation.lapse.recorded_at
    assert_counters_match_ledger(small_plan)
    small_plan.refresh_from_db()
    assert small_plan.committed_shares == 0


def test_concurrent_issuances_never_exceed_a_designation(small_plan, staff_user, board_member, participant):
    designation = factories.make_designation(
        plan=small_plan, participant=participant, year=2024, shares=1_000, staff=staff_user, approver=board_member
    )
    actions = [
        lambda: services.issuance_record(
            designation=designation,
            issue_date=datetime.date(2024, 5, 1),
            shares=150,
            price_per_share=Decimal("0.01"),
            by=staff_user,
        )
        for _ in range(WORKERS)
    ]

    results, refusals, errors = race(actions)

    assert errors == []
    assert len(results) == 6  # 6 x 150 = 900; a 7th would make 1,050
    assert all(isinstance(refusal, exceptions.DesignationLimitExceeded) for refusal in refusals)
    assert_counters_match_ledger(small_plan)


def test_concurrent_approvals_of_one_year_never_over_commit_the_pool(small_plan, staff_user):
    voters = [factories.make_user(f"board{n}", role=factories.roles.BOARD) for n in range(WORKERS)]
    proposals = [
        factories.make_designation(
            plan=small_plan,
            participant=factories.make_participant(f"P{n}", by=staff_user),
            year=2024,
            shares=300,
            staff=staff_user,
        )
        for n in range(WORKERS)
    ]
    actions = [
        lambda d=proposal, v=voter: services.designation_vote(designation=d, voter=v, decision="approve")
        for proposal, voter in zip(proposals, voters, strict=True)
    ]

    results, refusals, errors = race(actions)

    assert errors == []
    assert len(results) == 3
    assert all(isinstance(refusal, exceptions.PoolOverCommitted) for refusal in refusals)
    assert BoardDesignation.objects.filter(status="approved").count() == 3


def test_concurrent_issuances_and_cancellations_keep_counters_in_step(
    small_plan, staff_user, board_member, participant
):
    designation = factories.make_designation(
        plan=small_plan, participant=participant, year=2024, shares=1_000, staff=staff_user, approver=board_member
    )
    standing = [factories.issue(designation, by=staff_user, shares=100, on=datetime.date(2024, 1, 2)) for _ in range(4)]
    cancel = [
        lambda i=issuance: services.issuance_cancel(
            issuance=i, cancelled_on=datetime.date(2024, 2, 1), reason="Race test.", by=staff_user
        )
        for issuance in standing
    ]
    record = [
        lambda: services.issuance_record(
            designation=designation,
            issue_date=datetime.date(2024, 3, 1),
            shares=200,
            price_per_share=Decimal("0.01"),
            by=staff_user,
        )
        for _ in range(4)
    ]

    _results, _refusals, errors = race(cancel + record)

    assert errors == []
    assert_counters_match_ledger(small_plan)
    designation.refresh_from_db()
    assert designation.issued_shares <= 1_000


def test_participants_recategorized_at_once_keep_the_issuance_totals_in_step(
    plan, staff_user, board_member, participant
):
    """Two updates of one participant racing, one to a new category and one back to the old: whichever commits
    last, the issuance totals follow the category it leaves (an update that read the category before taking the
    locks once wrote the old category back without moving the totals)."""
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=10_000, staff=staff_user, approver=board_member
    )
    factories.issue(designation, by=staff_user, shares=1_000)
    for _ in range(4):
        original = participant.category
        other = "consultant" if original != "consultant" else "key_employee"
        _, refusals, errors = race(
            [
                lambda category=category: services.participant_update(
                    participant=participant, name=participant.name, category=category, by=staff_user
                )
                for category in (other, original)
            ]
        )
        assert not refusals and not errors, (refusals, errors)
        participant.refresh_from_db()
        assert reconcile(plan=plan).ok, reconcile(plan=plan).problems
