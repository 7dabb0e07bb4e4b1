"""Every rule of DESIGN.md and every refusal of plan_admin.services.

Each refusal test asserts the exception, its message, and that no row, history row or counter changed.
"""

import datetime
import uuid
from decimal import Decimal

import pytest

from plan_admin import exceptions, services
from plan_admin.models import BoardDesignation, DesignationVote, Issuance, Participant
from plan_admin.selectors import committed_by_year, pool_status
from tests import factories
from tests.factories import assert_refused

pytestmark = pytest.mark.django_db


# --- rule 1: issued never exceeds authorized ---------------------------------------------------------------------


def test_issuance_within_pool_is_recorded_and_counters_move(approved_designation, staff_user, issue_kwargs):
    issuance = services.issuance_record(designation=approved_designation, by=staff_user, **issue_kwargs)

    approved_designation.plan.refresh_from_db()
    approved_designation.refresh_from_db()
    assert issuance.recorded_by == staff_user
    assert approved_designation.plan.issued_shares == 1_000
    assert approved_designation.issued_shares == 1_000
    assert issuance.history.get().history_user == staff_user


def test_issuance_moves_shares_from_committed_to_issued(approved_designation, staff_user):
    plan = approved_designation.plan
    factories.issue(approved_designation, by=staff_user, shares=250_000)
    plan.refresh_from_db()
    assert (plan.issued_shares, plan.committed_shares, plan.available_shares) == (250_000, 750_000, 9_000_000)


def test_database_refuses_issued_above_authorized_even_if_code_is_wrong(plan):
    from django.db import IntegrityError, transaction

    from plan_admin.models import Plan

    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.filter(pk=plan.pk).update(issued_shares=plan.authorized_shares + 1)


def test_database_refuses_issued_plus_committed_above_authorized(approved_designation):
    from django.db import IntegrityError, transaction

    from plan_admin.models import Plan

    plan = approved_designation.plan  # 1,000,000 committed of 10,000,000
    Plan.objects.filter(pk=plan.pk).update(issued_shares=9_000_000)  # exactly at the limit: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.filter(pk=plan.pk).update(issued_shares=9_000_001)


# --- rule 2: issuances within the year's designation --------------------------------------------------------------


def test_issuance_beyond_designation_is_refused(approved_designation, staff_user):
    factories.issue(approved_designation, by=staff_user, shares=999_000)
    assert_refused(
        exceptions.DesignationLimitExceeded,
        "This issuance of 2,000 shares would exceed Dana Whitfield's 2024 designation of 1,000,000 shares: "
        "999,000 are issued, 1,000 remain.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=2_000),
    )


@pytest.mark.parametrize("path", ["single", "batch"])
@pytest.mark.parametrize("over", [0, 1], ids=["exactly-at-the-limit", "one-share-over"])
def test_designation_limit_is_exact_on_every_path(approved_designation, staff_user, path, over):
    """Both recording paths, each on its own: the designation's last share is accepted, one more is refused."""
    factories.issue(approved_designation, by=staff_user, shares=999_000)
    if path == "single":
        record = lambda: factories.issue(approved_designation, by=staff_user, shares=1_000 + over)  # noqa: E731
    else:
        rows = [batch_row(approved_designation, 400), batch_row(approved_designation, 600 + over)]
        record = lambda: services.issuance_record_many(rows=rows, by=staff_user)  # noqa: E731
    if over:
        message = (
            "This issuance of 1,001 shares would exceed Dana Whitfield's 2024 designation of 1,000,000 shares: "
            "999,000 are issued, 1,000 remain."
            if path == "single"
            else "This issuance of 601 shares would exceed Dana Whitfield's 2024 designation of 1,000,000 shares: "
            "999,400 are issued, 600 remain."
        )
        if path == "single":
            assert_refused(exceptions.DesignationLimitExceeded, message, record)
        else:
            assert refuse_batch(rows, by=staff_user).row_errors == [(1, message)]
    else:
        record()
        approved_designation.refresh_from_db()
        approved_designation.plan.refresh_from_db()
        assert approved_designation.issued_shares == 1_000_000
        assert (approved_designation.plan.issued_shares, approved_designation.plan.committed_shares) == (1_000_000, 0)


def test_database_refuses_designation_issued_above_its_shares(approved_designation):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        BoardDesignation.objects.filter(pk=approved_designation.pk).update(issued_shares=1_000_001)


# --- rule 3: approving may not over-commit the pool, across every year ---------------------------------------------


def test_approval_that_would_over_commit_the_pool_is_refused(plan, participant, staff_user, board_member):
    other = factories.make_participant("Priya Raman", by=staff_user, category=Participant.Category.CONSULTANT)
    approved = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=6_000_000, staff=staff_user, approver=board_member
    )
    factories.issue(approved, by=staff_user, shares=1_000_000)
    pending = factories.make_designation(plan=plan, participant=other, year=2024, shares=4_000_001, staff=staff_user)

    assert_refused(
        exceptions.PoolOverCommitted,
        "Approving 4,000,001 shares for Priya Raman in 2024 would over-commit the plan: of 10,000,000 authorized "
        "shares, 1,000,000 are issued and 5,000,000 are committed to approved designations (2024: 5,000,000), so "
        "4,000,000 remain.",
        lambda: services.designation_vote(designation=pending, voter=board_member, decision="approve"),
    )
    assert committed_by_year(plan_id=plan.pk) == [(2024, 5_000_000)]


def test_approval_of_another_year_counts_every_years_commitments(plan, participant, staff_user, board_member):
    """The finding: this year's approved, unissued shares may not be promised again to last year's designation."""
    other = factories.make_participant("Priya Raman", by=staff_user, category=Participant.Category.CONSULTANT)
    this_year = datetime.date.today().year
    factories.make_designation(
        plan=plan, participant=participant, year=this_year, shares=8_950_000, staff=staff_user, approver=board_member
    )
    last_year = factories.make_designation(
        plan=plan, participant=other, year=this_year - 1, shares=1_050_001, staff=staff_user, decided_on=None
    )
    assert_refused(
        exceptions.PoolOverCommitted,
        f"Approving 1,050,001 shares for Priya Raman in {this_year - 1} would over-commit the plan: of 10,000,000 "
        f"authorized shares, 0 are issued and 8,950,000 are committed to approved designations ({this_year}: "
        "8,950,000), so 1,050,000 remain.",
        lambda: services.designation_vote(designation=last_year, voter=board_member, decision="approve"),
    )


@pytest.mark.parametrize("over", [0, 1], ids=["exactly-fills", "one-share-over"])
def test_approval_boundary_is_exact(plan, participant, staff_user, board_member, over):
    other = factories.make_participant("Priya Raman", by=staff_user, category=Participant.Category.CONSULTANT)
    first = factories.make_designation(
        plan=plan, participant=participant, year=2023, shares=4_000_000, staff=staff_user, approver=board_member
    )
    factories.issue(first, by=staff_user, shares=1_500_000)
    pending = factories.make_designation(
        plan=plan, participant=other, year=2024, shares=6_000_000 + over, staff=staff_user, decided_on=None
    )
    vote = lambda: services.designation_vote(designation=pending, voter=board_member, decision="approve")  # noqa: E731
    if over:
        assert_refused(
            exceptions.PoolOverCommitted,
            "Approving 6,000,001 shares for Priya Raman in 2024 would over-commit the plan: of 10,000,000 "
            "authorized shares, 1,500,000 are issued and 2,500,000 are committed to approved designations "
            "(2023: 2,500,000), so 6,000,000 remain.",
            vote,
        )
    else:
        vote()
        plan.refresh_from_db()
        assert (plan.issued_shares, plan.committed_shares, plan.available_shares) == (1_500_000, 8_500_000, 0)


