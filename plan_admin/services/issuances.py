"""Issuances and their cancellations (DESIGN rules 1, 2 and 4).

What does not depend on the locked state (cleaning the values, reading the designation's fixed terms) is done
before the plan lock is taken; under the lock, the service re-reads the counters and the designation's status,
checks, writes, and moves the counters.
"""

import datetime
import uuid
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from .. import formatting as fmt
from ..exceptions import (
    BatchRefused,
    DebtSettlementRefused,
    DesignationLimitExceeded,
    DesignationNotApproved,
    InvalidInput,
    InvalidTransition,
    PlanRuleViolation,
    PriceBelowPar,
    ShareLimitExceeded,
)
from ..models import BoardDesignation, Issuance, IssuanceCancellation, Plan, RecordConfirmation
from . import _common, ledger_sql, pool

Status = BoardDesignation.Status
BULK_BATCH_SIZE = 2000


def clean_issuance_values(
    *,
    issue_date,
    shares,
    price,
    kind,
    debt_amount,
    debt_reference,
    notes,
    from_records: bool = False,
    source_reference: str = "",
    reference: str = "",
) -> dict:
    """The issuance's own values, cleaned; no ledger state is read. Raises InvalidInput."""
    values = {
        "shares": _common.whole_shares(shares),
        "issue_date": _common.date(issue_date, field="issue_date", label="issue date"),
        "price_per_share": _common.money(price, field="price_per_share", label="price per share"),
        "debt_reference": _common.text(debt_reference, field="debt_reference", label="debt reference", max_length=200),
        "notes": _common.text(notes, field="notes", label="notes", max_length=10_000),
        "reference": _common.text(reference, field="reference", label="reference", max_length=100),
        "entered_from_records": bool(from_records),
        "source_reference": _common.source_reference(source_reference, from_records=from_records),
    }
    _common.not_in_future(values["issue_date"], field="issue_date", what="An issuance")
    if kind == Issuance.Kind.DEBT_SETTLEMENT:
        if debt_amount in (None, ""):
            raise InvalidInput("A debt settlement needs the amount of debt settled.", field="debt_amount")
        debt_amount = _common.money(debt_amount, field="debt_amount", label="debt amount")
        if debt_amount == 0:
            raise InvalidInput("The debt settled must be more than $0.", field="debt_amount")
        if not values["debt_reference"]:
            raise InvalidInput(
                "A debt settlement needs a reference to the debt (invoice, note).", field="debt_reference"
            )
    elif kind == Issuance.Kind.COMPENSATION:
        if debt_amount not in (None, ""):
            raise InvalidInput("Only a debt settlement records a debt amount.", field="debt_amount")
        debt_amount = None
    else:
        raise InvalidInput("Choose compensation or debt settlement.", field="kind")
    values["kind"] = kind
    values["debt_amount"] = debt_amount
    return values


def check_issuance(
    *,
    plan: Plan,
    designation: BoardDesignation,
    values: dict,
    designation_issued: int,
    plan_issued: int,
    confirmed: bool,
    debt_settled: Decimal = Decimal(0),
) -> None:
    """Check one cleaned issuance against the locked plan and the designation as read under the lock.

    `plan_issued` / `designation_issued` are the shares issued so far (the counters, plus any earlier rows of a
    batch); `confirmed` says whether a designation entered from records has been confirmed by the board;
    `debt_settled` the debt already settled against a debt-settlement designation (standing issuances, plus any
    earlier rows of a batch). The one place the per-issuance rules are written: issuance_record and
    issuance_record_many both call it.
    """
    issue_date, shares = values["issue_date"], values["shares"]
    from_records = values["entered_from_records"]
    if designation.status == Status.LAPSED:
        raise DesignationNotApproved(
            f"The {designation.year} designation of {designation.participant} has lapsed: no shares may be issued "
            "against it.",
            field="designation",
        )
    if designation.status != Status.APPROVED:
        raise DesignationNotApproved(
            f"The {designation.year} designation of {designation.participant} is "
            f"{designation.get_status_display().lower()}, not approved: no shares may be issued against it.",
            field="designation",
        )
    if designation.is_from_records and not confirmed and not from_records:
        raise DesignationNotApproved(
            f"The {designation.year} designation of {designation.participant} was entered from records and awaits a "
            "board member's confirmation: no new shares may be issued against it until then.",
            field="designation",
        )
    _common.check_record_date(plan, issue_date, from_records=from_records, field="issue_date", what="An issuance")
    _common.check_within_term(plan, issue_date, what="shares may be issued")
    if issue_date.year != designation.year:
        raise DesignationNotApproved(
            f"This designation is for {designation.year}; shares issued on {fmt.day(issue_date)} need a designation "
            f"for {issue_date.year}.",
            field="issue_date",
        )
    if designation.decided_on and issue_date < designation.decided_on:
        raise DesignationNotApproved(
            f"The board approved this designation on {fmt.day(designation.decided_on)}: shares cannot be issued "
            f"against it on {fmt.day(issue_date)}, before its decision.",
            field="issue_date",
        )
    if values["price_per_share"] < plan.par_value:
        raise PriceBelowPar(
            f"The price of {fmt.money(values['price_per_share'])} per share is below the par value of "
            f"{fmt.money(plan.par_value)}.",
            field="price_per_share",
        )
    _check_debt_settlement(plan=plan, designation=designation, values=values, debt_settled=debt_settled)
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


