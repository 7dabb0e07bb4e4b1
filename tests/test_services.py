"""Every rule of DESIGN.md and every refusal of plan_admin.services.

Each refusal test asserts the exception, its message, and that no row, history row or counter changed.
"""

import datetime
import uuid
from decimal import Decimal

import pytest

from plan_admin import exceptions, services
from plan_admin.models import BoardDesignation, DesignationVote, Issuance, Participant
from plan_admin.selectors import committed_shares, pool_status
from tests import factories

pytestmark = pytest.mark.django_db


def assert_refused(exception_type, message: str, action):
    """Run `action`, expect `exception_type` with exactly `message`, and prove nothing was written."""
    before = factories.ledger_snapshot()
    with pytest.raises(exception_type) as caught:
        action()
    assert caught.value.messages == [message]
    assert factories.ledger_snapshot() == before
    return caught.value


# --- rule 1: issued never exceeds authorized ---------------------------------------------------------------------


def test_issuance_within_pool_is_recorded_and_counters_move(approved_designation, staff_user, issue_kwargs):
    issuance = services.issuance_record(designation=approved_designation, by=staff_user, **issue_kwargs)

    approved_designation.plan.refresh_from_db()
    approved_designation.refresh_from_db()
    assert issuance.recorded_by == staff_user
    assert approved_designation.plan.issued_shares == 1_000
    assert approved_designation.issued_shares == 1_000
    assert issuance.history.get().history_user == staff_user


def test_issuance_beyond_authorized_shares_is_refused(plan, participant, staff_user, board_member):
    # Two years' designations each fit the pool on approval (rule 3 is per year); together they do not.
    services.reserve_change_record(plan=plan, shares=-9_000_000, board_approval_date=datetime.date(2003, 1, 1),
                                   by=staff_user)
    first = factories.make_designation(plan=plan, participant=participant, year=2024, shares=600_000,
                                       staff=staff_user, approver=board_member)
    second = factories.make_designation(plan=plan, participant=participant, year=2025, shares=600_000,
                                        staff=staff_user, approver=board_member)
    factories.issue(first, by=staff_user, shares=600_000)

    assert_refused(
        exceptions.ShareLimitExceeded,
        "This issuance of 500,000 shares would exceed the 1,000,000 authorized shares: 600,000 are issued, "
        "400,000 remain.",
        lambda: factories.issue(second, by=staff_user, shares=500_000),
    )
    factories.issue(second, by=staff_user, shares=400_000)  # exactly what is left
    plan.refresh_from_db()
    assert plan.issued_shares == plan.authorized_shares == 1_000_000


def test_database_refuses_issued_above_authorized_even_if_code_is_wrong(plan):
    from django.db import IntegrityError, transaction

    from plan_admin.models import Plan

    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.filter(pk=plan.pk).update(issued_shares=plan.authorized_shares + 1)


# --- rule 2: issuances within the year's designation --------------------------------------------------------------


def test_issuance_beyond_designation_is_refused(approved_designation, staff_user):
    factories.issue(approved_designation, by=staff_user, shares=999_000)
    assert_refused(
        exceptions.DesignationLimitExceeded,
        "This issuance of 2,000 shares would exceed Dana Whitfield's 2024 designation of 1,000,000 shares: "
        "999,000 are issued, 1,000 remain.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=2_000),
    )


def test_database_refuses_designation_issued_above_its_shares(approved_designation):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        BoardDesignation.objects.filter(pk=approved_designation.pk).update(issued_shares=1_000_001)


# --- rule 3: approving may not over-commit the pool ---------------------------------------------------------------


def test_approval_that_would_over_commit_the_pool_is_refused(plan, participant, staff_user, board_member):
    other = factories.make_participant("Priya Raman", by=staff_user, category=Participant.Category.CONSULTANT)
    approved = factories.make_designation(plan=plan, participant=participant, year=2024, shares=6_000_000,
                                          staff=staff_user, approver=board_member)
    factories.issue(approved, by=staff_user, shares=1_000_000)
    pending = factories.make_designation(plan=plan, participant=other, year=2024, shares=4_000_001, staff=staff_user)

    assert_refused(
        exceptions.PoolOverCommitted,
        "Approving 4,000,001 shares for Priya Raman in 2024 would over-commit the plan: of 10,000,000 authorized "
        "shares, 1,000,000 are issued and 5,000,000 are committed to other approved 2024 designations, so "
        "4,000,000 remain.",
        lambda: services.designation_vote(designation=pending, voter=board_member, decision="approve"),
    )
    assert committed_shares(plan=plan, year=2024) == 5_000_000