def test_approval_that_exactly_fills_the_pool_is_accepted(plan, participant, staff_user, board_member):
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=10_000_000, staff=staff_user, approver=board_member
    )
    assert designation.status == BoardDesignation.Status.APPROVED
    plan.refresh_from_db()
    status = pool_status(plan=plan)
    assert (status.authorized, status.issued, status.committed, status.available) == (10_000_000, 0, 10_000_000, 0)
    assert status.fully_committed and status.committed_by_year == ((2024, 10_000_000),)


def test_with_two_approvals_needed_every_approving_vote_is_checked_against_the_pool(
    superuser, participant, staff_user, board_member, second_board_member
):
    """A first approving vote is refused at once when the shares do not fit (it does not decide, so the member is
    told now, not at the second vote); a deciding vote whose shares no longer fit is refused and not recorded."""
    two = factories.make_plan(by=superuser, required_approvals=2, shares=1_000, name="Two-vote plan")
    other = factories.make_participant("Priya Raman", by=staff_user)
    with factories.on_day(datetime.date(2024, 2, 1)):
        pending = services.designation_propose(
            plan=two, participant=participant, year=2024, shares=600, factors_considered="Retention.", by=staff_user
        )
        rival = services.designation_propose(
            plan=two, participant=other, year=2024, shares=500, factors_considered="Retention.", by=staff_user
        )
        services.designation_vote(designation=pending, voter=board_member, decision="approve")
        for voter in (board_member, second_board_member):
            services.designation_vote(designation=rival, voter=voter, decision="approve")
        over = (
            "would over-commit the plan: of 1,000 authorized shares, 0 are issued and 500 are committed to approved "
            "designations (2024: 500), so 500 remain."
        )
        assert_refused(
            exceptions.PoolOverCommitted,
            f"Approving 600 shares for {participant.name} in 2024 {over}",
            lambda: services.designation_vote(designation=pending, voter=second_board_member, decision="approve"),
        )
        third = factories.make_participant("Tomas Lind", by=staff_user)
        late = services.designation_propose(
            plan=two, participant=third, year=2024, shares=501, factors_considered="Retention.", by=staff_user
        )
        assert_refused(
            exceptions.PoolOverCommitted,
            f"Approving 501 shares for Tomas Lind in 2024 {over}",
            lambda: services.designation_vote(designation=late, voter=board_member, decision="approve"),
        )
    assert DesignationVote.objects.filter(designation__in=[pending, late]).count() == 1  # the first vote on `pending`
    pending.refresh_from_db()
    assert pending.status == BoardDesignation.Status.PROPOSED


def test_a_rejecting_vote_is_not_checked_against_the_pool(plan, participant, staff_user, board_member):
    factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=10_000_000, staff=staff_user, approver=board_member
    )
    other = factories.make_participant("Priya Raman", by=staff_user)
    pending = factories.make_designation(plan=plan, participant=other, year=2025, shares=5, staff=staff_user)
    services.designation_vote(designation=pending, voter=board_member, decision="reject")
    pending.refresh_from_db()
    assert pending.status == "rejected"


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
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=100, staff=staff_user, approver=board_member
    )
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The plan's effective date is not yet recorded: no shares may be issued until it is.",
        lambda: factories.issue(designation, by=staff_user, shares=10),
    )


def test_issuance_on_or_after_termination_is_refused(approved_designation, staff_user, board_member, plan):
    factories.terminate(plan, termination_date=datetime.date(2024, 6, 30), staff=staff_user, approver=board_member)
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The plan was terminated on June 30, 2024: no shares may be issued on or after that date.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2024, 6, 30)),
    )
    factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2024, 6, 29))


@pytest.mark.parametrize("status", ["proposed", "rejected", "withdrawn"])
def test_issuance_needs_an_approved_designation(plan, participant, staff_user, board_member, status):
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=100, staff=staff_user
    )
    if status == "rejected":
        with factories.on_day(datetime.date(2024, 1, 2)):
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


def test_debt_settlement_records_debt_amount_and_reference(plan, staff_user, board_member):
    creditor = factories.make_participant("Halvorsen Engineering LLC", by=staff_user, category="consultant")
    settlement = factories.make_debt_designation(
        plan=plan,
        participant=creditor,
        year=2024,
        shares=300_000,
        staff=staff_user,
        approver=board_member,
        debt_amount="45000",
        debt_reference="Invoices HE-118 to HE-124",
        price_per_share="0.15",
    )
    issuance = factories.issue(
        settlement,
        by=staff_user,
        shares=300_000,
        kind="debt_settlement",
        debt_amount=Decimal("45000"),
        debt_reference="Invoice HE-118",
    )
    assert issuance.kind == Issuance.Kind.DEBT_SETTLEMENT
    assert issuance.debt_amount == Decimal("45000")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"kind": "debt_settlement", "debt_reference": "INV-1"}, "A debt settlement needs the amount of debt settled."),
        (
            {"kind": "debt_settlement", "debt_amount": Decimal("0"), "debt_reference": "INV-1"},
            "The debt settled must be more than $0.",
        ),
        (
            {"kind": "debt_settlement", "debt_amount": Decimal("10")},
            "A debt settlement needs a reference to the debt (invoice, note).",
        ),
        ({"kind": "compensation", "debt_amount": Decimal("10")}, "Only a debt settlement records a debt amount."),
        ({"kind": "gift"}, "Choose compensation or debt settlement."),
    ],
)
def test_issuance_kind_and_debt_fields_must_agree(approved_designation, staff_user, extra, message):
    assert_refused(
        exceptions.InvalidInput,
        message,
        lambda: factories.issue(approved_designation, by=staff_user, shares=10, **extra),
    )


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
    assert_refused(
        exceptions.InvalidInput, message, lambda: factories.issue(approved_designation, by=staff_user, shares=shares)
    )


def test_negative_price_is_refused(approved_designation, staff_user):
    assert_refused(
        exceptions.InvalidInput,
        "The price per share may not be negative.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=1, price=Decimal("-1")),
    )


def test_same_submission_key_records_once(approved_designation, staff_user):
    key = uuid.uuid4()
    first = factories.issue(approved_designation, by=staff_user, shares=10, submission_key=key)
    second = factories.issue(approved_designation, by=staff_user, shares=10, submission_key=key)
    approved_designation.plan.refresh_from_db()
    assert first.pk == second.pk
    assert approved_designation.plan.issued_shares == 10


