"""What each report holds. Every function returns `Table`s whose rows stream from `values_list(...).iterator()`.

Filters (plan, designation year, participant category, and "as of" a date) come from `parse_filters`, which
refuses bad values with a `BadFilter` message the views answer with 400. The admin changelists pass their own
filtered queryset as `base`.

As of a date, a report shows the ledger as the board's decisions and the issuances stood on that day, by the
dates the record gives them (the board's decision date, the issue date, the cancellation date, the lapse date),
whenever they were entered: an issuance cancelled later is standing, a designation decided later is a proposal,
and a designation that lapsed later still commits its unissued shares.
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
    as_of: datetime.date | None = None

    def describe(self) -> str:
        parts = [f"plan: {self.plan}" if self.plan else "all plans"]
        if self.year:
            parts.append(f"designation year {self.year}")
        if self.category:
            parts.append(f"category {CATEGORY_LABELS[self.category]}")
        if self.as_of:
            parts.append(f"as of {self.as_of:%Y-%m-%d} (the ledger as it stood at the end of that day)")
        return "Filters: " + ", ".join(parts) + f". Generated {timezone.localtime():%Y-%m-%d %H:%M %Z}."

    def titled(self, title: str) -> str:
        """A table's title, saying the date it is taken as of (sheet names hold 31 characters)."""
        return f"{title} ({self.as_of:%Y-%m-%d})" if self.as_of else title

    @property
    def end_of_day(self) -> datetime.datetime | None:
        """The first moment after the as-of date, in the company's time zone (for moments such as a vote's)."""
        if self.as_of is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(self.as_of + datetime.timedelta(days=1), datetime.time()))


def parse_filters(params) -> ReportFilters:
    """Read `plan`, `year`, `category` and `as_of` from GET parameters; empty means no filter."""
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
    as_of = None
    raw_as_of = (params.get("as_of") or "").strip()
    if raw_as_of:
        try:
            as_of = datetime.date.fromisoformat(raw_as_of) if raw_as_of.isascii() and len(raw_as_of) == 10 else None
        except ValueError:
            as_of = None
        if as_of is None:
            raise BadFilter(f"The as-of date must be a date as YYYY-MM-DD; {raw_as_of[:40]!r} is not one.")
        if as_of > timezone.localdate():
            raise BadFilter(f"The as-of date may not be in the future: {as_of:%Y-%m-%d} is after today.")
    return ReportFilters(plan=plan, year=year, category=category, as_of=as_of)


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
    if filters.as_of:
        queryset = queryset.filter(issue_date__lte=filters.as_of)
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
    as_of = filters.as_of
    for (
        plan,
        name,
        category,
        year,
        kind,
        issue_date,
        shares,
        price,
        debt,
        debt_ref,
        reference,
        notes,
        recorded_at,
        first,
        last,
        username,
        cancelled_on,
        reason,
        pk,
    ) in query.iterator(chunk_size=CHUNK_SIZE):
        if as_of and cancelled_on and cancelled_on > as_of:  # cancelled later: standing on that day
            cancelled_on = reason = None
        yield (
            plan,
            name,
            categories.get(category, category),
            year,
            kinds.get(kind, kind),
            issue_date,
            shares,
            price,
            shares * price,
            debt,
            debt_ref,
            reference,
            notes,
            recorded_at.astimezone(local).replace(tzinfo=None) if recorded_at else None,
            person_name(first, last, username),
            cancelled_on,
            reason,
            pk,
        )


ISSUANCE_TOTALS = [
    Total("Total issued"),
    Total("Cancelled", where=(CANCELLED_ON, "nonblank")),
    Total("Standing (net of cancellations)", where=(CANCELLED_ON, "blank")),
]
NOTES_START = "Filters: "  # every report's first note (ReportFilters.describe)


