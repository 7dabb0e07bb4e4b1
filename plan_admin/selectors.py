"""Reads of the ledger: the pool's status, commitments by year, what awaits the board. Nothing here writes."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet, Sum

from .models import (
    BoardDesignation,
    DecisionSource,
    DesignationTotal,
    Issuance,
    IssuanceCancellation,
    IssuanceTotal,
    Plan,
    PlanProposal,
    ShareReserveChange,
)

# Below this share of the authorized shares left available, pages say the pool is running low.
LOW_POOL_FRACTION = 0.05


@dataclass(frozen=True)
class PoolStatus:
    """The share pool of one plan: authorized, issued, and committed to approved designations of every year."""

    authorized: int
    issued: int
    committed: int
    committed_by_year: tuple[tuple[int, int], ...] = field(default=())  # (year, unissued approved shares), oldest first

    @property
    def available(self) -> int:
        return self.authorized - self.issued - self.committed

    @property
    def issued_percent(self) -> float:
        return 100.0 * self.issued / self.authorized if self.authorized else 0.0

    @property
    def committed_percent(self) -> float:
        return 100.0 * self.committed / self.authorized if self.authorized else 0.0

    @property
    def fully_committed(self) -> bool:
        return self.available <= 0

    @property
    def low(self) -> bool:
        return not self.fully_committed and self.available <= LOW_POOL_FRACTION * self.authorized


def committed_by_year(*, plan_id: int) -> list[tuple[int, int]]:
    """(year, unissued balance of approved designations) for one plan, oldest first, in one query."""
    rows = (
        BoardDesignation.objects.filter(plan_id=plan_id, status=BoardDesignation.Status.APPROVED)
        .values("year")
        .annotate(total=Sum(F("shares") - F("issued_shares")))
        .order_by("year")
    )
    return [(row["year"], row["total"]) for row in rows if row["total"]]


def committed_by_plan_year() -> dict[int, list[tuple[int, int]]]:
    """committed_by_year for every plan, in one query."""
    rows = (
        BoardDesignation.objects.filter(status=BoardDesignation.Status.APPROVED)
        .values("plan_id", "year")
        .annotate(total=Sum(F("shares") - F("issued_shares")))
        .order_by("plan_id", "year")
    )
    by_plan: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        if row["total"]:
            by_plan[row["plan_id"]].append((row["year"], row["total"]))
    return by_plan


def pool_of(plan: Plan, by_year: list[tuple[int, int]] | None = None) -> PoolStatus:
    """The pool from the plan's counters (read with the plan), with its commitments by year."""
    if by_year is None:
        by_year = committed_by_year(plan_id=plan.pk)
    return PoolStatus(
        authorized=plan.authorized_shares,
        issued=plan.issued_shares,
        committed=plan.committed_shares,
        committed_by_year=tuple(by_year),
    )


def pool_status(*, plan: Plan) -> PoolStatus:
    return pool_of(plan)


def plans_with_pool() -> list[tuple[Plan, PoolStatus]]:
    """Every plan with its pool, in two queries."""
    by_plan = committed_by_plan_year()
    return [(plan, pool_of(plan, by_plan.get(plan.pk, []))) for plan in Plan.objects.all()]


def designations_awaiting_vote(*, user) -> QuerySet[BoardDesignation]:
    """Proposed designations this user may still vote on: not their own proposal, not themselves, not voted."""
    return (
        BoardDesignation.objects.filter(status=BoardDesignation.Status.PROPOSED)
        .exclude(proposed_by=user)
        .exclude(designated_user=user)
        .exclude(votes__voter=user)
        .select_related("plan", "participant", "proposed_by")
        .order_by("plan_id", "-year", "participant__name")
    )


def proposals_awaiting_vote(*, user) -> QuerySet[PlanProposal]:
    """Proposals to change a plan that this user may still vote on."""
    return (
        PlanProposal.objects.filter(status=PlanProposal.Status.PROPOSED)
        .exclude(proposed_by=user)
        .exclude(votes__voter=user)
        .select_related("plan", "proposed_by")
        .order_by("plan_id", "proposed_at", "pk")
    )