def test_same_submission_key_with_other_values_is_refused_naming_what_was_recorded(approved_designation, staff_user):
    """The finding: going back, correcting 15,000 to 1,500 and resubmitting dropped the correction silently."""
    key = uuid.uuid4()
    factories.issue(approved_designation, by=staff_user, shares=15_000, submission_key=key)
    issuance = Issuance.objects.get()
    assert_refused(
        exceptions.InvalidTransition,
        f"This form was already submitted, and recorded issuance #{issuance.pk}: 15,000 shares to Dana Whitfield on "
        "June 30, 2024 at $0.15 per share. Nothing else was recorded. To record a different issuance, open a new "
        "form; to correct that one, cancel it.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=1_500, submission_key=key),
    )


def test_same_submission_key_from_another_user_is_refused(approved_designation, staff_user):
    key = uuid.uuid4()
    factories.issue(approved_designation, by=staff_user, shares=10, submission_key=key)
    colleague = factories.make_user("staff2", role=factories.roles.STAFF)
    assert_refused(
        exceptions.InvalidTransition,
        "This form was already submitted by another user. Open a new form to record an issuance.",
        lambda: factories.issue(approved_designation, by=colleague, shares=10, submission_key=key),
    )


def test_same_submission_key_against_another_plan_is_refused(
    approved_designation, staff_user, superuser, board_member, participant
):
    key = uuid.uuid4()
    factories.issue(approved_designation, by=staff_user, shares=10, submission_key=key)
    other_plan = factories.make_plan(by=superuser, name="2010 Equity Plan")
    other = factories.make_designation(
        plan=other_plan, participant=participant, year=2024, shares=100, staff=staff_user, approver=board_member
    )
    with pytest.raises(exceptions.InvalidTransition, match="already submitted"):
        factories.issue(other, by=staff_user, shares=10, submission_key=key)
    assert Issuance.objects.count() == 1


# --- cancellations ----------------------------------------------------------------------------------------------------


def test_cancellation_returns_shares_to_pool_and_designation(approved_designation, staff_user):
    issuance = factories.issue(approved_designation, by=staff_user, shares=5_000)
    cancellation = services.issuance_cancel(
        issuance=issuance, cancelled_on=datetime.date(2024, 7, 1), reason="Wrong certificate.", by=staff_user
    )
    approved_designation.refresh_from_db()
    approved_designation.plan.refresh_from_db()
    assert cancellation.recorded_by == staff_user
    assert approved_designation.issued_shares == 0
    assert approved_designation.plan.issued_shares == 0
    assert Issuance.objects.filter(pk=issuance.pk).exists()  # the ledger row stays


def test_cancelling_twice_is_refused(approved_designation, staff_user):
    issuance = factories.issue(approved_designation, by=staff_user, shares=5_000)
    services.issuance_cancel(issuance=issuance, cancelled_on=datetime.date(2024, 7, 1), reason="Error.", by=staff_user)
    assert_refused(
        exceptions.InvalidTransition,
        "This issuance is already cancelled.",
        lambda: services.issuance_cancel(
            issuance=issuance, cancelled_on=datetime.date(2024, 7, 2), reason="Again.", by=staff_user
        ),
    )


@pytest.mark.parametrize(
    ("cancelled_on", "reason", "message"),
    [
        (datetime.date(2024, 6, 29), "Error.", "The cancellation date may not precede the issue date, June 30, 2024."),
        (
            datetime.date(2999, 1, 1),
            "Error.",
            f"A cancellation may not be dated in the future: January 1, 2999 is after today, "
            f"{datetime.date.today():%B %-d, %Y}.",
        ),
        (datetime.date(2024, 7, 1), "   ", "Enter the reason for the cancellation."),
    ],
)
def test_cancellation_input_is_checked(approved_designation, staff_user, cancelled_on, reason, message):
    issuance = factories.issue(approved_designation, by=staff_user, shares=5_000)
    assert_refused(
        exceptions.InvalidInput,
        message,
        lambda: services.issuance_cancel(issuance=issuance, cancelled_on=cancelled_on, reason=reason, by=staff_user),
    )


# --- share reserve: proposed by staff, decided by the board -------------------------------------------------------


def test_reserve_increase_and_decrease_are_rows_and_authorized_is_their_sum(plan, staff_user, board_member):
    factories.change_reserve(
        plan, shares=5_000_000, staff=staff_user, approver=board_member, on=datetime.date(2010, 5, 1)
    )
    decrease = factories.change_reserve(
        plan, shares=-2_000_000, staff=staff_user, approver=board_member, on=datetime.date(2012, 5, 1)
    )
    plan.refresh_from_db()
    assert plan.authorized_shares == 13_000_000
    assert sum(plan.reserve_changes.values_list("shares", flat=True)) == 13_000_000
    assert (decrease.board_approval_date, decrease.resolution_reference, decrease.recorded_by) == (
        datetime.date(2012, 5, 1),
        "Votes of the board in plan-admin",
        board_member,
    )


def test_a_reserve_proposal_changes_nothing_until_the_board_approves(plan, staff_user):
    before = plan.authorized_shares
    proposal = services.reserve_change_propose(plan=plan, shares=5_000_000, explanation="Growth.", by=staff_user)
    plan.refresh_from_db()
    assert (proposal.status, plan.authorized_shares, plan.reserve_changes.count()) == ("proposed", before, 1)


@pytest.mark.parametrize("over", [0, 1], ids=["exactly-at-the-floor", "one-share-below"])
def test_reserve_decrease_boundary_counts_issued_and_committed_of_every_year(
    approved_designation, staff_user, board_member, over
):
    plan = approved_designation.plan
    factories.issue(approved_designation, by=staff_user, shares=400_000)
    later = factories.make_designation(
        plan=plan,
        participant=factories.make_participant("Lee", by=staff_user),
        year=2025,
        shares=500_000,
        staff=staff_user,
        approver=board_member,
    )
    assert later.status == "approved"
    # Issued 400,000; committed 600,000 (2024) + 500,000 (2025): the reserve may not go below 1,500,000.
    proposal = services.reserve_change_propose(
        plan=plan, shares=-(8_500_000 + over), explanation="Smaller.", by=staff_user
    )
    vote = lambda: services.plan_proposal_vote(proposal=proposal, voter=board_member, decision="approve")  # noqa
    if over:
        assert_refused(
            exceptions.PoolOverCommitted,
            "Reducing the reserve by 8,500,001 shares to 1,499,999 would leave it below the 1,500,000 shares already "
            "issued (400,000) or committed to approved designations (1,100,000: 2024: 600,000; 2025: 500,000).",
            vote,
        )
    else:
        vote()
        plan.refresh_from_db()
        assert (plan.authorized_shares, plan.available_shares) == (1_500_000, 0)


def test_reserve_proposal_input_is_checked(plan, staff_user):
    assert_refused(
        exceptions.InvalidInput,
        "The change must add or remove at least one share.",
        lambda: services.reserve_change_propose(plan=plan, shares=0, explanation="x", by=staff_user),
    )
    assert_refused(
        exceptions.InvalidInput,
        "Enter the explanation for the board.",
        lambda: services.reserve_change_propose(plan=plan, shares=5, explanation=" ", by=staff_user),
    )
    assert_refused(
        exceptions.InvalidInput,
        "The reserve is 10,000,000 shares: it cannot be reduced by 10,000,001.",
        lambda: services.reserve_change_propose(plan=plan, shares=-10_000_001, explanation="x", by=staff_user),
    )


