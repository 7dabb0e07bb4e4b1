"""Tests written for the survivors of `make mutate` (docs/mutation-testing.md) in the mutants its first run left
not checked: each one kills mutants that could change a grant, a limit, a counter, a refusal or what is written.

Kept in a file of their own (listed in [tool.mutmut] pytest_add_cli_args_test_selection in pyproject.toml). Every
refusal is asserted with its message and with nothing written (tests.factories.ledger_snapshot).
"""

import datetime
from decimal import Decimal

import pytest

from plan_admin import exceptions, services
from plan_admin import formatting as fmt
from plan_admin.models import BoardDesignation, PlanYearClosing
from plan_admin.services import _common, issuances
from tests import factories
from tests.factories import assert_refused

pytestmark = pytest.mark.django_db


# --- issuance_record: the caller's instances are kept in step with what was written -----------------------------


def test_recording_an_issuance_keeps_the_callers_designation_and_plan_in_step(approved_designation, plan, staff_user):
    plan.refresh_from_db()
    issued, committed = plan.issued_shares, plan.committed_shares

    factories.issue(approved_designation, by=staff_user, shares=1_000, plan=plan)

    assert approved_designation.issued_shares == 1_000
    assert (plan.issued_shares, plan.committed_shares) == (issued + 1_000, committed - 1_000)
    plan.refresh_from_db()
    assert (plan.issued_shares, plan.committed_shares) == (issued + 1_000, committed - 1_000)

    # A designation given as an instance not read from the database: the row is read, and the caller's instance
    # is told the counter and status as written.
    stand_in = BoardDesignation(pk=approved_designation.pk)
    factories.issue(stand_in, by=staff_user, shares=500, on=datetime.date(2024, 7, 1))
    assert (stand_in.issued_shares, stand_in.status) == (1_500, BoardDesignation.Status.APPROVED)
    approved_designation.refresh_from_db()
    assert approved_designation.issued_shares == 1_500


# --- _check_debt_settlement: every refusal, with its message, and every boundary ---------------------------------


def test_debt_settlement_refusals_and_boundaries(approved_designation, plan, staff_user, board_member):
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

    def settle(shares, amount, *, designation=settlement, price=Decimal("0.15"), kind="debt_settlement"):
        extra = {"debt_amount": Decimal(amount), "debt_reference": "Invoice HE-118"} if amount is not None else {}
        return factories.issue(designation, by=staff_user, shares=shares, price=price, kind=kind, **extra)

    assert_refused(
        exceptions.DebtSettlementRefused,
        "The 2024 designation of Halvorsen Engineering LLC is for the settlement of $45,000.00 of debt (Invoices "
        "HE-118 to HE-124): record this issuance as a debt settlement.",
        lambda: settle(10, None, kind="compensation"),
    )
    assert_refused(
        exceptions.DebtSettlementRefused,
        "This issuance settles debt, but the 2024 designation of Dana Whitfield is for compensation: a debt "
        "settlement must be made against a designation for that debt, whose approval records the board's finding "
        "that cancelling it is adequate consideration for the shares.",
        lambda: settle(10, "1.50", designation=approved_designation),
    )
    settle(100_000, "15000")
    assert_refused(
        exceptions.DebtSettlementRefused,
        "This issuance would settle $30,000.01 of debt, more than the board approved: the 2024 designation of "
        "Halvorsen Engineering LLC names $45,000.00 of debt (Invoices HE-118 to HE-124), of which $15,000.00 is "
        "already settled, so $30,000.00 remain.",
        lambda: settle(10, "30000.01"),
    )
    assert_refused(
        exceptions.DebtSettlementRefused,
        "The price of $0.14 per share is below the $0.15 per share at which the board found the debt adequate "
        "consideration (the 2024 designation of Halvorsen Engineering LLC).",
        lambda: settle(10, "1.40", price=Decimal("0.14")),
    )
    assert_refused(
        exceptions.DebtSettlementRefused,
        "100,000 shares at $0.15 per share come to $15,000.00, more than the $14,999.99 of debt this issuance settles.",
        lambda: settle(100_000, "14999.99"),
    )
    # Exactly at each limit: the remaining debt, the board's price, shares worth exactly the debt settled.
    settle(100_000, "15000")
    last = settle(100_000, "15000")
    assert (last.shares, last.debt_amount, last.price_per_share) == (100_000, Decimal("15000"), Decimal("0.15"))
    settlement.refresh_from_db()
    assert settlement.issued_shares == 300_000
    assert_refused(
        exceptions.DebtSettlementRefused,
        "This issuance would settle $0.01 of debt, more than the board approved: the 2024 designation of Halvorsen "
        "Engineering LLC names $45,000.00 of debt (Invoices HE-118 to HE-124), of which $45,000.00 is already "
        "settled, so $0.00 remain.",
        lambda: settle(1, "0.01", price=Decimal("0.15")),
    )