def test_approval_that_exactly_fills_the_pool_is_accepted(plan, participant, staff_user, board_member):
    designation = factories.make_designation(plan=plan, participant=participant, year=2024, shares=10_000_000,
                                             staff=staff_user, approver=board_member)
    assert designation.status == BoardDesignation.Status.APPROVED
    status = pool_status(plan=plan, year=2024)
    assert (status.authorized, status.issued, status.committed, status.available) == (10_000_000, 0, 10_000_000, 0)


# --- rule 4: term, designation, par -------------------------------------------------------------------------------


def test_issuance_before_effective_date_is_refused(approved_designation, staff_user, plan):
    services.plan_set_effective_date(plan=plan, effective_date=datetime.date(2024, 7, 1), by=staff_user)
    assert_refused(
        exceptions.OutsidePlanTerm,
        "June 30, 2024 is before the plan's effective date, July 1, 2024.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2024, 6, 30)),
    )


def test_issuance_while_effective_date_unknown_is_refused(superuser, staff_user, board_member, participant):
    plan = factories.make_plan(by=superuser, effective_date=None)
    designation = factories.make_designation(plan=plan, participant=participant, year=2024, shares=100,
                                             staff=staff_user, approver=board_member)
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The plan's effective date is not yet recorded: no shares may be issued until it is.",
        lambda: factories.issue(designation, by=staff_user, shares=10),
    )


def test_issuance_on_or_after_termination_is_refused(approved_designation, staff_user, plan):
    services.plan_terminate(plan=plan, termination_date=datetime.date(2024, 6, 30), by=staff_user)
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The plan was terminated on June 30, 2024: no shares may be issued on or after that date.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2024, 6, 30)),
    )
    factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2024, 6, 29))


@pytest.mark.parametrize("status", ["proposed", "rejected", "withdrawn"])
def test_issuance_needs_an_approved_designation(plan, participant, staff_user, board_member, status):
    designation = factories.make_designation(plan=plan, participant=participant, year=2024, shares=100,
                                             staff=staff_user)
    if status == "rejected":
        services.designation_vote(designation=designation, voter=board_member, decision="reject")
    elif status == "withdrawn":
        services.designation_withdraw(designation=designation, by=staff_user)
    assert_refused(
        exceptions.DesignationNotApproved,
        f"The 2024 designation of Dana Whitfield is {status}, not approved: no shares may be issued against it.",
        lambda: factories.issue(designation, by=staff_user, shares=10),
    )


def test_issuance_in_another_year_than_the_designation_is_refused(approved_designation, staff_user):
    assert_refused(
        exceptions.DesignationNotApproved,
        "This designation is for 2024; shares issued on January 2, 2025 need a designation for 2025.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2025, 1, 2)),
    )


def test_issuance_below_par_is_refused_and_at_par_is_accepted(approved_designation, staff_user):
    assert_refused(
        exceptions.PriceBelowPar,
        "The price of $0.0009 per share is below the par value of $0.001.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=10, price=Decimal("0.0009")),
    )
    factories.issue(approved_designation, by=staff_user, shares=10, price=Decimal("0.001"))


def test_issuance_against_another_plans_designation_is_refused(approved_designation, staff_user, superuser):
    other_plan = factories.make_plan(by=superuser, name="2010 Equity Plan")
    assert_refused(
        exceptions.DesignationNotApproved,
        "That designation belongs to another plan.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=10, plan=other_plan),
    )


# --- issuance input ------------------------------------------------------------------------------------------------