def test_reserve_change_after_termination_is_refused(plan, staff_user, board_member):
    factories.terminate(plan, termination_date=datetime.date(2020, 1, 1), staff=staff_user, approver=board_member)
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The plan was terminated on January 1, 2020: its reserve no longer changes.",
        lambda: services.reserve_change_propose(plan=plan, shares=10, explanation="x", by=staff_user),
    )


def test_only_the_board_decides_reserve_changes_and_termination(plan, staff_user, superuser, board_member):
    """The finding: staff recorded reserve changes and the termination alone, with a typed date."""
    proposal = services.reserve_change_propose(plan=plan, shares=5_000, explanation="Growth.", by=staff_user)
    for outsider in (staff_user, superuser, factories.make_user("auditor", role=factories.roles.AUDITORS)):
        assert_refused(
            exceptions.VoteRefused,
            "Only members of the board vote on the board's decisions.",
            lambda outsider=outsider: services.plan_proposal_vote(
                proposal=proposal, voter=outsider, decision="approve"
            ),
        )
    own = services.reserve_change_propose(plan=plan, shares=5, explanation="Mine.", by=board_member)
    assert_refused(
        exceptions.VoteRefused,
        "You proposed this proposal, so you may not vote on it.",
        lambda: services.plan_proposal_vote(proposal=own, voter=board_member, decision="approve"),
    )
    assert not hasattr(services, "reserve_change_record") and not hasattr(services, "plan_terminate")


def test_plan_proposal_rejected_and_withdrawn(plan, staff_user, board_member):
    rejected = services.reserve_change_propose(plan=plan, shares=5, explanation="x", by=staff_user)
    services.plan_proposal_vote(proposal=rejected, voter=board_member, decision="reject", comment="No.")
    rejected.refresh_from_db()
    assert (rejected.status, rejected.decided_on) == ("rejected", datetime.date.today())
    withdrawn = services.reserve_change_propose(plan=plan, shares=5, explanation="x", by=staff_user)
    services.plan_proposal_withdraw(proposal=withdrawn, by=staff_user)
    assert_refused(
        exceptions.InvalidTransition,
        "This proposal is withdrawn; it cannot be withdrawn.",
        lambda: services.plan_proposal_withdraw(proposal=withdrawn, by=staff_user),
    )
    assert_refused(
        exceptions.VoteRefused,
        "This proposal is already withdrawn.",
        lambda: services.plan_proposal_vote(proposal=withdrawn, voter=board_member, decision="approve"),
    )
    plan.refresh_from_db()
    assert plan.authorized_shares == 10_000_000


# --- designations and votes ------------------------------------------------------------------------------------------


def test_designation_is_for_one_year_only(plan, participant, staff_user, board_member):
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=100, staff=staff_user, approver=board_member
    )
    assert_refused(
        exceptions.DesignationNotApproved,
        "This designation is for 2024; shares issued on June 30, 2023 need a designation for 2023.",
        lambda: factories.issue(designation, by=staff_user, shares=10, on=datetime.date(2023, 6, 30)),
    )


def test_second_open_designation_for_the_same_year_is_refused(approved_designation, staff_user):
    assert_refused(
        exceptions.InvalidTransition,
        "Dana Whitfield already has a designation for 2024 (approved, 1,000,000 shares).",
        lambda: services.designation_propose(
            plan=approved_designation.plan,
            participant=approved_designation.participant,
            year=2024,
            shares=5,
            factors_considered="More.",
            by=staff_user,
        ),
    )


@pytest.mark.parametrize(
    ("year", "shares", "factors", "exception_type", "message"),
    [
        (0, 10, "x", exceptions.InvalidInput, "Enter a year between 1900 and 2999."),
        (10000, 10, "x", exceptions.InvalidInput, "Enter a year between 1900 and 2999."),
        (2001, 10, "x", exceptions.OutsidePlanTerm, "The plan took effect on March 1, 2002: no designation for 2001."),
        (2024, 0, "x", exceptions.InvalidInput, "Shares must be at least 1."),
        (
            2024,
            10_000_001,
            "x",
            exceptions.ShareLimitExceeded,
            "10,000,001 shares is more than the plan's 10,000,000 authorized shares.",
        ),
        (2024, 10, "  ", exceptions.InvalidInput, "Enter the factors the board considered."),
    ],
)
def test_proposal_input_is_checked(plan, participant, staff_user, year, shares, factors, exception_type, message):
    assert_refused(
        exception_type,
        message,
        lambda: services.designation_propose(
            plan=plan, participant=participant, year=year, shares=shares, factors_considered=factors, by=staff_user
        ),
    )


def test_proposal_after_termination_year_is_refused(plan, participant, staff_user, board_member):
    factories.terminate(plan, termination_date=datetime.date(2020, 1, 1), staff=staff_user, approver=board_member)
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The plan was terminated on January 1, 2020: no designation for 2021.",
        lambda: services.designation_propose(
            plan=plan, participant=participant, year=2021, shares=5, factors_considered="x", by=staff_user
        ),
    )


def test_two_required_approvals(superuser, participant, staff_user, board_member, second_board_member):
    plan = factories.make_plan(by=superuser, required_approvals=2)
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=100, staff=staff_user
    )
    with factories.on_day(datetime.date(2024, 2, 1)):
        services.designation_vote(designation=designation, voter=board_member, decision="approve", comment="Fine.")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.PROPOSED
    assert designation.decided_on is None
    with factories.on_day(datetime.date(2024, 2, 3)):
        services.designation_vote(designation=designation, voter=second_board_member, decision="approve")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.APPROVED
    # Dated the day of the deciding vote, with the votes as its reference.
    assert (designation.decided_on, designation.decision_source, designation.decision_reference) == (
        datetime.date(2024, 2, 3),
        "votes",
        "Votes of the board in plan-admin",
    )
    assert designation.decided_at is not None
    assert list(designation.votes.values_list("voter__username", "decision", "comment")) == [
        ("board", "approve", "Fine."),
        ("board2", "approve", ""),
    ]


def test_rejection_decides_when_rejections_reach_the_required_count(plan, participant, staff_user, board_member):
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=100, staff=staff_user
    )
    services.designation_vote(designation=designation, voter=board_member, decision="reject", comment="Too many.")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.REJECTED


