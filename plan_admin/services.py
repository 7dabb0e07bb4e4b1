"""Every write of ledger state. The one place the plan's rules are enforced.

Each service runs in one transaction and first locks the Plan row (`select_for_update`; on SQLite the
IMMEDIATE transaction takes the database write lock), then reads fresh state, checks, writes, and keeps the
counters on Plan (authorized_shares, issued_shares) and BoardDesignation (issued_shares) in step. Locks are taken
in one order: Plan, then the rows of that plan. A refusal raises a subclass of
plan_admin.exceptions.PlanRuleViolation before anything is written.

Arguments are keyword-only. `by` is the user doing the work; it is recorded on the row and in the history.
"""

import datetime
import uuid
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import formatting as fmt
from .exceptions import (
    BatchRefused,
    DesignationLimitExceeded,
    DesignationNotApproved,
    InvalidInput,
    InvalidTransition,
    OutsidePlanTerm,
    PlanRuleViolation,
    PoolOverCommitted,
    PriceBelowPar,
    ShareLimitExceeded,
    VoteRefused,
)
from .models import (
    MAX_YEAR,
    MIN_YEAR,
    BoardDesignation,
    DesignationVote,
    Issuance,
    IssuanceCancellation,
    Participant,
    Plan,
    ShareReserveChange,
)
from .selectors import committed_shares, largest_yearly_commitment

# The largest share count a BigIntegerField holds; anything larger is a typing error, not a grant.
MAX_SHARES = 2**63 - 1
VOTE_PERMISSION = "plan_admin.vote_boarddesignation"


# --- checks shared by the services ------------------------------------------------------------------------


def _lock_plan(plan_id: int) -> Plan:
    """Lock and return the Plan row; every writer takes this lock first."""
    return Plan.objects.select_for_update().get(pk=plan_id)


