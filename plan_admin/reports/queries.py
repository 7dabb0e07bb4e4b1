"""What each report holds. Every function returns `Table`s whose rows stream from `values_list(...).iterator()`.

Filters (plan, designation year, participant category) come from `parse_filters`, which refuses bad values with a
`BadFilter` message the views answer with 400. The admin changelists pass their own filtered queryset as `base`.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from ..models import (
    MAX_YEAR,
    MIN_YEAR,
    BoardDesignation,
    DesignationVote,
    Issuance,
    Participant,
    Plan,
    ShareReserveChange,
)
from ..security.inputs import parse_id, parse_small_int
from .writers import DATE, DATETIME, INT, MONEY, PLAIN, PRICE, TEXT, Column, Table, Total

CHUNK_SIZE = 2000  # rows per database round trip: 5000 cost 7 MB more peak memory at 100,000 rows, and no speed
CATEGORY_LABELS = dict(Participant.Category.choices)
KIND_LABELS = dict(Issuance.Kind.choices)
STATUS_LABELS = dict(BoardDesignation.Status.choices)


class BadFilter(ValueError):
    """A report filter that is not a value the ledger knows; the message is shown to the user (HTTP 400)."""


@dataclass(frozen=True)
class ReportFilters:
    """What a report is narrowed to. Every query applies it in one place (filter_issuances, filter_designations,
    plan_histories), so that a further filter (e.g. "as of a date") is one field here and a clause there."""

    plan: Plan | None = None
    year: int | None = None
    category: str | None = None

    def describe(self) -> str:
        parts = [f"plan: {self.plan}" if self.plan else "all plans"]
        if self.year:
            parts.append(f"designation year {self.year}")
        if self.category:
            parts.append(f"category {CATEGORY_LABELS[self.category]}")
        return "Filters: " + ", ".join(parts) + f". Generated {timezone.localtime():%Y-%m-%d %H:%M %Z}."


def parse_filters(params) -> ReportFilters:
    """Read `plan`, `year` and `category` from GET parameters; empty means no filter."""
    plan = year = category = None
    raw_plan = (params.get("plan") or "").strip()
    if raw_plan:
        plan_id = parse_id(raw_plan)  # ASCII digits only: "²".isdigit() is true, int("²") fails
        if plan_id is None:
            raise BadFilter(f"The plan filter must be a plan's number; {raw_plan[:40]!r} is not one.")
        plan = Plan.objects.filter(pk=plan_id).first()
        if plan is None:
            raise BadFilter(f"There is no plan number {raw_plan}.")
    raw_year = (params.get("year") or "").strip()
    if raw_year:
        year = parse_small_int(raw_year, digits=4)
        if year is None or not MIN_YEAR <= year <= MAX_YEAR:
            raise BadFilter(f"The year must be a year between {MIN_YEAR} and {MAX_YEAR}; {raw_year[:40]!r} is not.")
    raw_category = (params.get("category") or "").strip()
    if raw_category:
        if raw_category not in CATEGORY_LABELS:
            choices = ", ".join(CATEGORY_LABELS)
            raise BadFilter(f"The category must be one of {choices}; {raw_category[:40]!r} is not.")
        category = raw_category
    return ReportFilters(plan=plan, year=year, category=category)


# --- (a) the issuance ledger ------------------------------------------------------------------------------------

ISSUANCE_FIELDS = (
    "designation__plan__name",
    "designation__participant__name",
    "designation__participant__category",
    "designation__year",
    "kind",
    "issue_date",
    "shares",
    "price_per_share",
    "debt_amount",
    "debt_reference",
    "reference",
    "notes",
    "recorded_at",
    "recorded_by__first_name",
    "recorded_by__last_name",
    "recorded_by__username",
    "cancellation__cancelled_on",
    "cancellation__reason",
    "pk",
)

# The headers double as an import's: normalized ("Issue date" -> issue_date, "Designation year" -> year) they are
# the issuance import's columns, and the others are columns the import knows to ignore (see plan_admin.imports).
ISSUANCE_COLUMNS = [
    Column("Plan", TEXT, 26),
    Column("Participant", TEXT, 28),
    Column("Category", TEXT, 20),
    Column("Designation year", PLAIN, 11),
    Column("Kind", TEXT, 16),
    Column("Issue date", DATE, 12),
    Column("Shares", INT, 14, total=True),
    Column("Price per share", PRICE, 13),
    Column("Consideration", MONEY, 16, total=True),
    Column("Debt amount", MONEY, 15, total=True),
    Column("Debt reference", TEXT, 20),
    Column("Reference", TEXT, 16),
    Column("Notes", TEXT, 30),
    Column("Recorded at", DATETIME, 17),
    Column("Recorded by", TEXT, 20),
    Column("Cancelled on", DATE, 12),
    Column("Cancellation reason", TEXT, 30),
    Column("Issuance no.", PLAIN, 11),
]
CANCELLED_ON = 15


def person_name(first: str | None, last: str | None, username: str | None) -> str | None:
    """A user as reports show them: their full name, or their username when they have none."""
    full = f"{first or ''} {last or ''}".strip()
    return full or username or None


def _local(moment: datetime.datetime | None) -> datetime.datetime | None:
    """An aware moment as the local wall-clock time, naive (what a spreadsheet shows)."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def filter_issuances(queryset: QuerySet, filters: ReportFilters) -> QuerySet:
    if filters.plan:
        queryset = queryset.filter(designation__plan=filters.plan)
    if filters.year:
        queryset = queryset.filter(designation__year=filters.year)
    if filters.category:
        queryset = queryset.filter(designation__participant__category=filters.category)
    return queryset