def test_vote_refusals(plan, participant, staff_user, board_member, second_board_member, superuser):
    pending = factories.make_designation(plan=plan, participant=participant, year=2024, shares=100, staff=staff_user)
    vote = lambda voter, decision="approve": services.designation_vote(  # noqa: E731
        designation=pending, voter=voter, decision=decision
    )

    assert_refused(
        exceptions.VoteRefused, "Only members of the board vote on the board's decisions.", lambda: vote(staff_user)
    )
    # A superuser holds every permission, the vote's included, but is not on the board (the finding).
    assert superuser.has_perm("plan_admin.vote_boarddesignation")
    assert_refused(
        exceptions.VoteRefused, "Only members of the board vote on the board's decisions.", lambda: vote(superuser)
    )
    assert_refused(exceptions.InvalidInput, "Choose approve or reject.", lambda: vote(board_member, "abstain"))

    own = factories.make_designation(
        plan=plan,
        participant=factories.make_participant("Priya", by=staff_user),
        year=2024,
        shares=100,
        staff=board_member,
    )
    assert_refused(
        exceptions.VoteRefused,
        "You proposed this designation, so you may not vote on it.",
        lambda: services.designation_vote(designation=own, voter=board_member, decision="approve"),
    )

    director = factories.make_participant(
        "Elena Sorokina", by=staff_user, user=second_board_member, category=Participant.Category.NON_EMPLOYEE_DIRECTOR
    )
    self_designation = factories.make_designation(
        plan=plan, participant=director, year=2024, shares=100, staff=staff_user
    )
    assert_refused(
        exceptions.VoteRefused,
        "This designation is of you, so you may not vote on it.",
        lambda: services.designation_vote(designation=self_designation, voter=second_board_member, decision="approve"),
    )

    two_needed = factories.make_plan(by=superuser, required_approvals=2, name="Two-vote plan")
    slow = factories.make_designation(plan=two_needed, participant=participant, year=2024, shares=100, staff=staff_user)
    services.designation_vote(designation=slow, voter=board_member, decision="approve")
    assert_refused(
        exceptions.VoteRefused,
        "You have already voted on this designation.",
        lambda: services.designation_vote(designation=slow, voter=board_member, decision="reject"),
    )

    vote(board_member)
    assert_refused(exceptions.VoteRefused, "This designation is already approved.", lambda: vote(second_board_member))
    assert DesignationVote.objects.filter(designation=pending).count() == 1


def test_withdraw_only_a_proposal(approved_designation, staff_user, plan, participant):
    assert_refused(
        exceptions.InvalidTransition,
        "This designation is approved; only a proposal can be withdrawn.",
        lambda: services.designation_withdraw(designation=approved_designation, by=staff_user),
    )
    proposal = factories.make_designation(plan=plan, participant=participant, year=2025, shares=10, staff=staff_user)
    services.designation_withdraw(designation=proposal, by=staff_user)
    proposal.refresh_from_db()
    assert proposal.status == BoardDesignation.Status.WITHDRAWN


# --- the plan's term -------------------------------------------------------------------------------------------------


def test_effective_date_may_not_leave_issuances_before_it(approved_designation, staff_user, plan):
    factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2024, 3, 1))
    assert_refused(
        exceptions.OutsidePlanTerm,
        "1 issuance(s) are dated before March 2, 2024: cancel them first or choose an earlier date.",
        lambda: services.plan_set_effective_date(plan=plan, effective_date=datetime.date(2024, 3, 2), by=staff_user),
    )
    assert_refused(
        exceptions.OutsidePlanTerm,
        "Shares have been issued under the plan: its effective date cannot be cleared.",
        lambda: services.plan_set_effective_date(plan=plan, effective_date=None, by=staff_user),
    )


def test_effective_date_may_not_follow_termination(plan, staff_user, board_member):
    factories.terminate(plan, termination_date=datetime.date(2020, 1, 1), staff=staff_user, approver=board_member)
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The effective date may not follow the termination date, January 1, 2020.",
        lambda: services.plan_set_effective_date(plan=plan, effective_date=datetime.date(2021, 1, 1), by=staff_user),
    )


def test_termination_refusals(approved_designation, staff_user, board_member, plan):
    factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2024, 3, 1))
    early = services.termination_propose(
        plan=plan, termination_date=datetime.date(2024, 3, 1), explanation="End.", by=staff_user
    )
    assert_refused(
        exceptions.OutsidePlanTerm,
        "1 issuance(s) are dated on or after March 1, 2024: the plan cannot end before them.",
        lambda: services.plan_proposal_vote(proposal=early, voter=board_member, decision="approve"),
    )
    services.plan_proposal_withdraw(proposal=early, by=staff_user)
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The termination date may not precede the effective date, March 1, 2002.",
        lambda: services.termination_propose(
            plan=plan, termination_date=datetime.date(2001, 1, 1), explanation="End.", by=staff_user
        ),
    )
    factories.terminate(plan, termination_date=datetime.date(2024, 3, 2), staff=staff_user, approver=board_member)
    plan.refresh_from_db()
    assert plan.termination_date == datetime.date(2024, 3, 2)
    assert plan.termination_resolution.endswith("(Votes of the board in plan-admin)")
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The plan was terminated on March 2, 2024: it cannot be terminated again.",
        lambda: services.termination_propose(
            plan=plan, termination_date=datetime.date(2025, 1, 1), explanation="End.", by=staff_user
        ),
    )


def test_one_termination_at_a_time(plan, staff_user):
    services.termination_propose(
        plan=plan, termination_date=datetime.date(2030, 1, 1), explanation="End.", by=staff_user
    )
    assert_refused(
        exceptions.InvalidTransition,
        "A termination of this plan is already before the board.",
        lambda: services.termination_propose(
            plan=plan, termination_date=datetime.date(2031, 1, 1), explanation="End.", by=staff_user
        ),
    )


def test_plan_create_records_initial_reserve_row(superuser):
    plan = factories.make_plan(by=superuser, shares=10_000_000, effective_date=None)
    change = plan.reserve_changes.get()
    assert (change.shares, change.note, change.recorded_by) == (10_000_000, "Initial authorization", superuser)
    assert plan.authorized_shares == 10_000_000
    assert plan.effective_date is None


# --- issuance_record_many: a batch, all or nothing, checked against running totals ------------------------------


def batch_row(designation, shares, *, on=None, price=Decimal("0.15"), **extra):
    return {
        "designation": designation,
        "issue_date": on or datetime.date(designation.year, 6, 30),
        "shares": shares,
        "price_per_share": price,
        **extra,
    }


def refuse_batch(rows, *, by, **kwargs) -> exceptions.BatchRefused:
    """Run issuance_record_many expecting BatchRefused, and prove nothing was written."""
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.BatchRefused) as caught:
        services.issuance_record_many(rows=rows, by=by, **kwargs)
    assert factories.ledger_snapshot() == before
    return caught.value


def test_batch_refusal_names_every_bad_row_and_counts_running_totals(plan, participant, staff_user, board_member):
    first = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=600_000, staff=staff_user, approver=board_member
    )
    factories.issue(first, by=staff_user, shares=100_000)
    rows = [
        batch_row(first, 200_000),  # 300,000 issued
        batch_row(first, 200_000),  # 500,000
        batch_row(first, 100_001),  # row 2: one share over the designation (100,000 remain)
        batch_row(first, 10, price=Decimal("0.0009")),  # row 3: below par
        batch_row(first, 100_000),  # exactly what is left: refused rows do not count in the running total
        batch_row(first, 1),  # row 5: one share over
    ]
    refused = refuse_batch(rows, by=staff_user)

    assert refused.row_errors == [
        (
            2,
            "This issuance of 100,001 shares would exceed Dana Whitfield's 2024 designation of 600,000 shares: "
            "500,000 are issued, 100,000 remain.",
        ),
        (3, "The price of $0.0009 per share is below the par value of $0.001."),
        (
            5,
            "This issuance of 1 shares would exceed Dana Whitfield's 2024 designation of 600,000 shares: "
            "600,000 are issued, 0 remain.",
        ),
    ]
    assert isinstance(refused, exceptions.PlanRuleViolation)
    assert refused.messages[0].startswith("3 of 6 issuances cannot be recorded, so none was: row 3: This issuance")


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
        services.issuance_record(by=staff_user, plan=other_plan, **batch_row(approved_designation, 10))
    refused = refuse_batch([batch_row(approved_designation, 10)], by=staff_user, plan=other_plan)
    assert refused.row_errors == [(0, single.value.messages[0])] == [(0, "That designation belongs to another plan.")]


