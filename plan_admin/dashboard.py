"""Reads for the board's pages (dashboard, designation, plan and participant pages). Nothing here writes.

Every function runs a fixed number of queries, whatever the number of designations, votes or issuances: the
board dashboard's query count must not grow with the ledger.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import F, Prefetch, Sum

from .models import BoardDesignation, DesignationVote, Issuance, IssuanceCancellation, Participant, Plan
from .selectors import designations_awaiting_vote

RECENT_DECISIONS = 10


@dataclass
class Bar:
    """One bar of a server-side bar chart: a label, a value and its width in percent of the largest bar."""

    label: str
    value: int
    percent: float = 0.0


def bars(rows: list[tuple[str, int]]) -> list[Bar]:
    largest = max((value for _, value in rows), default=0)
    return [Bar(label=str(label), value=value, percent=100.0 * value / largest if largest else 0.0)
            for label, value in rows]


def votes_prefetch() -> Prefetch:
    return Prefetch("votes", queryset=DesignationVote.objects.select_related("voter").order_by("cast_at", "pk"))


def committed_by_plan_year() -> dict[tuple[int, int], int]:
    """Unissued balance of approved designations per (plan id, year), in one query."""
    rows = (
        BoardDesignation.objects.filter(status=BoardDesignation.Status.APPROVED)
        .values("plan_id", "year")
        .annotate(total=Sum(F("shares") - F("issued_shares")))
        .order_by()
    )
    return {(row["plan_id"], row["year"]): row["total"] or 0 for row in rows}


def designations_with_issued_shares():
    """Designations whose counter holds shares issued net of cancellations (the ledger sums, per reconcile).

    Charts sum these counters rather than the issuance rows: a few thousand designations instead of every
    issuance joined to its cancellation.
    """
    return BoardDesignation.objects.filter(issued_shares__gt=0)


def issued_by_plan_year() -> dict[int, list[Bar]]:
    """Shares issued (net of cancellations) per plan and designation year, as chart bars, in one query."""
    rows = (
        designations_with_issued_shares()
        .values("plan_id", "year")
        .annotate(total=Sum("issued_shares"))
        .order_by("plan_id", "year")
    )
    by_plan: dict[int, list[Bar]] = {}
    for plan_id, group in groupby(rows, key=lambda row: row["plan_id"]):
        by_plan[plan_id] = bars([(row["year"], row["total"]) for row in group])
    return by_plan


def issued_by_plan_category() -> dict[int, list[Bar]]:
    """Shares issued (net of cancellations) per plan and participant category, as chart bars, in one query."""
    rows = (
        designations_with_issued_shares()
        .values("plan_id", "participant__category")
        .annotate(total=Sum("issued_shares"))
        .order_by("plan_id", "participant__category")
    )
    totals: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        totals[row["plan_id"]][row["participant__category"]] = row["total"]
    return {
        plan_id: bars([(label, per_category[value]) for value, label in Participant.Category.choices
                       if value in per_category])
        for plan_id, per_category in totals.items()
    }


@dataclass
class PendingDesignation:
    """A proposed designation and what approving it would do to its plan's pool for its year."""

    designation: BoardDesignation
    approvals: int
    rejections: int
    available_now: int
    available_after: int

    @property
    def over_commits(self) -> bool:
        return self.available_after < 0


@dataclass
class YearGroup:
    year: int
    items: list = field(default_factory=list)


def _pending(designations, committed: dict[tuple[int, int], int]) -> list[PendingDesignation]:
    pending = []
    for designation in designations:
        plan = designation.plan
        available = plan.authorized_shares - plan.issued_shares - committed.get((plan.pk, designation.year), 0)
        votes = list(designation.votes.all())
        pending.append(
            PendingDesignation(
                designation=designation,
                approvals=sum(1 for vote in votes if vote.decision == DesignationVote.Decision.APPROVE),
                rejections=sum(1 for vote in votes if vote.decision == DesignationVote.Decision.REJECT),
                available_now=available,
                available_after=available - designation.shares,
            )
        )
    return pending


def _by_year(pending: list[PendingDesignation]) -> list[YearGroup]:
    ordered = sorted(pending, key=lambda item: (-item.designation.year, item.designation.participant.name,
                                                item.designation.pk))
    return [YearGroup(year=year, items=list(items))
            for year, items in groupby(ordered, key=lambda item: item.designation.year)]


