"""Reads of the ledger: pool status and committed shares. Nothing here writes."""

from dataclasses import dataclass

from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import BoardDesignation, Plan


@dataclass(frozen=True)
class PoolStatus:
    """The share pool of one plan as seen for one designation year."""

    year: int
    authorized: int
    issued: int
    committed: int

    @property
    def available(self) -> int:
        return self.authorized - self.issued - self.committed

    @property
    def issued_percent(self) -> float:
        return 100.0 * self.issued / self.authorized if self.authorized else 0.0

    @property
    def committed_percent(self) -> float:
        return 100.0 * self.committed / self.authorized if self.authorized else 0.0


def committed_shares(*, plan: Plan, year: int, exclude_designation_id: int | None = None) -> int:
    """Unissued balance of the plan's approved designations of `year` (one aggregate query)."""
    designations = BoardDesignation.objects.filter(
        plan=plan, year=year, status=BoardDesignation.Status.APPROVED
    )
    if exclude_designation_id is not None:
        designations = designations.exclude(pk=exclude_designation_id)
    total = designations.aggregate(total=Sum(F("shares") - F("issued_shares")))["total"]
    return total or 0


def largest_yearly_commitment(*, plan: Plan, from_year: int | None = None) -> int:
    """The largest unissued balance of approved designations in any one year (optionally from `from_year` on)."""
    designations = BoardDesignation.objects.filter(plan=plan, status=BoardDesignation.Status.APPROVED)
    if from_year is not None:
        designations = designations.filter(year__gte=from_year)
    per_year = designations.values("year").annotate(total=Sum(F("shares") - F("issued_shares")))
    return max((row["total"] for row in per_year), default=0)


def pool_status(*, plan: Plan, year: int | None = None) -> PoolStatus:
    """Authorized, issued and committed shares of `plan` for `year` (default: the current year)."""
    year = year or timezone.localdate().year
    return PoolStatus(
        year=year,
        authorized=plan.authorized_shares,
        issued=plan.issued_shares,
        committed=committed_shares(plan=plan, year=year),
    )


def designations_awaiting_vote(*, user) -> "models.QuerySet[BoardDesignation]":  # noqa: F821
    """Proposed designations this user may still vote on: not their own proposal, not themselves, not voted."""
    return (
        BoardDesignation.objects.filter(status=BoardDesignation.Status.PROPOSED)
        .exclude(proposed_by=user)
        .exclude(participant__user=user)
        .exclude(votes__voter=user)
        .select_related("plan", "participant", "proposed_by")
        .order_by("plan_id", "-year", "participant__name")
    )


def open_designations_query() -> Q:
    return Q(status__in=[BoardDesignation.Status.PROPOSED, BoardDesignation.Status.APPROVED])


def plans_with_pool(*, year: int | None = None) -> list[tuple[Plan, PoolStatus]]:
    """Every plan with its pool status for `year`, in one query."""
    year = year or timezone.localdate().year
    committed = (
        BoardDesignation.objects.filter(plan=OuterRef("pk"), year=year, status=BoardDesignation.Status.APPROVED)
        .values("plan")
        .annotate(total=Sum(F("shares") - F("issued_shares")))
        .values("total")
    )
    plans = Plan.objects.annotate(committed=Coalesce(Subquery(committed), Value(0)))
    return [
        (plan, PoolStatus(year=year, authorized=plan.authorized_shares, issued=plan.issued_shares,
                          committed=plan.committed))
        for plan in plans
    ]
