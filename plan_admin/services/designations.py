"""The board's yearly designations: proposals, votes, withdrawals, lapses and the closing of a plan's year."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .. import formatting as fmt
from ..exceptions import InvalidInput, InvalidTransition, OutsidePlanTerm, ShareLimitExceeded
from ..models import (
    BoardDesignation,
    DesignationLapse,
    DesignationVote,
    Participant,
    Plan,
    PlanYearClosing,
    VoteDecision,
)
from . import _common, decisions, pool

Status = BoardDesignation.Status


def _refuse_closed_year(plan: Plan, year: int, *, doing: str) -> None:
    closing = PlanYearClosing.objects.filter(plan=plan, year=year).first()
    if closing is not None:
        raise OutsidePlanTerm(
            f"The plan's year {year} was closed on {fmt.day(closing.closed_on)}: {doing}.", field="year"
        )


def _clean_proposal(*, plan: Plan, participant: Participant, year: int, shares: int, factors_considered: str) -> dict:
    """Check a designation's terms against the locked plan; shared by proposals and past records."""
    shares = _common.whole_shares(shares)
    year = _common.year(year, plan=plan)
    factors = _common.text(
        factors_considered, field="factors_considered", label="factors the board considered", required=True
    )
    if not isinstance(participant, Participant) or participant.pk is None:
        raise InvalidInput("Choose the participant to designate.", field="participant")
    if shares > plan.authorized_shares:
        raise ShareLimitExceeded(
            f"{fmt.shares(shares)} shares is more than the plan's {fmt.shares(plan.authorized_shares)} authorized "
            "shares.",
            field="shares",
        )
    duplicate = BoardDesignation.objects.filter(
        plan=plan, participant=participant, year=year, status__in=[Status.PROPOSED, Status.APPROVED]
    ).first()
    if duplicate:
        raise InvalidTransition(
            f"{participant} already has a designation for {year} ({duplicate.get_status_display().lower()}, "
            f"{fmt.shares(duplicate.shares)} shares).",
            field="participant",
        )
    return {"plan": plan, "participant": participant, "year": year, "shares": shares, "factors_considered": factors,
            # Fixed now: changing the participant's login later changes who may not vote on this designation.
            "designated_user_id": participant.user_id}


@transaction.atomic
def designation_propose(
    *,
    plan: Plan,
    participant: Participant,
    year: int,
    shares: int,
    factors_considered: str,
    by: AbstractBaseUser | None,
) -> BoardDesignation:
    """Propose that the board designate `participant` to receive `shares` in `year`. Locks the Plan.

    Records the participant's login as the designated user, who may not vote on it. Raises InvalidInput (shares,
    year, missing factors), OutsidePlanTerm (year outside the plan's term, or a closed year), ShareLimitExceeded
    (more than the plan authorizes), InvalidTransition when the participant already has an open designation for
    that year.
    """
    locked = _common.lock_plan(plan.pk)
    participant = Participant.objects.get(pk=participant.pk)  # its login as it is now, not as the caller read it
    terms = _clean_proposal(plan=locked, participant=participant, year=year, shares=shares,
                            factors_considered=factors_considered)
    _refuse_closed_year(locked, terms["year"], doing="no designation can be proposed for it")
    designation = BoardDesignation(**terms, proposed_by=by)
    _common.save(designation, by=by)
    return designation


@transaction.atomic
def designation_withdraw(*, designation: BoardDesignation, by: AbstractBaseUser | None) -> BoardDesignation:
    """Withdraw a proposal the board has not decided. Locks the Plan, then the designation.

    Raises InvalidTransition when the designation is no longer proposed.
    """
    _common.lock_plan(designation.plan_id)
    locked = BoardDesignation.objects.select_for_update().get(pk=designation.pk)
    if locked.status != Status.PROPOSED:
        raise InvalidTransition(
            f"This designation is {locked.get_status_display().lower()}; only a proposal can be withdrawn."
        )
    locked.status = Status.WITHDRAWN
    locked.decided_at = timezone.now()
    _common.save(locked, by=by, update_fields=["status", "decided_at"])
    designation.status = locked.status
    return locked


def _approve(plan: Plan, designation: BoardDesignation) -> None:
    """The pool side of approving: rule 3 across all years, then the committed counter. Plan locked."""
    pool.refuse_over_commitment(
        plan,
        adding=designation.shares,
        action=f"Approving {fmt.shares(designation.shares)} shares for {designation.participant} in {designation.year}",
    )
    pool.move_counters(plan, committed=designation.shares)


