"""Pages outside the admin. Each checks its permission; writes go through plan_admin.forms and services.

Logging in is enforced for every page by LoginRequiredMiddleware; each view below also requires a model
permission, so a logged-in user without it gets 403. Nothing here decides a rule of the plan: the vote
endpoint hands the vote to services.designation_vote (through forms.VoteForm) and shows its refusal as is.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from . import dashboard, roles
from .exceptions import PlanRuleViolation
from .forms import VoteForm
from .models import BoardDesignation, DesignationVote, Participant, Plan
from .security.inputs import local_redirect_target
from .selectors import plans_with_pool, pool_status

VIEW_DESIGNATIONS = "plan_admin.view_boarddesignation"
VOTE = "plan_admin.vote_boarddesignation"


def home(request: HttpRequest) -> HttpResponse:
    """Send each user to where their work is: the board and auditors to the board's page, others to the admin."""
    if request.user.groups.filter(name__in=[roles.BOARD, roles.AUDITORS]).exists():
        return redirect("board-dashboard")
    return redirect("admin:index")


def _may_vote_on(user, designation: BoardDesignation, votes) -> bool:
    """Whether to offer this user a vote form; services.designation_vote makes the decision when they use it."""
    return (
        user.has_perm(VOTE)
        and designation.status == BoardDesignation.Status.PROPOSED
        and designation.proposed_by_id != user.pk
        and designation.participant.user_id != user.pk
        and all(vote.voter_id != user.pk for vote in votes)
    )


@require_safe
@permission_required(VIEW_DESIGNATIONS, raise_exception=True)
def board_dashboard(request: HttpRequest) -> HttpResponse:
    can_vote = request.user.has_perm(VOTE)
    context = dashboard.board_dashboard(user=request.user, can_vote=can_vote)
    issued_by_year = context.pop("issued_by_year")
    issued_by_category = context.pop("issued_by_category")
    context["plans"] = [
        {
            "plan": plan,
            "pool": pool,
            "issued_by_year": issued_by_year.get(plan.pk, []),
            "issued_by_category": issued_by_category.get(plan.pk, []),
        }
        for plan, pool in plans_with_pool()
    ]
    context["can_vote"] = can_vote
    return render(request, "plan_admin/board_dashboard.html", context)


@require_POST
@permission_required(VOTE, raise_exception=True)
def designation_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """Cast the user's vote through services.designation_vote; a refusal is shown as a message, nothing written."""
    designation = get_object_or_404(BoardDesignation.objects.select_related("participant", "plan"), pk=pk)
    form = VoteForm(request.POST, designation=designation)
    if form.is_valid():
        try:
            vote = form.submit(by=request.user)
        except PlanRuleViolation as refusal:
            messages.error(request, " ".join(refusal.messages))
        else:
            messages.success(request, _vote_outcome(vote, designation))
    else:
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        messages.error(request, "Your vote was not recorded: " + " ".join(errors))
    return redirect(_next_url(request, fallback=reverse("board-dashboard")))


def _vote_outcome(vote: DesignationVote, designation: BoardDesignation) -> str:
    said = f"You voted to {vote.get_decision_display().lower()} the {designation.year} designation of " \
           f"{designation.participant} ({designation.shares:,} shares)."
    if designation.status == BoardDesignation.Status.PROPOSED:
        approvals = designation.votes.filter(decision=DesignationVote.Decision.APPROVE).count()
        needed = designation.plan.required_approvals
        return f"{said} It stays pending: {approvals:,} of {needed:,} required approvals."
    return f"{said} The designation is now {designation.get_status_display().lower()}."


def _next_url(request: HttpRequest, *, fallback: str) -> str:
    return local_redirect_target(request, request.POST.get("next")) or fallback


@require_safe
@permission_required(VIEW_DESIGNATIONS, raise_exception=True)
def designation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    designation = get_object_or_404(
        BoardDesignation.objects.select_related("plan", "participant", "proposed_by"), pk=pk
    )
    votes = list(designation.votes.select_related("voter").order_by("cast_at", "pk"))
    issuances = list(
        designation.issuances.select_related("recorded_by", "cancellation__recorded_by").order_by("issue_date", "pk")
    )
    may_vote = _may_vote_on(request.user, designation, votes)
    pool = pool_status(plan=designation.plan, year=designation.year)
    context = {
        "designation": designation,
        "plan": designation.plan,
        "pool": pool,
        "votes": votes,
        "approvals": sum(1 for vote in votes if vote.decision == DesignationVote.Decision.APPROVE),
        "issuances": issuances,
        "history": dashboard.designation_history(designation),
        "may_vote": may_vote,
        "vote_form": VoteForm(designation=designation) if may_vote else None,
        "available_after": pool.available - designation.shares,
    }
    return render(request, "plan_admin/designation_detail.html", context)


@require_safe
@permission_required("plan_admin.view_plan", raise_exception=True)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    reserve_changes = list(plan.reserve_changes.select_related("recorded_by").order_by("board_approval_date", "pk"))
    running = 0
    for change in reserve_changes:
        running += change.shares
        change.running_total = running
    counts = plan.designations.aggregate(
        proposed=Count("pk", filter=Q(status=BoardDesignation.Status.PROPOSED)),
        approved=Count("pk", filter=Q(status=BoardDesignation.Status.APPROVED)),
        rejected=Count("pk", filter=Q(status=BoardDesignation.Status.REJECTED)),
        withdrawn=Count("pk", filter=Q(status=BoardDesignation.Status.WITHDRAWN)),
    )
    open_years = [
        {"year": year, "committed": committed, "available": plan.authorized_shares - plan.issued_shares - committed}
        for (plan_id, year), committed in sorted(dashboard.committed_by_plan_year().items(), reverse=True)
        if plan_id == plan.pk and committed
    ]
    context = {
        "plan": plan,
        "pool": pool_status(plan=plan),
        "open_years": open_years,
        "reserve_changes": reserve_changes,
        "issued_by_year": dashboard.plan_issued_by_year(plan),
        "designation_counts": counts,
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
