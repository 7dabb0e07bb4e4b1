"""Check the ledger's counters against its rows. Reads only; nothing here writes.

The services keep six counters in step with the ledger: Plan.authorized_shares (the sum of the plan's share
reserve changes), Plan.issued_shares and BoardDesignation.issued_shares (the shares of issuances that have no
cancellation), Plan.committed_shares (the unissued balance of every approved designation that has not lapsed,
of any year), IssuanceTotal (per plan, designation year and participant category: the issuances recorded,
cancelled, and the shares standing) and DesignationTotal (the designations per plan, year and status). `reconcile()`
recomputes each of them from the rows with aggregate queries (a constant number of queries whatever the size of
the ledger: the database sums the issuances per designation in one pass, and Python compares one grouped row per
designation) and checks the rules that must hold between them.
Each problem found is one sentence in plain words.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, Max, Min, Sum, Value
from django.db.models.functions import Coalesce

from . import formatting as fmt
from .models import (
    BoardDesignation,
    DesignationLapse,
    DesignationTotal,
    Issuance,
    IssuanceCancellation,
    IssuanceTotal,
    Plan,
)

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


def _limited(problems: list[str], found: list, describe, what: str) -> None:
    """Append one sentence per item of `found`, at most MAX_LISTED, then a count of the rest."""
    for row in found[:MAX_LISTED]:
        problems.append(describe(row))
    if len(found) > MAX_LISTED:
        problems.append(f"... and {len(found) - MAX_LISTED:,} more {what}.")


@dataclass
class _Standing:
    total: int = 0
    count: int = 0
    first: object = None
    last: object = None


def reconcile(*, plan: Plan | None = None) -> ReconcileReport:
    """Recompute every counter of `plan` (default: every plan) from the ledger rows and report any drift.

    Eight queries whatever the ledger's size: the reserve summed per plan, the standing issuances summed per
    designation (one grouped pass over the issuance table), the cancellations counted per designation, the
    designations' counters, the lapses, the issuance totals, the designation totals, and the names of the
    designations with a problem.
    """
    plans = Plan.objects.order_by("pk") if plan is None else Plan.objects.filter(pk=plan.pk)
    report = ReconcileReport()
    problems = report.problems

    plan_rows = list(
        plans.annotate(
            ledger_authorized=Coalesce(Sum("reserve_changes__shares"), Value(0), output_field=IntegerField())
        ).values(
            "pk", "company_name", "name", "authorized_shares", "issued_shares", "committed_shares", "ledger_authorized"
        )
    )
    plan_ids = [row["pk"] for row in plan_rows]
    report.plans = len(plan_rows)

    standing: dict[int, _Standing] = defaultdict(_Standing)
    grouped = (
        Issuance.objects.standing()
        .filter(designation__plan_id__in=plan_ids)
        .values_list("designation_id")
        .annotate(total=Sum("shares"), count=Count("pk"), first=Min("issue_date"), last=Max("issue_date"))
        .order_by()
    )
    for designation_id, total, count, first, last in grouped:
        standing[designation_id] = _Standing(total=total, count=count, first=first, last=last)
    cancelled_by_designation = dict(
        IssuanceCancellation.objects.filter(issuance__designation__plan_id__in=plan_ids)
        .values_list("issuance__designation_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    report.cancellations = sum(cancelled_by_designation.values())
    report.issuances = sum(s.count for s in standing.values()) + report.cancellations
    # (plan, year, category) -> [standing shares, issuances, cancellations], from the rows
    ledger_totals: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0, 0])

    ledger_issued: dict[int, int] = defaultdict(int)
    ledger_committed: dict[int, int] = defaultdict(int)
    lapsed_ids = set(
        DesignationLapse.objects.filter(designation__plan_id__in=plan_ids).values_list("designation_id", flat=True)
    )
    drifted, over, not_approved, wrong_year, lapse_mismatch = [], [], [], [], []
    designations = (
        BoardDesignation.objects.filter(plan_id__in=plan_ids)
        .values_list("pk", "plan_id", "year", "shares", "status", "issued_shares", "participant__category")
        .order_by("pk")
    )
    designations_per_key: dict[tuple[int, int, str], int] = defaultdict(int)
    for pk, plan_id, year, shares, status, counter, category in designations:
        report.designations += 1
        designations_per_key[(plan_id, year, status)] += 1
        rows = standing.get(pk, _Standing())
        cancelled = cancelled_by_designation.get(pk, 0)
        if rows.count or cancelled:
            total = ledger_totals[(plan_id, year, category)]
            total[0] += rows.total
            total[1] += rows.count + cancelled
            total[2] += cancelled
        ledger_issued[plan_id] += rows.total
        if counter != rows.total:
            drifted.append((pk, plan_id, year, counter, rows.total))
        if max(counter, rows.total) > shares:
            over.append((pk, plan_id, year, max(counter, rows.total), shares))
        if status == BoardDesignation.Status.APPROVED:
            ledger_committed[plan_id] += shares - rows.total
        if (status == BoardDesignation.Status.LAPSED) != (pk in lapsed_ids):
            lapse_mismatch.append((pk, plan_id, year, status))
        if rows.count and status not in (BoardDesignation.Status.APPROVED, BoardDesignation.Status.LAPSED):
            not_approved.append((pk, plan_id, year, status, rows.count, rows.total))
        if rows.count and not (rows.first.year == rows.last.year == year):
            wrong_year.append((pk, plan_id, year))

    for row in plan_rows:
        name = f"Plan #{row['pk']} ({row['company_name']} {row['name']})"
        authorized, issued = row["authorized_shares"], row["issued_shares"]
        rows_authorized, rows_issued = row["ledger_authorized"], ledger_issued[row["pk"]]
        if authorized != rows_authorized:
            problems.append(
                f"{name}: the authorized-shares counter says {fmt.shares(authorized)} but its share reserve changes "
                f"add up to {fmt.shares(rows_authorized)} (off by {authorized - rows_authorized:+,})."
            )
        if issued != rows_issued:
            problems.append(
                f"{name}: the issued-shares counter says {fmt.shares(issued)} but its issuances not cancelled add up "
                f"to {fmt.shares(rows_issued)} (off by {issued - rows_issued:+,})."
            )
        committed, rows_committed = row["committed_shares"], ledger_committed[row["pk"]]
        if committed != rows_committed:
            problems.append(
                f"{name}: the committed-shares counter says {fmt.shares(committed)} but the unissued balance of its "
                f"approved designations that have not lapsed adds up to {fmt.shares(rows_committed)} (off by "
                f"{committed - rows_committed:+,})."
            )
        if rows_issued + rows_committed > rows_authorized:
            problems.append(
                f"{name}: {fmt.shares(rows_issued)} shares issued and {fmt.shares(rows_committed)} committed to "
                f"approved designations are more than the {fmt.shares(rows_authorized)} authorized (rule 3)."
            )
        if rows_issued > rows_authorized:
            problems.append(
                f"{name}: {fmt.shares(rows_issued)} shares are issued (net of cancellations), more than the "
                f"{fmt.shares(rows_authorized)} authorized by its share reserve."
            )
        elif issued > authorized:
            problems.append(
                f"{name}: its counters show {fmt.shares(issued)} shares issued, more than its "
                f"{fmt.shares(authorized)} authorized."
            )

    _check_totals(problems, plan_ids, ledger_totals)
    _check_designation_totals(problems, plan_ids, designations_per_key)

    listed = {
        item[0] for found in (drifted, over, not_approved, wrong_year, lapse_mismatch) for item in found[:MAX_LISTED]
    }
    names = (
        dict(BoardDesignation.objects.filter(pk__in=listed).values_list("pk", "participant__name")) if listed else {}
    )

    def who(pk, plan_id, year):
        return f"Designation #{pk} ({names.get(pk, '?')}, {year}, plan #{plan_id})"

    _limited(
        problems,
        drifted,
        lambda d: (
            f"{who(*d[:3])}: the issued-shares counter says {fmt.shares(d[3])} but its issuances not cancelled add up "
            f"to {fmt.shares(d[4])} (off by {d[3] - d[4]:+,})."
        ),
        "designations whose counter has drifted",
    )
    _limited(
        problems,
        over,
        lambda d: f"{who(*d[:3])}: {fmt.shares(d[3])} shares are issued against a designation of {fmt.shares(d[4])}.",
        "designations issued beyond their shares",
    )
    _limited(
        problems,
        not_approved,
        lambda d: (
            f"{who(*d[:3])} is {d[3]}, not approved, yet {d[4]:,} issuance(s) of {fmt.shares(d[5])} shares stand "
            "against it."
        ),
        "designations that are not approved but have issuances",
    )
    _limited(
        problems,
        wrong_year,
        lambda d: f"{who(*d[:3])} has issuances not cancelled dated outside {d[2]}.",
        "designations with issuances outside their year",
    )
    _limited(
        problems,
        lapse_mismatch,
        lambda d: f"{who(*d[:3])} is {d[3]}, but its lapse record {'is missing' if d[3] == 'lapsed' else 'exists'}.",
        "designations whose lapse record disagrees with their status",
    )
    return report


def _check_designation_totals(problems: list[str], plan_ids: list[int], designations_per_key: dict) -> None:
    """Compare the DesignationTotal rows of the plans with the designations counted per plan, year and status."""
    counted = {
        (plan_id, year, status): count
        for plan_id, year, status, count in DesignationTotal.objects.filter(plan_id__in=plan_ids).values_list(
            "plan_id", "year", "status", "designations"
        )
    }
    wrong = [
        (*key, counted.get(key, 0), designations_per_key.get(key, 0))
        for key in sorted(set(counted) | set(designations_per_key))
        if counted.get(key, 0) != designations_per_key.get(key, 0)
    ]
    _limited(
        problems,
        wrong,
        lambda found: (
            f"Plan #{found[0]}, {found[1]}, {found[2]}: the designation totals say {found[3]:,} designation(s), but "
            f"the ledger holds {found[4]:,}."
        ),
        "designation totals that disagree with the ledger",
    )


def _check_totals(problems: list[str], plan_ids: list[int], ledger_totals: dict) -> None:
    """Compare the IssuanceTotal rows of the plans with the totals computed from the ledger's rows."""
    counted = {
        (plan_id, year, category): [issued, issuances, cancellations]
        for plan_id, year, category, issued, issuances, cancellations in IssuanceTotal.objects.filter(
            plan_id__in=plan_ids
        ).values_list("plan_id", "year", "category", "issued_shares", "issuances", "cancellations")
    }
    wrong = []
    for key in sorted(set(counted) | set(ledger_totals)):
        kept, rows = counted.get(key, [0, 0, 0]), ledger_totals.get(key, [0, 0, 0])
        if kept != rows:
            wrong.append((*key, kept, rows))

    def describe(found) -> str:
        plan_id, year, category, kept, rows = found
        return (
            f"Plan #{plan_id}, {year}, {category.replace('_', ' ')}s: the issuance totals say "
            f"{fmt.shares(kept[0])} shares standing of {kept[1]:,} issuance(s) ({kept[2]:,} cancelled), but the "
            f"ledger's rows say {fmt.shares(rows[0])} of {rows[1]:,} ({rows[2]:,} cancelled)."
        )

    _limited(problems, wrong, describe, "issuance totals that disagree with the ledger")