def test_batch_exceeding_a_designation_across_two_rows_is_refused(approved_designation, staff_user):
    factories.issue(approved_designation, by=staff_user, shares=100_000)
    refused = refuse_batch(
        [batch_row(approved_designation, 500_000), batch_row(approved_designation, 500_000)], by=staff_user
    )
    assert refused.row_errors == [
        (
            1,
            "This issuance of 500,000 shares would exceed Dana Whitfield's 2024 designation of 1,000,000 shares: "
            "600,000 are issued, 400,000 remain.",
        ),
    ]


def test_valid_batch_writes_every_row_history_and_counters(
    plan, participant, approved_designation, staff_user, board_member
):
    from plan_admin.models import Plan

    lee = factories.make_participant("Lee Chen", by=staff_user)
    lee_2024 = factories.make_designation(
        plan=plan, participant=lee, year=2024, shares=20_000, staff=staff_user, approver=board_member
    )
    creditor = factories.make_participant("Halvorsen Engineering LLC", by=staff_user, category="consultant")
    settlement = factories.make_debt_designation(
        plan=plan,
        participant=creditor,
        year=2024,
        shares=30_000,
        staff=staff_user,
        approver=board_member,
        debt_amount="4500.00",
        debt_reference="INV-7",
        price_per_share="0.15",
    )
    factories.issue(approved_designation, by=staff_user, shares=1_000)
    rows = [
        batch_row(approved_designation, 400_000),
        batch_row(lee_2024, 20_000, notes="by primary key") | {"designation": lee_2024.pk},
        batch_row(approved_designation, 599_000, price=Decimal("0.001")),  # fills Dana's designation exactly
        batch_row(settlement, 30_000, kind="debt_settlement", debt_amount=Decimal("4500.00"), debt_reference="INV-7"),
    ]
    issuances = services.issuance_record_many(rows=rows, by=staff_user, plan=plan)

    assert [issuance.shares for issuance in issuances] == [400_000, 20_000, 599_000, 30_000]
    assert all(issuance.pk for issuance in issuances)
    stored = Issuance.objects.filter(pk__in=[issuance.pk for issuance in issuances])
    assert stored.count() == 4
    assert set(stored.values_list("recorded_by", flat=True)) == {staff_user.pk}
    debt = stored.get(kind="debt_settlement")
    assert (debt.debt_amount, debt.debt_reference, debt.designation_id) == (Decimal("4500.00"), "INV-7", settlement.pk)
    assert stored.get(shares=20_000).notes == "by primary key"
    history = Issuance.history.filter(id__in=[issuance.pk for issuance in issuances])
    assert history.count() == 4
    assert {(row.history_type, row.history_user_id) for row in history} == {("+", staff_user.pk)}

    plan_row = Plan.objects.get(pk=plan.pk)
    approved_designation.refresh_from_db()
    lee_2024.refresh_from_db()
    settlement.refresh_from_db()
    ledger = {
        d: sum(Issuance.objects.filter(designation=d).values_list("shares", flat=True))
        for d in (approved_designation, lee_2024, settlement)
    }
    assert approved_designation.issued_shares == ledger[approved_designation] == 1_000_000
    assert lee_2024.issued_shares == ledger[lee_2024] == 20_000
    assert settlement.issued_shares == ledger[settlement] == 30_000
    assert plan_row.issued_shares == sum(Issuance.objects.values_list("shares", flat=True)) == 1_050_000
    assert plan.issued_shares == 1_050_000, "the caller's plan object is kept in step"


def test_batch_over_two_plans_locks_and_counts_both(
    approved_designation, staff_user, superuser, board_member, participant
):
    from plan_admin.models import Plan

    other_plan = factories.make_plan(by=superuser, name="2010 Equity Plan")
    other = factories.make_designation(
        plan=other_plan, participant=participant, year=2024, shares=5_000, staff=staff_user, approver=board_member
    )
    services.issuance_record_many(rows=[batch_row(other, 5_000), batch_row(approved_designation, 7)], by=staff_user)
    assert dict(Plan.objects.values_list("pk", "issued_shares")) == {
        approved_designation.plan_id: 7,
        other_plan.pk: 5_000,
    }


def test_empty_batch_writes_nothing(staff_user, plan):
    before = factories.ledger_snapshot()
    assert services.issuance_record_many(rows=[], by=staff_user) == []
    assert factories.ledger_snapshot() == before


def test_batch_query_count_does_not_grow_with_rows(
    plan, participant, approved_designation, staff_user, board_member, monkeypatch
):
    import math

    from django.db import connection, models
    from django.test.utils import CaptureQueriesContext

    from plan_admin.services import issuances as issuance_services

    lee = factories.make_participant("Lee Chen", by=staff_user)
    lee_2024 = factories.make_designation(
        plan=plan, participant=lee, year=2024, shares=50_000, staff=staff_user, approver=board_member
    )

    def insert_batches(count: int) -> int:
        """INSERT statements bulk_create sends for `count` rows of issuances and of their history (the database's
        own parameter limit may cut the batches smaller than BULK_BATCH_SIZE: SQLite's does)."""
        total = 0
        for model in (Issuance, Issuance.history.model):
            fields = [field for field in model._meta.concrete_fields if not isinstance(field, models.AutoField)]
            size = min(
                issuance_services.BULK_BATCH_SIZE, max(connection.ops.bulk_batch_size(fields, [None] * count), 1)
            )
            total += math.ceil(count / size)
        return total

    def record(count: int) -> tuple[int, int]:
        rows = [batch_row(approved_designation if i % 2 else lee_2024, 1) for i in range(count)]
        with CaptureQueriesContext(connection) as queries:
            services.issuance_record_many(rows=rows, by=staff_user)
        # The issuance totals' upserts (one per plan, year and category, not per row) are INSERTs too; on
        # PostgreSQL they go straight to psycopg (services/ledger_sql.py) and are not captured.
        sql = [query["sql"] for query in queries if "issuancetotal" not in query["sql"]]
        inserts = sum(1 for statement in sql if statement.lstrip().upper().startswith("INSERT"))
        return len(sql) - inserts, inserts

    ten, two_hundred = record(10), record(200)
    # Lock, designations, confirmations, two designation counters, plan counters (+ the savepoint): the same for
    # 10 or 200 rows.
    assert ten[0] == two_hundred[0] <= 8
    assert ten[1] == insert_batches(10) == 2
    assert two_hundred[1] == insert_batches(200)
    monkeypatch.setattr(issuance_services, "BULK_BATCH_SIZE", 50)
    assert record(200) == (ten[0], insert_batches(200)), "only the insert batches add queries"
    assert insert_batches(200) >= 8
    plan.refresh_from_db()
    assert plan.issued_shares == 410 == Issuance.objects.count()


