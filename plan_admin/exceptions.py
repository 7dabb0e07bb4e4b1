"""Refusals of the plan's rules. Each is a ValidationError, so forms and the admin show its message as is.

`field` names the form field the refusal is about (None for the form as a whole).
"""

from django.core.exceptions import ValidationError


class PlanRuleViolation(ValidationError):
    """Base of every refusal raised by plan_admin.services; nothing has been written when it is raised."""

    default_code = "plan_rule"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message, code=code or self.default_code)
        self.field = field


class InvalidInput(PlanRuleViolation):
    """A value that is not of the kind the ledger records (negative shares, a year 10000, an empty reason)."""

    default_code = "invalid"


class ShareLimitExceeded(PlanRuleViolation):
    """Rule 1: the plan's issued shares would exceed its authorized shares."""

    default_code = "share_limit_exceeded"


class DesignationLimitExceeded(PlanRuleViolation):
    """Rule 2: issuances to a participant in a year would exceed that year's approved designation."""

    default_code = "designation_limit_exceeded"


class PoolOverCommitted(PlanRuleViolation):
    """Rule 3: approving a designation, or reducing the reserve, would commit more shares than the pool holds."""

    default_code = "pool_over_committed"


class OutsidePlanTerm(PlanRuleViolation):
    """Rule 4: a date before the effective date, with the effective date unknown, or on/after termination."""

    default_code = "outside_plan_term"


class DesignationNotApproved(PlanRuleViolation):
    """Rule 4: an issuance needs an approved designation of the same year and plan."""

    default_code = "designation_not_approved"


class PriceBelowPar(PlanRuleViolation):
    """Rule 4: shares may not be issued below par value."""

    default_code = "price_below_par"


class DebtSettlementRefused(PlanRuleViolation):
    """A debt settlement the board did not approve: against a compensation designation, settling more debt than the
    designation names, or below the price at which the board found the consideration adequate."""

    default_code = "debt_settlement_refused"


class VoteRefused(PlanRuleViolation):
    """A vote that may not be cast: not a board member, own proposal, own designation, already voted, decided."""

    default_code = "vote_refused"


class InvalidTransition(PlanRuleViolation):
    """A lifecycle step from the wrong state: withdrawing an approved designation, cancelling twice, ..."""

    default_code = "invalid_transition"


class BatchRefused(PlanRuleViolation):
    """A batch of issuances in which at least one row breaks a rule; none of the batch has been written.

    `row_errors` lists every bad row as (index in the batch, the message the single-row service gives for it).
    """

    default_code = "batch_refused"
    MAX_ROWS_IN_MESSAGE = 20

    def __init__(self, row_errors: list[tuple[int, str]], *, rows: int):
        self.row_errors = list(row_errors)
        self.rows = rows
        first = self.row_errors[: self.MAX_ROWS_IN_MESSAGE]
        shown = "; ".join(f"row {index + 1}: {message}" for index, message in first)
        more = len(self.row_errors) - self.MAX_ROWS_IN_MESSAGE
        if more > 0:
            shown += f"; and {more:,} more"
        super().__init__(f"{len(self.row_errors):,} of {rows:,} issuances cannot be recorded, so none was: {shown}.")