def _whole_shares(value, *, field: str = "shares", allow_negative: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise InvalidInput("Enter a whole number of shares.", field=field)
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise InvalidInput("Enter a whole number of shares.", field=field) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise InvalidInput("Shares are whole: enter a number without a fraction.", field=field)
    number = int(number)
    if number == 0 or (number < 0 and not allow_negative):
        message = "The change must add or remove at least one share." if allow_negative else (
            "Shares must be at least 1."
        )
        raise InvalidInput(message, field=field)
    if abs(number) > MAX_SHARES:
        raise InvalidInput(f"{fmt.shares(number)} shares is more than the ledger can record.", field=field)
    return number


def _money(value, *, field: str, label: str) -> Decimal:
    try:
        amount = Decimal(str(value).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        raise InvalidInput(f"Enter the {label} as a number of dollars.", field=field) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"The {label} may not be negative.", field=field)
    if amount >= Decimal("1e10"):
        raise InvalidInput(f"The {label} of {fmt.money(amount)} is more than the ledger can record.", field=field)
    return amount


def _date(value, *, field: str, label: str) -> datetime.date:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise InvalidInput(f"Enter the {label} as a date.", field=field)
    return value


def _text(value, *, field: str, label: str, required: bool = False, max_length: int | None = None) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise InvalidInput(f"Enter the {label} as text.", field=field)
    if required and not text:
        raise InvalidInput(f"Enter the {label}.", field=field)
    if "\ufffd" in text or "\x00" in text:
        # U+FFFD is what a request or file that was not UTF-8 decodes to: the original characters are lost.
        raise InvalidInput(f"{label.capitalize()}: some characters could not be read; enter UTF-8 text.", field=field)
    if max_length is not None and len(text) > max_length:
        raise InvalidInput(f"The {label} may be at most {max_length:,} characters.", field=field)
    return text


def _year(value, *, plan: Plan) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_YEAR <= value <= MAX_YEAR:
        raise InvalidInput(f"Enter a year between {MIN_YEAR} and {MAX_YEAR}.", field="year")
    if plan.effective_date and value < plan.effective_date.year:
        raise OutsidePlanTerm(
            f"The plan took effect on {fmt.day(plan.effective_date)}: no designation for {value}.", field="year"
        )
    if plan.termination_date and value > plan.termination_date.year:
        raise OutsidePlanTerm(
            f"The plan was terminated on {fmt.day(plan.termination_date)}: no designation for {value}.",
            field="year",
        )
    return value


def _check_within_term(plan: Plan, on: datetime.date, *, what: str) -> None:
    if plan.effective_date is None:
        raise OutsidePlanTerm(
            f"The plan's effective date is not yet recorded: no {what} until it is.", field="issue_date"
        )
    if on < plan.effective_date:
        raise OutsidePlanTerm(
            f"{fmt.day(on)} is before the plan's effective date, {fmt.day(plan.effective_date)}.",
            field="issue_date",
        )
    if plan.termination_date and on >= plan.termination_date:
        raise OutsidePlanTerm(
            f"The plan was terminated on {fmt.day(plan.termination_date)}: no {what} on or after that date.",
            field="issue_date",
        )


def _save(instance, *, by: AbstractBaseUser | None, **kwargs) -> None:
    """Save with `by` as the history's acting user, whatever request (or none) is running."""
    instance._history_user = by
    instance.save(**kwargs)


def _add_to_issued(*, plan: Plan, designation: BoardDesignation, shares: int) -> None:
    Plan.objects.filter(pk=plan.pk).update(issued_shares=F("issued_shares") + shares)
    BoardDesignation.objects.filter(pk=designation.pk).update(issued_shares=F("issued_shares") + shares)
    plan.issued_shares += shares
    designation.issued_shares += shares


# --- the plan and its reserve ---------------------------------------------------------------------------------


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
    by: AbstractBaseUser | None,
) -> Plan:
    """Create a plan and its initial share reserve (the first ShareReserveChange). Locks nothing: the row is new.

    Raises InvalidInput for a missing name, a negative par value, a reserve below one share.
    """
    plan = Plan(
        company_name=_text(company_name, field="company_name", label="company name", required=True, max_length=200),
        name=_text(name, field="name", label="plan name", required=True, max_length=200),
        purpose=_text(purpose, field="purpose", label="purpose"),
        stock_class=_text(stock_class, field="stock_class", label="class of stock", required=True, max_length=100),
        par_value=_money(par_value, field="par_value", label="par value"),
        board_approval_date=_date(board_approval_date, field="board_approval_date", label="board approval date"),
        effective_date=effective_date,
        required_approvals=required_approvals,
    )
    if not isinstance(required_approvals, int) or required_approvals < 1:
        raise InvalidInput("A designation needs at least one approving vote.", field="required_approvals")
    shares = _whole_shares(initial_shares, field="initial_shares")
    _save(plan, by=by)
    change = ShareReserveChange(
        plan=plan,
        shares=shares,
        board_approval_date=board_approval_date,
        resolution_reference=resolution_reference,
        note="Initial authorization",
        recorded_by=by,
    )
    _save(change, by=by)
    Plan.objects.filter(pk=plan.pk).update(authorized_shares=shares)
    plan.authorized_shares = shares
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
    """Change the plan's descriptive fields and the number of approvals a designation needs. Locks the Plan.

    Par value, reserve and term change only through their own services.
    """
    locked = _lock_plan(plan.pk)
    if isinstance(required_approvals, bool) or not isinstance(required_approvals, int) or required_approvals < 1:
        raise InvalidInput("A designation needs at least one approving vote.", field="required_approvals")
    locked.company_name = _text(company_name, field="company_name", label="company name", required=True, max_length=200)
    locked.name = _text(name, field="name", label="plan name", required=True, max_length=200)
    locked.purpose = _text(purpose, field="purpose", label="purpose")
    locked.stock_class = _text(stock_class, field="stock_class", label="class of stock", required=True, max_length=100)
    locked.required_approvals = required_approvals
    _save(locked, by=by, update_fields=["company_name", "name", "purpose", "stock_class", "required_approvals"])
    return locked