def _check_debt_settlement(*, plan: Plan, designation: BoardDesignation, values: dict, debt_settled: Decimal) -> None:
    """A debt settlement is made against a designation for a debt settlement, whose approval records the board's
    finding that cancelling the debt is adequate consideration; it settles no more debt than that designation
    names, at no lower price than the board approved; and the debt it cancels pays for its shares at its price."""
    who = f"the {designation.year} designation of {designation.participant}"
    settles = values["kind"] == Issuance.Kind.DEBT_SETTLEMENT
    if not settles:
        if designation.is_debt_settlement:
            raise DebtSettlementRefused(
                f"{who[0].upper()}{who[1:]} is for the settlement of {fmt.money(designation.debt_amount)} of debt "
                f"({designation.debt_reference}): record this issuance as a debt settlement.",
                field="kind",
            )
        return
    if not designation.is_debt_settlement:
        raise DebtSettlementRefused(
            f"This issuance settles debt, but {who} is for compensation: a debt settlement must be made against a "
            "designation for that debt, whose approval records the board's finding that cancelling it is adequate "
            "consideration for the shares.",
            field="kind",
        )
    amount = values["debt_amount"]
    left = designation.debt_amount - debt_settled
    if amount > left:
        raise DebtSettlementRefused(
            f"This issuance would settle {fmt.money(amount)} of debt, more than the board approved: {who} names "
            f"{fmt.money(designation.debt_amount)} of debt ({designation.debt_reference}), of which "
            f"{fmt.money(debt_settled)} is already settled, so {fmt.money(max(left, Decimal(0)))} remain.",
            field="debt_amount",
        )
    price = values["price_per_share"]
    if price < designation.price_per_share:
        raise DebtSettlementRefused(
            f"The price of {fmt.money(price)} per share is below the {fmt.money(designation.price_per_share)} per "
            f"share at which the board found the debt adequate consideration ({who}).",
            field="price_per_share",
        )
    value = values["shares"] * price
    if value > amount:
        raise DebtSettlementRefused(
            f"{fmt.shares(values['shares'])} shares at {fmt.money(price)} per share come to {fmt.money(value)}, more "
            f"than the {fmt.money(amount)} of debt this issuance settles.",
            field="debt_amount",
        )


def debt_settled_by(designation_ids) -> dict[int, Decimal]:
    """Debt settled so far (standing debt-settlement issuances) per designation, in one query."""
    rows = (
        Issuance.objects.standing()
        .filter(designation_id__in=designation_ids, kind=Issuance.Kind.DEBT_SETTLEMENT)
        .values("designation_id")
        .annotate(total=Sum("debt_amount"))
    )
    return {row["designation_id"]: row["total"] or Decimal(0) for row in rows}


def _check_designation_plan(*, designation_plan_id: int, plan: Plan | None) -> None:
    if plan is not None and plan.pk != designation_plan_id:
        raise DesignationNotApproved("That designation belongs to another plan.", field="designation")