# --- check_issuance: the plan's limit, exact, even when the designation has room --------------------------------


def test_check_issuance_refuses_one_share_past_the_plans_authorized_shares(approved_designation, plan):
    """The pool keeps a designation's room within the plan's (issued + committed <= authorized), so no service call
    reaches the plan's own limit with room left in the designation; check_issuance, the one place the rule is
    written, is called here with a plan whose issued shares (`plan_issued`, e.g. earlier rows of a batch) leave
    500 shares, against a designation with 1,000,000 left."""
    plan.refresh_from_db()
    approved_designation.refresh_from_db()

    def check(shares):
        values = issuances.clean_issuance_values(
            issue_date=datetime.date(2024, 6, 30),
            shares=shares,
            price=Decimal("0.15"),
            kind="compensation",
            debt_amount=None,
            debt_reference="",
            notes="",
        )
        issuances.check_issuance(
            plan=plan,
            designation=approved_designation,
            values=values,
            designation_issued=0,
            plan_issued=plan.authorized_shares - 500,
            confirmed=True,
        )

    authorized = fmt.shares(plan.authorized_shares)
    issued = fmt.shares(plan.authorized_shares - 500)
    assert_refused(
        exceptions.ShareLimitExceeded,
        f"This issuance of 501 shares would exceed the {authorized} authorized shares: {issued} are issued, 500 "
        "remain.",
        lambda: check(501),
    )
    check(500)  # exactly the plan's room: allowed


# --- clean_issuance_values: the length limits of the references written on the row -------------------------------


def test_an_issuances_debt_reference_and_reference_have_their_length_limits(
    plan, participant, staff_user, board_member
):
    settlement = factories.make_debt_designation(
        plan=plan,
        participant=participant,
        year=2024,
        shares=1_000,
        staff=staff_user,
        approver=board_member,
        debt_amount="1000",
        debt_reference="Note 7",
        price_per_share="0.15",
    )

    def settle(**extra):
        return factories.issue(
            settlement, by=staff_user, shares=10, kind="debt_settlement", debt_amount=Decimal("1.50"), **extra
        )

    assert_refused(
        exceptions.InvalidInput,
        "The debt reference may be at most 200 characters.",
        lambda: settle(debt_reference="D" * 201),
    )
    assert_refused(
        exceptions.InvalidInput,
        "The reference may be at most 100 characters.",
        lambda: settle(debt_reference="Note 7", reference="R" * 101),
    )
    issuance = settle(debt_reference="D" * 200, reference="R" * 100)
    issuance.refresh_from_db()
    assert (issuance.debt_reference, issuance.reference) == ("D" * 200, "R" * 100)


# --- refuse_approval: no designation of a closed year is approved ------------------------------------------------


def test_a_proposal_of_a_year_closed_meanwhile_is_not_approved(plan, participant, staff_user, board_member):
    """Closing a year with a proposal pending is refused (plan_year_close), so this state is made directly: the
    approval's own check of the closed year (refuse_approval), on every approving vote, is the last guard."""
    pending = factories.make_designation(plan=plan, participant=participant, year=2024, shares=100, staff=staff_user)
    PlanYearClosing.objects.create(
        plan=plan, year=2024, closed_on=datetime.date(2024, 12, 31), reason="Closed by the board."
    )
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The plan's year 2024 was closed on December 31, 2024: no designation for it can be approved.",
        lambda: services.designation_vote(designation=pending, voter=board_member, decision="approve"),
    )
    pending.refresh_from_db()
    assert pending.status == BoardDesignation.Status.PROPOSED