def issuance_rows_query(queryset: QuerySet | None = None, filters: ReportFilters = ReportFilters()):
    """The ledger's rows as tuples in ISSUANCE_FIELDS order, oldest first (the query the benchmark baselines use)."""
    queryset = Issuance.objects.all() if queryset is None else queryset
    return filter_issuances(queryset, filters).order_by("issue_date", "pk").values_list(*ISSUANCE_FIELDS)


def issuance_rows(queryset: QuerySet | None = None, filters: ReportFilters = ReportFilters()):
    categories, kinds = CATEGORY_LABELS, KIND_LABELS
    query = issuance_rows_query(queryset, filters)
    local = timezone.get_current_timezone()
    for (plan, name, category, year, kind, issue_date, shares, price, debt, debt_ref, reference, notes, recorded_at,
         first, last, username, cancelled_on, reason, pk) in query.iterator(chunk_size=CHUNK_SIZE):
        yield (plan, name, categories.get(category, category), year, kinds.get(kind, kind), issue_date, shares,
               price, shares * price, debt, debt_ref, reference, notes,
               recorded_at.astimezone(local).replace(tzinfo=None) if recorded_at else None,
               person_name(first, last, username), cancelled_on, reason, pk)


ISSUANCE_TOTALS = [
    Total("Total issued"),
    Total("Cancelled", where=(CANCELLED_ON, "nonblank")),
    Total("Standing (net of cancellations)", where=(CANCELLED_ON, "blank")),
]
NOTES_START = "Filters: "  # every report's first note (ReportFilters.describe)


def issuance_table(queryset: QuerySet | None = None, filters: ReportFilters = ReportFilters()) -> Table:
    return Table(
        title="Issuances",
        columns=ISSUANCE_COLUMNS,
        rows=issuance_rows(queryset, filters),
        totals=ISSUANCE_TOTALS,
        notes=[filters.describe()],
    )


# --- (b) designations by year -----------------------------------------------------------------------------------