def _is_confirmed(designation: BoardDesignation) -> bool:
    return not designation.is_from_records or RecordConfirmation.objects.filter(designation=designation).exists()


# --- submission keys: a resubmitted form records once, and only the values it was first sent with ---------------

_COMPARED = (
    "issue_date",
    "shares",
    "kind",
    "price_per_share",
    "debt_amount",
    "debt_reference",
    "notes",
    "entered_from_records",
    "source_reference",
    "reference",
)


def _refuse_taken_reference(plan_id: int, reference: str, *, taken_by: int | None) -> None:
    if taken_by is not None:
        raise InvalidInput(
            f"The reference {reference!r} is already the reference of issuance #{taken_by} in this plan: a grant's "
            "reference is unique within its plan.",
            field="reference",
        )


def _taken_references(plan_ids, references) -> dict[tuple[int, str], int]:
    """(plan id, reference) -> the issuance that has it, for the non-empty `references` in these plans."""
    references = {reference for reference in references if reference}
    if not references:
        return {}
    rows = Issuance.objects.filter(designation__plan_id__in=plan_ids, reference__in=references).values_list(
        "designation__plan_id", "reference", "pk"
    )
    return {(plan_id, reference): pk for plan_id, reference, pk in rows}


def _replayed(existing: Issuance, *, designation_id: int, values: dict, by) -> Issuance:
    """Return `existing` when this is the same submission again; refuse a key reused for anything else."""
    if existing.recorded_by_id != getattr(by, "pk", None):
        raise InvalidTransition(
            "This form was already submitted by another user. Open a new form to record an issuance.",
            field="submission_key",
        )
    same = existing.designation_id == designation_id and all(
        getattr(existing, name) == values[name] for name in _COMPARED
    )
    if same:
        return existing
    raise InvalidTransition(
        f"This form was already submitted, and recorded issuance #{existing.pk}: {fmt.shares(existing.shares)} "
        f"shares to {existing.designation.participant} on {fmt.day(existing.issue_date)} at "
        f"{fmt.money(existing.price_per_share)} per share. Nothing else was recorded. To record a different "
        "issuance, open a new form; to correct that one, cancel it.",
        field="submission_key",
    )


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
    from_records: bool = False,
    source_reference: str = "",
    reference: str = "",
    by: AbstractBaseUser | None,
) -> Issuance:
    """Record shares issued against an approved designation. Locks the Plan.

    Rules 1, 2 and 4 (check_issuance, shared with issuance_record_many): the plan's issued shares stay within its
    authorized shares and the designation's within its designated shares; the date lies within the plan's term
    and the designation's year, on or after the board's decision, not in the future, and on the right side of the
    plan's ledger start date (`from_records` rows before it, with their `source_reference`); the price is at or
    above par; the designation is approved, not lapsed, and confirmed if it was entered from records; a debt
    settlement is against a debt-settlement designation and settles no more debt than it names. Raises
    InvalidInput, DesignationNotApproved, OutsidePlanTerm, PriceBelowPar, DebtSettlementRefused,
    DesignationLimitExceeded, ShareLimitExceeded. `plan`, when given, must be the designation's plan. A `reference`
    (the company's own grant number) is unique within the plan: one already recorded there is refused (InvalidInput).

    A `submission_key` makes a resubmitted form record once: the same key from the same user with the same values
    returns the issuance already recorded; with other values (or from another user) it raises InvalidTransition
    naming what was recorded. Two requests with one key at the same time record one row.
    """
    values = clean_issuance_values(
        issue_date=issue_date,
        shares=shares,
        price=price_per_share,
        kind=kind,
        debt_amount=debt_amount,
        debt_reference=debt_reference,
        notes=notes,
        from_records=from_records,
        source_reference=source_reference,
        reference=reference,
    )
    # Before the lock: the designation's fixed terms (plan, year, shares, participant, how it was decided never
    # change) and, for a designation entered from records, whether the board confirmed it (never undone).
    fixed = _fixed_terms(designation)
    _check_designation_plan(designation_plan_id=fixed.plan_id, plan=plan)
    confirmed = _is_confirmed(fixed)
    now = timezone.now()
    # The row and its parameters do not depend on what the lock protects: built before it, to hold it less long.
    issuance = Issuance(designation=fixed, submission_key=submission_key, recorded_by=by, recorded_at=now, **values)
    row = ledger_sql.row_values(issuance)

    locked_plan, existing, current = ledger_sql.lock_plan_and_read_designation(
        fixed.plan_id, fixed.pk, submission_key=submission_key
    )
    if existing is not None:
        return _replay(submission_key, designation_id=fixed.pk, values=values, by=by)
    if current is None:
        raise DesignationNotApproved("That designation does not exist.", field="designation")
    for name, value in current.items():  # its status, counter and decision date as they are now
        setattr(fixed, name, value)
    settled = debt_settled_by([fixed.pk]).get(fixed.pk, Decimal(0)) if fixed.is_debt_settlement else Decimal(0)
    check_issuance(
        plan=locked_plan,
        designation=fixed,
        values=values,
        designation_issued=fixed.issued_shares,
        plan_issued=locked_plan.issued_shares,
        confirmed=confirmed,
        debt_settled=settled,
    )
    if values["reference"]:
        taken = _taken_references([fixed.plan_id], [values["reference"]])
        _refuse_taken_reference(
            fixed.plan_id, values["reference"], taken_by=taken.get((fixed.plan_id, values["reference"]))
        )

    shares = values["shares"]
    counters = ledger_sql.Counters(
        plan_id=fixed.plan_id, designation_id=fixed.pk, issued=shares, committed=-shares, recorded=1
    )
    if ledger_sql.insert_issuance(issuance, by=by, when=now, counters=counters, values=row) is None:
        # Another plan's request with the same key, not serialized by this plan's lock, recorded first.
        return _replay(submission_key, designation_id=fixed.pk, values=values, by=by)
    fixed.issued_shares += shares
    if isinstance(designation, BoardDesignation) and designation is not fixed:  # the caller may give a pk
        designation.issued_shares, designation.status = fixed.issued_shares, fixed.status
    if plan is not None:
        plan.issued_shares = locked_plan.issued_shares + shares
        plan.committed_shares = locked_plan.committed_shares - shares
    return issuance