def test_a_blank_debt_amount_from_a_form_is_no_debt_amount(approved_designation, staff_user):
    assert_refused(
        exceptions.InvalidInput,
        "A debt settlement needs the amount of debt settled.",
        lambda: factories.issue(
            approved_designation,
            by=staff_user,
            shares=10,
            kind="debt_settlement",
            debt_amount="",
            debt_reference="INV-1",
        ),
    )
    issuance = factories.issue(approved_designation, by=staff_user, shares=10, kind="compensation", debt_amount="")
    issuance.refresh_from_db()
    assert (issuance.kind, issuance.debt_amount, issuance.shares) == ("compensation", None, 10)


# --- whole_shares: the share count of every grant, limit and reserve change --------------------------------------

WHOLE = "Enter a whole number of shares."


@pytest.mark.parametrize(
    ("value", "allow_negative", "expected"),
    [
        (12, False, 12),
        ("12", False, 12),
        (" 12 ", False, 12),
        ("+12", False, 12),
        (Decimal("12.000"), False, 12),
        ("-12", True, -12),
        (-12, True, -12),
        (2**63 - 1, False, 2**63 - 1),
        (-(2**63 - 1), True, -(2**63 - 1)),
        # refused: (exception message)
        (0, False, "Shares must be at least 1."),
        ("-12", False, "Shares must be at least 1."),
        (-1, False, "Shares must be at least 1."),
        (0, True, "The change must add or remove at least one share."),
        ("0", True, "The change must add or remove at least one share."),
        (2**63, False, "9,223,372,036,854,775,808 shares is more than the ledger can record."),
        (-(2**63), True, "-9,223,372,036,854,775,808 shares is more than the ledger can record."),
        (Decimal("1.5"), False, "Shares are whole: enter a number without a fraction."),
        (Decimal("NaN"), False, "Shares are whole: enter a number without a fraction."),
        (Decimal("Infinity"), False, "Shares are whole: enter a number without a fraction."),
        ("1e3", False, WHOLE),
        ("1.0", False, WHOLE),
        ("1,000", False, WHOLE),
        ("\u0661\u0662", False, WHOLE),  # Arabic-Indic digits: str.isdigit() says yes, Decimal would read 12
        ("\uff11\uff12", False, WHOLE),  # full-width digits
        ("12a", False, WHOLE),
        ("", False, WHOLE),
        ("+", False, WHOLE),
        ("+-12", True, WHOLE),
        (True, False, WHOLE),
        (12.0, False, WHOLE),
        (None, False, WHOLE),
    ],
)
def test_whole_shares_reads_only_whole_numbers_of_shares(value, allow_negative, expected):
    if isinstance(expected, int):
        assert _common.whole_shares(value, allow_negative=allow_negative) == expected
        return
    with pytest.raises(exceptions.InvalidInput) as caught:
        _common.whole_shares(value, allow_negative=allow_negative)
    assert caught.value.messages == [expected]
    assert caught.value.field == "shares"


def test_whole_shares_names_the_field_it_was_given_and_a_service_writes_nothing_it_refuses(
    approved_designation, staff_user
):
    with pytest.raises(exceptions.InvalidInput) as caught:
        _common.whole_shares("1e3", field="change")
    assert caught.value.field == "change"
    for shares in ("1e3", "1.0", "\u0661\u0662"):
        refused = assert_refused(
            exceptions.InvalidInput,
            WHOLE,
            lambda shares=shares: factories.issue(approved_designation, by=staff_user, shares=shares),
        )
        assert refused.field == "shares"
    issuance = factories.issue(approved_designation, by=staff_user, shares=" 12 ")
    issuance.refresh_from_db()
    assert issuance.shares == 12


# --- designation_decide: a debt settlement priced exactly at par is approved -------------------------------------


