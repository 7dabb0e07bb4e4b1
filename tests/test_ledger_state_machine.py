"""Random sequences of every ledger operation through the services, each checked against an oracle.

Hypothesis draws proposals, votes (on designations and on proposals to change the reserve or end the plan),
withdrawals, issuances, cancellations, lapses, year closings, history entered from records and its confirmation.
Before each step the oracle predicts, from the rows as they stand, which rule the step must hit (the refusal's
class) or that it must go through; the service must agree, and a refused step must write nothing. After every
step: issued + committed <= authorized, every counter equals the ledger's rows, and each issuance standing obeys
the rules of its designation. Across the whole run, every rule must have been hit at least once.
"""

import datetime
import os
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from plan_admin import exceptions as ex
from plan_admin import services
from plan_admin.models import (
    BoardDesignation,
    Issuance,
    IssuanceCancellation,
    Participant,
    PlanProposal,
    PlanYearClosing,
    RecordConfirmation,
)
from plan_admin.reconcile import reconcile
from tests import factories

YEARS = st.integers(min_value=2018, max_value=2023)
PRICES = st.sampled_from([Decimal("0.0005"), Decimal("0.001"), Decimal("0.25")])
LEDGER_START = datetime.date(2021, 1, 1)
OPEN = ("proposed", "approved")