def test_debt_settlement_records_debt_amount_and_reference(approved_designation, staff_user):
    issuance = factories.issue(approved_designation, by=staff_user, shares=300_000, kind="debt_settlement",
                               debt_amount=Decimal("45000"), debt_reference="Invoice HE-118")
    assert issuance.kind == Issuance.Kind.DEBT_SETTLEMENT
    assert issuance.debt_amount == Decimal("45000")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"kind": "debt_settlement", "debt_reference": "INV-1"}, "A debt settlement needs the amount of debt settled."),
        ({"kind": "debt_settlement", "debt_amount": Decimal("0"), "debt_reference": "INV-1"},
         "The debt settled must be more than $0."),
        ({"kind": "debt_settlement", "debt_amount": Decimal("10")},
         "A debt settlement needs a reference to the debt (invoice, note)."),
        ({"kind": "compensation", "debt_amount": Decimal("10")}, "Only a debt settlement records a debt amount."),
        ({"kind": "gift"}, "Choose compensation or debt settlement."),
    ],
)
def test_issuance_kind_and_debt_fields_must_agree(approved_designation, staff_user, extra, message):
    assert_refused(exceptions.InvalidInput, message,
                   lambda: factories.issue(approved_designation, by=staff_user, shares=10, **extra))


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        (0, "Shares must be at least 1."),
        (-5, "Shares must be at least 1."),
        (Decimal("1.5"), "Shares are whole: enter a number without a fraction."),
        (10**20, "100,000,000,000,000,000,000 shares is more than the ledger can record."),
        ("ten", "Enter a whole number of shares."),
        (None, "Enter a whole number of shares."),
    ],
)
def test_issuance_share_count_must_be_a_positive_whole_number(approved_designation, staff_user, shares, message):
    assert_refused(exceptions.InvalidInput, message,
                   lambda: factories.issue(approved_designation, by=staff_user, shares=shares))


def test_negative_price_is_refused(approved_designation, staff_user):
    assert_refused(exceptions.InvalidInput, "The price per share may not be negative.",
                   lambda: factories.issue(approved_designation, by=staff_user, shares=1, price=Decimal("-1")))


def test_same_submission_key_records_once(approved_designation, staff_user):
    key = uuid.uuid4()
    first = factories.issue(approved_designation, by=staff_user, shares=10, submission_key=key)
    second = factories.issue(approved_designation, by=staff_user, shares=10, submission_key=key)
    approved_designation.plan.refresh_from_db()
    assert first.pk == second.pk
    assert approved_designation.plan.issued_shares == 10


# --- cancellations ----------------------------------------------------------------------------------------------------


def test_cancellation_returns_shares_to_pool_and_designation(approved_designation, staff_user):
    issuance = factories.issue(approved_designation, by=staff_user, shares=5_000)
    cancellation = services.issuance_cancel(issuance=issuance, cancelled_on=datetime.date(2024, 7, 1),
                                            reason="Wrong certificate.", by=staff_user)
    approved_designation.refresh_from_db()
    approved_designation.plan.refresh_from_db()
    assert cancellation.recorded_by == staff_user
    assert approved_designation.issued_shares == 0
    assert approved_designation.plan.issued_shares == 0
    assert Issuance.objects.filter(pk=issuance.pk).exists()  # the ledger row stays


def test_cancelling_twice_is_refused(approved_designation, staff_user):
    issuance = factories.issue(approved_designation, by=staff_user, shares=5_000)
    services.issuance_cancel(issuance=issuance, cancelled_on=datetime.date(2024, 7, 1), reason="Error.",
                             by=staff_user)
    assert_refused(exceptions.InvalidTransition, "This issuance is already cancelled.",
                   lambda: services.issuance_cancel(issuance=issuance, cancelled_on=datetime.date(2024, 7, 2),
                                                    reason="Again.", by=staff_user))


@pytest.mark.parametrize(
    ("cancelled_on", "reason", "message"),
    [
        (datetime.date(2024, 6, 29), "Error.", "The cancellation date may not precede the issue date, June 30, 2024."),
        (datetime.date(2999, 1, 1), "Error.", "The cancellation date may not be in the future."),
        (datetime.date(2024, 7, 1), "   ", "Enter the reason for the cancellation."),
    ],
)
def test_cancellation_input_is_checked(approved_designation, staff_user, cancelled_on, reason, message):
    issuance = factories.issue(approved_designation, by=staff_user, shares=5_000)
    assert_refused(exceptions.InvalidInput, message,
                   lambda: services.issuance_cancel(issuance=issuance, cancelled_on=cancelled_on, reason=reason,
                                                    by=staff_user))