def test_a_debt_settlement_priced_exactly_at_par_is_approved_and_committed(plan, participant, staff_user, board_member):
    plan.refresh_from_db()
    committed = plan.committed_shares
    assert plan.par_value == Decimal("0.001")
    settlement = factories.make_debt_designation(
        plan=plan,
        participant=participant,
        year=2024,
        shares=1_000,
        staff=staff_user,
        approver=board_member,
        debt_amount="1",
        debt_reference="Note 7",
        price_per_share="0.001",
    )
    settlement.refresh_from_db()
    assert settlement.status == BoardDesignation.Status.APPROVED
    assert settlement.decided_on == datetime.date(2024, 1, 2)
    assert settlement.consideration_finding == (
        "The board finds that the cancellation of $1.00 of debt owed by the company to Dana Whitfield (Note 7) is "
        f"adequate consideration for the issuance of up to 1,000 shares of {plan.stock_class} at $0.001 per share, "
        "which is not less than the par value of $0.001 per share, as of January 2, 2024 (Votes of the board in "
        "plan-admin)."
    )
    plan.refresh_from_db()
    assert plan.committed_shares == committed + 1_000


# --- designation_vote: a designation out for signature in a resolution takes no vote ----------------------------


def test_no_vote_on_a_designation_out_for_signature_and_only_on_it(plan, participant, staff_user, board_member):
    pending = factories.make_designation(plan=plan, participant=participant, year=2024, shares=100, staff=staff_user)
    other = factories.make_designation(
        plan=plan,
        year=2024,
        shares=200,
        staff=staff_user,
        participant=factories.make_participant("Lee Okafor", by=staff_user),
    )
    resolution = services.resolution_prepare(plan=plan, kind="written_consent", designations=[pending], by=staff_user)
    assert_refused(
        exceptions.VoteRefused,
        f"This designation is out for signature in {resolution.reference} (written consent in lieu of a meeting): "
        "the board decides it by signing that resolution.",
        lambda: services.designation_vote(designation=pending, voter=board_member, decision="approve"),
    )
    # Another designation of the plan, in no resolution, takes its vote.
    services.designation_vote(designation=other, voter=board_member, decision="approve")
    assert other.status == BoardDesignation.Status.APPROVED  # the caller's instance, kept in step
    other.refresh_from_db()
    assert other.status == BoardDesignation.Status.APPROVED


# --- check_within_term: the plan's effective date is the first day shares may be issued --------------------------


def test_an_issuance_may_fall_on_the_plans_effective_date_and_not_the_day_before(
    plan, participant, staff_user, board_member
):
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2002, shares=1_000, staff=staff_user, approver=board_member
    )
    assert_refused(
        exceptions.OutsidePlanTerm,
        "February 28, 2002 is before the plan's effective date, March 1, 2002.",
        lambda: factories.issue(designation, by=staff_user, shares=10, on=datetime.date(2002, 2, 28)),
    )
    issuance = factories.issue(designation, by=staff_user, shares=10, on=datetime.date(2002, 3, 1))
    issuance.refresh_from_db()
    assert (issuance.issue_date, issuance.shares) == (datetime.date(2002, 3, 1), 10)


def test_an_issuance_may_name_its_designation_by_id(approved_designation, staff_user):
    """issuance_record reads a designation given by its id (as _fixed_terms allows) and records against it."""
    issuance = services.issuance_record(
        designation=approved_designation.pk,
        issue_date=datetime.date(2024, 6, 30),
        shares=700,
        price_per_share=Decimal("0.15"),
        by=staff_user,
    )
    approved_designation.refresh_from_db()
    assert (issuance.designation_id, approved_designation.issued_shares) == (approved_designation.pk, 700)


# --- check_record_date: the ledger start date itself belongs to the ledger, not to the past records --------------


