"""Random sequences of every ledger operation through the services; the invariants hold after every step.

Reserve changes, proposals, votes, withdrawals, issuances, cancellations, effective-date changes and terminations
are drawn by Hypothesis. After every step: issued <= authorized, every designation's issued <= its shares, and the
counters equal the ledger sums. A refused step must leave the ledger exactly as it was.
"""

import datetime
import os
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from plan_admin import services
from plan_admin.exceptions import PlanRuleViolation
from plan_admin.models import BoardDesignation, Issuance, Participant
from tests import factories

YEARS = st.integers(min_value=2019, max_value=2023)
PRICES = st.sampled_from([Decimal("0.0005"), Decimal("0.001"), Decimal("0.25")])
DATES = st.dates(min_value=datetime.date(2018, 6, 1), max_value=datetime.date(2024, 6, 1))


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Each run is one transaction rolled back at teardown: runs do not see each other's rows.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.refusals = 0

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @initialize(required_approvals=st.integers(min_value=1, max_value=2), reserve=st.integers(5_000, 40_000))
    def set_up_plan(self, required_approvals, reserve):
        self.root = factories.make_user("root", role=None, superuser=True)
        self.staff = factories.make_user("staff", role=factories.roles.STAFF)
        self.board = [factories.make_user(f"board{n}", role=factories.roles.BOARD) for n in range(3)]
        self.plan = factories.make_plan(by=self.root, shares=reserve, effective_date=datetime.date(2019, 1, 1),
                                        required_approvals=required_approvals)
        self.participants = [
            factories.make_participant(f"Participant {n}", by=self.staff, category=category)
            for n, category in enumerate(Participant.Category.values)
        ]

    def attempt(self, action):
        """Run a service; a refusal must write nothing."""
        before = factories.ledger_snapshot()
        try:
            action()
        except PlanRuleViolation as refusal:
            assert refusal.messages and all(refusal.messages)
            assert factories.ledger_snapshot() == before, refusal.messages
            self.refusals += 1

    def pick(self, queryset, data):
        rows = list(queryset.order_by("pk"))
        return rows[data.draw(st.integers(0, len(rows) - 1), label="row")] if rows else None

    # One rule draws the operation, so that the mix can be weighted towards the steps that build a ledger
    # (Hypothesis picks among separate rules uniformly, and always-applicable ones then crowd out the rest).
    OPERATIONS = (["propose"] * 3 + ["vote"] * 4 + ["issue"] * 6 + ["cancel"] * 2 + ["change_reserve"] * 2
                  + ["withdraw", "set_effective_date", "terminate"])

    @rule(data=st.data())
    def step(self, data):
        operation = data.draw(st.sampled_from(self.OPERATIONS), label="operation")
        getattr(self, operation)(data)

    def change_reserve(self, data):
        shares = data.draw(st.integers(-8_000, 8_000).filter(bool), label="shares")
        on = data.draw(DATES, label="board date")
        self.attempt(lambda: services.reserve_change_record(plan=self.plan, shares=shares, board_approval_date=on,
                                                            by=self.staff))

    def propose(self, data):
        who = data.draw(st.integers(0, 2), label="participant")
        year = data.draw(YEARS, label="year")
        shares = data.draw(st.integers(1, 12_000), label="shares")
        self.attempt(lambda: services.designation_propose(
            plan=self.plan, participant=self.participants[who], year=year, shares=shares,
            factors_considered="Drawn by Hypothesis.", by=self.staff))

    def vote(self, data):
        designation = self.pick(BoardDesignation.objects.filter(status="proposed"), data)
        voter = self.board[data.draw(st.integers(0, 2), label="voter")]
        decision = data.draw(st.sampled_from(["approve", "approve", "approve", "reject"]), label="decision")
        if designation is not None:
            self.attempt(lambda: services.designation_vote(designation=designation, voter=voter, decision=decision))

    def withdraw(self, data):
        designation = self.pick(BoardDesignation.objects.all(), data)
        if designation is not None:
            self.attempt(lambda: services.designation_withdraw(designation=designation, by=self.staff))

    def issue(self, data):
        designations = BoardDesignation.objects.all()
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
        extra = {"kind": "debt_settlement", "debt_amount": Decimal("100"), "debt_reference": "INV"} if debt else {}
        self.attempt(lambda: services.issuance_record(designation=designation, issue_date=on, shares=shares,
                                                      price_per_share=price, by=self.staff, **extra))

    def cancel(self, data):
        issuance = self.pick(Issuance.objects.all(), data)
        days_later = data.draw(st.integers(0, 30), label="days later")
        if issuance is not None:
            on = issuance.issue_date + datetime.timedelta(days=days_later)
            self.attempt(lambda: services.issuance_cancel(issuance=issuance, cancelled_on=on, reason="Drawn.",
                                                          by=self.staff))

    def set_effective_date(self, data):
        on = data.draw(st.one_of(st.none(), st.dates(datetime.date(2018, 6, 1), datetime.date(2021, 1, 1))),
                       label="effective date")
        self.attempt(lambda: services.plan_set_effective_date(plan=self.plan, effective_date=on, by=self.staff))

    def terminate(self, data):
        on = data.draw(st.dates(datetime.date(2018, 6, 1), datetime.date(2025, 6, 1)), label="termination date")
        if Issuance.objects.count() >= 3:  # end the plan only once there is a ledger to guard
            self.attempt(lambda: services.plan_terminate(plan=self.plan, termination_date=on, by=self.staff))

    @invariant()
    def counters_equal_ledger_and_limits_hold(self):
        if not hasattr(self, "plan"):
            return
        self.plan.refresh_from_db()
        standing = Issuance.objects.filter(designation__plan=self.plan, cancellation__isnull=True)
        assert self.plan.authorized_shares == self.plan.reserve_changes.aggregate(t=Sum("shares"))["t"]
        assert self.plan.issued_shares == (standing.aggregate(t=Sum("shares"))["t"] or 0)
        assert 0 <= self.plan.issued_shares <= self.plan.authorized_shares
        sums = dict(standing.values("designation").annotate(t=Sum("shares")).values_list("designation", "t"))
        for designation in BoardDesignation.objects.filter(plan=self.plan):
            assert designation.issued_shares == sums.get(designation.pk, 0)
            assert designation.issued_shares <= designation.shares
            if designation.issued_shares:
                assert designation.status == BoardDesignation.Status.APPROVED
        for issuance in standing.select_related("designation"):
            assert issuance.issue_date.year == issuance.designation.year
            assert issuance.price_per_share >= self.plan.par_value


@pytest.mark.django_db
def test_random_operation_sequences_keep_the_ledger_consistent():
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