# --- found by `make mutate` (docs/mutation-testing.md): each test kills mutants that survived ----------------------


def test_termination_may_fall_on_the_effective_date_and_only_this_plans_proposals_and_issuances_count(
    plan, participant, staff_user, board_member, superuser
):
    """The boundary (on the effective date is accepted), and the scope of the checks: a reserve proposal of this plan,
    or another plan's termination proposal or later issuance, does not block a termination."""
    other = factories.make_plan(by=superuser, name="Other plan")
    services.termination_propose(
        plan=other, termination_date=datetime.date(2030, 1, 1), explanation="End.", by=staff_user
    )
    elsewhere = factories.make_designation(
        plan=other, participant=participant, year=2024, shares=100, staff=staff_user, approver=board_member
    )
    factories.issue(elsewhere, by=staff_user, shares=10, on=datetime.date(2024, 6, 30))
    services.reserve_change_propose(plan=plan, shares=1_000, explanation="Growth.", by=staff_user)
    proposal = services.termination_propose(
        plan=plan, termination_date=plan.effective_date, explanation="End.", by=staff_user
    )
    services.plan_proposal_vote(proposal=proposal, voter=board_member, decision="approve")
    plan.refresh_from_db()
    assert plan.termination_date == datetime.date(2002, 3, 1)
    proposal.refresh_from_db()
    assert plan.termination_resolution.startswith(proposal.decided_on.strftime("%B %-d, %Y"))


def test_closing_a_year_lapses_only_that_years_approved_designations_of_that_plan(
    plan, participant, staff_user, board_member, superuser
):
    other = factories.make_plan(by=superuser, name="Other plan")
    lee = factories.make_participant("Lee Chen", by=staff_user)
    closing = factories.make_designation(
        plan=plan, participant=participant, year=2023, shares=500, staff=staff_user, approver=board_member
    )
    next_year = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=700, staff=staff_user, approver=board_member
    )
    factories.make_designation(plan=plan, participant=lee, year=2024, shares=5, staff=staff_user)  # pending, 2024
    rejected = factories.make_designation(plan=plan, participant=lee, year=2023, shares=5, staff=staff_user)
    with factories.on_day(datetime.date(2023, 1, 3)):
        services.designation_vote(designation=rejected, voter=board_member, decision="reject")
    elsewhere = factories.make_designation(
        plan=other, participant=participant, year=2023, shares=300, staff=staff_user, approver=board_member
    )
    factories.make_designation(plan=other, participant=lee, year=2023, shares=5, staff=staff_user)  # pending, other
    assert_refused(
        exceptions.InvalidInput,
        "Enter the year to close.",
        lambda: services.plan_year_close(plan=plan, year="2023", reason="Year over.", by=staff_user),
    )
    year_closing = services.plan_year_close(plan=plan, year=2023, reason="Year over.", by=staff_user)
    assert plan.committed_shares == 700, "the caller's plan is kept in step"
    for designation, status in [
        (closing, "lapsed"),
        (next_year, "approved"),
        (elsewhere, "approved"),
        (rejected, "rejected"),
    ]:
        designation.refresh_from_db()
        assert designation.status == status, designation
    assert closing.lapse.year_closing == year_closing and year_closing.recorded_by == staff_user
    assert closing.lapse.recorded_by == staff_user
    other.refresh_from_db()
    assert other.committed_shares == 300
    assert_refused(
        exceptions.InvalidTransition,
        f"The plan's year 2023 was already closed on {year_closing.closed_on:%B %-d, %Y}.",
        lambda: services.plan_year_close(plan=plan, year=2023, reason="Again.", by=staff_user),
    )
    assert_refused(
        exceptions.InvalidTransition,
        "1 proposal(s) for 2023 still await the board: withdraw them, or let the board decide, before "
        "closing the year.",
        lambda: services.plan_year_close(plan=other, year=2023, reason="Year over.", by=staff_user),
    )


def test_the_pool_effect_of_a_resolution_counts_its_designations_and_reserve_changes(
    approved_designation, participant, staff_user, plan
):
    from plan_admin.services.resolutions import PoolEffect, pool_effect

    factories.issue(approved_designation, by=staff_user, shares=1_000)
    plan.refresh_from_db()
    proposals = [
        services.designation_propose(
            plan=plan, participant=participant, year=2025, shares=300, factors_considered="x", by=staff_user
        ),
        services.designation_propose(
            plan=plan,
            participant=factories.make_participant("Lee Chen", by=staff_user),
            year=2025,
            shares=200,
            factors_considered="x",
            by=staff_user,
        ),
        services.reserve_change_propose(plan=plan, shares=-2_000, explanation="x", by=staff_user),
        services.reserve_change_propose(plan=plan, shares=500, explanation="x", by=staff_user),
        services.termination_propose(
            plan=plan, termination_date=datetime.date(2030, 1, 1), explanation="x", by=staff_user
        ),
    ]
    effect = pool_effect(plan, proposals)
    assert (effect.authorized, effect.issued, effect.committed, effect.designated, effect.reserve_change) == (
        10_000_000,
        1_000,
        999_000,
        500,
        -1_500,
    )
    assert (effect.available, effect.authorized_after, effect.committed_after, effect.available_after) == (
        9_000_000,
        9_998_500,
        999_500,
        8_998_000,
    )
    assert not effect.over_commits
    assert not PoolEffect(authorized=10, issued=3, committed=2, designated=5).over_commits, "exactly fills"
    assert PoolEffect(authorized=10, issued=3, committed=2, designated=6).over_commits, "one share over"


