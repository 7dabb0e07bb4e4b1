"""Check the ledger's counters against its rows. Reads only; nothing here writes.

The services keep three counters in step with the ledger: Plan.authorized_shares (the sum of the plan's share
reserve changes), Plan.issued_shares and BoardDesignation.issued_shares (the shares of issuances that have no
cancellation). `reconcile()` recomputes each of them from the rows with aggregate queries (a constant number of
queries whatever the size of the ledger: grouping is done by the database, and only rows that disagree come back)
and checks the rules that must hold between them. Each problem found is one sentence in plain words.
"""

from dataclasses import dataclass, field

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from . import formatting as fmt
from .models import BoardDesignation, Issuance, Plan, ShareReserveChange

# More problems of one kind than this are summarised in one line rather than listed.
MAX_LISTED = 20


@dataclass
class ReconcileReport:
    plans: int = 0
    designations: int = 0
    issuances: int = 0
    cancellations: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        checked = (
            f"{self.plans:,} plan(s), {self.designations:,} designation(s), {self.issuances:,} issuance(s) "
            f"({self.cancellations:,} cancelled)"
        )
        if self.ok:
            return f"No drift: the counters of {checked} agree with the ledger."
        return f"{len(self.problems):,} problem(s) found in {checked}."


def _standing_issuances():
    return Issuance.objects.filter(cancellation__isnull=True)


def _limited(problems: list[str], found, describe, what: str) -> None:
    """Append one sentence per row of `found` (a list), at most MAX_LISTED, then a count of the rest."""
    for row in found[:MAX_LISTED]:
        problems.append(describe(row))
    if len(found) > MAX_LISTED:
        problems.append(f"... and {len(found) - MAX_LISTED:,} more {what}.")


def reconcile(*, plan: Plan | None = None) -> ReconcileReport:
    """Recompute every counter of `plan` (default: every plan) from the ledger rows and report any drift."""
    plans = Plan.objects.all() if plan is None else Plan.objects.filter(pk=plan.pk)
    designations = BoardDesignation.objects.filter(plan__in=plans)
    issuances = Issuance.objects.filter(designation__plan__in=plans)
    report = ReconcileReport()
    problems = report.problems

    totals = issuances.aggregate(
        issuances=Count("pk"), cancellations=Count("pk", filter=Q(cancellation__isnull=False))
    )
    report.issuances, report.cancellations = totals["issuances"], totals["cancellations"]
    report.designations = designations.count()

    # --- plans: one query, every plan with its recomputed sums -------------------------------------------------
    reserve_sum = ShareReserveChange.objects.filter(plan=OuterRef("pk")).values("plan").annotate(
        total=Sum("shares")
    ).values("total")
    issued_sum = _standing_issuances().filter(designation__plan=OuterRef("pk")).values("designation__plan").annotate(
        total=Sum("shares")
    ).values("total")
    plan_rows = list(
        plans.annotate(
            ledger_authorized=Coalesce(Subquery(reserve_sum, output_field=IntegerField()), Value(0)),
            ledger_issued=Coalesce(Subquery(issued_sum, output_field=IntegerField()), Value(0)),
        ).order_by("pk")
    )
    report.plans = len(plan_rows)
    for row in plan_rows:
        name = f"Plan #{row.pk} ({row})"
        if row.authorized_shares != row.ledger_authorized:
            problems.append(
                f"{name}: the authorized-shares counter says {fmt.shares(row.authorized_shares)} but its share "
                f"reserve changes add up to {fmt.shares(row.ledger_authorized)} "
                f"(off by {row.authorized_shares - row.ledger_authorized:+,})."
            )
        if row.issued_shares != row.ledger_issued:
            problems.append(
                f"{name}: the issued-shares counter says {fmt.shares(row.issued_shares)} but its issuances not "
                f"cancelled add up to {fmt.shares(row.ledger_issued)} "
                f"(off by {row.issued_shares - row.ledger_issued:+,})."
            )
        if row.ledger_issued > row.ledger_authorized:
            problems.append(
                f"{name}: {fmt.shares(row.ledger_issued)} shares are issued (net of cancellations), more than the "
                f"{fmt.shares(row.ledger_authorized)} authorized by its share reserve."
            )
        if row.issued_shares > row.authorized_shares:
            problems.append(
                f"{name}: its counters show {fmt.shares(row.issued_shares)} shares issued, more than its "
                f"{fmt.shares(row.authorized_shares)} authorized."
            )

    # --- designations: only the rows that disagree come back ---------------------------------------------------
    designation_issued = _standing_issuances().filter(designation=OuterRef("pk")).values("designation").annotate(
        total=Sum("shares")
    ).values("total")
    recomputed = designations.annotate(
        ledger_issued=Coalesce(Subquery(designation_issued, output_field=IntegerField()), Value(0))
    )
    fields = ("pk", "plan_id", "participant__name", "year", "shares", "status", "issued_shares", "ledger_issued")

    drifted = list(recomputed.exclude(issued_shares=F("ledger_issued")).order_by("pk").values(*fields))
    _limited(
        problems,
        drifted,
        lambda d: (
            f"Designation #{d['pk']} ({d['participant__name']}, {d['year']}, plan #{d['plan_id']}): the issued-shares "
            f"counter says {fmt.shares(d['issued_shares'])} but its issuances not cancelled add up to "
            f"{fmt.shares(d['ledger_issued'])} (off by {d['issued_shares'] - d['ledger_issued']:+,})."
        ),
        "designations whose counter has drifted",
    )
    over = list(
        recomputed.filter(Q(ledger_issued__gt=F("shares")) | Q(issued_shares__gt=F("shares"))).order_by("pk")
        .values(*fields)
    )
    _limited(
        problems,
        over,
        lambda d: (
            f"Designation #{d['pk']} ({d['participant__name']}, {d['year']}, plan #{d['plan_id']}): "
            f"{fmt.shares(max(d['ledger_issued'], d['issued_shares']))} shares are issued against a designation of "
            f"{fmt.shares(d['shares'])}."
        ),
        "designations issued beyond their shares",
    )

    # --- issuances only on approved designations, in the designation's year ------------------------------------
    not_approved = list(
        _standing_issuances()
        .filter(designation__plan__in=plans)
        .exclude(designation__status=BoardDesignation.Status.APPROVED)
        .values("designation_id", "designation__participant__name", "designation__year", "designation__status")
        .annotate(count=Count("pk"), total=Sum("shares"))
        .order_by("designation_id")
    )
    _limited(
        problems,
        not_approved,
        lambda d: (
            f"Designation #{d['designation_id']} ({d['designation__participant__name']}, {d['designation__year']}) "
            f"is {d['designation__status']}, not approved, yet {d['count']:,} issuance(s) of "
            f"{fmt.shares(d['total'])} shares stand against it."
        ),
        "designations that are not approved but have issuances",
    )
    wrong_year = (
        _standing_issuances()
        .filter(designation__plan__in=plans)
        .exclude(issue_date__year=F("designation__year"))
        .aggregate(count=Count("pk"))
    )
    if wrong_year["count"]:
        problems.append(
            f"{wrong_year['count']:,} issuance(s) not cancelled are dated outside the year of their designation."
        )
    return report
