"""The board's pages. Each checks its permission; writes go through plan_admin.forms and services.

Logging in is enforced for every page by LoginRequiredMiddleware; each view below also requires a model
permission, so a logged-in user without it gets 403. Deciding (votes, confirmations) additionally requires
membership of the board group, superuser or not (roles.is_board_member); the services check it again. Nothing here
decides a rule of the plan: refusals come from the services and are shown as they are.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from . import dashboard, formatting, roles
from .board import views as resolution_views
from .exceptions import PlanRuleViolation
from .forms import ConfirmationForm, ProposalVoteForm, VoteForm
from .models import (
    BoardDesignation,
    DesignationVote,
    Issuance,
    IssuanceCancellation,
    Participant,
    Plan,
    PlanProposal,
    ShareReserveChange,
    VoteDecision,
)
from .security.inputs import local_redirect_target
from .selectors import designation_counts_by_status, pool_status, unconfirmed_records
from .services.decisions import tally

VIEW_DESIGNATIONS = "plan_admin.view_boarddesignation"


def board_member_required(view):
    """403 for anyone outside the board group, whatever permissions they hold (a superuser holds them all)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not roles.is_board_member(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def home(request: HttpRequest) -> HttpResponse:
    """Send each user to where their work is: the board and auditors to the board's page, others to the admin."""
    if request.user.groups.filter(name__in=[roles.BOARD, roles.AUDITORS]).exists():
        return redirect("board-dashboard")
    return redirect("admin:index")


def _next_url(request: HttpRequest, *, fallback: str) -> str:
    return local_redirect_target(request, request.POST.get("next")) or fallback


def _submit(request, form, *, success, not_done: str = "Nothing was recorded") -> None:
    """Validate and submit a board form; show its refusal or errors as a message. Nothing is written on refusal."""
    if form.is_valid():
        try:
            written = form.submit(by=request.user)
        except PlanRuleViolation as refusal:
            messages.error(request, " ".join(refusal.messages))
        else:
            messages.success(request, success(written))
    else:
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        messages.error(request, f"{not_done}: " + " ".join(errors))


@require_safe
@permission_required(VIEW_DESIGNATIONS, raise_exception=True)
def board_dashboard(request: HttpRequest) -> HttpResponse:
    can_vote = roles.is_board_member(request.user)
    context = dashboard.board_dashboard(
        user=request.user,
        can_vote=can_vote,
        awaiting_page=request.GET.get("awaiting_page"),
        others_page=request.GET.get("others_page"),
    )
    issued_by_year = context.pop("issued_by_year")
    issued_by_category = context.pop("issued_by_category")
    plans = context.pop("plans_with_pool")
    context["plans"] = [
        {
            "plan": plan,
            "pool": pool,
            "issued_by_year": issued_by_year.get(plan.pk, []),
            "issued_by_category": issued_by_category.get(plan.pk, []),
        }
        for plan, pool in plans
    ]
    context["can_vote"] = can_vote
    context["awaiting_signature"] = resolution_views.awaiting_signature(request.user)  # shown first
    return render(request, "plan_admin/board_dashboard.html", context)


# --- designations ----------------------------------------------------------------------------------------------


@require_POST
@permission_required(VIEW_DESIGNATIONS, raise_exception=True)
@board_member_required
def designation_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """Cast the user's vote through services.designation_vote; a refusal is shown as a message, nothing written."""
    designation = get_object_or_404(BoardDesignation.objects.select_related("participant", "plan"), pk=pk)

    def outcome(vote: DesignationVote) -> str:
        said = (
            f"You voted to {vote.get_decision_display().lower()} the {designation.year} designation of "
            f"{designation.participant} ({designation.shares:,} shares)."
        )
        if designation.status == BoardDesignation.Status.PROPOSED:
            approvals = designation.votes.filter(decision=VoteDecision.APPROVE).count()
            return (
                f"{said} It stays pending: {approvals:,} of {designation.plan.required_approvals:,} required approvals."
            )
        return f"{said} The designation is now {designation.get_status_display().lower()}, decided today."

    _submit(
        request, VoteForm(request.POST, designation=designation), success=outcome, not_done="Your vote was not recorded"
    )
    return redirect(_next_url(request, fallback=reverse("board-dashboard")))


def _vote_confirmation(
    request, *, subject, form, title: str, what: list[tuple[str, str]], pool_line: str, action: str, back: str
) -> HttpResponse:
    """The confirmation step of a vote: restate what is decided and what it does to the pool; nothing is written.

    The page's one form posts the same decision and comment to the voting view, which calls the service.
    """
    if not form.is_valid():
        messages.error(
            request,
            "Your vote was not recorded: " + " ".join(error for errors in form.errors.values() for error in errors),
        )
        return redirect(back)
    decision = form.cleaned_data["decision"]
    votes = list(subject.votes.all())
    eligibility = dashboard.vote_eligibility(request.user, subject, votes)
    outcome = tally(plan=subject.plan, decisions_so_far=[vote.decision for vote in votes], decision=decision)
    noun = "designation" if isinstance(subject, BoardDesignation) else "proposal"
    verb = "approve" if decision == VoteDecision.APPROVE else "reject"
    if outcome.decided:
        consequence = f"Your vote decides it: the {noun} will be {outcome.decided}d, dated today."
    else:
        needed = subject.plan.required_approvals
        count = outcome.approvals if decision == VoteDecision.APPROVE else outcome.rejections
        consequence = (
            f"Your vote will be {count:,} of the {needed:,} needed to {verb} it; the {noun} stays pending "
            "until the other members vote."
        )
    why_not = eligibility.why_not
    if not eligibility.may_vote and not why_not:
        why_not = f"This {noun} is {subject.get_status_display().lower()}: it is no longer open to votes."
    return render(
        request,
        "plan_admin/vote_confirm.html",
        {
            "subject": subject,
            "noun": noun,
            "decision": decision,
            "verb": verb,
            "comment": form.cleaned_data["comment"],
            "title": title,
            "what": what,
            "pool_line": pool_line,
            "consequence": consequence,
            "action": action,
            "back": back,
            "may_vote": eligibility.may_vote,
            "why_not": why_not,
            "plan": subject.plan,
        },
    )


@require_POST
@permission_required(VIEW_DESIGNATIONS, raise_exception=True)
@board_member_required
def designation_vote_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or Reject, step one: the confirmation page (see _vote_confirmation)."""
    designation = get_object_or_404(BoardDesignation.objects.select_related("participant", "plan"), pk=pk)
    form = VoteForm(request.POST, designation=designation)
    back = _next_url(request, fallback=reverse("board-dashboard"))
    available = designation.plan.available_shares
    decision = request.POST.get("decision")
    if decision == VoteDecision.APPROVE:
        after = available - designation.shares
        pool_line = (
            f"Shares available in {designation.plan.name} (all years' commitments counted): "
            f"{formatting.shares(available)} before → {formatting.shares(after)} after, if it is approved."
        )
        if after < 0:
            pool_line += " That is more than the pool has left: the approval will be refused."
    else:
        pool_line = (
            f"Shares available in {designation.plan.name}: {formatting.shares(available)} before → "
            f"{formatting.shares(available)} after: a rejection commits no shares."
        )
    return _vote_confirmation(
        request,
        subject=designation,
        form=form,
        back=back,
        title=f"the {formatting.year(designation.year)} designation of {designation.participant.name}",
        what=[
            ("Participant", f"{designation.participant.name} ({designation.participant.get_category_display()})"),
            ("Shares", formatting.shares(designation.shares)),
            ("Year", formatting.year(designation.year)),
            ("Plan", designation.plan.name),
        ],
        pool_line=pool_line,
        action=reverse("designation-vote", args=[designation.pk]),
    )


@require_POST
@permission_required("plan_admin.view_planproposal", raise_exception=True)
@board_member_required
def proposal_vote_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or Reject a proposal to change a plan, step one: the confirmation page."""
    proposal = get_object_or_404(PlanProposal.objects.select_related("plan"), pk=pk)
    form = ProposalVoteForm(request.POST, proposal=proposal)
    back = _next_url(request, fallback=reverse("proposal-detail", args=[proposal.pk]))
    pool = pool_status(plan=proposal.plan)
    if request.POST.get("decision") == VoteDecision.APPROVE:
        pool_line = "If it is approved: " + dashboard.proposal_effect(proposal, pool).sentence
    else:
        pool_line = (
            f"Shares available in {proposal.plan.name}: {formatting.shares(pool.available)} before → "
            f"{formatting.shares(pool.available)} after: a rejection changes nothing."
        )
    what = [("Proposal", str(proposal)), ("Plan", proposal.plan.name)]
    if proposal.shares:
        what.insert(1, ("Change to the reserve", f"{'+' if proposal.shares > 0 else ''}{proposal.shares:,} shares"))
    return _vote_confirmation(
        request,
        subject=proposal,
        form=form,
        back=back,
        title=f"the proposal: {proposal}",
        what=what,
        pool_line=pool_line,
        action=reverse("proposal-vote", args=[proposal.pk]),
    )


@require_safe
@permission_required(VIEW_DESIGNATIONS, raise_exception=True)
def designation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    designation = get_object_or_404(
        BoardDesignation.objects.select_related(
            "plan", "participant", "proposed_by", "confirmation__confirmed_by", "lapse__recorded_by"
        ),
        pk=pk,
    )
    votes = list(designation.votes.select_related("voter").order_by("cast_at", "pk"))
    issuances = list(
        designation.issuances.select_related("recorded_by", "cancellation__recorded_by").order_by("issue_date", "pk")
    )
    eligibility = dashboard.vote_eligibility(request.user, designation, votes)
    pool = pool_status(plan=designation.plan)
    context = {
        "designation": designation,
        "plan": designation.plan,
        "pool": pool,
        "votes": votes,
        "approvals": sum(1 for vote in votes if vote.decision == VoteDecision.APPROVE),
        "issuances": issuances,
        "history": dashboard.designation_history(designation),
        "may_vote": eligibility.may_vote,
        "why_not": eligibility.why_not,
        "vote_form": VoteForm(designation=designation) if eligibility.may_vote else None,
        "available_after": pool.available - designation.shares,
        "resolutions": resolution_views.resolutions_of(designation=designation),
    }
    context["history"] = sorted(
        context["history"] + resolution_views.history_entries(designation), key=lambda entry: entry["when"]
    )
    return render(request, "plan_admin/designation_detail.html", context)


# --- proposals to change a plan ------------------------------------------------------------------------------------


@require_safe
@permission_required("plan_admin.view_planproposal", raise_exception=True)
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(PlanProposal.objects.select_related("plan", "proposed_by"), pk=pk)
    votes = list(proposal.votes.select_related("voter").order_by("cast_at", "pk"))
    eligibility = dashboard.vote_eligibility(request.user, proposal, votes)
    pool = pool_status(plan=proposal.plan)
    context = {
        "proposal": proposal,
        "plan": proposal.plan,
        "pool": pool,
        "votes": votes,
        "effect": dashboard.proposal_effect(proposal, pool),
        "approvals": sum(1 for vote in votes if vote.decision == VoteDecision.APPROVE),
        "may_vote": eligibility.may_vote,
        "why_not": eligibility.why_not,
        "reserve_change": ShareReserveChange.objects.filter(proposal=proposal).first(),
    }
    return render(request, "plan_admin/proposal_detail.html", context)


@require_POST
@permission_required("plan_admin.view_planproposal", raise_exception=True)
@board_member_required
def proposal_vote(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(PlanProposal.objects.select_related("plan"), pk=pk)

    def outcome(vote) -> str:
        said = f"You voted to {vote.get_decision_display().lower()}: {proposal}."
        if proposal.status == PlanProposal.Status.PROPOSED:
            approvals = proposal.votes.filter(decision=VoteDecision.APPROVE).count()
            return f"{said} It stays pending: {approvals:,} of {proposal.plan.required_approvals:,} required approvals."
        return f"{said} The proposal is now {proposal.get_status_display().lower()}, decided today."

    _submit(
        request,
        ProposalVoteForm(request.POST, proposal=proposal),
        success=outcome,
        not_done="Your vote was not recorded",
    )
    return redirect(_next_url(request, fallback=reverse("proposal-detail", args=[proposal.pk])))


# --- history entered from records ---------------------------------------------------------------------------------

RECORD_KINDS = {
    "designation": BoardDesignation.objects.select_related("plan", "participant"),
    "reserve-change": ShareReserveChange.objects.select_related("plan"),
    "issuance": Issuance.objects.select_related("designation__participant"),
    "cancellation": IssuanceCancellation.objects.select_related("issuance__designation__participant"),
}


@require_safe
@permission_required("plan_admin.view_recordconfirmation", raise_exception=True)
def past_records(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "plan_admin/past_records.html",
        {
            "records": unconfirmed_records(),
            "may_confirm": roles.is_board_member(request.user),
        },
    )


@require_POST
@permission_required("plan_admin.confirm_past_records", raise_exception=True)
@board_member_required
def past_record_confirm(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    queryset = RECORD_KINDS.get(kind)
    if queryset is None:
        raise Http404("There is no such kind of record.")
    record = get_object_or_404(queryset, pk=pk)
    _submit(
        request, ConfirmationForm(request.POST, record=record), success=lambda confirmation: f"Confirmed: {record}."
    )
    return redirect(_next_url(request, fallback=reverse("past-records")))


# --- plans and participants -----------------------------------------------------------------------------------------


@require_safe
@permission_required("plan_admin.view_plan", raise_exception=True)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    reserve_changes = list(
        plan.reserve_changes.select_related("recorded_by", "confirmation").order_by("board_approval_date", "pk")
    )
    running = 0
    for change in reserve_changes:
        running += change.shares
        change.running_total = running
    counts = designation_counts_by_status(plan)
    context = {
        "plan": plan,
        "pool": pool_status(plan=plan),
        "reserve_changes": reserve_changes,
        "proposals": list(plan.proposals.select_related("proposed_by").order_by("-proposed_at", "-pk")[:20]),
        "year_closings": list(plan.year_closings.order_by("-year")),
        "issued_by_year": dashboard.plan_issued_by_year(plan),
        "designation_counts": counts,
        "resolutions": resolution_views.resolutions_of(plan=plan),
    }
    return render(request, "plan_admin/plan_detail.html", context)


@require_safe
@permission_required("plan_admin.view_participant", raise_exception=True)
def participant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    participant = get_object_or_404(Participant.objects.select_related("user"), pk=pk)
    years = dashboard.participant_years(participant)
    context = {
        "participant": participant,
        "years": years,
        "total_designated": sum(year["designated"] for year in years),
        "total_issued": sum(year["issued"] for year in years),
    }
    return render(request, "plan_admin/participant_detail.html", context)