DESIGNATION_COLUMNS = [
    Column("Plan", TEXT, 26),
    Column("Year", PLAIN, 8),
    Column("Participant", TEXT, 28),
    Column("Category", TEXT, 20),
    Column("Status", TEXT, 11),
    Column("Designated shares", INT, 14, total=True),
    Column("Issued shares (net)", INT, 14, total=True),
    Column("Unissued shares", INT, 14, total=True),
    Column("Approving votes", PLAIN, 10),
    Column("Rejecting votes", PLAIN, 10),
    Column("Votes", TEXT, 40),
    Column("Factors considered", TEXT, 40),
    Column("Proposed by", TEXT, 20),
    Column("Proposed on", DATE, 12),
    Column("Decided on", DATE, 12),
]
STATUS_COLUMN = 4


def filter_designations(queryset: QuerySet, filters: ReportFilters) -> QuerySet:
    if filters.plan:
        queryset = queryset.filter(plan=filters.plan)
    if filters.year:
        queryset = queryset.filter(year=filters.year)
    if filters.category:
        queryset = queryset.filter(participant__category=filters.category)
    return queryset


def _local_date(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(moment).date() if moment else None


def designation_rows(queryset: QuerySet | None = None, filters: ReportFilters = ReportFilters()):
    queryset = filter_designations(BoardDesignation.objects.all() if queryset is None else queryset, filters)
    ids = queryset.values("pk")
    votes = defaultdict(list)
    for designation_id, voter, decision, cast_at, comment in (
        DesignationVote.objects.filter(designation__in=ids)
        .order_by("cast_at", "pk")
        .values_list("designation_id", "voter__username", "decision", "cast_at", "comment")
        .iterator(chunk_size=CHUNK_SIZE)
    ):
        text = f"{voter}: {decision} ({_local_date(cast_at):%Y-%m-%d})"
        votes[designation_id].append(text + (f" – {comment}" if comment else ""))
    rows = (
        queryset.order_by("plan__name", "year", "participant__name", "pk")
        .annotate(
            approvals=Count("votes", filter=Q(votes__decision=DesignationVote.Decision.APPROVE)),
            rejections=Count("votes", filter=Q(votes__decision=DesignationVote.Decision.REJECT)),
        )
        .values_list("pk", "plan__name", "year", "participant__name", "participant__category", "status", "shares",
                     "issued_shares", "approvals", "rejections", "factors_considered", "proposed_by__first_name",
                     "proposed_by__last_name", "proposed_by__username", "proposed_at", "decided_on")
    )
    for (pk, plan, year, name, category, status, shares, issued, approvals, rejections, factors, first, last,
         username, proposed_at, decided_on) in rows.iterator(chunk_size=CHUNK_SIZE):
        unissued = shares - issued if status == BoardDesignation.Status.APPROVED else 0
        yield (plan, year, name, CATEGORY_LABELS.get(category, category), STATUS_LABELS.get(status, status), shares,
               issued, unissued, approvals, rejections, "; ".join(votes.get(pk, [])), factors,
               person_name(first, last, username), _local_date(proposed_at), decided_on)


def designation_table(queryset: QuerySet | None = None, filters: ReportFilters = ReportFilters()) -> Table:
    return Table(
        title="Designations by year",
        columns=DESIGNATION_COLUMNS,
        rows=designation_rows(queryset, filters),
        totals=[
            Total("Total, approved designations", where=(STATUS_COLUMN, STATUS_LABELS["approved"])),
            Total("Total, all designations"),
        ],
        notes=[filters.describe(), "Unissued shares count approved designations only: they are what the pool has "
               "committed."],
    )


# --- (c) participant summary ------------------------------------------------------------------------------------


def participant_table(queryset: QuerySet | None = None, filters: ReportFilters = ReportFilters()) -> Table:
    """Net issued shares per participant and designation year, with a total per participant and per year.

    Lists every participant in scope (the category filter, or the admin's queryset), also those with no shares;
    the years are those with issuances or approved designations in scope.
    """
    participants = Participant.objects.all() if queryset is None else queryset
    if filters.category:
        participants = participants.filter(category=filters.category)
    issued = Issuance.objects.standing().filter(designation__participant__in=participants.values("pk"))
    issued = filter_issuances(issued, filters)
    per_year: dict[int, dict[int, int]] = defaultdict(dict)
    years: set[int] = set()
    for participant_id, year, shares in (
        issued.values("designation__participant_id", "designation__year")
        .annotate(total=Sum("shares"))
        .values_list("designation__participant_id", "designation__year", "total")
        .iterator(chunk_size=CHUNK_SIZE)
    ):
        per_year[participant_id][year] = shares
        years.add(year)
    designated = filter_designations(
        BoardDesignation.objects.filter(status=BoardDesignation.Status.APPROVED, participant__in=participants.values("pk")),
        filters,
    )
    years.update(designated.values_list("year", flat=True).distinct())
    if filters.year:
        years.add(filters.year)
    years_sorted = sorted(years)
    columns = [Column("Participant", TEXT, 28), Column("Category", TEXT, 20), Column("Email", TEXT, 26)]
    columns += [Column(str(year), INT, 12, total=True) for year in years_sorted]
    columns.append(Column("Total shares", INT, 14, total=True))

    def rows():
        for pk, name, category, email in (
            participants.order_by("name", "pk").values_list("pk", "name", "category", "email")
            .iterator(chunk_size=CHUNK_SIZE)
        ):
            mine = per_year.get(pk, {})
            by_year = [mine.get(year, 0) for year in years_sorted]
            yield (name, CATEGORY_LABELS.get(category, category), email, *by_year, sum(by_year))

    return Table(
        title="Participants",
        columns=columns,
        rows=rows(),
        totals=[Total("Total")],
        notes=[filters.describe(), "Shares are issued shares net of cancellations, by designation year."],
    )


# --- (d) pool status and reserve history -----------------------------------------------------------------------


@dataclass
class YearLine:
    year: int
    issued: int = 0  # gross, cancelled included
    cancelled: int = 0
    designated: int = 0  # approved designations (lapsed ones included)
    committed: int = 0  # unissued balance of approved designations that have not lapsed


@dataclass
class PlanHistory:
    plan: Plan
    year: int  # the designation year the pool's committed shares are for
    reserve: list[tuple]  # (board date, shares, resolution, note, recorded by, recorded at)
    years: list[YearLine]

    @property
    def authorized(self) -> int:
        return sum(change[1] for change in self.reserve)

    @property
    def issued(self) -> int:
        return sum(line.issued for line in self.years)

    @property
    def cancelled(self) -> int:
        return sum(line.cancelled for line in self.years)

    @property
    def net_issued(self) -> int:
        return self.issued - self.cancelled

    @property
    def committed(self) -> int:
        """Unissued shares of approved designations that have not lapsed, every year (DESIGN rule 3)."""
        return sum(line.committed for line in self.years)

    @property
    def available(self) -> int:
        return self.authorized - self.net_issued - self.committed


def plan_histories(filters: ReportFilters = ReportFilters()) -> list[PlanHistory]:
    """Each plan's reserve changes and its issued, cancelled and committed shares per year, from the ledger rows
    (not the counters, which the reconciliation compares them with)."""
    year = filters.year or timezone.localdate().year
    plans = [filters.plan] if filters.plan else list(Plan.objects.order_by("pk"))
    histories = []
    for plan in plans:
        reserve = list(
            (board_date, shares, resolution, note, person_name(first, last, username), recorded_at)
            for board_date, shares, resolution, note, first, last, username, recorded_at in
            plan.reserve_changes.order_by("board_approval_date", "pk").values_list(
                "board_approval_date", "shares", "resolution_reference", "note", "recorded_by__first_name",
                "recorded_by__last_name", "recorded_by__username", "recorded_at")
        )
        lines: dict[int, YearLine] = {}
        issuances = Issuance.objects.filter(designation__plan=plan)
        for y, total, cancelled in (
            issuances.values("designation__year")
            .annotate(total=Sum("shares"), cancelled=Sum("shares", filter=Q(cancellation__isnull=False)))
            .values_list("designation__year", "total", "cancelled")
        ):
            lines.setdefault(y, YearLine(y)).issued = total or 0
            lines[y].cancelled = cancelled or 0
        approved = Q(status=BoardDesignation.Status.APPROVED)
        for y, designated, unissued in (
            BoardDesignation.objects.filter(
                plan=plan, status__in=[BoardDesignation.Status.APPROVED, BoardDesignation.Status.LAPSED])
            .values("year")
            .annotate(designated=Sum("shares"),
                      unissued=Sum(F("shares") - F("issued_shares"), filter=approved))
            .values_list("year", "designated", "unissued")
        ):
            line = lines.setdefault(y, YearLine(y))
            line.designated = designated or 0  # approved, lapsed or not
            line.committed = unissued or 0  # approved and not lapsed: what the pool still reserves
        lines.setdefault(year, YearLine(year))
        histories.append(PlanHistory(plan=plan, year=year, reserve=reserve, years=sorted(lines.values(),
                                                                                          key=lambda l: l.year)))
    return histories


def pool_table(filters: ReportFilters = ReportFilters(), histories: list[PlanHistory] | None = None) -> Table:
    """Pool status per plan: authorized, issued, cancelled, committed, available, and the ledger's counters."""
    histories = plan_histories(filters) if histories is None else histories
    return Table(
        title="Pool status",
        columns=[Column("Plan", TEXT, 30), Column("As of year", PLAIN, 10), Column("Authorized", INT, 14),
                 Column("Issued (gross)", INT, 14), Column("Cancelled", INT, 14), Column("Issued (net)", INT, 14),
                 Column("Committed", INT, 14), Column("Available", INT, 14),
                 Column("Authorized (ledger counter)", INT, 14), Column("Issued (ledger counter)", INT, 14),
                 Column("Committed (ledger counter)", INT, 14)],
        rows=[(str(h.plan), h.year, h.authorized, h.issued, h.cancelled, h.net_issued, h.committed, h.available,
               h.plan.authorized_shares, h.plan.issued_shares, h.plan.committed_shares) for h in histories],
        notes=[filters.describe()],
    )


def reserve_table(filters: ReportFilters = ReportFilters(), queryset: QuerySet | None = None) -> Table:
    """Every change to the share reserve, per plan in board-approval order, with the authorized shares after it."""
    changes = ShareReserveChange.objects.all() if queryset is None else queryset
    if filters.plan:
        changes = changes.filter(plan=filters.plan)

    def rows():
        running: dict[int, int] = defaultdict(int)
        seen: set[int] = set()
        for (plan_id, company, plan_name, board_date, shares, resolution, note, first, last, username,
             recorded_at, pk) in changes.order_by("plan__company_name", "plan__name", "plan_id", "board_approval_date",
                                                  "pk").values_list(
                "plan_id", "plan__company_name", "plan__name", "board_approval_date", "shares", "resolution_reference",
                "note", "recorded_by__first_name", "recorded_by__last_name", "recorded_by__username", "recorded_at",
                "pk").iterator(chunk_size=CHUNK_SIZE):
            running[plan_id] += shares
            kind = "Initial reserve" if plan_id not in seen else ("Increase" if shares > 0 else "Decrease")
            seen.add(plan_id)
            yield (f"{company} {plan_name}", kind, board_date, shares, running[plan_id], resolution, note,
                   person_name(first, last, username), _local(recorded_at), pk)

    return Table(
        title="Reserve history",
        columns=[Column("Plan", TEXT, 30), Column("Change", TEXT, 14), Column("Board approval date", DATE, 12),
                 Column("Shares", INT, 14, total=True), Column("Authorized after", INT, 14),
                 Column("Resolution reference", TEXT, 22), Column("Note", TEXT, 30), Column("Recorded by", TEXT, 20),
                 Column("Recorded at", DATETIME, 17), Column("Change no.", PLAIN, 10)],
        rows=rows(),
        totals=[Total("Authorized shares (sum of changes)")],
        notes=[filters.describe()],
    )