def test_a_row_dated_on_the_ledger_start_date_is_a_current_entry_not_a_past_record(
    approved_designation, plan, participant, staff_user, superuser
):
    """The approved designation was decided by votes on January 2, 2024; the ledger starts that day."""
    services.plan_set_ledger_start(plan=plan, ledger_start_date=datetime.date(2024, 1, 2), by=superuser)
    lee = factories.make_participant("Lee Chen", by=staff_user)

    def past(decided_on):
        return services.past_designation_record(
            plan=plan,
            participant=lee,
            year=2023,
            shares=1_000,
            factors_considered="Retention.",
            decision="approve",
            decided_on=decided_on,
            decision_reference="Minutes",
            by=staff_user,
        )

    assert_refused(
        exceptions.InvalidInput,
        "A decision entered from records must be dated before the plan's ledger start date, January 2, 2024; "
        "January 2, 2024 is not. Record it as a current entry instead.",
        lambda: past(datetime.date(2024, 1, 2)),
    )
    assert past(datetime.date(2024, 1, 1)).decided_on == datetime.date(2024, 1, 1)  # the day before: a past record
    # A current entry dated on the start date is accepted, the day before refused.
    assert_refused(
        exceptions.InvalidInput,
        "January 1, 2024 is before the plan's ledger start date, January 2, 2024: enter it as a past record, with "
        "the document it comes from.",
        lambda: _common.check_record_date(
            plan, datetime.date(2024, 1, 1), from_records=False, field="issue_date", what="An issuance"
        ),
    )
    issuance = factories.issue(approved_designation, by=staff_user, shares=10, on=datetime.date(2024, 1, 2))
    issuance.refresh_from_db()
    assert (issuance.issue_date, issuance.entered_from_records) == (datetime.date(2024, 1, 2), False)


# --- decisions.tally: every vote counted, earlier rejections included --------------------------------------------


def test_tally_counts_every_earlier_vote_of_each_kind():
    two = factories.make_plan(by=None, required_approvals=2, name="Two-vote plan")
    assert services.decisions.tally(plan=two, decisions_so_far=[], decision="approve") == services.decisions.Outcome(
        decided=None, approvals=1, rejections=0
    )
    assert services.decisions.tally(
        plan=two, decisions_so_far=["reject"], decision="approve"
    ) == services.decisions.Outcome(decided=None, approvals=1, rejections=1)
    assert services.decisions.tally(
        plan=two, decisions_so_far=["approve", "reject"], decision="reject"
    ) == services.decisions.Outcome(decided="reject", approvals=1, rejections=2)
    assert services.decisions.tally(
        plan=two, decisions_so_far=["reject", "approve"], decision="approve"
    ) == services.decisions.Outcome(decided="approve", approvals=2, rejections=1)


def test_an_earlier_rejection_counts_towards_a_rejection_needing_two_votes(
    superuser, participant, staff_user, board_member, second_board_member
):
    two = factories.make_plan(by=superuser, required_approvals=2, name="Two-vote plan")
    third = factories.make_user("board3", role=factories.roles.BOARD)
    designation = factories.make_designation(plan=two, participant=participant, year=2024, shares=100, staff=staff_user)
    with factories.on_day(datetime.date(2024, 2, 1)):
        services.designation_vote(designation=designation, voter=board_member, decision="reject")
        services.designation_vote(designation=designation, voter=second_board_member, decision="approve")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.PROPOSED
    with factories.on_day(datetime.date(2024, 2, 3)):
        services.designation_vote(designation=designation, voter=third, decision="reject")
    # The caller's instance is told the decision and its date, as the row has them.
    assert (designation.status, designation.decided_on) == (BoardDesignation.Status.REJECTED, datetime.date(2024, 2, 3))
    designation.refresh_from_db()
    assert (designation.status, designation.decided_on) == (BoardDesignation.Status.REJECTED, datetime.date(2024, 2, 3))
    two.refresh_from_db()
    assert two.committed_shares == 0


def test_a_plan_proposal_needing_two_approvals_counts_the_earlier_vote(
    superuser, staff_user, board_member, second_board_member
):
    two = factories.make_plan(by=superuser, required_approvals=2, name="Two-vote plan")
    proposal = services.reserve_change_propose(plan=two, shares=500, explanation="More room.", by=staff_user)
    services.plan_proposal_vote(proposal=proposal, voter=board_member, decision="approve")
    assert proposal.status == "proposed"
    services.plan_proposal_vote(proposal=proposal, voter=second_board_member, decision="approve")
    assert proposal.status == "approved"  # the caller's instance, kept in step
    proposal.refresh_from_db()
    two.refresh_from_db()
    assert (proposal.status, two.authorized_shares) == ("approved", 10_000_500)