# --- share reserve ---------------------------------------------------------------------------------------------------


def test_reserve_increase_and_decrease_are_rows_and_authorized_is_their_sum(plan, staff_user):
    services.reserve_change_record(plan=plan, shares=5_000_000, board_approval_date=datetime.date(2010, 5, 1),
                                   resolution_reference="Res. 2010-04", by=staff_user)
    services.reserve_change_record(plan=plan, shares=-2_000_000, board_approval_date=datetime.date(2012, 5, 1),
                                   by=staff_user)
    plan.refresh_from_db()
    assert plan.authorized_shares == 13_000_000
    assert sum(plan.reserve_changes.values_list("shares", flat=True)) == 13_000_000


def test_reserve_decrease_below_issued_or_committed_is_refused(approved_designation, staff_user):
    plan = approved_designation.plan
    factories.issue(approved_designation, by=staff_user, shares=400_000)
    # Issued 400,000; the 2024 designation still commits 600,000: the reserve may not go below 1,000,000.
    assert_refused(
        exceptions.PoolOverCommitted,
        "Reducing the reserve by 9,000,001 shares to 999,999 would leave it below the 1,000,000 shares already "
        "issued (400,000) or committed to approved designations (600,000).",
        lambda: services.reserve_change_record(plan=plan, shares=-9_000_001,
                                               board_approval_date=datetime.date(2024, 8, 1), by=staff_user),
    )
    services.reserve_change_record(plan=plan, shares=-9_000_000, board_approval_date=datetime.date(2024, 8, 1),
                                   by=staff_user)


def test_reserve_change_of_zero_is_refused(plan, staff_user):
    assert_refused(exceptions.InvalidInput, "The change must add or remove at least one share.",
                   lambda: services.reserve_change_record(plan=plan, shares=0,
                                                          board_approval_date=datetime.date(2010, 1, 1),
                                                          by=staff_user))


def test_reserve_change_after_termination_is_refused(plan, staff_user):
    services.plan_terminate(plan=plan, termination_date=datetime.date(2020, 1, 1), by=staff_user)
    assert_refused(exceptions.OutsidePlanTerm,
                   "The plan was terminated on January 1, 2020: its reserve no longer changes.",
                   lambda: services.reserve_change_record(plan=plan, shares=10,
                                                          board_approval_date=datetime.date(2020, 2, 1),
                                                          by=staff_user))


# --- designations and votes ------------------------------------------------------------------------------------------


def test_designation_is_for_one_year_only(plan, participant, staff_user, board_member):
    designation = factories.make_designation(plan=plan, participant=participant, year=2024, shares=100,
                                             staff=staff_user, approver=board_member)
    assert_refused(
        exceptions.DesignationNotApproved,
        "This designation is for 2024; shares issued on June 30, 2023 need a designation for 2023.",
        lambda: factories.issue(designation, by=staff_user, shares=10, on=datetime.date(2023, 6, 30)),
    )


def test_second_open_designation_for_the_same_year_is_refused(approved_designation, staff_user):
    assert_refused(
        exceptions.InvalidTransition,
        "Dana Whitfield already has a designation for 2024 (approved, 1,000,000 shares).",
        lambda: services.designation_propose(plan=approved_designation.plan, participant=approved_designation.participant,
                                             year=2024, shares=5, factors_considered="More.", by=staff_user),
    )


@pytest.mark.parametrize(
    ("year", "shares", "factors", "exception_type", "message"),
    [
        (0, 10, "x", exceptions.InvalidInput, "Enter a year between 1900 and 2999."),
        (10000, 10, "x", exceptions.InvalidInput, "Enter a year between 1900 and 2999."),
        (2001, 10, "x", exceptions.OutsidePlanTerm, "The plan took effect on March 1, 2002: no designation for 2001."),
        (2024, 0, "x", exceptions.InvalidInput, "Shares must be at least 1."),
        (2024, 10_000_001, "x", exceptions.ShareLimitExceeded,
         "10,000,001 shares is more than the plan's 10,000,000 authorized shares."),
        (2024, 10, "  ", exceptions.InvalidInput, "Enter the factors the board considered."),
    ],
)
def test_proposal_input_is_checked(plan, participant, staff_user, year, shares, factors, exception_type, message):
    assert_refused(exception_type, message,
                   lambda: services.designation_propose(plan=plan, participant=participant, year=year, shares=shares,
                                                        factors_considered=factors, by=staff_user))