# What every run of the machine hit, by rule: filled by `attempt`, checked by the test at the end.
HIT: Counter = Counter()
RULES = {
    ex.InvalidInput,
    ex.OutsidePlanTerm,
    ex.ShareLimitExceeded,
    ex.DesignationLimitExceeded,
    ex.PoolOverCommitted,
    ex.DesignationNotApproved,
    ex.PriceBelowPar,
    ex.VoteRefused,
    ex.InvalidTransition,
}


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each run is one transaction rolled back at teardown: runs do not see each other's rows.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @initialize(
        required_approvals=st.integers(min_value=1, max_value=2),
        reserve=st.integers(5_000, 20_000),
        with_history=st.booleans(),
    )
    def set_up_plan(self, required_approvals, reserve, with_history):
        self.root = factories.make_user("root", role=None, superuser=True)
        self.staff = factories.make_user("staff", role=factories.roles.STAFF)
        self.board = [factories.make_user(f"board{n}", role=factories.roles.BOARD) for n in range(3)]
        self.plan = factories.make_plan(
            by=self.root,
            shares=reserve,
            effective_date=datetime.date(2019, 1, 1),
            required_approvals=required_approvals,
        )
        if with_history:  # the app is the book of record from 2021: earlier history is entered from records
            services.plan_set_ledger_start(plan=self.plan, ledger_start_date=LEDGER_START, by=self.root)
        # The third board member is also a participant: they never vote on their own designation.
        self.participants = [
            factories.make_participant(
                f"Participant {n}", by=self.staff, category=category, user=self.board[2] if n == 2 else None
            )
            for n, category in enumerate(Participant.Category.values)
        ]

    # --- the harness ------------------------------------------------------------------------------------------

    def attempt(self, expected, action):
        """Run a service: it must refuse with exactly `expected` (writing nothing), or go through if None."""
        before = factories.ledger_snapshot()
        try:
            action()
        except ex.PlanRuleViolation as refusal:
            assert refusal.messages and all(refusal.messages)
            assert type(refusal) is expected, f"expected {expected}, got {type(refusal).__name__}: {refusal.messages}"
            assert factories.ledger_snapshot() == before, refusal.messages
            HIT[expected] += 1
            HIT[(self.operation, expected.__name__)] += 1
        else:
            assert expected is None, f"expected {expected.__name__}; the service went through"
            HIT["accepted"] += 1
        self.plan.refresh_from_db()

    def pick(self, queryset, data):
        rows = list(queryset.order_by("pk"))
        return rows[data.draw(st.integers(0, len(rows) - 1), label="row")] if rows else None

    # One rule draws the operation, so that the mix can be weighted towards the steps that build a ledger
    # (Hypothesis picks among separate rules uniformly, and always-applicable ones then crowd out the rest).
    OPERATIONS = (
        ["propose"] * 4
        + ["vote"] * 5
        + ["issue"] * 8
        + ["cancel"] * 2
        + ["propose_reserve"]
        + ["vote_on_plan"] * 2
        + ["lapse", "close_year", "withdraw", "propose_termination"]
        + ["past_designation"] * 2
        + ["past_issuance"] * 2
        + ["confirm"]
        + ["approve_at_the_edge"] * 2
    )

    @rule(data=st.data())
    def step(self, data):
        operation = data.draw(st.sampled_from(self.OPERATIONS), label="operation")
        self.operation = operation
        getattr(self, operation)(data)

    # --- what the oracle reads ----------------------------------------------------------------------------------

    def closed(self, year: int) -> bool:
        return PlanYearClosing.objects.filter(plan=self.plan, year=year).exists()

    def year_refusal(self, year: int):
        plan = self.plan
        if plan.effective_date and year < plan.effective_date.year:
            return ex.OutsidePlanTerm
        if plan.termination_date and year > plan.termination_date.year:
            return ex.OutsidePlanTerm
        return None

    def proposal_refusal(self, participant, year, shares):
        """What designation_propose (and a past designation) refuses on the terms alone, in its order."""
        if self.year_refusal(year):
            return ex.OutsidePlanTerm
        if shares > self.plan.authorized_shares:
            return ex.ShareLimitExceeded
        if BoardDesignation.objects.filter(
            plan=self.plan, participant=participant, year=year, status__in=OPEN
        ).exists():
            return ex.InvalidTransition
        return None

    def record_date_refusal(self, on, *, from_records: bool):
        start = self.plan.ledger_start_date
        if from_records:
            return ex.InvalidInput if start is None or on >= start else None
        return ex.InvalidInput if start is not None and on < start else None

    def term_refusal(self, on):
        plan = self.plan
        if plan.effective_date is None or on < plan.effective_date:
            return ex.OutsidePlanTerm
        if plan.termination_date and on >= plan.termination_date:
            return ex.OutsidePlanTerm
        return None

    # --- designations -------------------------------------------------------------------------------------------

    def propose(self, data):
        participant = self.participants[data.draw(st.integers(0, 2), label="participant")]
        year = data.draw(YEARS, label="year")
        shares = data.draw(st.integers(1, 12_000), label="shares")
        expected = self.proposal_refusal(participant, year, shares)
        if expected is None and self.closed(year):
            expected = ex.OutsidePlanTerm
        self.attempt(
            expected,
            lambda: services.designation_propose(
                plan=self.plan,
                participant=participant,
                year=year,
                shares=shares,
                factors_considered="Drawn by Hypothesis.",
                by=self.staff,
            ),
        )

    def vote(self, data):
        designations = BoardDesignation.objects.filter(plan=self.plan)
        if data.draw(st.integers(0, 4), label="aim") > 0:  # mostly aim at proposals, to go deep
            designations = designations.filter(status="proposed")
        designation = self.pick(designations, data)
        voter = self.board[data.draw(st.integers(0, 2), label="voter")]
        decision = data.draw(st.sampled_from(["approve", "approve", "approve", "reject"]), label="decision")
        # The board decides early in the designation's year, so that its issuances can follow the decision.
        day = data.draw(st.integers(0, 60), label="day of the decision")
        if designation is None:
            return
        if (
            designation.status != "proposed"
            or designation.designated_user_id == voter.pk
            or designation.votes.filter(voter=voter).exists()
        ):
            expected = ex.VoteRefused
        elif decision == "approve" and self.closed(designation.year):
            expected = ex.OutsidePlanTerm
        elif decision == "approve" and designation.shares > self.plan.available_shares:
            expected = ex.PoolOverCommitted
        else:
            expected = None
        on = datetime.date(designation.year, 1, 1) + datetime.timedelta(days=day)
        if self.plan.ledger_start_date:  # votes in the app are never before it (earlier ones come from records)
            on = max(on, self.plan.ledger_start_date)
        with factories.on_day(on):
            self.attempt(
                expected, lambda: services.designation_vote(designation=designation, voter=voter, decision=decision)
            )

    def approve_at_the_edge(self, data):
        """Propose exactly what the pool has left, or one share more, and vote to approve it: the boundary of
        rule 3, whatever the years of the designations already committed."""
        participant = self.participants[data.draw(st.integers(0, 1), label="participant")]
        year = data.draw(st.integers(2021, 2023), label="year")
        over = data.draw(st.integers(0, 1), label="one share over")
        shares = self.plan.available_shares + over
        if shares < 1 or self.proposal_refusal(participant, year, shares) or self.closed(year):
            return
        designation = services.designation_propose(
            plan=self.plan,
            participant=participant,
            year=year,
            shares=shares,
            factors_considered="At the edge.",
            by=self.staff,
        )
        expected = ex.PoolOverCommitted if over else None
        with factories.on_day(datetime.date(year, 1, 2)):
            self.attempt(
                expected,
                lambda: services.designation_vote(designation=designation, voter=self.board[0], decision="approve"),
            )

    def withdraw(self, data):
        designation = self.pick(BoardDesignation.objects.filter(plan=self.plan), data)
        if designation is not None:
            expected = None if designation.status == "proposed" else ex.InvalidTransition
            self.attempt(expected, lambda: services.designation_withdraw(designation=designation, by=self.staff))

    def lapse(self, data):
        designation = self.pick(BoardDesignation.objects.filter(plan=self.plan), data)
        if designation is not None:
            expected = None if designation.status == "approved" else ex.InvalidTransition
            self.attempt(
                expected,
                lambda: services.designation_lapse(designation=designation, reason="Year over.", by=self.staff),
            )

    def close_year(self, data):
        year = data.draw(YEARS, label="year to close")
        pending = BoardDesignation.objects.filter(plan=self.plan, year=year, status="proposed").exists()
        expected = ex.InvalidTransition if self.closed(year) or pending else None
        self.attempt(
            expected, lambda: services.plan_year_close(plan=self.plan, year=year, reason="Year over.", by=self.staff)
        )

    # --- issuances ----------------------------------------------------------------------------------------------

    def issuance_refusal(self, designation, on, shares, price, *, from_records: bool):
        """What issuance_record refuses, in the order it checks."""
        if designation.status != "approved":
            return ex.DesignationNotApproved
        if (
            designation.is_from_records
            and not from_records
            and not RecordConfirmation.objects.filter(designation=designation).exists()
        ):
            return ex.DesignationNotApproved
        refusal = self.record_date_refusal(on, from_records=from_records) or self.term_refusal(on)
        if refusal:
            return refusal
        if on.year != designation.year or on < designation.decided_on:
            return ex.DesignationNotApproved
        if price < self.plan.par_value:
            return ex.PriceBelowPar
        if shares > designation.shares - designation.issued_shares:
            return ex.DesignationLimitExceeded
        return None

    def _issue(self, data, *, from_records: bool):
        designations = BoardDesignation.objects.filter(plan=self.plan)
        if data.draw(st.integers(0, 4), label="aim") > 0:  # mostly aim at approved designations, to go deep
            designations = designations.filter(status="approved")
        designation = self.pick(designations, data)
        shares = data.draw(st.integers(1, 6_000), label="shares")
        day = data.draw(st.integers(0, 364), label="day of year")
        price = data.draw(PRICES, label="price")
        debt = data.draw(st.booleans(), label="debt settlement")
        if designation is None:
            return
        on = datetime.date(designation.year, 1, 1) + datetime.timedelta(days=day)
        # A debt settlement is made only against a debt-settlement designation (tests/test_resolutions.py has the
        # refusals); the machine's designations are for compensation.
        debt = debt and designation.is_debt_settlement
        extra = {"kind": "debt_settlement", "debt_amount": Decimal("100"), "debt_reference": "INV"} if debt else {}
        if from_records:
            extra |= {"from_records": True, "source_reference": "Stock ledger page 4"}
        expected = self.issuance_refusal(designation, on, shares, price, from_records=from_records)
        self.attempt(
            expected,
            lambda: services.issuance_record(
                designation=designation, issue_date=on, shares=shares, price_per_share=price, by=self.staff, **extra
            ),
        )

    def issue(self, data):
        self._issue(data, from_records=False)

    def past_issuance(self, data):
        self._issue(data, from_records=True)

    def cancel(self, data):
        issuance = self.pick(Issuance.objects.filter(designation__plan=self.plan), data)
        days_later = data.draw(st.integers(0, 30), label="days later")
        if issuance is None:
            return
        on = issuance.issue_date + datetime.timedelta(days=days_later)
        from_records = self.plan.ledger_start_date is not None and on < self.plan.ledger_start_date
        if IssuanceCancellation.objects.filter(issuance=issuance).exists():
            expected = ex.InvalidTransition
        else:
            expected = self.record_date_refusal(on, from_records=from_records)
        source = "Cancellation minute" if from_records else ""
        self.attempt(
            expected,
            lambda: services.issuance_cancel(
                issuance=issuance,
                cancelled_on=on,
                reason="Drawn.",
                from_records=from_records,
                source_reference=source,
                by=self.staff,
            ),
        )

    # --- history entered from records -------------------------------------------------------------------------

    def past_designation(self, data):
        participant = self.participants[data.draw(st.integers(0, 2), label="participant")]
        year = data.draw(YEARS, label="year")
        shares = data.draw(st.integers(1, 12_000), label="shares")
        decision = data.draw(st.sampled_from(["approve", "reject"]), label="decision")
        on = datetime.date(year, 2, 1)
        expected = self.proposal_refusal(participant, year, shares) or self.record_date_refusal(on, from_records=True)
        if expected is None and self.closed(year):
            expected = ex.OutsidePlanTerm
        if expected is None and decision == "approve" and shares > self.plan.available_shares:
            expected = ex.PoolOverCommitted
        self.attempt(
            expected,
            lambda: services.past_designation_record(
                plan=self.plan,
                participant=participant,
                year=year,
                shares=shares,
                factors_considered="From minutes.",
                decision=decision,
                decided_on=on,
                decision_reference="Minutes",
                by=self.staff,
            ),
        )

    def confirm(self, data):
        record = self.pick(BoardDesignation.objects.filter(plan=self.plan, decision_source="records"), data)
        voter = self.board[data.draw(st.integers(0, 2), label="confirming member")]
        if record is None:
            return
        if RecordConfirmation.objects.filter(designation=record).exists():
            expected = ex.InvalidTransition
        elif record.designated_user_id == voter.pk:
            expected = ex.VoteRefused
        else:
            expected = None
        self.attempt(expected, lambda: services.past_record_confirm(record=record, by=voter))

    # --- proposals to change the plan ---------------------------------------------------------------------------

    def propose_reserve(self, data):
        shares = data.draw(st.integers(-30_000, 30_000).filter(bool), label="shares")
        if self.plan.termination_date:
            expected = ex.OutsidePlanTerm
        elif self.plan.authorized_shares + shares < 0:
            expected = ex.InvalidInput
        else:
            expected = None
        self.attempt(
            expected,
            lambda: services.reserve_change_propose(plan=self.plan, shares=shares, explanation="Drawn.", by=self.staff),
        )

    def propose_termination(self, data):
        on = data.draw(st.dates(datetime.date(2018, 6, 1), datetime.date(2025, 6, 1)), label="termination date")
        if Issuance.objects.count() < 8:  # end the plan only once there is a ledger to guard
            return
        plan = self.plan
        if plan.termination_date or (plan.effective_date and on < plan.effective_date):
            expected = ex.OutsidePlanTerm
        elif PlanProposal.objects.filter(plan=plan, kind="termination", status="proposed").exists():
            expected = ex.InvalidTransition
        else:
            expected = None
        self.attempt(
            expected,
            lambda: services.termination_propose(plan=plan, termination_date=on, explanation="Drawn.", by=self.staff),
        )

    def vote_on_plan(self, data):
        proposal = self.pick(PlanProposal.objects.filter(plan=self.plan), data)
        voter = self.board[data.draw(st.integers(0, 2), label="voter")]
        decision = data.draw(st.sampled_from(["approve", "approve", "reject"]), label="decision")
        if proposal is None:
            return
        plan = self.plan
        if proposal.status != "proposed" or proposal.votes.filter(voter=voter).exists():
            expected = ex.VoteRefused
        elif decision == "reject":
            expected = None
        elif plan.termination_date:
            expected = ex.OutsidePlanTerm
        elif proposal.kind == "reserve_change":
            floor = plan.issued_shares + plan.committed_shares
            expected = ex.PoolOverCommitted if plan.authorized_shares + proposal.shares < floor else None
        else:
            later = (
                Issuance.objects.standing()
                .filter(designation__plan=plan, issue_date__gte=proposal.termination_date)
                .exists()
            )
            expected = ex.OutsidePlanTerm if later else None
        self.attempt(expected, lambda: services.plan_proposal_vote(proposal=proposal, voter=voter, decision=decision))

    # --- after every step ---------------------------------------------------------------------------------------

    @invariant()
    def counters_equal_ledger_and_limits_hold(self):
        if not hasattr(self, "plan"):
            return
        report = reconcile(plan=self.plan)  # every counter, committed included, against the rows
        assert report.ok, report.problems
        plan = self.plan
        assert plan.issued_shares >= 0 and plan.committed_shares >= 0
        assert plan.issued_shares + plan.committed_shares <= plan.authorized_shares
        for issuance in Issuance.objects.standing().filter(designation__plan=plan).select_related("designation"):
            designation = issuance.designation
            assert issuance.issue_date.year == designation.year
            assert issuance.issue_date >= designation.decided_on
            assert issuance.price_per_share >= plan.par_value
            assert designation.status in ("approved", "lapsed")
            if plan.ledger_start_date:
                assert issuance.entered_from_records == (issuance.issue_date < plan.ledger_start_date)
            if designation.status == "lapsed":
                assert issuance.recorded_at <= designation.lapse.recorded_at


@pytest.mark.django_db
def test_random_operation_sequences_keep_the_ledger_consistent():
    HIT.clear()
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=int(os.environ.get("LEDGER_MACHINE_EXAMPLES", "40")),
            stateful_step_count=50,
            deadline=None,
            derandomize=os.environ.get("CI", "").lower() == "true",
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    missed = sorted(rule.__name__ for rule in RULES if not HIT[rule])
    assert not missed, f"rules no step hit: {missed} (hits: {dict(HIT)})"
    assert HIT["accepted"] > 0
