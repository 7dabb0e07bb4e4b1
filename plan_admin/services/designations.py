"""The board's yearly designations: proposals, votes, withdrawals, lapses and the closing of a plan's year."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import formatting as fmt
from ..exceptions import InvalidInput, InvalidTransition, OutsidePlanTerm, PriceBelowPar, ShareLimitExceeded
from ..models import (
    BoardDesignation,
    DesignationLapse,
    DesignationTotal,
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


def _clean_debt_terms(*, plan: Plan, shares: int, kind: str, debt_amount, debt_reference, price_per_share) -> dict:
    """A debt settlement names the creditor's debt (amount, reference) and the price per share; the debt must pay
    for the shares at that price, and the price may not be below par (the board finds the consideration adequate
    when it approves). A compensation designation names none of them. Raises InvalidInput, PriceBelowPar."""
    if kind not in BoardDesignation.Kind.values:
        raise InvalidInput("Choose compensation or debt settlement.", field="kind")
    if kind == BoardDesignation.Kind.COMPENSATION:
        if debt_amount not in (None, "") or (debt_reference or "").strip() or price_per_share not in (None, ""):
            raise InvalidInput(
                "Only a debt-settlement designation names a debt and a price per share.", field="debt_amount"
            )
        return {"kind": kind, "debt_amount": None, "debt_reference": "", "price_per_share": None}
    if debt_amount in (None, ""):
        raise InvalidInput(
            "A debt-settlement designation names the amount of the creditor's debt.", field="debt_amount"
        )
    amount = _common.money(debt_amount, field="debt_amount", label="debt amount")
    if amount == 0:
        raise InvalidInput("The debt settled must be more than $0.", field="debt_amount")
    reference = _common.text(
        debt_reference, field="debt_reference", label="debt reference", required=True, max_length=200
    )
    if price_per_share in (None, ""):
        raise InvalidInput("A debt-settlement designation names the price per share.", field="price_per_share")
    price = _common.money(price_per_share, field="price_per_share", label="price per share")
    if price < plan.par_value or price == 0:
        raise PriceBelowPar(
            f"The price of {fmt.money(price)} per share is below the par value of {fmt.money(plan.par_value)}: "
            "cancelling debt at that price is not adequate consideration for the shares.",
            field="price_per_share",
        )
    value = price * shares
    if value > amount:
        raise InvalidInput(
            f"{fmt.shares(shares)} shares at {fmt.money(price)} per share come to {fmt.money(value)}, more than the "
            f"{fmt.money(amount)} debt they would settle: designate fewer shares or name the whole debt.",
            field="shares",
        )
    return {"kind": kind, "debt_amount": amount, "debt_reference": reference, "price_per_share": price}


def consideration_finding(
    plan: Plan, designation: BoardDesignation, *, decided_on: datetime.date | None = None, reference: str = ""
) -> str:
    """The board's finding that cancelling the debt is adequate consideration, as the approval records it."""
    where = f" ({reference})" if reference else ""
    return (
        f"The board finds that the cancellation of {fmt.money(designation.debt_amount)} of debt owed by the company "
        f"to {designation.participant} ({designation.debt_reference}) is adequate consideration for the issuance of "
        f"up to {fmt.shares(designation.shares)} shares of {plan.stock_class} at "
        f"{fmt.money(designation.price_per_share)} "
        f"per share, which is not less than the par value of {fmt.money(plan.par_value)} per share"
        f"{', as of ' + fmt.day(decided_on) if decided_on else ''}{where}."
    )


def _clean_proposal(
    *,
    plan: Plan,
    participant: Participant,
    year: int,
    shares: int,
    factors_considered: str,
    kind: str = BoardDesignation.Kind.COMPENSATION,
    debt_amount: Decimal | None = None,
    debt_reference: str = "",
    price_per_share: Decimal | None = None,
) -> dict:
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
    debt_terms = _clean_debt_terms(
        plan=plan,
        shares=shares,
        kind=kind,
        debt_amount=debt_amount,
        debt_reference=debt_reference,
        price_per_share=price_per_share,
    )
    return {
        "plan": plan,
        "participant": participant,
        "year": year,
        "shares": shares,
        "factors_considered": factors,
        # Fixed now: changing the participant's login later changes who may not vote on this designation.
        "designated_user_id": participant.user_id,
        **debt_terms,
    }


