"""Reads for the board's pages (dashboard, designation, plan and participant pages). Nothing here writes.

Every function runs a fixed number of queries, whatever the number of designations, votes or issuances: the
board dashboard's query count must not grow with the ledger.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import groupby

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, Sum
from django.utils import timezone

from . import roles
from .models import (
    BoardDesignation,
    DesignationLapse,
    DesignationVote,
    Issuance,
    IssuanceCancellation,
    IssuanceTotal,
    Participant,
    Plan,
    PlanProposal,
    PlanProposalVote,
    RecordConfirmation,
    VoteDecision,
)
from .selectors import designations_awaiting_vote, plans_with_pool, proposals_awaiting_vote, unconfirmed_count

RECENT_DECISIONS = 10
CARDS_PER_PAGE = 50  # designation cards per page of each dashboard section


@dataclass
class Bar:
    """One bar of a server-side bar chart: a label, a value and its width in percent of the largest bar."""

    label: str
    value: int
    percent: float = 0.0


def bars(rows: list[tuple[str, int]]) -> list[Bar]:
    largest = max((value for _, value in rows), default=0)
    return [
        Bar(label=str(label), value=value, percent=100.0 * value / largest if largest else 0.0) for label, value in rows
    ]


def votes_prefetch() -> Prefetch:
    return Prefetch("votes", queryset=DesignationVote.objects.select_related("voter").order_by("cast_at", "pk"))


def standing_totals():
    """The issuance totals (IssuanceTotal: per plan, designation year and participant category) with shares
    standing. The services keep them in step with the ledger and `reconcile` checks them, so the charts read a few
    rows per plan, however many designations and issuances there are."""
    return IssuanceTotal.objects.filter(issued_shares__gt=0)


def issued_by_plan_year() -> dict[int, list[Bar]]:
    """Shares issued (net of cancellations) per plan and designation year, as chart bars, in one query."""
    rows = standing_totals().values("plan_id", "year").annotate(total=Sum("issued_shares")).order_by("plan_id", "year")
    by_plan: dict[int, list[Bar]] = {}
    for plan_id, group in groupby(rows, key=lambda row: row["plan_id"]):
        by_plan[plan_id] = bars([(row["year"], row["total"]) for row in group])
    return by_plan


def issued_by_plan_category() -> dict[int, list[Bar]]:
    """Shares issued (net of cancellations) per plan and participant category, as chart bars, in one query."""
    rows = standing_totals().values("plan_id", "category").annotate(total=Sum("issued_shares")).order_by()
    totals: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        totals[row["plan_id"]][row["category"]] = row["total"]
    return {
        plan_id: bars(
            [(label, per_category[value]) for value, label in Participant.Category.choices if value in per_category]
        )
        for plan_id, per_category in sorted(totals.items())
    }


@dataclass
class PendingDesignation:
    """A proposed designation and what approving it would do to its plan's pool (commitments of all years)."""

    designation: BoardDesignation
    approvals: int
    rejections: int
    available_now: int
    available_after: int
    why_not: str = ""  # for a member who may not vote on it, why, in one sentence

    @property
    def over_commits(self) -> bool:
        return self.available_after < 0


@dataclass
class PendingProposal:
    """A proposal to change a plan, with what approving it would do."""

    proposal: PlanProposal
    approvals: int
    rejections: int
    effect: "ProposalEffect"
    why_not: str = ""


@dataclass
class YearGroup:
    year: int
    items: list = field(default_factory=list)


@dataclass(frozen=True)
class Eligibility:
    may_vote: bool
    why_not: str = ""  # empty when the user may vote, or when there is nothing to say (decided, not a member)