def issuance_table(queryset: QuerySet | None = None, filters: ReportFilters = ReportFilters()) -> Table:
    return Table(
        title=filters.titled("Issuances"),
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
    if filters.as_of:  # proposed by then, or decided by then (history entered from records is decided early)
        queryset = queryset.filter(Q(proposed_at__lt=filters.end_of_day) | Q(decided_on__lte=filters.as_of))
    if filters.plan:
        queryset = queryset.filter(plan=filters.plan)
    if filters.year:
        queryset = queryset.filter(year=filters.year)
    if filters.category:
        queryset = queryset.filter(participant__category=filters.category)
    return queryset


def _local_date(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(moment).date() if moment else None


def status_as_of(status: str, *, decided_on, withdrawn_at, lapsed_on, filters: ReportFilters) -> str:
    """A designation's status on the as-of date, from its dates."""
    if not filters.as_of:
        return status
    if status == BoardDesignation.Status.WITHDRAWN:
        return status if withdrawn_at and withdrawn_at < filters.end_of_day else BoardDesignation.Status.PROPOSED
    if status in (BoardDesignation.Status.APPROVED, BoardDesignation.Status.REJECTED, BoardDesignation.Status.LAPSED):
        if decided_on is None or decided_on > filters.as_of:
            return BoardDesignation.Status.PROPOSED
        if status == BoardDesignation.Status.LAPSED and (lapsed_on is None or lapsed_on > filters.as_of):
            return BoardDesignation.Status.APPROVED
    return status


def issued_as_of(designations: QuerySet, filters: ReportFilters) -> dict[int, int] | None:
    """Net issued shares per designation on the as-of date (None: today, where the counters say it)."""
    if not filters.as_of:
        return None
    standing_then = Q(issuances__cancellation__isnull=True) | Q(issuances__cancellation__cancelled_on__gt=filters.as_of)
    rows = (
        designations.order_by()
        .values("pk")
        .annotate(issued=Sum("issuances__shares", filter=Q(issuances__issue_date__lte=filters.as_of) & standing_then))
        .values_list("pk", "issued")
    )
    return {pk: issued or 0 for pk, issued in rows}


def designation_rows(queryset: QuerySet | None = None, filters: ReportFilters = ReportFilters()):
    queryset = filter_designations(BoardDesignation.objects.all() if queryset is None else queryset, filters)
    ids = queryset.values("pk")
    issued_then = issued_as_of(queryset, filters)
    votes_then = DesignationVote.objects.filter(designation__in=ids)
    if filters.as_of:
        votes_then = votes_then.filter(cast_at__lt=filters.end_of_day)
    votes = defaultdict(list)
    for designation_id, voter, decision, cast_at, comment in (
        votes_then.order_by("cast_at", "pk")
        .values_list("designation_id", "voter__username", "decision", "cast_at", "comment")
        .iterator(chunk_size=CHUNK_SIZE)
    ):
        text = f"{voter}: {decision} ({_local_date(cast_at):%Y-%m-%d})"
        votes[designation_id].append(text + (f" – {comment}" if comment else ""))
    rows = (
        queryset.order_by("plan__name", "year", "participant__name", "pk")
        .annotate(
            approvals=Count("votes", filter=Q(votes__decision=DesignationVote.Decision.APPROVE) & _cast_by(filters)),
            rejections=Count("votes", filter=Q(votes__decision=DesignationVote.Decision.REJECT) & _cast_by(filters)),
        )
        .values_list(
            "pk",
            "plan__name",
            "year",
            "participant__name",
            "participant__category",
            "status",
            "shares",
            "issued_shares",
            "approvals",
            "rejections",
            "factors_considered",
            "proposed_by__first_name",
            "proposed_by__last_name",
            "proposed_by__username",
            "proposed_at",
            "decided_on",
            "decided_at",
            "lapse__lapsed_on",
        )
    )
    for (
        pk,
        plan,
        year,
        name,
        category,
        status,
        shares,
        issued,
        approvals,
        rejections,
        factors,
        first,
        last,
        username,
        proposed_at,
        decided_on,
        decided_at,
        lapsed_on,
    ) in rows.iterator(chunk_size=CHUNK_SIZE):
        status = status_as_of(
            status, decided_on=decided_on, withdrawn_at=decided_at, lapsed_on=lapsed_on, filters=filters
        )
        if issued_then is not None:
            issued = issued_then.get(pk, 0)
        unissued = shares - issued if status == BoardDesignation.Status.APPROVED else 0
        shown_decision = decided_on if status != BoardDesignation.Status.PROPOSED else None
        yield (
            plan,
            year,
            name,
            CATEGORY_LABELS.get(category, category),
            STATUS_LABELS.get(status, status),
            shares,
            issued,
            unissued,
            approvals,
            rejections,
            "; ".join(votes.get(pk, [])),
            factors,
            person_name(first, last, username),
            _local_date(proposed_at),
            shown_decision,
        )


def _cast_by(filters: ReportFilters) -> Q:
    return Q(votes__cast_at__lt=filters.end_of_day) if filters.as_of else Q()


def designation_table(queryset: QuerySet | None = None, filters: ReportFilters = ReportFilters()) -> Table:
    return Table(
        title=filters.titled("Designations by year" if not filters.as_of else "Designations"),
        columns=DESIGNATION_COLUMNS,
        rows=designation_rows(queryset, filters),
        totals=[
            Total("Total, approved designations", where=(STATUS_COLUMN, STATUS_LABELS["approved"])),
            Total("Total, all designations"),
        ],
        notes=[
            filters.describe(),
            "Unissued shares count approved designations only: they are what the pool has committed.",
        ],
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
    issued = Issuance.objects.filter(designation__participant__in=participants.values("pk"))
    # Standing on the as-of day (not cancelled by then), or standing now.
    issued = issued.exclude(cancellation__cancelled_on__lte=filters.as_of) if filters.as_of else issued.standing()
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
    approved = BoardDesignation.objects.filter(participant__in=participants.values("pk"))
    if filters.as_of:
        approved = approved.filter(
            status__in=[BoardDesignation.Status.APPROVED, BoardDesignation.Status.LAPSED], decided_on__lte=filters.as_of
        )
    else:
        approved = approved.filter(status=BoardDesignation.Status.APPROVED)
    designated = filter_designations(approved, filters)
    years.update(designated.values_list("year", flat=True).distinct())
    if filters.year:
        years.add(filters.year)
    years_sorted = sorted(years)
    columns = [Column("Participant", TEXT, 28), Column("Category", TEXT, 20), Column("Email", TEXT, 26)]
    columns += [Column(str(year), INT, 12, total=True) for year in years_sorted]
    columns.append(Column("Total shares", INT, 14, total=True))

    def rows():
        for pk, name, category, email in (
            participants.order_by("name", "pk")
            .values_list("pk", "name", "category", "email")
            .iterator(chunk_size=CHUNK_SIZE)
        ):
            mine = per_year.get(pk, {})
            by_year = [mine.get(year, 0) for year in years_sorted]
            yield (name, CATEGORY_LABELS.get(category, category), email, *by_year, sum(by_year))

    return Table(
        title=filters.titled("Participants"),
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
    as_of: datetime.date | None = None  # None: today's ledger, which the counters describe

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
    year = filters.year or (filters.as_of or timezone.localdate()).year
    plans = [filters.plan] if filters.plan else list(Plan.objects.order_by("pk"))
    as_of = filters.as_of
    histories = []
    for plan in plans:
        changes = plan.reserve_changes.all()
        if as_of:
            changes = changes.filter(board_approval_date__lte=as_of)
        reserve = [
            (board_date, shares, resolution, note, person_name(first, last, username), recorded_at)
            for board_date, shares, resolution, note, first, last, username, recorded_at in changes.order_by(
                "board_approval_date", "pk"
            ).values_list(
                "board_approval_date",
                "shares",
                "resolution_reference",
                "note",
                "recorded_by__first_name",
                "recorded_by__last_name",
                "recorded_by__username",
                "recorded_at",
            )
        ]
        lines: dict[int, YearLine] = {}
        issuances = Issuance.objects.filter(designation__plan=plan)
        cancelled = Q(cancellation__isnull=False)
        if as_of:
            issuances = issuances.filter(issue_date__lte=as_of)
            cancelled = Q(cancellation__cancelled_on__lte=as_of)
        for y, total, cancelled_shares in (
            issuances.values("designation__year")
            .annotate(total=Sum("shares"), cancelled=Sum("shares", filter=cancelled))
            .values_list("designation__year", "total", "cancelled")
        ):
            lines.setdefault(y, YearLine(y)).issued = total or 0
            lines[y].cancelled = cancelled_shares or 0
        for y, designated, unissued in _designated_and_committed(plan, as_of):
            line = lines.setdefault(y, YearLine(y))
            line.designated = designated or 0  # approved, lapsed or not
            line.committed = unissued or 0  # approved and not lapsed: what the pool still reserves
        lines.setdefault(year, YearLine(year))
        histories.append(
            PlanHistory(
                plan=plan,
                year=year,
                reserve=reserve,
                as_of=as_of,
                years=sorted(lines.values(), key=lambda line: line.year),
            )
        )
    return histories


def _designated_and_committed(plan: Plan, as_of: datetime.date | None):
    """(year, shares of approved designations, their unissued shares while not lapsed), per designation year."""
    decided = BoardDesignation.objects.filter(
        plan=plan, status__in=[BoardDesignation.Status.APPROVED, BoardDesignation.Status.LAPSED]
    )
    if not as_of:
        return (
            decided.values("year")
            .annotate(
                designated=Sum("shares"),
                unissued=Sum(F("shares") - F("issued_shares"), filter=Q(status=BoardDesignation.Status.APPROVED)),
            )
            .values_list("year", "designated", "unissued")
        )
    decided = decided.filter(decided_on__lte=as_of)
    issued = issued_as_of(decided, ReportFilters(as_of=as_of))
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for pk, year, shares, lapsed_on in decided.values_list("pk", "year", "shares", "lapse__lapsed_on"):
        totals[year][0] += shares
        if lapsed_on is None or lapsed_on > as_of:
            totals[year][1] += shares - issued.get(pk, 0)
    return [(year, designated, committed) for year, (designated, committed) in sorted(totals.items())]


def pool_table(filters: ReportFilters = ReportFilters(), histories: list[PlanHistory] | None = None) -> Table:
    """Pool status per plan: authorized, issued, cancelled, committed, available, and the ledger's counters."""
    histories = plan_histories(filters) if histories is None else histories
    return Table(
        title=filters.titled("Pool status"),
        columns=[
            Column("Plan", TEXT, 30),
            Column("As of year", PLAIN, 10),
            Column("Authorized", INT, 14),
            Column("Issued (gross)", INT, 14),
            Column("Cancelled", INT, 14),
            Column("Issued (net)", INT, 14),
            Column("Committed", INT, 14),
            Column("Available", INT, 14),
            Column("Authorized (ledger counter)", INT, 14),
            Column("Issued (ledger counter)", INT, 14),
            Column("Committed (ledger counter)", INT, 14),
        ],
        rows=[
            (
                str(h.plan),
                h.year,
                h.authorized,
                h.issued,
                h.cancelled,
                h.net_issued,
                h.committed,
                h.available,
                h.plan.authorized_shares,
                h.plan.issued_shares,
                h.plan.committed_shares,
            )
            for h in histories
        ],
        notes=[filters.describe()],
    )


def reserve_table(filters: ReportFilters = ReportFilters(), queryset: QuerySet | None = None) -> Table:
    """Every change to the share reserve, per plan in board-approval order, with the authorized shares after it."""
    changes = ShareReserveChange.objects.all() if queryset is None else queryset
    if filters.plan:
        changes = changes.filter(plan=filters.plan)
    if filters.as_of:
        changes = changes.filter(board_approval_date__lte=filters.as_of)

    def rows():
        running: dict[int, int] = defaultdict(int)
        seen: set[int] = set()
        for (
            plan_id,
            company,
            plan_name,
            board_date,
            shares,
            resolution,
            note,
            first,
            last,
            username,
            recorded_at,
            pk,
        ) in (
            changes.order_by("plan__company_name", "plan__name", "plan_id", "board_approval_date", "pk")
            .values_list(
                "plan_id",
                "plan__company_name",
                "plan__name",
                "board_approval_date",
                "shares",
                "resolution_reference",
                "note",
                "recorded_by__first_name",
                "recorded_by__last_name",
                "recorded_by__username",
                "recorded_at",
                "pk",
            )
            .iterator(chunk_size=CHUNK_SIZE)
        ):
            running[plan_id] += shares
            kind = "Initial reserve" if plan_id not in seen else ("Increase" if shares > 0 else "Decrease")
            seen.add(plan_id)
            yield (
                f"{company} {plan_name}",
                kind,
                board_date,
                shares,
                running[plan_id],
                resolution,
                note,
                person_name(first, last, username),
                _local(recorded_at),
                pk,
            )

    return Table(
        title=filters.titled("Reserve history" if not filters.as_of else "Reserve"),
        columns=[
            Column("Plan", TEXT, 30),
            Column("Change", TEXT, 14),
            Column("Board approval date", DATE, 12),
            Column("Shares", INT, 14, total=True),
            Column("Authorized after", INT, 14),
            Column("Resolution reference", TEXT, 22),
            Column("Note", TEXT, 30),
            Column("Recorded by", TEXT, 20),
            Column("Recorded at", DATETIME, 17),
            Column("Change no.", PLAIN, 10),
        ],
        rows=rows(),
        totals=[Total("Authorized shares (sum of changes)")],
        notes=[filters.describe()],
    )