def test_a_reserve_decrease_that_no_longer_fits_may_still_be_rejected(superuser, participant, staff_user, board_member):
    small = factories.make_plan(by=superuser, shares=1_000, name="Small plan")
    proposal = services.reserve_change_propose(plan=small, shares=-600, explanation="Shrink.", by=staff_user)
    factories.make_designation(
        plan=small, participant=participant, year=2024, shares=500, staff=staff_user, approver=board_member
    )
    services.plan_proposal_vote(proposal=proposal, voter=board_member, decision="reject")
    proposal.refresh_from_db()
    small.refresh_from_db()
    assert (proposal.status, small.authorized_shares, small.committed_shares) == ("rejected", 1_000, 500)


# --- _refuse_closed_year / designation_propose / plan_year_close: a closed year is this plan's year -------------


def test_a_closed_year_refuses_this_plans_proposals_only_and_each_year_closes_once(
    plan, superuser, participant, staff_user
):
    closing = services.plan_year_close(
        plan=plan, year=2023, reason="Year over.", closed_on=datetime.date(2024, 1, 15), by=staff_user
    )
    assert (closing.plan_id, closing.year) == (plan.pk, 2023)
    assert_refused(
        exceptions.OutsidePlanTerm,
        "The plan's year 2023 was closed on January 15, 2024: no designation can be proposed for it.",
        lambda: services.designation_propose(
            plan=plan, participant=participant, year=2023, shares=100, factors_considered="Late.", by=staff_user
        ),
    )
    # Another year of the same plan still takes proposals, and closes on its own.
    proposed = services.designation_propose(
        plan=plan, participant=participant, year=2022, shares=100, factors_considered="Fine.", by=staff_user
    )
    services.designation_withdraw(designation=proposed, by=staff_user)
    second = services.plan_year_close(
        plan=plan, year=2022, reason="Year over.", closed_on=datetime.date(2024, 1, 16), by=staff_user
    )
    assert (second.plan_id, second.year) == (plan.pk, 2022)
    assert_refused(
        exceptions.InvalidTransition,
        "The plan's year 2022 was already closed on January 16, 2024.",
        lambda: services.plan_year_close(
            plan=plan, year=2022, reason="Again.", closed_on=datetime.date(2024, 1, 17), by=staff_user
        ),
    )
    # Another plan's year 2023 is open: its proposal and approval go through.
    other = factories.make_plan(by=superuser, name="Another plan")
    board = factories.make_user("board9", role=factories.roles.BOARD)
    approved = factories.make_designation(
        plan=other, participant=participant, year=2023, shares=100, staff=staff_user, approver=board
    )
    assert approved.status == BoardDesignation.Status.APPROVED
    other.refresh_from_db()
    assert other.committed_shares == 100


# --- issuance_record (single row): confirmation, references, default notes -------------------------------------


def test_one_issuance_against_an_unconfirmed_past_designation_is_refused_until_confirmed(
    plan, participant, staff_user, board_member, superuser
):
    services.plan_set_ledger_start(plan=plan, ledger_start_date=datetime.date(2024, 1, 1), by=superuser)
    past = services.past_designation_record(
        plan=plan,
        participant=participant,
        year=2024,
        shares=1_000,
        factors_considered="Retention.",
        decision="approve",
        decided_on=datetime.date(2023, 12, 15),
        decision_reference="Minutes of December 15, 2023",
        by=staff_user,
    )
    assert_refused(
        exceptions.DesignationNotApproved,
        "The 2024 designation of Dana Whitfield was entered from records and awaits a board member's confirmation: "
        "no new shares may be issued against it until then.",
        lambda: factories.issue(past, by=staff_user, shares=10),
    )
    services.past_record_confirm(record=past, by=board_member)
    issuance = factories.issue(past, by=staff_user, shares=10)
    past.refresh_from_db()
    assert (issuance.shares, past.issued_shares) == (10, 10)