def test_proposal_after_termination_year_is_refused(plan, participant, staff_user):
    services.plan_terminate(plan=plan, termination_date=datetime.date(2020, 1, 1), by=staff_user)
    assert_refused(exceptions.OutsidePlanTerm,
                   "The plan was terminated on January 1, 2020: no designation for 2021.",
                   lambda: services.designation_propose(plan=plan, participant=participant, year=2021, shares=5,
                                                        factors_considered="x", by=staff_user))


def test_two_required_approvals(superuser, participant, staff_user, board_member, second_board_member):
    plan = factories.make_plan(by=superuser, required_approvals=2)
    designation = factories.make_designation(plan=plan, participant=participant, year=2024, shares=100,
                                             staff=staff_user)
    services.designation_vote(designation=designation, voter=board_member, decision="approve", comment="Fine.")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.PROPOSED
    services.designation_vote(designation=designation, voter=second_board_member, decision="approve")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.APPROVED
    assert designation.decided_at is not None
    assert list(designation.votes.values_list("voter__username", "decision", "comment")) == [
        ("board", "approve", "Fine."), ("board2", "approve", ""),
    ]


def test_rejection_decides_when_rejections_reach_the_required_count(plan, participant, staff_user, board_member):
    designation = factories.make_designation(plan=plan, participant=participant, year=2024, shares=100,
                                             staff=staff_user)
    services.designation_vote(designation=designation, voter=board_member, decision="reject", comment="Too many.")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.REJECTED


def test_vote_refusals(plan, participant, staff_user, board_member, second_board_member, superuser):
    pending = factories.make_designation(plan=plan, participant=participant, year=2024, shares=100,
                                         staff=staff_user)
    vote = lambda voter, decision="approve": services.designation_vote(  # noqa: E731
        designation=pending, voter=voter, decision=decision)

    assert_refused(exceptions.VoteRefused, "Only board members vote on designations.", lambda: vote(staff_user))
    assert_refused(exceptions.InvalidInput, "Choose approve or reject.", lambda: vote(board_member, "abstain"))

    own = factories.make_designation(plan=plan, participant=factories.make_participant("Priya", by=staff_user),
                                     year=2024, shares=100, staff=board_member)
    assert_refused(exceptions.VoteRefused, "You proposed this designation, so you may not vote on it.",
                   lambda: services.designation_vote(designation=own, voter=board_member, decision="approve"))

    director = factories.make_participant("Elena Sorokina", by=staff_user, user=second_board_member,
                                          category=Participant.Category.NON_EMPLOYEE_DIRECTOR)
    self_designation = factories.make_designation(plan=plan, participant=director, year=2024, shares=100,
                                                  staff=staff_user)
    assert_refused(exceptions.VoteRefused, "This designation is of you, so you may not vote on it.",
                   lambda: services.designation_vote(designation=self_designation, voter=second_board_member,
                                                     decision="approve"))

    two_needed = factories.make_plan(by=superuser, required_approvals=2, name="Two-vote plan")
    slow = factories.make_designation(plan=two_needed, participant=participant, year=2024, shares=100,
                                      staff=staff_user)
    services.designation_vote(designation=slow, voter=board_member, decision="approve")
    assert_refused(exceptions.VoteRefused, "You have already voted on this designation.",
                   lambda: services.designation_vote(designation=slow, voter=board_member, decision="reject"))

    vote(board_member)
    assert_refused(exceptions.VoteRefused, "This designation is already approved.", lambda: vote(second_board_member))
    assert DesignationVote.objects.filter(designation=pending).count() == 1


