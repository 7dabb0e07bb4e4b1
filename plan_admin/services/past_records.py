"""History entered from records: a plan adopted before plan-admin keeps its earlier board decisions and grants.

The plan's ledger start date divides its history: from that date on this app is the book of record; before it,
staff enter past designations (already decided), reserve changes, issuances and cancellations from the source
documents, each with the board's decision date and the document's reference, marked as entered from records. The
same rules hold for them as for everything else (the pool, the designation, the plan's term), and each waits on
the board's page until a board member confirms it (a RecordConfirmation). Past issuances and cancellations go
through services.issuance_record / issuance_cancel with `from_records=True`.
"""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .. import formatting as fmt
from ..exceptions import InvalidInput, InvalidTransition, VoteRefused
from ..models import (
    BoardDesignation,
    DecisionSource,
    Issuance,
    IssuanceCancellation,
    Participant,
    Plan,
    RecordConfirmation,
    ShareReserveChange,
    VoteDecision,
)
from ..roles import is_board_member
from . import _common, decisions
from .designations import _approve, _clean_proposal, _refuse_closed_year, consideration_finding, save_new_designation
from .plan import apply_reserve_change


@transaction.atomic
def plan_set_ledger_start(*, plan: Plan, ledger_start_date: datetime.date | None, by: AbstractBaseUser | None) -> Plan:
    """Set (or move, or clear) the date from which plan-admin is the plan's book of record. Locks the Plan.

    Raises InvalidInput when rows recorded here would fall before the new date, or rows entered from records on or
    after it (clearing it while such rows exist included).
    """
    locked = _common.lock_plan(plan.pk)
    if ledger_start_date is not None:
        ledger_start_date = _common.date(ledger_start_date, field="ledger_start_date", label="ledger start date")
        _common.not_in_future(ledger_start_date, field="ledger_start_date", what="The ledger start date")
    issuances = Issuance.objects.filter(designation__plan=locked)
    cancellations = IssuanceCancellation.objects.filter(issuance__designation__plan=locked)
    designations = BoardDesignation.objects.filter(plan=locked, decided_on__isnull=False)
    reserve = ShareReserveChange.objects.filter(plan=locked, proposal__isnull=False)
    from_records = (
        issuances.filter(entered_from_records=True).exists()
        or cancellations.filter(entered_from_records=True).exists()
        or designations.filter(decision_source=DecisionSource.RECORDS).exists()
        or ShareReserveChange.objects.filter(plan=locked, entered_from_records=True).exists()
    )
    if ledger_start_date is None:
        if from_records:
            raise InvalidInput(
                "History has been entered from records for this plan: its ledger start date stays.",
                field="ledger_start_date",
            )
    else:
        day = ledger_start_date
        recorded_here_before = (
            issuances.filter(entered_from_records=False, issue_date__lt=day).count()
            + cancellations.filter(entered_from_records=False, cancelled_on__lt=day).count()
            + designations.filter(
                decision_source__in=[DecisionSource.VOTES, DecisionSource.RESOLUTION], decided_on__lt=day
            ).count()
            + reserve.filter(board_approval_date__lt=day).count()
        )
        if recorded_here_before:
            raise InvalidInput(
                f"{recorded_here_before:,} record(s) made in plan-admin are dated before {fmt.day(day)}: the ledger "
                "start date cannot follow them.",
                field="ledger_start_date",
            )
        past_after = (
            issuances.filter(entered_from_records=True, issue_date__gte=day).count()
            + cancellations.filter(entered_from_records=True, cancelled_on__gte=day).count()
            + designations.filter(decision_source=DecisionSource.RECORDS, decided_on__gte=day).count()
            + ShareReserveChange.objects.filter(
                plan=locked, entered_from_records=True, board_approval_date__gte=day
            ).count()
        )
        if past_after:
            raise InvalidInput(
                f"{past_after:,} record(s) entered from records are dated on or after {fmt.day(day)}: the ledger "
                "start date must follow them.",
                field="ledger_start_date",
            )
    locked.ledger_start_date = ledger_start_date
    _common.save(locked, by=by, update_fields=["ledger_start_date"])
    plan.ledger_start_date = ledger_start_date
    return locked


