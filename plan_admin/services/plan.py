"""The plan: its setup, its descriptive details and effective date, and the board's decisions to change its share
reserve or terminate it (proposed by staff, decided by board votes like designations)."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .. import formatting as fmt
from ..exceptions import InvalidInput, InvalidTransition, OutsidePlanTerm, PoolOverCommitted
from ..models import Issuance, Plan, PlanProposal, PlanProposalVote, ShareReserveChange, VoteDecision
from . import _common, decisions, pool

Status = PlanProposal.Status


def _required_approvals(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50:
        raise InvalidInput("A decision needs between 1 and 50 approving votes.", field="required_approvals")
    return value


@transaction.atomic
def plan_create(
    *,
    company_name: str,
    name: str,
    par_value: Decimal,
    initial_shares: int,
    board_approval_date: datetime.date,
    purpose: str = "",
    stock_class: str = "Common Stock",
    effective_date: datetime.date | None = None,
    required_approvals: int = 1,
    resolution_reference: str = "",
    ledger_start_date: datetime.date | None = None,
    by: AbstractBaseUser | None,
) -> Plan:
    """Set up a plan and its initial share reserve (the first ShareReserveChange, dated the board's approval of the
    plan). Locks nothing: the row is new.

    `ledger_start_date`, when given, is the day from which this app is the plan's book of record; history before it
    is entered from records. Raises InvalidInput for a missing name, a negative par value, a reserve below one
    share, an approval date in the future.
    """
    board_approval_date = _common.date(board_approval_date, field="board_approval_date", label="board approval date")
    _common.not_in_future(board_approval_date, field="board_approval_date", what="The board's approval")
    if ledger_start_date is not None:
        ledger_start_date = _common.date(ledger_start_date, field="ledger_start_date", label="ledger start date")
        _common.not_in_future(ledger_start_date, field="ledger_start_date", what="The ledger start date")
    plan = Plan(
        company_name=_common.text(
            company_name, field="company_name", label="company name", required=True, max_length=200
        ),
        name=_common.text(name, field="name", label="plan name", required=True, max_length=200),
        purpose=_common.text(purpose, field="purpose", label="purpose"),
        stock_class=_common.text(
            stock_class, field="stock_class", label="class of stock", required=True, max_length=100
        ),
        par_value=_common.money(par_value, field="par_value", label="par value"),
        board_approval_date=board_approval_date,
        effective_date=effective_date,
        required_approvals=_required_approvals(required_approvals),
        ledger_start_date=ledger_start_date,
    )
    shares = _common.whole_shares(initial_shares, field="initial_shares")
    reference = _common.text(
        resolution_reference, field="resolution_reference", label="resolution reference", max_length=300
    )
    _common.save(plan, by=by)
    change = ShareReserveChange(
        plan=plan,
        shares=shares,
        board_approval_date=board_approval_date,
        resolution_reference=reference,
        note="Initial authorization",
        recorded_by=by,
    )
    _common.save(change, by=by)
    pool.move_counters(plan, authorized=shares)
    return plan


@transaction.atomic
def plan_update_details(
    *,
    plan: Plan,
    company_name: str,
    name: str,
    purpose: str,
    stock_class: str,
    required_approvals: int,
    by: AbstractBaseUser | None,
) -> Plan:
    """Change the plan's descriptive fields and the number of approvals a decision needs. Locks the Plan.

    Par value, reserve, term and ledger start change only through their own services.
    """
    locked = _common.lock_plan(plan.pk)
    locked.company_name = _common.text(
        company_name, field="company_name", label="company name", required=True, max_length=200
    )
    locked.name = _common.text(name, field="name", label="plan name", required=True, max_length=200)
    locked.purpose = _common.text(purpose, field="purpose", label="purpose")
    locked.stock_class = _common.text(
        stock_class, field="stock_class", label="class of stock", required=True, max_length=100
    )
    locked.required_approvals = _required_approvals(required_approvals)
    _common.save(locked, by=by, update_fields=["company_name", "name", "purpose", "stock_class", "required_approvals"])
    return locked


@transaction.atomic
def plan_set_effective_date(*, plan: Plan, effective_date: datetime.date | None, by: AbstractBaseUser | None) -> Plan:
    """Record (or correct) the plan's effective date, a fact of the plan document. Locks the Plan.

    Raises OutsidePlanTerm when the date falls after the termination date, or when issuances not cancelled are
    dated before it (including clearing the date while any exist).
    """
    locked = _common.lock_plan(plan.pk)
    if effective_date is not None:
        effective_date = _common.date(effective_date, field="effective_date", label="effective date")
    if effective_date and locked.termination_date and effective_date > locked.termination_date:
        raise OutsidePlanTerm(
            f"The effective date may not follow the termination date, {fmt.day(locked.termination_date)}.",
            field="effective_date",
        )
    standing = Issuance.objects.standing().filter(designation__plan=locked)
    if effective_date is None:
        if standing.exists():
            raise OutsidePlanTerm(
                "Shares have been issued under the plan: its effective date cannot be cleared.", field="effective_date"
            )
    else:
        earlier = standing.filter(issue_date__lt=effective_date).count()
        if earlier:
            raise OutsidePlanTerm(
                f"{earlier:,} issuance(s) are dated before {fmt.day(effective_date)}: cancel them first or choose an "
                "earlier date.",
                field="effective_date",
            )
    locked.effective_date = effective_date
    _common.save(locked, by=by, update_fields=["effective_date"])
    plan.effective_date = effective_date
    return locked


# --- proposals to change the plan ---------------------------------------------------------------------------------


def _refuse_if_terminated(plan: Plan, *, doing: str) -> None:
    if plan.termination_date:
        raise OutsidePlanTerm(f"The plan was terminated on {fmt.day(plan.termination_date)}: {doing}.")


@transaction.atomic
def reserve_change_propose(*, plan: Plan, shares: int, explanation: str, by: AbstractBaseUser | None) -> PlanProposal:
    """Propose that the board increase (positive `shares`) or decrease (negative) the share reserve. Locks the Plan.

    Raises InvalidInput (zero shares, a reserve the ledger cannot hold, a missing explanation), OutsidePlanTerm
    when the plan is terminated. Whether a decrease fits the pool is decided when the board approves it.
    """
    locked = _common.lock_plan(plan.pk)
    shares = _common.whole_shares(shares, allow_negative=True)
    explanation = _common.text(
        explanation, field="explanation", label="explanation for the board", required=True, max_length=10_000
    )
    _refuse_if_terminated(locked, doing="its reserve no longer changes")
    if locked.authorized_shares + shares > _common.MAX_SHARES:
        raise InvalidInput("A reserve that large is more than the ledger can record.", field="shares")
    if locked.authorized_shares + shares < 0:
        raise InvalidInput(
            f"The reserve is {fmt.shares(locked.authorized_shares)} shares: it cannot be reduced by "
            f"{fmt.shares(-shares)}.",
            field="shares",
        )
    proposal = PlanProposal(
        plan=locked, kind=PlanProposal.Kind.RESERVE_CHANGE, shares=shares, explanation=explanation, proposed_by=by
    )
    _common.save(proposal, by=by)
    return proposal


@transaction.atomic
def termination_propose(
    *, plan: Plan, termination_date: datetime.date, explanation: str, by: AbstractBaseUser | None
) -> PlanProposal:
    """Propose that the board terminate the plan as of `termination_date`. Locks the Plan.

    Raises OutsidePlanTerm (already terminated, a date before the effective date), InvalidTransition (another
    termination is already before the board), InvalidInput (a missing explanation).
    """
    locked = _common.lock_plan(plan.pk)
    termination_date = _common.date(termination_date, field="termination_date", label="termination date")
    explanation = _common.text(
        explanation, field="explanation", label="explanation for the board", required=True, max_length=10_000
    )
    _refuse_if_terminated(locked, doing="it cannot be terminated again")
    if locked.effective_date and termination_date < locked.effective_date:
        raise OutsidePlanTerm(
            f"The termination date may not precede the effective date, {fmt.day(locked.effective_date)}.",
            field="termination_date",
        )
    if PlanProposal.objects.filter(plan=locked, kind=PlanProposal.Kind.TERMINATION, status=Status.PROPOSED).exists():
        raise InvalidTransition("A termination of this plan is already before the board.", field="termination_date")
    proposal = PlanProposal(
        plan=locked,
        kind=PlanProposal.Kind.TERMINATION,
        termination_date=termination_date,
        explanation=explanation,
        proposed_by=by,
    )
    _common.save(proposal, by=by)
    return proposal


@transaction.atomic
def plan_proposal_withdraw(*, proposal: PlanProposal, by: AbstractBaseUser | None) -> PlanProposal:
    """Withdraw a proposal the board has not decided. Locks the Plan, then the proposal.

    Raises InvalidTransition when it is no longer proposed, or is out for signature in a resolution.
    """
    _common.lock_plan(proposal.plan_id)
    locked = PlanProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != Status.PROPOSED:
        raise InvalidTransition(f"This proposal is {locked.get_status_display().lower()}; it cannot be withdrawn.")
    decisions.refuse_if_out_for_signature(
        noun="proposal",
        proposal_id=locked.pk,
        error=InvalidTransition,
        doing="withdraw the resolution first, then the proposal.",
    )
    locked.status = Status.WITHDRAWN
    locked.decided_at = timezone.now()
    _common.save(locked, by=by, update_fields=["status", "decided_at"])
    proposal.status = locked.status
    return locked


def _check_reserve_change(plan: Plan, shares: int) -> None:
    """A decrease may not leave the reserve below what is issued and committed (rules 1 and 3). Plan locked."""
    _refuse_if_terminated(plan, doing="its reserve no longer changes")
    new_authorized = plan.authorized_shares + shares
    floor = plan.issued_shares + plan.committed_shares
    if shares < 0 and new_authorized < floor:
        raise PoolOverCommitted(
            f"Reducing the reserve by {fmt.shares(-shares)} shares to {fmt.shares(new_authorized)} would leave it "
            f"below the {fmt.shares(floor)} shares already issued ({fmt.shares(plan.issued_shares)}) or committed "
            f"to approved designations ({fmt.shares(plan.committed_shares)}: {pool.commitments_in_words(plan)}).",
            field="shares",
        )


def apply_reserve_change(
    plan: Plan,
    *,
    shares: int,
    board_approval_date: datetime.date,
    resolution_reference: str,
    note: str,
    by,
    proposal: PlanProposal | None = None,
    entered_from_records: bool = False,
) -> ShareReserveChange:
    """Check and write one reserve change of the locked plan, and move its authorized counter."""
    _check_reserve_change(plan, shares)
    change = ShareReserveChange(
        plan=plan,
        shares=shares,
        board_approval_date=board_approval_date,
        resolution_reference=resolution_reference,
        note=note,
        proposal=proposal,
        entered_from_records=entered_from_records,
        recorded_by=by,
    )
    _common.save(change, by=by)
    pool.move_counters(plan, authorized=shares)
    return change


def _check_termination(plan: Plan, termination_date: datetime.date) -> None:
    _refuse_if_terminated(plan, doing="it cannot be terminated again")
    if plan.effective_date and termination_date < plan.effective_date:
        raise OutsidePlanTerm(
            f"The termination date may not precede the effective date, {fmt.day(plan.effective_date)}.",
            field="termination_date",
        )
    later = Issuance.objects.standing().filter(designation__plan=plan, issue_date__gte=termination_date).count()
    if later:
        raise OutsidePlanTerm(
            f"{later:,} issuance(s) are dated on or after {fmt.day(termination_date)}: "
            "the plan cannot end before them.",
            field="termination_date",
        )


def refuse_proposal_approval(plan: Plan, proposal: PlanProposal) -> None:
    """What refuses approving a proposal to change the locked plan (the pool for a decrease, the term)."""
    if proposal.kind == PlanProposal.Kind.RESERVE_CHANGE:
        _check_reserve_change(plan, proposal.shares)
    else:
        _check_termination(plan, proposal.termination_date)


def plan_proposal_decide(plan: Plan, proposal: PlanProposal, *, decision: str, fields: dict, by) -> None:
    """Decide a proposal to change the locked plan, as votes and resolutions do: the one place it is approved or
    rejected. An approved reserve change writes its ShareReserveChange (dated the decision, with its reference) and
    moves the authorized counter; an approved termination sets the plan's termination date. Raises
    PoolOverCommitted, OutsidePlanTerm; writes nothing when it does."""
    for name, value in fields.items():
        setattr(proposal, name, value)
    if decision == VoteDecision.APPROVE:
        proposal.status = Status.APPROVED
        if proposal.kind == PlanProposal.Kind.RESERVE_CHANGE:
            apply_reserve_change(
                plan,
                shares=proposal.shares,
                board_approval_date=proposal.decided_on,
                resolution_reference=proposal.decision_reference,
                note=proposal.explanation,
                by=by,
                proposal=proposal,
            )
        else:
            _check_termination(plan, proposal.termination_date)
            plan.termination_date = proposal.termination_date
            plan.termination_resolution = decisions.describe(proposal.decided_on, proposal.decision_reference)
            _common.save(plan, by=by, update_fields=["termination_date", "termination_resolution"])
    else:
        proposal.status = Status.REJECTED
    _common.save(
        proposal, by=by, update_fields=["status", "decided_on", "decision_reference", "decision_source", "decided_at"]
    )


@transaction.atomic
def plan_proposal_vote(
    *, proposal: PlanProposal, voter: AbstractBaseUser, decision: str, comment: str = ""
) -> PlanProposalVote:
    """Cast one board member's vote on a proposal to change the plan. Locks the Plan, then the proposal.

    Decided as designations are (the plan's required count; dated today, with the votes as reference). When an
    approving vote decides: a reserve change writes its ShareReserveChange and moves the authorized counter; a
    termination sets the plan's termination date. Raises VoteRefused (not a board member, own proposal, already
    voted, already decided), PoolOverCommitted (a decrease below issued + committed shares), OutsidePlanTerm (a
    termination before the effective date or before standing issuances; any change to a terminated plan), and
    VoteRefused while the proposal is out for signature in a resolution.
    """
    decision, comment = decisions.clean_vote(decision=decision, comment=comment)
    plan = _common.lock_plan(proposal.plan_id)
    locked = PlanProposal.objects.select_for_update().get(pk=proposal.pk)
    votes = dict(PlanProposalVote.objects.filter(proposal=locked).values_list("voter_id", "decision"))
    decisions.refuse_unless_may_vote(
        voter=voter,
        noun="proposal",
        status_label=None if locked.status == Status.PROPOSED else locked.get_status_display().lower(),
        proposed_by_id=locked.proposed_by_id,
        designated_user_id=None,
        voter_ids=set(votes),
    )
    decisions.refuse_if_out_for_signature(
        noun="proposal", proposal_id=locked.pk, doing="the board decides it by signing that resolution."
    )
    if decision == VoteDecision.APPROVE:
        refuse_proposal_approval(plan, locked)
    outcome = decisions.tally(plan=plan, decisions_so_far=list(votes.values()), decision=decision)
    vote = PlanProposalVote(proposal=locked, voter=voter, decision=decision, comment=comment)
    vote.save()
    if outcome.decided:
        plan_proposal_decide(plan, locked, decision=outcome.decided, fields=decisions.decided_by_votes(), by=voter)
    proposal.status = locked.status
    return vote