def test_one_issuance_with_a_reference_already_taken_in_the_plan_is_refused(approved_designation, staff_user):
    first = factories.issue(approved_designation, by=staff_user, shares=10, reference="G-1")
    issuance = factories.issue(approved_designation, by=staff_user, shares=10)
    assert issuance.notes == ""  # no notes given: none written
    issuance.refresh_from_db()
    assert (issuance.notes, issuance.reference) == ("", "")
    assert_refused(
        exceptions.InvalidInput,
        f"The reference 'G-1' is already the reference of issuance #{first.pk} in this plan: a grant's reference "
        "is unique within its plan.",
        lambda: factories.issue(approved_designation, by=staff_user, shares=10, reference="G-1"),
    )
    assert factories.issue(approved_designation, by=staff_user, shares=10, reference="G-2").reference == "G-2"


# --- issuance_record_many: rows given by pk with plan=, a whole debt settled in one batch -----------------------


def test_a_batch_for_a_given_plan_with_rows_given_by_pk_settles_a_whole_debt(
    plan, participant, staff_user, board_member
):
    settlement = factories.make_debt_designation(
        plan=plan,
        participant=participant,
        year=2024,
        shares=10_000,
        staff=staff_user,
        approver=board_member,
        debt_amount="1000",
        debt_reference="Note 7",
        price_per_share="0.10",
    )
    row = {
        "designation": settlement.pk,
        "issue_date": datetime.date(2024, 6, 30),
        "shares": 5_000,
        "price_per_share": Decimal("0.10"),
        "kind": "debt_settlement",
        "debt_amount": Decimal("500"),
        "debt_reference": "Note 7",
    }
    issued = services.issuance_record_many(rows=[row, dict(row)], by=staff_user, plan=plan)
    assert [issuance.debt_amount for issuance in issued] == [Decimal("500"), Decimal("500")]
    settlement.refresh_from_db()
    plan.refresh_from_db()
    assert (settlement.issued_shares, plan.issued_shares) == (10_000, 10_000)


# --- plan_proposal_vote: a proposal out for signature in a resolution takes no vote -----------------------------


def test_no_vote_on_a_plan_proposal_out_for_signature_and_only_on_it(plan, staff_user, board_member):
    frozen = services.reserve_change_propose(plan=plan, shares=1_000, explanation="More room.", by=staff_user)
    other = services.reserve_change_propose(plan=plan, shares=2_000, explanation="Even more room.", by=staff_user)
    resolution = services.resolution_prepare(plan=plan, kind="written_consent", proposals=[frozen], by=staff_user)
    assert_refused(
        exceptions.VoteRefused,
        f"This proposal is out for signature in {resolution.reference} (written consent in lieu of a meeting): "
        "the board decides it by signing that resolution.",
        lambda: services.plan_proposal_vote(proposal=frozen, voter=board_member, decision="approve"),
    )
    services.plan_proposal_vote(proposal=other, voter=board_member, decision="approve")
    other.refresh_from_db()
    plan.refresh_from_db()
    assert (other.status, plan.authorized_shares) == ("approved", 10_002_000)


# --- participant_update: the details written, and the issuance totals moved with a new category ----------------


def test_updating_a_participant_writes_what_is_given_and_moves_fully_cancelled_totals(approved_designation, staff_user):
    from plan_admin.models import IssuanceTotal, Participant

    def totals():
        return {
            (year, category): (issued, count, cancelled)
            for year, category, issued, count, cancelled in IssuanceTotal.objects.filter(
                plan_id=approved_designation.plan_id
            ).values_list("year", "category", "issued_shares", "issuances", "cancellations")
        }

    issuance = factories.issue(approved_designation, by=staff_user, shares=100)
    services.issuance_cancel(
        issuance=issuance, cancelled_on=datetime.date(2024, 7, 1), reason="Forfeited.", by=staff_user
    )
    assert totals() == {(2024, "key_employee"): (0, 1, 1)}
    dana = approved_designation.participant
    login = factories.make_user("dana", role=None)
    services.participant_update(
        participant=dana,
        name="Dana Whitfield",
        category="consultant",
        email="dana@example.com",
        notes="Moved to consulting.",
        user=login,
        by=staff_user,
    )
    dana = Participant.objects.get(pk=dana.pk)
    assert (dana.category, dana.email, dana.notes, dana.user) == (
        "consultant",
        "dana@example.com",
        "Moved to consulting.",
        login,
    )
    assert totals() == {(2024, "key_employee"): (0, 0, 0), (2024, "consultant"): (0, 1, 1)}
    # No email or notes given: none kept.
    services.participant_update(participant=dana, name="Dana Whitfield", category="consultant", by=staff_user)
    dana = Participant.objects.get(pk=dana.pk)
    assert (dana.email, dana.notes, dana.user) == ("", "", None)
    assert totals() == {(2024, "key_employee"): (0, 0, 0), (2024, "consultant"): (0, 1, 1)}