@transaction.atomic
def designation_propose(
    *,
    plan: Plan,
    participant: Participant,
    year: int,
    shares: int,
    factors_considered: str,
    kind: str = BoardDesignation.Kind.COMPENSATION,
    debt_amount: Decimal | None = None,
    debt_reference: str = "",
    price_per_share: Decimal | None = None,
    by: AbstractBaseUser | None,
) -> BoardDesignation:
    """Propose that the board designate `participant` to receive `shares` in `year`. Locks the Plan.

    A debt settlement (`kind`) names the creditor's debt (`debt_amount`, `debt_reference`) and the
    `price_per_share`: at least par, and the shares at that price no more than the debt; when the board approves
    it, its finding that cancelling the debt is adequate consideration is recorded with the decision.
    Records the participant's login as the designated user, who may not vote on it. Raises InvalidInput (shares,
    year, missing factors, debt terms), PriceBelowPar, OutsidePlanTerm (year outside the plan's term, or a closed
    year), ShareLimitExceeded
    (more than the plan authorizes), InvalidTransition when the participant already has an open designation for
    that year.
    """
    locked = _common.lock_plan(plan.pk)
    participant = Participant.objects.get(pk=participant.pk)  # its login as it is now, not as the caller read it
    terms = _clean_proposal(
        plan=locked,
        participant=participant,
        year=year,
        shares=shares,
        factors_considered=factors_considered,
        kind=kind,
        debt_amount=debt_amount,
        debt_reference=debt_reference,
        price_per_share=price_per_share,
    )
    _refuse_closed_year(locked, terms["year"], doing="no designation can be proposed for it")
    designation = BoardDesignation(**terms, proposed_by=by)
    save_new_designation(designation, by=by)
    return designation


def save_new_designation(designation: BoardDesignation, *, by: AbstractBaseUser | None) -> None:
    """Save a new designation (and its history row) and count it in its plan's year and status (DesignationTotal).
    The caller holds the plan lock, which serializes every writer of the plan's counts."""
    _common.save(designation, by=by)
    _count(designation, designation.status, 1)


def _save_status(designation: BoardDesignation, *, was: str, by, update_fields: list[str]) -> None:
    """Save a designation whose status changed from `was` (and its history row), and move it between the counts of
    its plan's year (DesignationTotal). The caller holds the plan lock."""
    _common.save(designation, by=by, update_fields=update_fields)
    _count(designation, was, -1)
    _count(designation, designation.status, 1)


def _count(designation: BoardDesignation, status: str, added: int) -> None:
    counted = DesignationTotal.objects.filter(plan_id=designation.plan_id, year=designation.year, status=status)
    if not counted.update(designations=F("designations") + added):
        DesignationTotal.objects.create(
            plan_id=designation.plan_id, year=designation.year, status=status, designations=added
        )


@transaction.atomic
def designation_withdraw(*, designation: BoardDesignation, by: AbstractBaseUser | None) -> BoardDesignation:
    """Withdraw a proposal the board has not decided. Locks the Plan, then the designation.

    Raises InvalidTransition when the designation is no longer proposed, or is out for signature in a resolution
    (withdraw the resolution first).
    """
    _common.lock_plan(designation.plan_id)
    locked = BoardDesignation.objects.select_for_update().get(pk=designation.pk)
    if locked.status != Status.PROPOSED:
        raise InvalidTransition(
            f"This designation is {locked.get_status_display().lower()}; only a proposal can be withdrawn."
        )
    decisions.refuse_if_out_for_signature(
        noun="designation",
        designation_id=locked.pk,
        error=InvalidTransition,
        doing="withdraw the resolution first, then the designation.",
    )
    locked.status = Status.WITHDRAWN
    locked.decided_at = timezone.now()
    _save_status(locked, was=Status.PROPOSED, by=by, update_fields=["status", "decided_at"])
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


def refuse_approval(plan: Plan, designation: BoardDesignation) -> None:
    """What refuses approving a designation of the locked plan: a closed year, the pool (rule 3, all years)."""
    _refuse_closed_year(plan, designation.year, doing="no designation for it can be approved")
    pool.refuse_over_commitment(
        plan,
        adding=designation.shares,
        action=f"Approving {fmt.shares(designation.shares)} shares for {designation.participant} in {designation.year}",
    )


def designation_decide(plan: Plan, designation: BoardDesignation, *, decision: str, fields: dict, by) -> None:
    """Decide a proposed designation of the locked plan, as votes (designation_vote) and resolutions
    (services.resolutions) do: the one place a designation becomes approved or rejected.

    `fields` are the decision fields (decisions.decided_by_votes / decided_by_resolution). Approving checks the
    year and the pool (refuse_approval) and commits the shares; a debt settlement records the board's finding on
    the consideration. Raises OutsidePlanTerm, PoolOverCommitted, PriceBelowPar; writes nothing when it does.
    """
    was = designation.status
    if decision == VoteDecision.APPROVE:
        refuse_approval(plan, designation)
        if designation.is_debt_settlement:
            if designation.price_per_share < plan.par_value:
                raise PriceBelowPar(
                    f"The price of {fmt.money(designation.price_per_share)} per share is below the par value of "
                    f"{fmt.money(plan.par_value)}.",
                    field="price_per_share",
                )
            designation.consideration_finding = consideration_finding(
                plan, designation, decided_on=fields["decided_on"], reference=fields["decision_reference"]
            )
        _approve(plan, designation)
        designation.status = Status.APPROVED
    else:
        designation.status = Status.REJECTED
    for name, value in fields.items():
        setattr(designation, name, value)
    _save_status(
        designation,
        was=was,
        by=by,
        update_fields=[
            "status",
            "decided_on",
            "decision_reference",
            "decision_source",
            "decided_at",
            "consideration_finding",
        ],
    )