def board_dashboard(*, user, can_vote: bool) -> dict:
    """Everything the board dashboard shows, in a constant number of queries.

    `awaiting` holds the proposals this user may vote on (grouped by year); `before_board` the other proposals
    (already voted on by this user, their own, or every proposal for a user who does not vote).
    """
    committed = committed_by_plan_year()
    awaiting_qs = designations_awaiting_vote(user=user).prefetch_related(votes_prefetch()) if can_vote else None
    awaiting = _pending(awaiting_qs, committed) if can_vote else []
    awaiting_ids = [item.designation.pk for item in awaiting]
    others = (
        BoardDesignation.objects.filter(status=BoardDesignation.Status.PROPOSED)
        .exclude(pk__in=awaiting_ids)
        .select_related("plan", "participant", "proposed_by")
        .prefetch_related(votes_prefetch())
    )
    recent = (
        BoardDesignation.objects.filter(
            status__in=[BoardDesignation.Status.APPROVED, BoardDesignation.Status.REJECTED]
        )
        .select_related("plan", "participant", "proposed_by")
        .prefetch_related(votes_prefetch())
        .order_by("-decided_at", "-pk")[:RECENT_DECISIONS]
    )
    return {
        "awaiting_by_year": _by_year(awaiting),
        "awaiting_count": len(awaiting),
        "before_board": _by_year(_pending(others, committed)),
        "recent_decisions": list(recent),
        "issued_by_year": issued_by_plan_year(),
        "issued_by_category": issued_by_plan_category(),
    }


def designation_history(designation: BoardDesignation) -> list[dict]:
    """The designation's audit trail, oldest first, from simple-history records and the ledger rows.

    Each entry: when, who (a user or None), what (a sentence), kind (proposed, vote, status, issuance,
    cancellation, change).
    """
    entries: list[dict] = []
    previous = None
    for record in designation.history.select_related("history_user").order_by("history_date", "history_id"):
        who = record.history_user
        if record.history_type == "+":
            entries.append({"when": record.history_date, "who": who or designation.proposed_by, "kind": "proposed",
                            "what": f"Proposed {record.shares:,} shares for {record.year}"})
        elif record.history_type == "~" and previous is not None and previous.status != record.status:
            entries.append({"when": record.history_date, "who": who, "kind": "status",
                            "what": f"Status changed to {record.get_status_display().lower()}"})
        elif record.history_type == "~":
            entries.append({"when": record.history_date, "who": who, "kind": "change", "what": "Record changed"})
        previous = record
    for vote in designation.votes.select_related("voter").order_by("cast_at", "pk"):
        what = f"Voted to {vote.get_decision_display().lower()}"
        if vote.comment:
            what += f": “{vote.comment}”"
        entries.append({"when": vote.cast_at, "who": vote.voter, "kind": "vote", "what": what,
                        "decision": vote.decision})
    issuance_ids = []
    for record in (Issuance.history.filter(designation_id=designation.pk, history_type="+")
                   .select_related("history_user").order_by("history_date", "history_id")):
        issuance_ids.append(record.id)
        entries.append({"when": record.history_date, "who": record.history_user, "kind": "issuance",
                        "what": f"Recorded issuance #{record.id}: {record.shares:,} shares on "
                                f"{record.issue_date:%B %-d, %Y} ({record.get_kind_display().lower()})"})
    for record in (IssuanceCancellation.history.filter(issuance_id__in=issuance_ids, history_type="+")
                   .select_related("history_user").order_by("history_date", "history_id")):
        entries.append({"when": record.history_date, "who": record.history_user, "kind": "cancellation",
                        "what": f"Cancelled issuance #{record.issuance_id} as of "
                                f"{record.cancelled_on:%B %-d, %Y}: {record.reason}"})
    entries.sort(key=lambda entry: entry["when"])
    return entries


def participant_years(participant: Participant) -> list[dict]:
    """Per year: designations of the participant (all plans) and the shares issued against them, net."""
    designations = list(
        participant.designations.select_related("plan", "proposed_by").order_by("-year", "plan__name", "pk")
    )
    issuances = list(
        Issuance.objects.filter(designation__participant=participant)
        .select_related("designation__plan", "recorded_by", "cancellation")
        .order_by("-issue_date", "-pk")
    )
    years: dict[int, dict] = {}
    for designation in designations:
        year = years.setdefault(designation.year, {"year": designation.year, "designations": [], "issuances": [],
                                                   "designated": 0, "issued": 0})
        year["designations"].append(designation)
        if designation.status == BoardDesignation.Status.APPROVED:
            year["designated"] += designation.shares
    for issuance in issuances:
        year = years.setdefault(issuance.designation.year, {"year": issuance.designation.year, "designations": [],
                                                            "issuances": [], "designated": 0, "issued": 0})
        year["issuances"].append(issuance)
        if not hasattr(issuance, "cancellation"):
            year["issued"] += issuance.shares
    return [years[year] for year in sorted(years, reverse=True)]


def plan_issued_by_year(plan: Plan) -> list[Bar]:
    rows = (
        designations_with_issued_shares()
        .filter(plan=plan)
        .values("year")
        .annotate(total=Sum("issued_shares"))
        .order_by("year")
    )
    return bars([(row["year"], row["total"]) for row in rows])


__all__ = [
    "Bar",
    "board_dashboard",
    "designation_history",
    "participant_years",
    "plan_issued_by_year",
]