def vote_eligibility(user, subject: BoardDesignation | PlanProposal, votes) -> Eligibility:
    """Whether to offer `user` a vote on `subject`, and if not, why in one plain sentence.

    The services decide when the vote is cast; this only words the page. `votes` are the subject's votes.
    """
    if subject.status != "proposed" or not roles.is_board_member(user):
        return Eligibility(False)
    noun = "designation" if isinstance(subject, BoardDesignation) else "proposal"
    if subject.proposed_by_id == user.pk:
        return Eligibility(False, f"You proposed this {noun}, so you cannot vote on it.")
    if isinstance(subject, BoardDesignation) and subject.designated_user_id == user.pk:
        return Eligibility(False, "This designation is for you, so you cannot vote on it.")
    mine = next((vote for vote in votes if vote.voter_id == user.pk), None)
    if mine is not None:
        return Eligibility(
            False,
            f"You voted to {mine.get_decision_display().lower()} on "
            f"{timezone.localtime(mine.cast_at):%B %-d, %Y}; it waits for the other members.",
        )
    return Eligibility(True)


@dataclass(frozen=True)
class ProposalEffect:
    """What approving a proposal to change a plan would do, in figures and one sentence."""

    sentence: str
    authorized_after: int | None = None
    available_after: int | None = None

    @property
    def refused(self) -> bool:
        return self.available_after is not None and self.available_after < 0


def proposal_effect(proposal: PlanProposal, pool) -> ProposalEffect:
    if proposal.kind == PlanProposal.Kind.TERMINATION:
        return ProposalEffect(
            f"The plan would end on {proposal.termination_date:%B %-d, %Y}: no shares could be issued on or after "
            "that date."
        )
    after = pool.authorized + proposal.shares
    available_after = pool.available + proposal.shares
    sentence = f"Authorized shares {pool.authorized:,} → {after:,}; available {pool.available:,} → {available_after:,}."
    if available_after < 0:
        sentence += " That is below what is issued and committed: approval will be refused."
    return ProposalEffect(sentence, authorized_after=after, available_after=available_after)


def _pending(designations, user) -> list[PendingDesignation]:
    pending = []
    for designation in designations:
        available = designation.plan.available_shares
        votes = list(designation.votes.all())
        pending.append(
            PendingDesignation(
                designation=designation,
                approvals=sum(1 for vote in votes if vote.decision == VoteDecision.APPROVE),
                rejections=sum(1 for vote in votes if vote.decision == VoteDecision.REJECT),
                available_now=available,
                available_after=available - designation.shares,
                why_not=vote_eligibility(user, designation, votes).why_not,
            )
        )
    return pending


def _pending_proposals(proposals, user, pools: dict) -> list[PendingProposal]:
    pending = []
    for proposal in proposals:
        votes = list(proposal.votes.all())
        pending.append(
            PendingProposal(
                proposal=proposal,
                approvals=sum(1 for vote in votes if vote.decision == VoteDecision.APPROVE),
                rejections=sum(1 for vote in votes if vote.decision == VoteDecision.REJECT),
                effect=proposal_effect(proposal, pools[proposal.plan_id]),
                why_not=vote_eligibility(user, proposal, votes).why_not,
            )
        )
    return pending


def _by_year(pending: list[PendingDesignation]) -> list[YearGroup]:
    ordered = sorted(
        pending, key=lambda item: (-item.designation.year, item.designation.participant.name, item.designation.pk)
    )
    return [
        YearGroup(year=year, items=list(items))
        for year, items in groupby(ordered, key=lambda item: item.designation.year)
    ]


def proposal_votes_prefetch() -> Prefetch:
    return Prefetch("votes", queryset=PlanProposalVote.objects.select_related("voter").order_by("cast_at", "pk"))


@dataclass
class CardPage:
    """One page of a dashboard section's designation cards, grouped by year, and where the others are."""

    groups: list[YearGroup]
    page: Page

    @property
    def count(self) -> int:
        return self.page.paginator.count


def _card_page(designations, user, number) -> CardPage:
    """The page `number` (a query parameter: anything that is not a page number reads as the first or the last)
    of `designations`, CARDS_PER_PAGE cards, with their votes: a constant number of queries for any ledger."""
    page = Paginator(designations, CARDS_PER_PAGE).get_page(number)
    return CardPage(groups=_by_year(_pending(page.object_list, user)), page=page)