def test_withdraw_only_a_proposal(approved_designation, staff_user, plan, participant):
    assert_refused(exceptions.InvalidTransition,
                   "This designation is approved; only a proposal can be withdrawn.",
                   lambda: services.designation_withdraw(designation=approved_designation, by=staff_user))
    proposal = factories.make_designation(plan=plan, participant=participant, year=2025, shares=10, staff=staff_user)
    services.designation_withdraw(designation=proposal, by=staff_user)
    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.WITHDRAWN


# --- the plan's term -------------------------------------------------------------------------------------------------


def test_effective_date_may_not_leave_issuances_before_it(approved_designation, staff_user, plan):
    factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2024, 3, 1))
    assert_refused(exceptions.OutsidePlanTerm,
                   "1 issuance(s) are dated before March 2, 2024: cancel them first or choose an earlier date.",
                   lambda: services.plan_set_effective_date(plan=plan, effective_date=datetime.date(2024, 3, 2),
                                                            by=staff_user))
    assert_refused(exceptions.OutsidePlanTerm,
                   "Shares have been issued under the plan: its effective date cannot be cleared.",
                   lambda: services.plan_set_effective_date(plan=plan, effective_date=None, by=staff_user))


def test_effective_date_may_not_follow_termination(plan, staff_user):
    services.plan_terminate(plan=plan, termination_date=datetime.date(2020, 1, 1), by=staff_user)
    assert_refused(exceptions.OutsidePlanTerm,
                   "The effective date may not follow the termination date, January 1, 2020.",
                   lambda: services.plan_set_effective_date(plan=plan, effective_date=datetime.date(2021, 1, 1),
                                                            by=staff_user))


def test_termination_refusals(approved_designation, staff_user, plan):
    factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2024, 3, 1))
    assert_refused(exceptions.OutsidePlanTerm,
                   "1 issuance(s) are dated on or after March 1, 2024: the plan cannot end before them.",
                   lambda: services.plan_terminate(plan=plan, termination_date=datetime.date(2024, 3, 1),
                                                   by=staff_user))
    assert_refused(exceptions.OutsidePlanTerm,
                   "The termination date may not precede the effective date, March 1, 2002.",
                   lambda: services.plan_terminate(plan=plan, termination_date=datetime.date(2001, 1, 1),
                                                   by=staff_user))
    services.plan_terminate(plan=plan, termination_date=datetime.date(2024, 3, 2), resolution_reference="Res. 9",
                            by=staff_user)
    assert_refused(exceptions.InvalidTransition, "The plan was already terminated on March 2, 2024.",
                   lambda: services.plan_terminate(plan=plan, termination_date=datetime.date(2025, 1, 1),
                                                   by=staff_user))


def test_plan_create_records_initial_reserve_row(superuser):
    plan = factories.make_plan(by=superuser, shares=10_000_000, effective_date=None)
    change = plan.reserve_changes.get()
    assert (change.shares, change.note, change.recorded_by) == (10_000_000, "Initial authorization", superuser)
    assert plan.authorized_shares == 10_000_000
    assert plan.effective_date is None


# --- issuance_record_many: a batch, all or nothing, checked against running totals ------------------------------


def batch_row(designation, shares, *, on=None, price=Decimal("0.15"), **extra):
    return {"designation": designation, "issue_date": on or datetime.date(designation.year, 6, 30),
            "shares": shares, "price_per_share": price, **extra}


def refuse_batch(rows, *, by, **kwargs) -> exceptions.BatchRefused:
    """Run issuance_record_many expecting BatchRefused, and prove nothing was written."""
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.BatchRefused) as caught:
        services.issuance_record_many(rows=rows, by=by, **kwargs)
    assert factories.ledger_snapshot() == before
    return caught.value