def open_designations_query() -> Q:
    return Q(status__in=[BoardDesignation.Status.PROPOSED, BoardDesignation.Status.APPROVED])


@dataclass
class UnconfirmedRecords:
    """History entered from records that no board member has confirmed yet."""

    designations: list = field(default_factory=list)
    reserve_changes: list = field(default_factory=list)
    issuances: list = field(default_factory=list)
    cancellations: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.designations) + len(self.reserve_changes) + len(self.issuances) + len(self.cancellations)


def unconfirmed_records(*, plan: Plan | None = None, limit: int = 200) -> UnconfirmedRecords:
    """Rows entered from records and not yet confirmed, oldest first (at most `limit` of each kind)."""
    designations = BoardDesignation.objects.filter(decision_source=DecisionSource.RECORDS, confirmation__isnull=True)
    reserve = ShareReserveChange.objects.filter(entered_from_records=True, confirmation__isnull=True)
    issuances = Issuance.objects.filter(entered_from_records=True, confirmation__isnull=True)
    cancellations = IssuanceCancellation.objects.filter(entered_from_records=True, confirmation__isnull=True)
    if plan is not None:
        designations = designations.filter(plan=plan)
        reserve = reserve.filter(plan=plan)
        issuances = issuances.filter(designation__plan=plan)
        cancellations = cancellations.filter(issuance__designation__plan=plan)
    return UnconfirmedRecords(
        designations=list(
            designations.select_related("plan", "participant", "proposed_by").order_by("decided_on", "pk")[:limit]
        ),
        reserve_changes=list(
            reserve.select_related("plan", "recorded_by").order_by("board_approval_date", "pk")[:limit]
        ),
        issuances=list(
            issuances.select_related("designation__plan", "designation__participant", "recorded_by").order_by(
                "issue_date", "pk"
            )[:limit]
        ),
        cancellations=list(
            cancellations.select_related("issuance__designation__participant", "recorded_by").order_by(
                "cancelled_on", "pk"
            )[:limit]
        ),
    )


def unconfirmed_count() -> int:
    """How many rows entered from records await a board member's confirmation (four small counts)."""
    return (
        BoardDesignation.objects.filter(decision_source=DecisionSource.RECORDS, confirmation__isnull=True).count()
        + ShareReserveChange.objects.filter(entered_from_records=True, confirmation__isnull=True).count()
        + Issuance.objects.filter(entered_from_records=True, confirmation__isnull=True).count()
        + IssuanceCancellation.objects.filter(entered_from_records=True, confirmation__isnull=True).count()
    )


def _summed(totals: QuerySet, counted, **keys) -> int:
    """`counted` summed over the counter rows of `totals` that match every key given (None: any value)."""
    matching = totals.filter(**{name: value for name, value in keys.items() if value is not None})
    return matching.aggregate(count=Sum(counted))["count"] or 0


def designation_count(*, plan_id: int | None = None, year: int | None = None, status: str | None = None) -> int:
    """How many designations there are (of one plan, year or status), exactly, from the designation totals the
    services keep: one small query however large the ledger."""
    return _summed(DesignationTotal.objects.all(), "designations", plan_id=plan_id, year=year, status=status)


def designation_counts_by_status(plan: Plan) -> dict[str, int]:
    """The plan's designations counted by status (every status, zero included), from the designation totals."""
    counts = dict.fromkeys(BoardDesignation.Status.values, 0)
    for status, count in (
        DesignationTotal.objects.filter(plan=plan).values_list("status").annotate(count=Sum("designations")).order_by()
    ):
        counts[status] = count
    return counts


def issuance_count(
    *, plan_id: int | None = None, year: int | None = None, category: str | None = None, cancelled: bool | None = None
) -> int:
    """How many issuances there are (all, standing or cancelled; of one plan, year or category), exactly, from the
    issuance totals the services keep: one small query however large the ledger."""
    counted = {None: F("issuances"), True: F("cancellations"), False: F("issuances") - F("cancellations")}[cancelled]
    return _summed(IssuanceTotal.objects.all(), counted, plan_id=plan_id, year=year, category=category)