def board_dashboard(*, user, can_vote: bool, awaiting_page=None, others_page=None) -> dict:
    """Everything the board dashboard shows, in a constant number of queries.

    `awaiting` holds the proposals this user may vote on (designations grouped by year, and proposals to change a
    plan); `before_board` the other open proposals (already voted on by this user, their own, or every proposal
    for a user who does not vote), each saying why this user does not vote on it. The designations of each come
    CARDS_PER_PAGE at a time (`awaiting_page`, `others_page`): a board with thousands of open proposals gets a
    page it can read, in the same time as one with a few.
    """
    plans = plans_with_pool()
    pools = {plan.pk: pool for plan, pool in plans}
    awaiting = None
    awaiting_proposals = []
    if can_vote:
        awaiting = _card_page(
            designations_awaiting_vote(user=user).prefetch_related(votes_prefetch()), user, awaiting_page
        )
        awaiting_proposals = _pending_proposals(
            proposals_awaiting_vote(user=user).prefetch_related(proposal_votes_prefetch()), user, pools
        )
    others = BoardDesignation.objects.filter(status=BoardDesignation.Status.PROPOSED)
    if can_vote:
        others = others.exclude(pk__in=designations_awaiting_vote(user=user).values("pk"))
    others = (
        others.select_related("plan", "participant", "proposed_by")
        .prefetch_related(votes_prefetch())
        .order_by("plan_id", "-year", "participant__name", "pk")
    )
    other_proposals = (
        PlanProposal.objects.filter(status=PlanProposal.Status.PROPOSED)
        .exclude(pk__in=[item.proposal.pk for item in awaiting_proposals])
        .select_related("plan", "proposed_by")
        .prefetch_related(proposal_votes_prefetch())
        .order_by("plan_id", "proposed_at", "pk")
    )
    recent = (
        BoardDesignation.objects.filter(status__in=[BoardDesignation.Status.APPROVED, BoardDesignation.Status.REJECTED])
        .select_related("plan", "participant", "proposed_by")
        .prefetch_related(votes_prefetch())
        .order_by("-decided_at", "-pk")[:RECENT_DECISIONS]
    )
    return {
        "awaiting": awaiting,
        "awaiting_proposals": awaiting_proposals,
        "awaiting_count": (awaiting.count if awaiting else 0) + len(awaiting_proposals),
        "before_board": _card_page(others, user, others_page),
        "other_proposals": _pending_proposals(other_proposals, user, pools),
        "recent_decisions": list(recent),
        "unconfirmed_records": unconfirmed_count(),
        "plans_with_pool": plans,
        "issued_by_year": issued_by_plan_year(),
        "issued_by_category": issued_by_plan_category(),
    }


def _decision_sentence(record) -> str:
    """How the board's decision reads in a history: its status, the date the board acted, the reference."""
    said = f"Status changed to {record.get_status_display().lower()}"
    if record.status in ("approved", "rejected") and record.decided_on:
        said = f"{record.get_status_display()} by the board on {record.decided_on:%B %-d, %Y}"
        if record.decision_reference:
            said += f" ({record.decision_reference})"
    return said