def test_batch_crossing_the_plan_limit_is_refused_naming_every_bad_row(plan, participant, staff_user, board_member):
    services.reserve_change_record(plan=plan, shares=-9_000_000, board_approval_date=datetime.date(2003, 1, 1),
                                   by=staff_user)
    first = factories.make_designation(plan=plan, participant=participant, year=2024, shares=600_000,
                                       staff=staff_user, approver=board_member)
    second = factories.make_designation(plan=plan, participant=participant, year=2025, shares=600_000,
                                        staff=staff_user, approver=board_member)
    factories.issue(first, by=staff_user, shares=100_000)
    rows = [
        batch_row(first, 200_000),  # 300,000 issued
        batch_row(second, 300_000),  # 600,000
        batch_row(first, 200_000),  # 800,000
        batch_row(second, 300_000),  # row 3: over the pool (200,000 remain)
        batch_row(first, 10, price=Decimal("0.0009")),  # row 4: below par
        batch_row(second, 200_000),  # exactly what is left: refused rows do not count in the running total
        batch_row(second, 1),  # row 6: one share over
    ]
    refused = refuse_batch(rows, by=staff_user)

    assert refused.row_errors == [
        (3, "This issuance of 300,000 shares would exceed the 1,000,000 authorized shares: 800,000 are issued, "
            "200,000 remain."),
        (4, "The price of $0.0009 per share is below the par value of $0.001."),
        (6, "This issuance of 1 shares would exceed the 1,000,000 authorized shares: 1,000,000 are issued, "
            "0 remain."),
    ]
    assert isinstance(refused, exceptions.PlanRuleViolation)
    assert refused.messages[0].startswith("3 of 7 issuances cannot be recorded, so none was: row 4: This issuance")


def test_same_messages_as_the_single_row_service(plan, participant, approved_designation, staff_user, superuser):
    # Each bad row alone, through issuance_record and through a batch: the same refusal, word for word.
    other_plan = factories.make_plan(by=superuser, name="2010 Equity Plan")
    bad_rows = [
        batch_row(approved_designation, 0),
        batch_row(approved_designation, 10, on=datetime.date(2025, 1, 2)),
        batch_row(approved_designation, 10, kind="debt_settlement"),
        batch_row(approved_designation, 10, debt_amount=Decimal("5")),
        batch_row(approved_designation, 10, kind="gift"),
        batch_row(approved_designation, 10, notes="x" * 10_001),
        batch_row(approved_designation, 1_000_001),
    ]
    for row in bad_rows:
        with pytest.raises(exceptions.PlanRuleViolation) as single:
            services.issuance_record(by=staff_user, **row)
        refused = refuse_batch([row], by=staff_user)
        assert refused.row_errors == [(0, single.value.messages[0])]
    with pytest.raises(exceptions.DesignationNotApproved) as single:
        services.issuance_record(by=staff_user, plan=other_plan, **bad_rows[0])
    refused = refuse_batch([batch_row(approved_designation, 10)], by=staff_user, plan=other_plan)
    assert refused.row_errors == [(0, single.value.messages[0])] == [(0, "That designation belongs to another plan.")]


def test_batch_exceeding_a_designation_across_two_rows_is_refused(approved_designation, staff_user):
    factories.issue(approved_designation, by=staff_user, shares=100_000)
    refused = refuse_batch(
        [batch_row(approved_designation, 500_000), batch_row(approved_designation, 500_000)], by=staff_user
    )
    assert refused.row_errors == [
        (1, "This issuance of 500,000 shares would exceed Dana Whitfield's 2024 designation of 1,000,000 shares: "
            "600,000 are issued, 400,000 remain."),
    ]