@transaction.atomic
def reserve_change_record(
    *,
    plan: Plan,
    shares: int,
    board_approval_date: datetime.date,
    resolution_reference: str = "",
    note: str = "",
    by: AbstractBaseUser | None,
) -> ShareReserveChange:
    """Record a board-approved increase or decrease of the share reserve. Locks the Plan.

    Raises InvalidInput for zero shares, PoolOverCommitted when a decrease would leave the reserve below the
    shares issued plus the largest year's unissued approved designations, OutsidePlanTerm after termination.
    """
    locked = _lock_plan(plan.pk)
    shares = _whole_shares(shares, allow_negative=True)
    board_approval_date = _date(board_approval_date, field="board_approval_date", label="board approval date")
    resolution_reference = _text(
        resolution_reference, field="resolution_reference", label="resolution reference", max_length=200
    )
    if locked.termination_date:
        raise OutsidePlanTerm(
            f"The plan was terminated on {fmt.day(locked.termination_date)}: its reserve no longer changes.",
            field="shares",
        )
    new_authorized = locked.authorized_shares + shares
    if new_authorized > MAX_SHARES:
        raise InvalidInput(f"A reserve of {fmt.shares(new_authorized)} shares is more than the ledger can record.", field="shares")
    if shares < 0:
        committed = largest_yearly_commitment(plan=locked)
        floor = locked.issued_shares + committed
        if new_authorized < floor:
            raise PoolOverCommitted(
                f"Reducing the reserve by {fmt.shares(-shares)} shares to {fmt.shares(new_authorized)} would leave it "
                f"below the {fmt.shares(floor)} shares already issued ({fmt.shares(locked.issued_shares)}) or "
                f"committed to approved designations ({fmt.shares(committed)}).",
                field="shares",
            )
    change = ShareReserveChange(
        plan=locked,
        shares=shares,
        board_approval_date=board_approval_date,
        resolution_reference=resolution_reference,
        note=_text(note, field="note", label="note"),
        recorded_by=by,
    )
    _save(change, by=by)
    Plan.objects.filter(pk=locked.pk).update(authorized_shares=F("authorized_shares") + shares)
    plan.authorized_shares = locked.authorized_shares = new_authorized
    return change


@transaction.atomic
def plan_set_effective_date(*, plan: Plan, effective_date: datetime.date | None, by: AbstractBaseUser | None) -> Plan:
    """Record (or correct) the plan's effective date. Locks the Plan.

    Raises OutsidePlanTerm when the date falls after the termination date, or when issuances not cancelled are
    dated before it (including clearing the date while any exist).
    """
    locked = _lock_plan(plan.pk)
    if effective_date is not None:
        effective_date = _date(effective_date, field="effective_date", label="effective date")
    if effective_date and locked.termination_date and effective_date > locked.termination_date:
        raise OutsidePlanTerm(
            f"The effective date may not follow the termination date, {fmt.day(locked.termination_date)}.",
            field="effective_date",
        )
    standing = Issuance.objects.filter(designation__plan=locked, cancellation__isnull=True)
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
    _save(locked, by=by, update_fields=["effective_date"])
    plan.effective_date = effective_date
    return locked