def _fixed_terms(designation: BoardDesignation) -> BoardDesignation:
    """The caller's designation if it was read from the database (its fixed terms are current: the database refuses
    any change to them), else the row read now."""
    if isinstance(designation, BoardDesignation) and not designation._state.adding and designation.plan_id:
        return designation
    pk = designation.pk if isinstance(designation, BoardDesignation) else designation
    found = BoardDesignation.objects.select_related("participant").filter(pk=pk).first()
    if found is None:
        raise DesignationNotApproved("That designation does not exist.", field="designation")
    return found


def _replay(submission_key, *, designation_id: int, values: dict, by) -> Issuance:
    already = Issuance.objects.select_related("designation__participant").get(submission_key=submission_key)
    return _replayed(already, designation_id=designation_id, values=values, by=by)


@transaction.atomic
def issuance_record_many(*, rows: list[dict], by: AbstractBaseUser | None, plan: Plan | None = None) -> list[Issuance]:
    """Record a batch of issuances all or nothing, with the same rules and messages as issuance_record.

    Each row is a dict of issuance_record's arguments: `designation` (a BoardDesignation or its pk),
    `issue_date`, `shares`, `price_per_share`, and optionally `kind`, `debt_amount`, `debt_reference`, `notes`,
    `from_records`, `source_reference`, `reference` (unique within the plan, and within the batch). `plan`, when
    given, is the plan every row's designation must belong to.

    Cleans every row first; then locks every involved Plan row once, in ascending pk order (one SELECT ... FOR
    UPDATE), and reads the involved designations in one query. Every row is checked by check_issuance against
    RUNNING totals: the plan's and the designation's issued shares plus the rows before it in the batch that
    passed. When any row fails, raises BatchRefused, whose `row_errors` name every bad row (its index in `rows`)
    with the message issuance_record would give, before anything is written. Otherwise bulk-inserts the
    issuances and their history rows (with `by` as history_user) and moves each involved designation's counter
    and each plan's counters once. The query count does not grow with the rows beyond the insert batches.
    """
    if not rows:
        return []
    errors: list[tuple[int, str]] = []
    cleaned: list[dict | None] = []
    designation_ids = []
    known_plan_ids: dict[int, int] = {}
    for index, row in enumerate(rows):
        designation = row["designation"]
        designation_id = designation.pk if isinstance(designation, BoardDesignation) else designation
        designation_ids.append(designation_id)
        if isinstance(designation, BoardDesignation):
            known_plan_ids[designation_id] = designation.plan_id
        try:
            cleaned.append(
                clean_issuance_values(
                    issue_date=row["issue_date"],
                    shares=row["shares"],
                    price=row["price_per_share"],
                    kind=row.get("kind", Issuance.Kind.COMPENSATION),
                    debt_amount=row.get("debt_amount"),
                    debt_reference=row.get("debt_reference", ""),
                    notes=row.get("notes", ""),
                    from_records=row.get("from_records", False),
                    source_reference=row.get("source_reference", ""),
                    reference=row.get("reference", ""),
                )
            )
        except PlanRuleViolation as error:
            errors.append((index, " ".join(error.messages)))
            cleaned.append(None)
    unknown = set(designation_ids) - set(known_plan_ids)
    if unknown and plan is None:
        # A designation's plan never changes (the database refuses it), so reading it before the lock is safe.
        known_plan_ids.update(BoardDesignation.objects.filter(pk__in=unknown).values_list("pk", "plan_id"))
    plan_ids = {plan.pk} if plan is not None else set(known_plan_ids.values())
    plans = {locked.pk: locked for locked in Plan.objects.select_for_update().filter(pk__in=plan_ids).order_by("pk")}
    designations = BoardDesignation.objects.select_related("participant").in_bulk(set(designation_ids))
    confirmed = set(
        RecordConfirmation.objects.filter(designation_id__in=designations).values_list("designation_id", flat=True)
    )
    taken = _taken_references(plans, [values["reference"] for values in cleaned if values])

    plan_issued = {pk: locked.issued_shares for pk, locked in plans.items()}
    designation_issued = {pk: designation.issued_shares for pk, designation in designations.items()}
    batch_references: dict[tuple[int, str], int] = {}
    debt_designations = [pk for pk, designation in designations.items() if designation.is_debt_settlement]
    debt_settled = debt_settled_by(debt_designations) if debt_designations else {}
    issuances: list[Issuance] = []
    for index, (values, designation_id) in enumerate(zip(cleaned, designation_ids, strict=True)):
        if values is None:
            continue
        try:
            fresh = designations.get(designation_id)
            if fresh is None:
                raise DesignationNotApproved("That designation does not exist.", field="designation")
            _check_designation_plan(designation_plan_id=fresh.plan_id, plan=plan)
            locked_plan = plans[fresh.plan_id]
            check_issuance(
                plan=locked_plan,
                designation=fresh,
                values=values,
                designation_issued=designation_issued[fresh.pk],
                plan_issued=plan_issued[locked_plan.pk],
                confirmed=not fresh.is_from_records or fresh.pk in confirmed,
                debt_settled=debt_settled.get(fresh.pk, Decimal(0)),
            )
            if values["reference"]:
                key = (locked_plan.pk, values["reference"])
                if key in batch_references:
                    raise InvalidInput(
                        f"The reference {values['reference']!r} is also the reference of row "
                        f"{batch_references[key] + 1} of this batch.",
                        field="reference",
                    )
                _refuse_taken_reference(*key, taken_by=taken.get(key))
                batch_references[key] = index
        except PlanRuleViolation as error:
            errors.append((index, " ".join(error.messages)))
            continue
        if values["kind"] == Issuance.Kind.DEBT_SETTLEMENT:
            debt_settled[fresh.pk] = debt_settled.get(fresh.pk, Decimal(0)) + values["debt_amount"]
        designation_issued[fresh.pk] += values["shares"]
        plan_issued[locked_plan.pk] += values["shares"]
        issuance = Issuance(designation=fresh, recorded_by=by, **values)
        issuance._history_user = by
        issuances.append(issuance)
    if errors:
        raise BatchRefused(sorted(errors), rows=len(rows))

    Issuance.objects.bulk_create(issuances, batch_size=BULK_BATCH_SIZE)
    Issuance.history.bulk_history_create(
        issuances, batch_size=BULK_BATCH_SIZE, default_user=by, default_date=timezone.now()
    )
    totals: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for issuance in issuances:
        designation = issuance.designation
        total = totals[(designation.plan_id, designation.year, designation.participant.category)]
        total[0] += issuance.shares
        total[1] += 1
    ledger_sql.move_totals({key: tuple(added) for key, added in totals.items()})
    for pk, designation in designations.items():
        added = designation_issued[pk] - designation.issued_shares
        if added:
            pool.move_designation_issued(designation, added)
    for pk, locked_plan in plans.items():
        added = plan_issued[pk] - locked_plan.issued_shares
        if added:
            pool.move_counters(locked_plan, issued=added, committed=-added)
            if plan is not None and plan.pk == pk:
                plan.issued_shares, plan.committed_shares = locked_plan.issued_shares, locked_plan.committed_shares
    return issuances