@transaction.atomic
def designation_vote(
    *, designation: BoardDesignation, voter: AbstractBaseUser, decision: str, comment: str = ""
) -> DesignationVote:
    """Cast one board member's vote. Locks the Plan, then the designation.

    The designation is approved when its approving votes reach the plan's required count, and rejected when its
    rejecting votes do; the decision is dated today (company time zone) with the votes as its reference. Raises
    VoteRefused (not a member of the board group, superuser or not; own proposal; own designation; already voted;
    already decided; out for signature in a resolution), OutsidePlanTerm (approving in a closed year) and
    PoolOverCommitted when approving would take
    issued + committed shares of all years past the authorized shares (rule 3).
    """
    decision, comment = decisions.clean_vote(decision=decision, comment=comment)
    plan = _common.lock_plan(designation.plan_id)
    locked = BoardDesignation.objects.select_for_update().select_related("participant").get(pk=designation.pk)
    votes = dict(DesignationVote.objects.filter(designation=locked).values_list("voter_id", "decision"))
    decisions.refuse_unless_may_vote(
        voter=voter,
        noun="designation",
        status_label=None if locked.status == Status.PROPOSED else locked.get_status_display().lower(),
        proposed_by_id=locked.proposed_by_id,
        designated_user_id=locked.designated_user_id,
        voter_ids=set(votes),
    )
    decisions.refuse_if_out_for_signature(
        noun="designation", designation_id=locked.pk, doing="the board decides it by signing that resolution."
    )
    outcome = decisions.tally(plan=plan, decisions_so_far=list(votes.values()), decision=decision)
    if decision == VoteDecision.APPROVE and outcome.decided != VoteDecision.APPROVE:
        # An approving vote that does not decide is checked too, so that a member is told at once. One that decides
        # is checked once, by designation_decide: its refusal rolls the vote back with everything else.
        refuse_approval(plan, locked)
    vote = DesignationVote(designation=locked, voter=voter, decision=decision, comment=comment)
    _common.save(vote, by=voter)
    if outcome.decided:
        designation_decide(plan, locked, decision=outcome.decided, fields=decisions.decided_by_votes(), by=voter)
    designation.status = locked.status
    designation.decided_on = locked.decided_on
    return vote


def _lapse(
    plan: Plan,
    designation: BoardDesignation,
    *,
    lapsed_on: datetime.date,
    reason: str,
    by,
    year_closing: PlanYearClosing | None = None,
) -> DesignationLapse:
    """Lapse one approved designation of the locked plan; its unissued shares leave the committed counter."""
    released = designation.shares - designation.issued_shares
    lapse = DesignationLapse(
        designation=designation,
        lapsed_on=lapsed_on,
        released_shares=released,
        reason=reason,
        year_closing=year_closing,
        recorded_by=by,
    )
    lapse.save()
    was, designation.status = designation.status, Status.LAPSED
    _save_status(designation, was=was, by=by, update_fields=["status"])
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
    *,
    designation: BoardDesignation,
    reason: str,
    lapsed_on: datetime.date | None = None,
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
        raise InvalidTransition(
            f"The plan's year {year} was already closed on {fmt.day(existing.closed_on)}.", field="year"
        )
    pending = BoardDesignation.objects.filter(plan=locked, year=year, status=Status.PROPOSED).count()
    if pending:
        raise InvalidTransition(
            f"{pending:,} proposal(s) for {year} still await the board: withdraw them, or let the board decide, "
            "before closing the year.",
            field="year",
        )
    closing = PlanYearClosing(plan=locked, year=year, closed_on=closed_on, reason=reason, recorded_by=by)
    closing.save()
    open_designations = BoardDesignation.objects.select_for_update().filter(
        plan=locked, year=year, status=Status.APPROVED
    )
    for designation in open_designations:
        _lapse(
            locked,
            designation,
            lapsed_on=closed_on,
            reason=f"The plan's year {year} was closed: {reason}",
            by=by,
            year_closing=closing,
        )
    plan.committed_shares = locked.committed_shares
    return closing