def test_debt_settled_counts_this_designations_earlier_settlements_only(plan, staff_user, board_member):
    creditor = factories.make_participant("Halvorsen Engineering LLC", by=staff_user, category="consultant")
    other_creditor = factories.make_participant("Brandt Supply Co.", by=staff_user, category="consultant")
    settlement = factories.make_debt_designation(
        plan=plan,
        participant=creditor,
        year=2024,
        shares=10_000,
        staff=staff_user,
        approver=board_member,
        debt_amount="1000",
        debt_reference="Invoice HE-1",
        price_per_share="0.10",
    )
    other = factories.make_debt_designation(
        plan=plan,
        participant=other_creditor,
        year=2024,
        shares=10_000,
        staff=staff_user,
        approver=board_member,
        debt_amount="1000",
        debt_reference="Invoice BS-1",
        price_per_share="0.10",
    )
    factories.issue(
        other,
        by=staff_user,
        shares=9_000,
        price=Decimal("0.10"),
        kind="debt_settlement",
        debt_amount=Decimal("900"),
        debt_reference="Invoice BS-1",
    )
    factories.issue(
        settlement,
        by=staff_user,
        shares=6_000,
        price=Decimal("0.10"),
        kind="debt_settlement",
        debt_amount=Decimal("600"),
        debt_reference="Invoice HE-1",
    )
    for path in ("single", "batch"):
        before = factories.ledger_snapshot()
        with pytest.raises((exceptions.DebtSettlementRefused, exceptions.BatchRefused)) as refused:
            if path == "single":
                factories.issue(
                    settlement,
                    by=staff_user,
                    shares=4_000,
                    price=Decimal("0.10"),
                    kind="debt_settlement",
                    debt_amount=Decimal("400.01"),
                    debt_reference="Invoice HE-1",
                )
            else:
                services.issuance_record_many(
                    rows=[
                        {
                            "designation": settlement,
                            "issue_date": datetime.date(2024, 6, 30),
                            "shares": 4_000,
                            "price_per_share": Decimal("0.10"),
                            "kind": "debt_settlement",
                            "debt_amount": Decimal("400.01"),
                            "debt_reference": "Invoice HE-1",
                        }
                    ],
                    by=staff_user,
                )
        assert "of which $600.00 is already settled, so $400.00 remain" in " ".join(refused.value.messages), path
        assert factories.ledger_snapshot() == before
    two_rows = [
        {
            "designation": settlement,
            "issue_date": datetime.date(2024, 6, 30),
            "shares": shares,
            "price_per_share": Decimal("0.10"),
            "kind": "debt_settlement",
            "debt_amount": Decimal(amount),
            "debt_reference": "Invoice HE-1",
        }
        for shares, amount in ((3_000, "300"), (1_000, "100.01"))
    ]
    refused = refuse_batch(two_rows, by=staff_user)  # the batch's own earlier row counts in the running debt
    assert [index for index, _ in refused.row_errors] == [1]
    assert "of which $900.00 is already settled, so $100.00 remain" in refused.row_errors[0][1]
    factories.issue(
        settlement,
        by=staff_user,
        shares=4_000,
        price=Decimal("0.10"),
        kind="debt_settlement",
        debt_amount=Decimal("400"),
        debt_reference="Invoice HE-1",
    )  # exactly what remains


def test_a_batch_row_and_a_cancellation_entered_from_records_are_written_as_such(
    plan, participant, staff_user, superuser
):
    services.plan_set_ledger_start(plan=plan, ledger_start_date=datetime.date(2024, 1, 1), by=superuser)
    past = services.past_designation_record(
        plan=plan,
        participant=participant,
        year=2023,
        shares=1_000,
        factors_considered="Retention.",
        decision="approve",
        decided_on=datetime.date(2023, 1, 5),
        decision_reference="Minutes of January 5, 2023",
        by=staff_user,
    )
    [issuance] = services.issuance_record_many(
        rows=[
            {
                "designation": past.pk,
                "issue_date": datetime.date(2023, 6, 30),
                "shares": 100,
                "price_per_share": Decimal("0.15"),
                "from_records": True,
                "source_reference": "Stock ledger, page 4",
                "reference": "G-17",
            }
        ],
        by=staff_user,
    )
    issuance.refresh_from_db()
    assert (issuance.entered_from_records, issuance.source_reference, issuance.reference) == (
        True,
        "Stock ledger, page 4",
        "G-17",
    )
    cancellation = services.issuance_cancel(
        issuance=issuance,
        cancelled_on=datetime.date(2023, 7, 1),
        reason="Forfeited.",
        from_records=True,
        source_reference="Stock ledger, page 5",
        by=staff_user,
    )
    cancellation.refresh_from_db()
    assert (cancellation.entered_from_records, cancellation.source_reference, cancellation.recorded_by) == (
        True,
        "Stock ledger, page 5",
        staff_user,
    )


def test_cancelling_an_issuance_of_a_lapsed_designation_frees_its_shares_without_recommitting_them(
    approved_designation, staff_user, plan
):
    issuance = factories.issue(approved_designation, by=staff_user, shares=1_000)
    services.designation_lapse(
        designation=approved_designation, reason="Year over.", lapsed_on=datetime.date(2025, 1, 15), by=staff_user
    )
    assert approved_designation.status == "lapsed", "the caller's instance is kept in step"
    plan.refresh_from_db()
    assert (plan.issued_shares, plan.committed_shares) == (1_000, 0)
    services.issuance_cancel(
        issuance=issuance, cancelled_on=datetime.date(2025, 2, 1), reason="Forfeited.", by=staff_user
    )
    plan.refresh_from_db()
    approved_designation.refresh_from_db()
    assert (plan.issued_shares, plan.committed_shares, approved_designation.issued_shares) == (0, 0, 0)


def test_a_batch_checks_references_confirmations_and_every_row_given_by_pk(
    plan, participant, staff_user, board_member, superuser
):
    """References unique within the plan and the batch, written with the row's notes; a designation given by its
    pk (its plan read before the lock); a designation entered from records takes new shares only once confirmed;
    every bad row is named, cleaning errors included."""
    approved = factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=1_000, staff=staff_user, approver=board_member
    )
    factories.issue(approved, by=staff_user, shares=1, reference="G-1")
    services.plan_set_ledger_start(plan=plan, ledger_start_date=datetime.date(2024, 1, 1), by=superuser)
    lee = factories.make_participant("Lee Chen", by=staff_user)
    past = services.past_designation_record(
        plan=plan,
        participant=lee,
        year=2024,
        shares=1_000,
        factors_considered="Retention.",
        decision="approve",
        decided_on=datetime.date(2023, 12, 15),
        decision_reference="Minutes of December 15, 2023",
        by=staff_user,
    )
    on = datetime.date(2024, 6, 30)
    refused = refuse_batch(
        [
            batch_row(approved.pk, 1, on=on, reference="G-1"),  # 0: taken by an issuance already recorded
            batch_row(approved.pk, 1, on=on, reference="G-2"),
            batch_row(approved.pk, 1, on=on, reference="G-2"),  # 2: taken by row 2 of this batch
            batch_row(approved.pk, 0, on=on),  # 3: cleaning error
            batch_row(approved.pk, "x", on=on),  # 4: cleaning error
            batch_row(past.pk, 1, on=on),  # 5: awaits the board's confirmation
        ],
        by=staff_user,
    )
    assert [index for index, _ in refused.row_errors] == [0, 2, 3, 4, 5]
    messages = dict(refused.row_errors)
    assert messages[0].startswith("The reference 'G-1' is already the reference of issuance #")
    assert messages[2] == "The reference 'G-2' is also the reference of row 2 of this batch."
    assert "awaits a board member's confirmation" in messages[5]
    services.past_record_confirm(record=past, by=board_member)
    issuances = services.issuance_record_many(
        rows=[
            batch_row(approved.pk, 5, on=on, reference="G-2", notes="Grant letter 2", debt_reference=""),
            batch_row(past.pk, 7, on=on),
        ],
        by=staff_user,
    )
    assert [(i.shares, i.reference, i.notes, i.entered_from_records) for i in issuances] == [
        (5, "G-2", "Grant letter 2", False),
        (7, "", "", False),
    ]
    plan.refresh_from_db()
    assert plan.issued_shares == 13


def test_the_reserve_may_fall_to_exactly_zero_and_a_change_records_its_explanation(superuser, staff_user, board_member):
    plan = factories.make_plan(by=superuser, shares=1_000, name="Small plan")
    change = factories.change_reserve(
        plan, shares=-1_000, staff=staff_user, approver=board_member, explanation="Wound down."
    )
    plan.refresh_from_db()
    assert plan.authorized_shares == 0
    assert (change.entered_from_records, change.note, change.recorded_by) == (False, "Wound down.", board_member)