@transaction.atomic
def plan_terminate(
    *, plan: Plan, termination_date: datetime.date, resolution_reference: str = "", by: AbstractBaseUser | None
) -> Plan:
    """Record the board's termination of the plan. Locks the Plan.

    Raises InvalidTransition when already terminated, OutsidePlanTerm when the date is before the effective date
    or issuances not cancelled are dated on or after it.
    """
    locked = _lock_plan(plan.pk)
    termination_date = _date(termination_date, field="termination_date", label="termination date")
    if locked.termination_date:
        raise InvalidTransition(
            f"The plan was already terminated on {fmt.day(locked.termination_date)}.", field="termination_date"
        )
    if locked.effective_date and termination_date < locked.effective_date:
        raise OutsidePlanTerm(
            f"The termination date may not precede the effective date, {fmt.day(locked.effective_date)}.",
            field="termination_date",
        )
    later = Issuance.objects.filter(
        designation__plan=locked, cancellation__isnull=True, issue_date__gte=termination_date
    ).count()
    if later:
        raise OutsidePlanTerm(
            f"{later:,} issuance(s) are dated on or after {fmt.day(termination_date)}: the plan cannot end before them.",
            field="termination_date",
        )
    locked.termination_date = termination_date
    locked.termination_resolution = _text(
        resolution_reference, field="resolution_reference", label="resolution reference", max_length=200
    )
    _save(locked, by=by, update_fields=["termination_date", "termination_resolution"])
    plan.termination_date = termination_date
    return locked


# --- participants -----------------------------------------------------------------------------------------------


def _participant_fields(*, name, category, email, notes) -> dict:
    if category not in Participant.Category.values:
        raise InvalidInput(
            "Choose a category: key employee, consultant or non-employee director.", field="category"
        )
    return {
        "name": _text(name, field="name", label="name", required=True, max_length=200),
        "category": category,
        "email": _text(email, field="email", label="email", max_length=254),
        "notes": _text(notes, field="notes", label="notes"),
    }


@transaction.atomic
def participant_create(
    *, name: str, category: str, email: str = "", notes: str = "", user=None, by: AbstractBaseUser | None
) -> Participant:
    """Add a participant. Locks nothing: participants are not counted against any plan."""
    participant = Participant(**_participant_fields(name=name, category=category, email=email, notes=notes), user=user)
    _save(participant, by=by)
    return participant


@transaction.atomic
def participant_update(
    *, participant: Participant, name: str, category: str, email: str = "", notes: str = "", user=None,
    by: AbstractBaseUser | None,
) -> Participant:
    """Change a participant's details. Locks the participant row."""
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    for field, value in _participant_fields(name=name, category=category, email=email, notes=notes).items():
        setattr(locked, field, value)
    locked.user = user
    _save(locked, by=by)
    return locked