@transaction.atomic
def designation_vote(
    *, designation: BoardDesignation, voter: AbstractBaseUser, decision: str, comment: str = ""
) -> DesignationVote:
    """Cast one board member's vote. Locks the Plan, then the designation.

    The designation is approved when its approving votes reach the plan's required count, and rejected when its
    rejecting votes do; the decision is dated today (company time zone) with the votes as its reference. Raises
    VoteRefused (not a member of the board group, superuser or not; own proposal; own designation; already voted;
    already decided), OutsidePlanTerm (approving in a closed year) and PoolOverCommitted when approving would take
    issued + committed shares of all years past the authorized shares (rule 3).
    """
    decision, comment = decisions.clean_vote(decision=decision, comment=comment)
    plan = _common.lock_plan(designation.plan_id)
    locked = BoardDesignation.objects.select_for_update().select_related("participant").get(pk=designation.pk)
    votes = dict(DesignationVote.objects.filter(designation=locked).values_list("voter_id", "decision"))
    decisions.refuse_unless_may_vote(
        voter=voter, noun="designation",
        status_label=None if locked.status == Status.PROPOSED else locked.get_status_display().lower(),
        proposed_by_id=locked.proposed_by_id, designated_user_id=locked.designated_user_id, voter_ids=set(votes),
    )
    outcome = decisions.tally(plan=plan, decisions_so_far=list(votes.values()), decision=decision)
    if decision == VoteDecision.APPROVE:
        _refuse_closed_year(plan, locked.year, doing="no designation for it can be approved")
        # Checked on every approving vote, deciding or not, so that a member is told at once.
        pool.refuse_over_commitment(
            plan, adding=locked.shares,
            action=f"Approving {fmt.shares(locked.shares)} shares for {locked.participant} in {locked.year}",
        )
    vote = DesignationVote(designation=locked, voter=voter, decision=decision, comment=comment)
    _common.save(vote, by=voter)
    if outcome.decided:
        if outcome.decided == VoteDecision.APPROVE:
            _approve(plan, locked)
            locked.status = Status.APPROVED
        else:
            locked.status = Status.REJECTED
        for name, value in decisions.decided_by_votes().items():
            setattr(locked, name, value)
        _common.save(locked, by=voter, update_fields=["status", "decided_on", "decision_reference",
                                                      "decision_source", "decided_at"])
    designation.status = locked.status
    designation.decided_on = locked.decided_on
    return vote


def _lapse(plan: Plan, designation: BoardDesignation, *, lapsed_on: datetime.date, reason: str, by,
           year_closing: PlanYearClosing | None = None) -> DesignationLapse:
    """Lapse one approved designation of the locked plan; its unissued shares leave the committed counter."""
    released = designation.shares - designation.issued_shares
    lapse = DesignationLapse(designation=designation, lapsed_on=lapsed_on, released_shares=released, reason=reason,
                             year_closing=year_closing, recorded_by=by)
    lapse.save()
    designation.status = Status.LAPSED
    _common.save(designation, by=by, update_fields=["status"])
    pool.move_counters(plan, committed=-released)
    return lapse


def _clean_lapse_date(value, *, year: int) -> datetime.date:
    lapsed_on = _common.date(value, field="lapsed_on", label="date of the lapse")
    if lapsed_on.year <= year:
        raise InvalidInput(
            f"A designation for {year} lapses only after its year: choose a date in {year + 1} or later.",
            field="lapsed_on",
        )
    return _common.not_in_future(lapsed_on, field="lapsed_on", what="A lapse")


@transaction.atomic
def designation_lapse(
    *, designation: BoardDesignation, reason: str, lapsed_on: datetime.date | None = None,
    by: AbstractBaseUser | None,
) -> DesignationLapse:
    """Record that an approved designation lapses after its year, releasing its unissued shares. Locks the Plan.

    Raises InvalidTransition unless the designation is approved (and so not lapsed yet), InvalidInput for a missing
    reason or a date within the designation's year or in the future.
    """
    plan = _common.lock_plan(designation.plan_id)
    locked = BoardDesignation.objects.select_for_update().select_related("participant").get(pk=designation.pk)
    reason = _common.text(reason, field="reason", label="reason for the lapse", required=True, max_length=5000)
    lapsed_on = _clean_lapse_date(lapsed_on or _common.today(), year=locked.year)
    if locked.status != Status.APPROVED:
        raise InvalidTransition(
            f"This designation is {locked.get_status_display().lower()}: only an approved designation can lapse."
        )
    lapse = _lapse(plan, locked, lapsed_on=lapsed_on, reason=reason, by=by)
    designation.status = locked.status
    return lapse


@transaction.atomic
def plan_year_close(
    *, plan: Plan, year: int, reason: str, closed_on: datetime.date | None = None, by: AbstractBaseUser | None
) -> PlanYearClosing:
    """Close a plan's year: every approved designation of that year lapses, and none can be proposed or approved
    for it afterwards. Locks the Plan.

    Raises InvalidInput (a year not yet over, a missing reason, a date in the future), InvalidTransition (the year
    is already closed, or proposals for it still await the board).
    """
    locked = _common.lock_plan(plan.pk)
    if isinstance(year, bool) or not isinstance(year, int):
        raise InvalidInput("Enter the year to close.", field="year")
    reason = _common.text(reason, field="reason", label="reason for closing the year", required=True, max_length=5000)
    closed_on = _clean_lapse_date(closed_on or _common.today(), year=year)
    existing = PlanYearClosing.objects.filter(plan=locked, year=year).first()
    if existing is not None:
        raise InvalidTransition(f"The plan's year {year} was already closed on {fmt.day(existing.closed_on)}.",
                                field="year")
    pending = BoardDesignation.objects.filter(plan=locked, year=year, status=Status.PROPOSED).count()
    if pending:
        raise InvalidTransition(
            f"{pending:,} proposal(s) for {year} still await the board: withdraw them, or let the board decide, "
            "before closing the year.",
            field="year",
        )
    closing = PlanYearClosing(plan=locked, year=year, closed_on=closed_on, reason=reason, recorded_by=by)
    closing.save()
    open_designations = BoardDesignation.objects.select_for_update().filter(plan=locked, year=year,
                                                                             status=Status.APPROVED)
    for designation in open_designations:
        _lapse(locked, designation, lapsed_on=closed_on, reason=f"The plan's year {year} was closed: {reason}",
               by=by, year_closing=closing)
    plan.committed_shares = locked.committed_shares
    return closing

