"""What every service shares: the plan lock, cleaning of input values, dates, and saving with the acting user."""

import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .. import formatting as fmt
from ..exceptions import InvalidInput, OutsidePlanTerm
from ..models import MAX_YEAR, MIN_YEAR, Plan

# The largest share count a BigIntegerField holds; anything larger is a typing error, not a grant.
MAX_SHARES = 2**63 - 1


def lock_plan(plan_id: int) -> Plan:
    """Lock and return the Plan row; every writer of ledger state takes this lock first, and only once.

    PostgreSQL: SELECT ... FOR UPDATE, held to the end of the transaction. SQLite: every transaction is IMMEDIATE
    (config/settings.py), so the database write lock is already held.
    """
    return Plan.objects.select_for_update().get(pk=plan_id)


def today() -> datetime.date:
    """Today in the company's time zone (settings.TIME_ZONE)."""
    return timezone.localdate()


def whole_shares(value, *, field: str = "shares", allow_negative: bool = False) -> int:
    """A whole number of shares from an int, a Decimal or digits; never a fraction, never zero."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise InvalidInput("Enter a whole number of shares.", field=field)
    if isinstance(value, str):
        value = value.strip()
        if not value.lstrip("+-").isascii() or not value.lstrip("+-").isdigit():
            raise InvalidInput("Enter a whole number of shares.", field=field)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise InvalidInput("Enter a whole number of shares.", field=field) from None
    if not number.is_finite() or number != number.to_integral_value():
        raise InvalidInput("Shares are whole: enter a number without a fraction.", field=field)
    number = int(number)
    if number == 0 or (number < 0 and not allow_negative):
        message = (
            "The change must add or remove at least one share." if allow_negative else "Shares must be at least 1."
        )
        raise InvalidInput(message, field=field)
    if abs(number) > MAX_SHARES:
        raise InvalidInput(f"{fmt.shares(number)} shares is more than the ledger can record.", field=field)
    return number


def money(value, *, field: str, label: str) -> Decimal:
    """Dollars as a Decimal: an int, a Decimal or a plain decimal numeral (no grouping, no currency sign)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise InvalidInput(f"Enter the {label} as a number of dollars.", field=field)
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise InvalidInput(f"Enter the {label} as a number of dollars.", field=field) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"The {label} may not be negative.", field=field)
    if amount >= Decimal("1e10"):
        raise InvalidInput(f"The {label} of {fmt.money(amount)} is more than the ledger can record.", field=field)
    return amount


def date(value, *, field: str, label: str) -> datetime.date:
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
        raise InvalidInput(f"Enter the {label} as a date.", field=field)
    return value


def not_in_future(on: datetime.date, *, field: str, what: str) -> datetime.date:
    if on > today():
        raise InvalidInput(
            f"{what} may not be dated in the future: {fmt.day(on)} is after today, {fmt.day(today())}.", field=field
        )
    return on


def text(value, *, field: str, label: str, required: bool = False, max_length: int | None = None) -> str:
    cleaned = (value or "").strip() if isinstance(value, str) or value is None else None
    if cleaned is None:
        raise InvalidInput(f"Enter the {label} as text.", field=field)
    if required and not cleaned:
        raise InvalidInput(f"Enter the {label}.", field=field)
    if "\ufffd" in cleaned or "\x00" in cleaned:
        # U+FFFD is what a request or file that was not UTF-8 decodes to: the original characters are lost.
        raise InvalidInput(f"{label.capitalize()}: some characters could not be read; enter UTF-8 text.", field=field)
    if max_length is not None and len(cleaned) > max_length:
        raise InvalidInput(f"The {label} may be at most {max_length:,} characters.", field=field)
    return cleaned


def year(value, *, plan: Plan) -> int:
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


def check_within_term(plan: Plan, on: datetime.date, *, what: str, field: str = "issue_date") -> None:
    if plan.effective_date is None:
        raise OutsidePlanTerm(f"The plan's effective date is not yet recorded: no {what} until it is.", field=field)
    if on < plan.effective_date:
        raise OutsidePlanTerm(
            f"{fmt.day(on)} is before the plan's effective date, {fmt.day(plan.effective_date)}.", field=field
        )
    if plan.termination_date and on >= plan.termination_date:
        raise OutsidePlanTerm(
            f"The plan was terminated on {fmt.day(plan.termination_date)}: no {what} on or after that date.",
            field=field,
        )


def check_record_date(plan: Plan, on: datetime.date, *, from_records: bool, field: str, what: str) -> None:
    """Rows entered from records lie before the plan's ledger start date; rows recorded here lie on or after it.

    `what` names the row in a sentence ("An issuance"). Raises InvalidInput.
    """
    start = plan.ledger_start_date
    if from_records:
        if start is None:
            raise InvalidInput(
                "This plan has no ledger start date, so its whole history is recorded here: there is nothing to "
                "enter from records.",
                field=field,
            )
        if on >= start:
            raise InvalidInput(
                f"{what} entered from records must be dated before the plan's ledger start date, {fmt.day(start)}; "
                f"{fmt.day(on)} is not. Record it as a current entry instead.",
                field=field,
            )
    elif start is not None and on < start:
        raise InvalidInput(
            f"{fmt.day(on)} is before the plan's ledger start date, {fmt.day(start)}: enter it as a past record, "
            "with the document it comes from.",
            field=field,
        )


def source_reference(value, *, from_records: bool) -> str:
    """The document a row entered from records comes from: required for such rows, empty for the others."""
    cleaned = text(value, field="source_reference", label="source document", max_length=300)
    if from_records and not cleaned:
        raise InvalidInput(
            "Name the document this record comes from (minutes, a written consent, a stock ledger page).",
            field="source_reference",
        )
    return cleaned if from_records else ""


def save(instance, *, by: AbstractBaseUser | None, **kwargs) -> None:
    """Save with `by` as the history's acting user, whatever request (or none) is running."""
    instance._history_user = by
    instance.save(**kwargs)