# --- designations and votes -------------------------------------------------------------------------------------


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

    Raises InvalidInput (shares, year, missing factors), OutsidePlanTerm (year outside the plan's term),
    InvalidTransition when the participant already has an open designation for that year.
    """
    locked = _lock_plan(plan.pk)
    shares = _whole_shares(shares)
    year = _year(year, plan=locked)
    factors = _text(factors_considered, field="factors_considered", label="factors the board considered", required=True)
    if shares > locked.authorized_shares:
        raise ShareLimitExceeded(
            f"{fmt.shares(shares)} shares is more than the plan's {fmt.shares(locked.authorized_shares)} authorized "
            "shares.",
            field="shares",
        )
    duplicate = BoardDesignation.objects.filter(
        plan=locked,
        participant=participant,
        year=year,
        status__in=[BoardDesignation.Status.PROPOSED, BoardDesignation.Status.APPROVED],
    ).first()
    if duplicate:
        raise InvalidTransition(
            f"{participant} already has a designation for {year} ({duplicate.get_status_display().lower()}, "
            f"{fmt.shares(duplicate.shares)} shares).",
            field="participant",
        )
    designation = BoardDesignation(
        plan=locked,
        participant=participant,
        year=year,
        shares=shares,
        factors_considered=factors,
        proposed_by=by,
    )
    _save(designation, by=by)
    return designation


@transaction.atomic
def designation_withdraw(*, designation: BoardDesignation, by: AbstractBaseUser | None) -> BoardDesignation:
    """Withdraw a proposal the board has not decided. Locks the Plan, then the designation.

    Raises InvalidTransition when the designation is no longer proposed.
    """
    _lock_plan(designation.plan_id)
    locked = BoardDesignation.objects.select_for_update().get(pk=designation.pk)
    if locked.status != BoardDesignation.Status.PROPOSED:
        raise InvalidTransition(
            f"This designation is {locked.get_status_display().lower()}; only a proposal can be withdrawn."
        )
    locked.status = BoardDesignation.Status.WITHDRAWN
    locked.decided_at = timezone.now()
    _save(locked, by=by, update_fields=["status", "decided_at"])
    return locked


@transaction.atomic
def designation_vote(
    *, designation: BoardDesignation, voter: AbstractBaseUser, decision: str, comment: str = ""
) -> DesignationVote:
    """Cast one board member's vote. Locks the Plan, then the designation.

    The designation is approved when its approving votes reach the plan's required count, and rejected when its
    rejecting votes do. Raises VoteRefused (not a board member, own proposal, own designation, already voted,
    already decided) and PoolOverCommitted when approving would commit more shares than the pool has left for
    that year (rule 3).
    """
    plan = _lock_plan(designation.plan_id)
    locked = BoardDesignation.objects.select_for_update().select_related("participant").get(pk=designation.pk)
    if decision not in DesignationVote.Decision.values:
        raise InvalidInput("Choose approve or reject.", field="decision")
    comment = _text(comment, field="comment", label="comment", max_length=5000)
    if not voter.has_perm(VOTE_PERMISSION):
        raise VoteRefused("Only board members vote on designations.")
    if locked.status != BoardDesignation.Status.PROPOSED:
        raise VoteRefused(f"This designation is already {locked.get_status_display().lower()}.")
    if locked.proposed_by_id == voter.pk:
        raise VoteRefused("You proposed this designation, so you may not vote on it.")
    if locked.participant.user_id == voter.pk:
        raise VoteRefused("This designation is of you, so you may not vote on it.")
    votes = dict(
        DesignationVote.objects.filter(designation=locked).values_list("voter_id", "decision")
    )
    if voter.pk in votes:
        raise VoteRefused("You have already voted on this designation.")

    same_votes = 1 + sum(1 for cast in votes.values() if cast == decision)
    if decision == DesignationVote.Decision.APPROVE:
        others = committed_shares(plan=plan, year=locked.year, exclude_designation_id=locked.pk)
        available = plan.authorized_shares - plan.issued_shares - others
        if locked.shares > available:
            raise PoolOverCommitted(
                f"Approving {fmt.shares(locked.shares)} shares for {locked.participant} in {locked.year} would "
                f"over-commit the plan: of {fmt.shares(plan.authorized_shares)} authorized shares, "
                f"{fmt.shares(plan.issued_shares)} are issued and {fmt.shares(others)} are committed to other approved "
                f"{locked.year} designations, so {fmt.shares(max(available, 0))} remain."
            )
    vote = DesignationVote(designation=locked, voter=voter, decision=decision, comment=comment)
    _save(vote, by=voter)
    if same_votes >= plan.required_approvals:
        locked.status = (
            BoardDesignation.Status.APPROVED
            if decision == DesignationVote.Decision.APPROVE
            else BoardDesignation.Status.REJECTED
        )
        locked.decided_at = timezone.now()
        _save(locked, by=voter, update_fields=["status", "decided_at"])
    designation.status = locked.status
    return vote


# --- issuances ----------------------------------------------------------------------------------------------------


def _check_issuance(
    *,
    plan: Plan,
    designation: BoardDesignation,
    designation_issued: int,
    plan_issued: int,
    issue_date,
    shares,
    price,
    kind,
    debt_amount,
    debt_reference,
    notes,
) -> dict:
    """Clean one issuance's values and check rules 1, 2 and 4 against the given running totals.

    `plan` is the locked plan, `designation` the designation as read after the lock (participant loaded);
    `plan_issued` / `designation_issued` are the shares issued so far (the counters, plus any earlier rows of a
    batch). Returns the cleaned field values of the Issuance; raises the refusal otherwise. The one place the
    per-issuance rules are written: issuance_record and issuance_record_many both call it.
    """
    shares = _whole_shares(shares)
    issue_date = _date(issue_date, field="issue_date", label="issue date")
    price = _money(price, field="price_per_share", label="price per share")
    debt_reference = _text(debt_reference, field="debt_reference", label="debt reference", max_length=200)
    notes = _text(notes, field="notes", label="notes", max_length=10_000)

    if kind == Issuance.Kind.DEBT_SETTLEMENT:
        if debt_amount in (None, ""):
            raise InvalidInput("A debt settlement needs the amount of debt settled.", field="debt_amount")
        debt_amount = _money(debt_amount, field="debt_amount", label="debt amount")
        if debt_amount == 0:
            raise InvalidInput("The debt settled must be more than $0.", field="debt_amount")
        if not debt_reference:
            raise InvalidInput("A debt settlement needs a reference to the debt (invoice, note).", field="debt_reference")
    elif kind == Issuance.Kind.COMPENSATION:
        if debt_amount not in (None, ""):
            raise InvalidInput("Only a debt settlement records a debt amount.", field="debt_amount")
        debt_amount = None
    else:
        raise InvalidInput("Choose compensation or debt settlement.", field="kind")

    if designation.status != BoardDesignation.Status.APPROVED:
        raise DesignationNotApproved(
            f"The {designation.year} designation of {designation.participant} is "
            f"{designation.get_status_display().lower()}, not approved: no shares may be issued against it.",
            field="designation",
        )
    _check_within_term(plan, issue_date, what="shares may be issued")
    if issue_date.year != designation.year:
        raise DesignationNotApproved(
            f"This designation is for {designation.year}; shares issued on {fmt.day(issue_date)} need a designation "
            f"for {issue_date.year}.",
            field="issue_date",
        )
    if price < plan.par_value:
        raise PriceBelowPar(
            f"The price of {fmt.money(price)} per share is below the par value of {fmt.money(plan.par_value)}.",
            field="price_per_share",
        )
    designation_left = designation.shares - designation_issued
    if shares > designation_left:
        raise DesignationLimitExceeded(
            f"This issuance of {fmt.shares(shares)} shares would exceed {designation.participant}'s {designation.year} "
            f"designation of {fmt.shares(designation.shares)} shares: {fmt.shares(designation_issued)} are issued, "
            f"{fmt.shares(designation_left)} remain.",
            field="shares",
        )
    plan_left = plan.authorized_shares - plan_issued
    if shares > plan_left:
        raise ShareLimitExceeded(
            f"This issuance of {fmt.shares(shares)} shares would exceed the {fmt.shares(plan.authorized_shares)} "
            f"authorized shares: {fmt.shares(plan_issued)} are issued, {fmt.shares(plan_left)} remain.",
            field="shares",
        )
    return {
        "issue_date": issue_date,
        "shares": shares,
        "kind": kind,
        "price_per_share": price,
        "debt_amount": debt_amount,
        "debt_reference": debt_reference,
        "notes": notes,
    }


def _check_designation_plan(*, designation_plan_id: int, plan: Plan | None) -> None:
    if plan is not None and plan.pk != designation_plan_id:
        raise DesignationNotApproved("That designation belongs to another plan.", field="designation")


@transaction.atomic
def issuance_record(
    *,
    designation: BoardDesignation,
    issue_date: datetime.date,
    shares: int,
    price_per_share: Decimal,
    kind: str = Issuance.Kind.COMPENSATION,
    debt_amount: Decimal | None = None,
    debt_reference: str = "",
    notes: str = "",
    plan: Plan | None = None,
    submission_key: uuid.UUID | None = None,
    by: AbstractBaseUser | None,
) -> Issuance:
    """Record shares issued against an approved designation. Locks the Plan.

    Rules 1, 2 and 4 (checked by _check_issuance, shared with issuance_record_many): the plan's issued shares stay
    within its authorized shares, the designation's issued shares within its designated shares, the date within
    the plan's term and the designation's year, the price at or above par. Raises InvalidInput,
    DesignationNotApproved, OutsidePlanTerm, PriceBelowPar, DesignationLimitExceeded, ShareLimitExceeded. `plan`,
    when given, must be the designation's plan (a form scoped to one plan passes it). A `submission_key` already
    recorded returns that issuance instead of recording twice.
    """
    locked_plan = _lock_plan(designation.plan_id)
    _check_designation_plan(designation_plan_id=locked_plan.pk, plan=plan)
    if submission_key is not None:
        already = Issuance.objects.filter(submission_key=submission_key).first()
        if already is not None:
            return already
    fresh = BoardDesignation.objects.select_related("participant").get(pk=designation.pk)
    values = _check_issuance(
        plan=locked_plan,
        designation=fresh,
        designation_issued=fresh.issued_shares,
        plan_issued=locked_plan.issued_shares,
        issue_date=issue_date,
        shares=shares,
        price=price_per_share,
        kind=kind,
        debt_amount=debt_amount,
        debt_reference=debt_reference,
        notes=notes,
    )
    issuance = Issuance(designation=fresh, submission_key=submission_key, recorded_by=by, **values)
    _save(issuance, by=by)
    _add_to_issued(plan=locked_plan, designation=fresh, shares=values["shares"])
    return issuance


BULK_BATCH_SIZE = 2000


@transaction.atomic
def issuance_record_many(
    *, rows: list[dict], by: AbstractBaseUser | None, plan: Plan | None = None
) -> list[Issuance]:
    """Record a batch of issuances all or nothing, with the same rules and messages as issuance_record.

    Each row is a dict of issuance_record's arguments: `designation` (a BoardDesignation or its pk),
    `issue_date`, `shares`, `price_per_share`, and optionally `kind`, `debt_amount`, `debt_reference`, `notes`.
    `plan`, when given, is the plan every row's designation must belong to.

    Locks every involved Plan row once, in ascending pk order (one SELECT ... FOR UPDATE), then reads the involved
    designations in one query. Every row is checked by _check_issuance against RUNNING totals: the plan's and the
    designation's issued shares plus the rows before it in the batch that passed. When any row fails, raises
    BatchRefused, whose `row_errors` name every bad row (its index in `rows`) with the message issuance_record
    would give, before anything is written. Otherwise bulk-inserts the issuances and their history rows (with
    `by` as history_user) and moves each involved designation's counter and each plan's counter once (F()
    updates). The query count does not grow with the rows beyond the insert batches of BULK_BATCH_SIZE rows.
    """
    if not rows:
        return []
    designation_ids = []
    known_plan_ids: dict[int, int] = {}
    for row in rows:
        designation = row["designation"]
        designation_id = designation.pk if isinstance(designation, BoardDesignation) else designation
        designation_ids.append(designation_id)
        if isinstance(designation, BoardDesignation):
            known_plan_ids[designation_id] = designation.plan_id
    unknown = set(designation_ids) - set(known_plan_ids)
    if unknown and plan is None:
        # A designation's plan never changes, so reading it before the lock is safe.
        known_plan_ids.update(BoardDesignation.objects.filter(pk__in=unknown).values_list("pk", "plan_id"))
    plan_ids = {plan.pk} if plan is not None else set(known_plan_ids.values())
    plans = {locked.pk: locked for locked in Plan.objects.select_for_update().filter(pk__in=plan_ids).order_by("pk")}
    designations = BoardDesignation.objects.select_related("participant").in_bulk(set(designation_ids))

    plan_issued = {pk: locked.issued_shares for pk, locked in plans.items()}
    designation_issued = {pk: designation.issued_shares for pk, designation in designations.items()}
    errors: list[tuple[int, str]] = []
    issuances: list[Issuance] = []
    for index, (row, designation_id) in enumerate(zip(rows, designation_ids)):
        try:
            fresh = designations.get(designation_id)
            if fresh is None:
                raise DesignationNotApproved("That designation does not exist.", field="designation")
            _check_designation_plan(designation_plan_id=fresh.plan_id, plan=plan)
            locked_plan = plans[fresh.plan_id]
            values = _check_issuance(
                plan=locked_plan,
                designation=fresh,
                designation_issued=designation_issued[fresh.pk],
                plan_issued=plan_issued[locked_plan.pk],
                issue_date=row["issue_date"],
                shares=row["shares"],
                price=row["price_per_share"],
                kind=row.get("kind", Issuance.Kind.COMPENSATION),
                debt_amount=row.get("debt_amount"),
                debt_reference=row.get("debt_reference", ""),
                notes=row.get("notes", ""),
            )
        except PlanRuleViolation as error:
            errors.append((index, " ".join(error.messages)))
            continue
        designation_issued[fresh.pk] += values["shares"]
        plan_issued[locked_plan.pk] += values["shares"]
        issuance = Issuance(designation=fresh, recorded_by=by, **values)
        issuance._history_user = by
        issuances.append(issuance)
    if errors:
        raise BatchRefused(errors, rows=len(rows))

    Issuance.objects.bulk_create(issuances, batch_size=BULK_BATCH_SIZE)
    Issuance.history.bulk_history_create(
        issuances, batch_size=BULK_BATCH_SIZE, default_user=by, default_date=timezone.now()
    )
    for pk, designation in designations.items():
        added = designation_issued[pk] - designation.issued_shares
        if added:
            BoardDesignation.objects.filter(pk=pk).update(issued_shares=F("issued_shares") + added)
            designation.issued_shares += added
    for pk, locked_plan in plans.items():
        added = plan_issued[pk] - locked_plan.issued_shares
        if added:
            Plan.objects.filter(pk=pk).update(issued_shares=F("issued_shares") + added)
            locked_plan.issued_shares += added
            if plan is not None and plan.pk == pk:
                plan.issued_shares = locked_plan.issued_shares
    return issuances


@transaction.atomic
def issuance_cancel(
    *, issuance: Issuance, cancelled_on: datetime.date, reason: str, by: AbstractBaseUser | None
) -> IssuanceCancellation:
    """Cancel an issuance in full, returning its shares to the pool and to its designation. Locks the Plan.

    Raises InvalidTransition when already cancelled, InvalidInput for a missing reason or a date before the
    issuance or in the future.
    """
    fresh = Issuance.objects.select_related("designation").get(pk=issuance.pk)
    plan = _lock_plan(fresh.designation.plan_id)
    reason = _text(reason, field="reason", label="reason for the cancellation", required=True, max_length=5000)
    cancelled_on = _date(cancelled_on, field="cancelled_on", label="cancellation date")
    if IssuanceCancellation.objects.filter(issuance=fresh).exists():
        raise InvalidTransition("This issuance is already cancelled.")
    if cancelled_on < fresh.issue_date:
        raise InvalidInput(
            f"The cancellation date may not precede the issue date, {fmt.day(fresh.issue_date)}.", field="cancelled_on"
        )
    if cancelled_on > timezone.localdate():
        raise InvalidInput("The cancellation date may not be in the future.", field="cancelled_on")
    cancellation = IssuanceCancellation(issuance=fresh, cancelled_on=cancelled_on, reason=reason, recorded_by=by)
    _save(cancellation, by=by)
    _add_to_issued(plan=plan, designation=fresh.designation, shares=-fresh.shares)
    return cancellation