def test_valid_batch_writes_every_row_history_and_counters(plan, participant, approved_designation, staff_user,
                                                           board_member):
    from plan_admin.models import Plan

    lee = factories.make_participant("Lee Chen", by=staff_user)
    lee_2024 = factories.make_designation(plan=plan, participant=lee, year=2024, shares=50_000, staff=staff_user,
                                          approver=board_member)
    factories.issue(approved_designation, by=staff_user, shares=1_000)
    rows = [
        batch_row(approved_designation, 400_000),
        batch_row(lee_2024, 20_000, notes="by primary key") | {"designation": lee_2024.pk},
        batch_row(approved_designation, 599_000, price=Decimal("0.001")),  # fills Dana's designation exactly
        batch_row(lee_2024, 30_000, kind="debt_settlement", debt_amount=Decimal("4500.00"), debt_reference="INV-7"),
    ]
    issuances = services.issuance_record_many(rows=rows, by=staff_user, plan=plan)

    assert [issuance.shares for issuance in issuances] == [400_000, 20_000, 599_000, 30_000]
    assert all(issuance.pk for issuance in issuances)
    stored = Issuance.objects.filter(pk__in=[issuance.pk for issuance in issuances])
    assert stored.count() == 4
    assert set(stored.values_list("recorded_by", flat=True)) == {staff_user.pk}
    debt = stored.get(kind="debt_settlement")
    assert (debt.debt_amount, debt.debt_reference, debt.designation_id) == (Decimal("4500.00"), "INV-7", lee_2024.pk)
    assert stored.get(shares=20_000).notes == "by primary key"
    history = Issuance.history.filter(id__in=[issuance.pk for issuance in issuances])
    assert history.count() == 4
    assert {(row.history_type, row.history_user_id) for row in history} == {("+", staff_user.pk)}

    plan_row = Plan.objects.get(pk=plan.pk)
    approved_designation.refresh_from_db()
    lee_2024.refresh_from_db()
    ledger = {d: sum(Issuance.objects.filter(designation=d).values_list("shares", flat=True))
              for d in (approved_designation, lee_2024)}
    assert approved_designation.issued_shares == ledger[approved_designation] == 1_000_000
    assert lee_2024.issued_shares == ledger[lee_2024] == 50_000
    assert plan_row.issued_shares == sum(Issuance.objects.values_list("shares", flat=True)) == 1_050_000
    assert plan.issued_shares == 1_050_000, "the caller's plan object is kept in step"


def test_batch_over_two_plans_locks_and_counts_both(approved_designation, staff_user, superuser, board_member,
                                                    participant):
    from plan_admin.models import Plan

    other_plan = factories.make_plan(by=superuser, name="2010 Equity Plan")
    other = factories.make_designation(plan=other_plan, participant=participant, year=2024, shares=5_000,
                                       staff=staff_user, approver=board_member)
    services.issuance_record_many(rows=[batch_row(other, 5_000), batch_row(approved_designation, 7)], by=staff_user)
    assert dict(Plan.objects.values_list("pk", "issued_shares")) == {approved_designation.plan_id: 7,
                                                                     other_plan.pk: 5_000}


def test_empty_batch_writes_nothing(staff_user, plan):
    before = factories.ledger_snapshot()
    assert services.issuance_record_many(rows=[], by=staff_user) == []
    assert factories.ledger_snapshot() == before


def test_batch_query_count_does_not_grow_with_rows(plan, participant, approved_designation, staff_user,
                                                   board_member, monkeypatch):
    import math

    from django.db import connection, models
    from django.test.utils import CaptureQueriesContext

    lee = factories.make_participant("Lee Chen", by=staff_user)
    lee_2024 = factories.make_designation(plan=plan, participant=lee, year=2024, shares=50_000, staff=staff_user,
                                          approver=board_member)

    def insert_batches(count: int) -> int:
        """INSERT statements bulk_create sends for `count` rows of issuances and of their history (the database's
        own parameter limit may cut the batches smaller than BULK_BATCH_SIZE: SQLite's does)."""
        total = 0
        for model in (Issuance, Issuance.history.model):
            fields = [field for field in model._meta.concrete_fields if not isinstance(field, models.AutoField)]
            size = min(services.BULK_BATCH_SIZE, max(connection.ops.bulk_batch_size(fields, [None] * count), 1))
            total += math.ceil(count / size)
        return total

    def record(count: int) -> tuple[int, int]:
        rows = [batch_row(approved_designation if i % 2 else lee_2024, 1) for i in range(count)]
        with CaptureQueriesContext(connection) as queries:
            services.issuance_record_many(rows=rows, by=staff_user)
        inserts = sum(1 for query in queries if query["sql"].lstrip().upper().startswith("INSERT"))
        return len(queries) - inserts, inserts

    ten, two_hundred = record(10), record(200)
    # Lock, designations, two designation counters, plan counter (+ the savepoint): the same for 10 or 200 rows.
    assert ten[0] == two_hundred[0] <= 7
    assert ten[1] == insert_batches(10) == 2
    assert two_hundred[1] == insert_batches(200)
    monkeypatch.setattr(services, "BULK_BATCH_SIZE", 50)
    assert record(200) == (ten[0], insert_batches(200)), "only the insert batches add queries"
    assert insert_batches(200) >= 8
    plan.refresh_from_db()
    assert plan.issued_shares == 410 == Issuance.objects.count()