def designation_history(designation: BoardDesignation) -> list[dict]:
    """The designation's audit trail, oldest first, from simple-history records and the ledger rows.

    Each entry: when, who (a user or None), what (a sentence), kind (proposed, vote, status, issuance,
    cancellation, lapse, confirmation, change).
    """
    entries: list[dict] = []
    previous = None
    for record in designation.history.select_related("history_user").order_by("history_date", "history_id"):
        who = record.history_user
        if record.history_type == "+":
            if record.decision_source == "records":
                what = (
                    f"Entered from records: {record.shares:,} shares for {record.year}, "
                    f"{_decision_sentence(record).lower()}"
                )
            else:
                what = f"Proposed {record.shares:,} shares for {record.year}"
            entries.append(
                {"when": record.history_date, "who": who or designation.proposed_by, "kind": "proposed", "what": what}
            )
        elif record.history_type == "~" and previous is not None and previous.status != record.status:
            entries.append(
                {"when": record.history_date, "who": who, "kind": "status", "what": _decision_sentence(record)}
            )
        elif record.history_type == "~":
            entries.append({"when": record.history_date, "who": who, "kind": "change", "what": "Record changed"})
        previous = record
    for vote in designation.votes.select_related("voter").order_by("cast_at", "pk"):
        what = f"Voted to {vote.get_decision_display().lower()}"
        if vote.comment:
            what += f": “{vote.comment}”"
        entries.append(
            {"when": vote.cast_at, "who": vote.voter, "kind": "vote", "what": what, "decision": vote.decision}
        )
    issuance_ids = []
    for record in (
        Issuance.history.filter(designation_id=designation.pk, history_type="+")
        .select_related("history_user")
        .order_by("history_date", "history_id")
    ):
        issuance_ids.append(record.id)
        source = f", entered from records ({record.source_reference})" if record.entered_from_records else ""
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "kind": "issuance",
                "what": f"Recorded issuance #{record.id}: {record.shares:,} shares on "
                f"{record.issue_date:%B %-d, %Y} ({record.get_kind_display().lower()}){source}",
            }
        )
    for record in (
        IssuanceCancellation.history.filter(issuance_id__in=issuance_ids, history_type="+")
        .select_related("history_user")
        .order_by("history_date", "history_id")
    ):
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "kind": "cancellation",
                "what": f"Cancelled issuance #{record.issuance_id} as of "
                f"{record.cancelled_on:%B %-d, %Y}: {record.reason}",
            }
        )
    lapse = DesignationLapse.objects.filter(designation=designation).select_related("recorded_by").first()
    if lapse is not None:
        entries.append(
            {
                "when": lapse.recorded_at,
                "who": lapse.recorded_by,
                "kind": "lapse",
                "what": f"Lapsed as of {lapse.lapsed_on:%B %-d, %Y}, releasing {lapse.released_shares:,} "
                f"unissued shares: {lapse.reason}",
            }
        )
    for confirmation in RecordConfirmation.objects.filter(
        Q(designation=designation) | Q(issuance_id__in=issuance_ids) | Q(cancellation__issuance_id__in=issuance_ids)
    ).select_related("confirmed_by"):
        entries.append(
            {
                "when": confirmation.confirmed_at,
                "who": confirmation.confirmed_by,
                "kind": "confirmation",
                "what": f"Confirmed the {_confirmed_what(confirmation)} entered from records"
                + (f": “{confirmation.comment}”" if confirmation.comment else ""),
            }
        )
    entries.sort(key=lambda entry: entry["when"])
    return entries


def _confirmed_what(confirmation: RecordConfirmation) -> str:
    if confirmation.designation_id:
        return "designation"
    if confirmation.issuance_id:
        return f"issuance #{confirmation.issuance_id}"
    return "cancellation"


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
        year = years.setdefault(
            designation.year,
            {"year": designation.year, "designations": [], "issuances": [], "designated": 0, "issued": 0},
        )
        year["designations"].append(designation)
        if designation.status == BoardDesignation.Status.APPROVED:
            year["designated"] += designation.shares
    for issuance in issuances:
        year = years.setdefault(
            issuance.designation.year,
            {"year": issuance.designation.year, "designations": [], "issuances": [], "designated": 0, "issued": 0},
        )
        year["issuances"].append(issuance)
        if not hasattr(issuance, "cancellation"):
            year["issued"] += issuance.shares
    return [years[year] for year in sorted(years, reverse=True)]


def plan_issued_by_year(plan: Plan) -> list[Bar]:
    rows = standing_totals().filter(plan=plan).values("year").annotate(total=Sum("issued_shares")).order_by("year")
    return bars([(row["year"], row["total"]) for row in rows])


__all__ = [
    "Bar",
    "board_dashboard",
    "designation_history",
    "participant_years",
    "plan_issued_by_year",
]