@transaction.atomic
def past_designation_record(
    *,
    plan: Plan,
    participant: Participant,
    year: int,
    shares: int,
    factors_considered: str,
    decision: str,
    decided_on: datetime.date,
    decision_reference: str,
    kind: str = BoardDesignation.Kind.COMPENSATION,
    debt_amount=None,
    debt_reference: str = "",
    price_per_share=None,
    by: AbstractBaseUser | None,
) -> BoardDesignation:
    """Enter a designation the board decided before the plan's ledger start date, from its records. Locks the Plan.

    `decision` is approve or reject; `decided_on` the date the board acted (before the ledger start date, not in
    the future, within the plan's term), `decision_reference` the minutes or written consent. An approved one is
    checked against the pool like any approval (rule 3) and commits its shares. It waits for a board member's
    confirmation before anything new is issued against it. A debt settlement (`kind`, with its debt and price, as
    for designation_propose) records the board's finding on the consideration as the records give it. Raises
    what designation_propose raises, plus
    InvalidInput for the decision's date and reference and PoolOverCommitted.
    """
    locked = _common.lock_plan(plan.pk)
    participant = Participant.objects.get(pk=participant.pk)
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
    if decision not in VoteDecision.values:
        raise InvalidInput("Choose whether the board approved or rejected it.", field="decision")
    decided = decisions.decided_from_records(decided_on=decided_on, decision_reference=decision_reference, plan=locked)
    _refuse_closed_year(locked, terms["year"], doing="no designation can be entered for it")
    status = BoardDesignation.Status.APPROVED if decision == VoteDecision.APPROVE else BoardDesignation.Status.REJECTED
    designation = BoardDesignation(**terms, **decided, status=status, proposed_by=by)
    if status == BoardDesignation.Status.APPROVED:
        _approve(locked, designation)
        if designation.is_debt_settlement:
            designation.consideration_finding = consideration_finding(
                locked, designation, decided_on=decided["decided_on"], reference=decided["decision_reference"]
            )
    save_new_designation(designation, by=by)
    return designation


@transaction.atomic
def past_reserve_change_record(
    *,
    plan: Plan,
    shares: int,
    board_approval_date: datetime.date,
    resolution_reference: str,
    note: str = "",
    by: AbstractBaseUser | None,
) -> ShareReserveChange:
    """Enter a change to the share reserve the board decided before the ledger start date. Locks the Plan.

    Raises InvalidInput (zero shares, a date on or after the ledger start date or in the future, a missing
    reference), PoolOverCommitted (a decrease below what is issued and committed), OutsidePlanTerm (terminated).
    """
    locked = _common.lock_plan(plan.pk)
    shares = _common.whole_shares(shares, allow_negative=True)
    decided = decisions.decided_from_records(
        decided_on=board_approval_date, decision_reference=resolution_reference, plan=locked
    )
    return apply_reserve_change(
        locked,
        shares=shares,
        board_approval_date=decided["decided_on"],
        resolution_reference=decided["decision_reference"],
        note=_common.text(note, field="note", label="note", max_length=10_000),
        by=by,
        entered_from_records=True,
    )


_RECORD_FIELD = {
    BoardDesignation: "designation",
    ShareReserveChange: "reserve_change",
    Issuance: "issuance",
    IssuanceCancellation: "cancellation",
}


def _plan_id_of(record) -> int:
    if isinstance(record, BoardDesignation | ShareReserveChange):
        return record.plan_id
    if isinstance(record, Issuance):
        return BoardDesignation.objects.filter(pk=record.designation_id).values_list("plan_id", flat=True).get()
    return Issuance.objects.filter(pk=record.issuance_id).values_list("designation__plan_id", flat=True).get()


def _is_from_records(record) -> bool:
    if isinstance(record, BoardDesignation):
        return record.decision_source == DecisionSource.RECORDS
    return record.entered_from_records


def _designated_user_id(record) -> int | None:
    if isinstance(record, BoardDesignation):
        return record.designated_user_id
    if isinstance(record, Issuance):
        return (
            BoardDesignation.objects.filter(pk=record.designation_id).values_list("designated_user_id", flat=True).get()
        )
    return None


@transaction.atomic
def past_record_confirm(*, record, by: AbstractBaseUser, comment: str = "") -> RecordConfirmation:
    """A board member confirms one row entered from records against its source document. Locks the Plan.

    `record` is a BoardDesignation, ShareReserveChange, Issuance or IssuanceCancellation entered from records.
    Raises VoteRefused (not a member of the board group; the member the record designates or issues to; the
    member who entered it), InvalidTransition (not entered from records, or already confirmed).
    """
    field = _RECORD_FIELD.get(type(record))
    if field is None:
        raise InvalidInput("Only designations, reserve changes, issuances and cancellations are confirmed.")
    _common.lock_plan(_plan_id_of(record))
    fresh = type(record).objects.get(pk=record.pk)
    comment = _common.text(comment, field="comment", label="comment", max_length=5000)
    if not is_board_member(by):
        raise VoteRefused("Only members of the board confirm history entered from records.")
    if not _is_from_records(fresh):
        raise InvalidTransition(
            "This record was made in plan-admin, not entered from records: there is nothing to confirm."
        )
    if RecordConfirmation.objects.filter(**{field: fresh}).exists():
        raise InvalidTransition("This record is already confirmed.")
    entered_by = fresh.proposed_by_id if isinstance(fresh, BoardDesignation) else fresh.recorded_by_id
    if entered_by == by.pk:
        raise VoteRefused("You entered this record, so another board member confirms it.")
    if _designated_user_id(fresh) == by.pk:
        raise VoteRefused("This record concerns your own designation, so another board member confirms it.")
    confirmation = RecordConfirmation(**{field: fresh}, confirmed_by=by, comment=comment)
    confirmation.save()
    return confirmation