@transaction.atomic
def issuance_cancel(
    *,
    issuance: Issuance,
    cancelled_on: datetime.date,
    reason: str,
    from_records: bool = False,
    source_reference: str = "",
    by: AbstractBaseUser | None,
) -> IssuanceCancellation:
    """Cancel an issuance in full, returning its shares to its designation and to the pool. Locks the Plan.

    Like issuance_record, it reads the issuance's fixed terms before the lock and, under it, sends one locking read,
    one read of the designation's status and of any cancellation, one insert (the row and its history) and one
    update of the counters (services/ledger_sql.py). If the designation is approved, its unissued balance grows
    again and so does the plan's committed counter;
    if it has lapsed, the shares are free. Raises InvalidTransition when already cancelled, InvalidInput for a
    missing reason, a date before the issuance or in the future, or on the wrong side of the ledger start date.
    """
    reason = _common.text(reason, field="reason", label="reason for the cancellation", required=True, max_length=5000)
    cancelled_on = _common.date(cancelled_on, field="cancelled_on", label="cancellation date")
    _common.not_in_future(cancelled_on, field="cancelled_on", what="A cancellation")
    source = _common.source_reference(source_reference, from_records=from_records)
    # Before the lock: the issuance's fixed terms (its designation, plan, shares and date never change).
    fixed = (
        Issuance.objects.filter(pk=issuance.pk)
        .values("designation_id", "designation__plan_id", "shares", "issue_date")
        .first()
    )
    if fixed is None:
        raise InvalidInput("There is no such issuance.")
    now = timezone.now()

    plan, status, already_cancelled = ledger_sql.lock_plan_and_read_cancellation_state(
        fixed["designation__plan_id"], issuance_id=issuance.pk, designation_id=fixed["designation_id"]
    )
    if already_cancelled:
        raise InvalidTransition("This issuance is already cancelled.")
    if cancelled_on < fixed["issue_date"]:
        raise InvalidInput(
            f"The cancellation date may not precede the issue date, {fmt.day(fixed['issue_date'])}.",
            field="cancelled_on",
        )
    _common.check_record_date(
        plan, cancelled_on, from_records=from_records, field="cancelled_on", what="A cancellation"
    )
    cancellation = IssuanceCancellation(
        issuance_id=issuance.pk,
        cancelled_on=cancelled_on,
        reason=reason,
        entered_from_records=bool(from_records),
        source_reference=source,
        recorded_by=by,
        recorded_at=now,
    )
    shares = fixed["shares"]
    recommitted = shares if status == Status.APPROVED else 0  # a lapsed designation's shares go back to the pool
    ledger_sql.insert_with_history(
        cancellation,
        by=by,
        when=now,
        counters=ledger_sql.Counters(
            plan_id=plan.pk,
            designation_id=fixed["designation_id"],
            issued=-shares,
            committed=recommitted,
            cancelled=1,
        ),
    )
    return cancellation