# --- _common.year: the year limits and the plan's term are inclusive ---------------------------------------------


def test_a_designation_year_may_be_the_first_and_last_year_allowed_and_the_termination_year(superuser, staff_user):
    undated = factories.make_plan(by=superuser, effective_date=None, name="Plan without an effective date")
    assert (_common.year(1900, plan=undated), _common.year(2999, plan=undated)) == (1900, 2999)
    for outside in (1899, 3000, True):
        with pytest.raises(exceptions.InvalidInput) as caught:
            _common.year(outside, plan=undated)
        assert caught.value.messages == ["Enter a year between 1900 and 2999."]
    ending = factories.make_plan(by=superuser, name="Ending plan")
    board = factories.make_user("board9", role=factories.roles.BOARD)
    factories.terminate(ending, termination_date=datetime.date(2030, 6, 30), staff=staff_user, approver=board)
    ending.refresh_from_db()
    assert _common.year(2030, plan=ending) == 2030
    with pytest.raises(exceptions.OutsidePlanTerm) as caught:
        _common.year(2031, plan=ending)
    assert caught.value.messages == ["The plan was terminated on June 30, 2030: no designation for 2031."]


# --- refuse_unless_may_vote: only the designated participant's own login is refused ------------------------------


def test_another_member_votes_on_the_designation_of_a_participant_with_a_login(
    plan, staff_user, board_member, second_board_member
):
    director = factories.make_participant(
        "Elena Sorokina", by=staff_user, user=second_board_member, category="non_employee_director"
    )
    designation = factories.make_designation(plan=plan, participant=director, year=2024, shares=100, staff=staff_user)
    assert designation.designated_user_id == second_board_member.pk
    assert_refused(
        exceptions.VoteRefused,
        "This designation is of you, so you may not vote on it.",
        lambda: services.designation_vote(designation=designation, voter=second_board_member, decision="approve"),
    )
    services.designation_vote(designation=designation, voter=board_member, decision="approve")
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.APPROVED


# --- _clean_proposal: only an open designation (proposed or approved) blocks another for the same year ----------


def test_a_participant_may_be_proposed_again_after_a_withdrawal_or_a_rejection(
    plan, participant, staff_user, board_member
):
    def propose():
        return services.designation_propose(
            plan=plan, participant=participant, year=2024, shares=100, factors_considered="Retention.", by=staff_user
        )

    first = propose()
    assert_refused(
        exceptions.InvalidTransition,
        "Dana Whitfield already has a designation for 2024 (proposed, 100 shares).",
        propose,
    )
    services.designation_withdraw(designation=first, by=staff_user)
    second = propose()
    services.designation_vote(designation=second, voter=board_member, decision="reject")
    third = propose()
    assert third.status == BoardDesignation.Status.PROPOSED
    assert BoardDesignation.objects.filter(plan=plan, participant=participant, year=2024).count() == 3


# --- _common.money: numbers of dollars only, below $10,000,000,000 -----------------------------------------------


def test_money_takes_only_exact_numbers_of_dollars_below_the_ledgers_limit():
    for value in (True, 0.15, None):
        with pytest.raises(exceptions.InvalidInput) as caught:
            _common.money(value, field="price_per_share", label="price")
        assert caught.value.messages == ["Enter the price as a number of dollars."]
    assert _common.money(" 9999999999.99 ", field="price_per_share", label="price") == Decimal("9999999999.99")
    with pytest.raises(exceptions.InvalidInput) as caught:
        _common.money("10000000000", field="price_per_share", label="price")
    assert caught.value.messages == ["The price of $10,000,000,000.00 is more than the ledger can record."]
