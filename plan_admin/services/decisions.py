"""How the board decides (DESIGN rule 5), shared by designations and proposals to change the plan.

Only members of the board group vote, superuser or not. Whoever proposed a decision does not vote on it, nor does
the person a designation designates (fixed on the designation when it was proposed). A proposal is approved when
its approving votes reach the plan's required count, and rejected when its rejecting votes do; the decision is
dated the day of the deciding vote, in the company's time zone.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from .. import formatting as fmt
from ..exceptions import InvalidInput, VoteRefused
from ..models import DecisionSource, Plan, ResolutionItem, VoteDecision
from ..roles import is_board_member
from . import _common

VOTES_REFERENCE = "Votes of the board in plan-admin"


def clean_vote(*, decision: str, comment: str) -> tuple[str, str]:
    if decision not in VoteDecision.values:
        raise InvalidInput("Choose approve or reject.", field="decision")
    return decision, _common.text(comment, field="comment", label="comment", max_length=5000)


def refuse_unless_may_vote(
    *,
    voter,
    noun: str,
    status_label: str | None,
    proposed_by_id: int | None,
    designated_user_id: int | None,
    voter_ids: set[int],
) -> None:
    """Raise VoteRefused unless `voter` may vote on this proposal (a "designation" or a "proposal", says `noun`).

    `status_label` is None while the proposal is open, else its status in words.
    """
    if not is_board_member(voter):
        raise VoteRefused("Only members of the board vote on the board's decisions.")
    if status_label is not None:
        raise VoteRefused(f"This {noun} is already {status_label}.")
    if proposed_by_id is not None and proposed_by_id == voter.pk:
        raise VoteRefused(f"You proposed this {noun}, so you may not vote on it.")
    if designated_user_id is not None and designated_user_id == voter.pk:
        raise VoteRefused("This designation is of you, so you may not vote on it.")
    if voter.pk in voter_ids:
        raise VoteRefused(f"You have already voted on this {noun}.")


@dataclass(frozen=True)
class Outcome:
    """Whether a vote decides its proposal: `decided` is None while it stays pending."""

    decided: str | None  # VoteDecision.APPROVE or REJECT when this vote decides
    approvals: int
    rejections: int


def tally(*, plan: Plan, decisions_so_far: list[str], decision: str) -> Outcome:
    approvals = decisions_so_far.count(VoteDecision.APPROVE) + (decision == VoteDecision.APPROVE)
    rejections = decisions_so_far.count(VoteDecision.REJECT) + (decision == VoteDecision.REJECT)
    same = approvals if decision == VoteDecision.APPROVE else rejections
    return Outcome(
        decided=decision if same >= plan.required_approvals else None, approvals=approvals, rejections=rejections
    )


def decided_by_votes() -> dict:
    """The decision fields of a proposal decided now by votes in this app."""
    return {
        "decided_on": _common.today(),
        "decision_reference": VOTES_REFERENCE,
        "decision_source": DecisionSource.VOTES,
        "decided_at": timezone.now(),
    }


def decided_by_resolution(*, reference: str, decided_on: datetime.date) -> dict:
    """The decision fields of a proposal decided by a resolution of the board signed in this app."""
    return {
        "decided_on": decided_on,
        "decision_reference": reference,
        "decision_source": DecisionSource.RESOLUTION,
        "decided_at": timezone.now(),
    }


def open_resolution_item(*, designation_id: int | None = None, proposal_id: int | None = None):
    """The item of the resolution out for signature that holds this proposal, or None. Callers hold the plan lock."""
    items = ResolutionItem.objects.select_related("resolution").filter(resolution__status="pending")
    if designation_id is not None:
        return items.filter(designation_id=designation_id).first()
    return items.filter(proposal_id=proposal_id).first()


def refuse_if_out_for_signature(
    *, noun: str, designation_id: int | None = None, proposal_id: int | None = None, doing: str, error=VoteRefused
) -> None:
    """While a resolution is out for signature its proposals are frozen: no vote, no withdrawal (issue 12)."""
    item = open_resolution_item(designation_id=designation_id, proposal_id=proposal_id)
    if item is not None:
        resolution = item.resolution
        raise error(
            f"This {noun} is out for signature in {resolution.reference} ({resolution.get_kind_display().lower()}): "
            f"{doing}"
        )


def decided_from_records(*, decided_on, decision_reference, plan: Plan) -> dict:
    """The decision fields of a past decision entered from the board's records (before the ledger start date)."""
    decided_on = _common.date(decided_on, field="decided_on", label="date of the board's decision")
    _common.not_in_future(decided_on, field="decided_on", what="A decision of the board")
    _common.check_record_date(plan, decided_on, from_records=True, field="decided_on", what="A decision")
    reference = _common.text(
        decision_reference,
        field="decision_reference",
        label="reference to the minutes or written consent",
        required=True,
        max_length=300,
    )
    return {
        "decided_on": decided_on,
        "decision_reference": reference,
        "decision_source": DecisionSource.RECORDS,
        "decided_at": timezone.now(),
    }


def describe(decided_on: datetime.date | None, reference: str) -> str:
    return f"{fmt.day(decided_on)} ({reference})" if reference else fmt.day(decided_on)
