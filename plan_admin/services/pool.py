"""The plan's share pool: its counters, and the check every commitment passes (DESIGN rules 1 and 3).

At every moment: issued + committed <= authorized, where committed is the unissued balance of every approved
designation that has not lapsed, of any year. Approving a designation adds to committed; issuing moves shares
from committed to issued; cancelling moves them back (or frees them, if the designation has lapsed); a lapse frees
them; a reserve decrease lowers authorized. Callers hold the plan lock (plan_admin.services._common.lock_plan).
"""

from django.db.models import F

from .. import formatting as fmt
from ..exceptions import PoolOverCommitted
from ..models import BoardDesignation, Plan
from ..selectors import committed_by_year


def move_counters(plan: Plan, *, authorized: int = 0, issued: int = 0, committed: int = 0) -> None:
    """Add to the locked plan's counters in one UPDATE, and keep the instance in step."""
    changes = {}
    for name, delta in (("authorized_shares", authorized), ("issued_shares", issued), ("committed_shares", committed)):
        if delta:
            changes[name] = F(name) + delta
            setattr(plan, name, getattr(plan, name) + delta)
    if changes:
        Plan.objects.filter(pk=plan.pk).update(**changes)


def move_designation_issued(designation: BoardDesignation, shares: int) -> None:
    BoardDesignation.objects.filter(pk=designation.pk).update(issued_shares=F("issued_shares") + shares)
    designation.issued_shares += shares


def commitments_in_words(plan: Plan) -> str:
    """The plan's committed shares by designation year, e.g. "2025: 100,000; 2026: 8,850,000"."""
    by_year = committed_by_year(plan_id=plan.pk)
    return "; ".join(f"{year}: {fmt.shares(shares)}" for year, shares in by_year) or "none"


def refuse_over_commitment(plan: Plan, *, adding: int, action: str) -> None:
    """Raise PoolOverCommitted when committing `adding` more shares would exceed the authorized shares.

    `action` says what is being done, as the start of a sentence: "Approving 500,000 shares for Dana in 2025".
    """
    available = plan.available_shares
    if adding <= available:
        return
    raise PoolOverCommitted(
        f"{action} would over-commit the plan: of {fmt.shares(plan.authorized_shares)} authorized shares, "
        f"{fmt.shares(plan.issued_shares)} are issued and {fmt.shares(plan.committed_shares)} are committed to "
        f"approved designations ({commitments_in_words(plan)}), so {fmt.shares(max(available, 0))} remain.",
        field="shares",
    )
