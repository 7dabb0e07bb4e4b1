"""The resolution pages. Each view checks its permission; the services decide and refuse.

- list and detail: everyone with view_resolution (board, staff, auditors)
- prepare, withdraw: plan staff (add_resolution, change_resolution)
- sign, decline: members of the board group with sign_resolution (superuser or not: roles.is_board_member)
- documents: view_resolutiondocument; 403 to anyone else. Served from the same origin, framable by the same origin
  only (for the PDF shown in the page: CSP frame-src/object-src 'self').
"""

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .. import roles
from ..documents import storage
from ..exceptions import PlanRuleViolation
from ..models import NotificationPreference, Plan, Resolution, ResolutionDocument, ResolutionItem
from ..selectors import pool_status
from ..services import resolutions as resolution_services
from .forms import DeclineForm, PreferencesForm, ResolutionPrepareForm, SignForm, WithdrawForm

VIEW = "plan_admin.view_resolution"


def client_address(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _resolutions():
    return Resolution.objects.select_related("plan", "prepared_by").prefetch_related(
        Prefetch(
            "items",
            queryset=ResolutionItem.objects.select_related("designation__participant", "proposal").order_by("position"),
        ),
        "signatures",
        "signatories",
        "documents",
    )


def awaiting_signature(user) -> list[Resolution]:
    """Resolutions out for signature that this user is entitled to sign and has not answered, oldest first."""
    if not roles.is_board_member(user):
        return []
    return list(
        _resolutions()
        .filter(status=Resolution.Status.PENDING, signatories__director=user, signatories__entitled=True)
        .exclude(signatures__signer=user)
        .exclude(declines__director=user)
        .order_by("prepared_at", "pk")
        .distinct()
    )


@require_safe
@permission_required(VIEW, raise_exception=True)
def resolution_list(request: HttpRequest) -> HttpResponse:
    resolutions = list(_resolutions().order_by("-prepared_at", "-pk")[:200])
    return render(
        request,
        "plan_admin/board/resolution_list.html",
        {
            "awaiting": awaiting_signature(request.user),
            "pending": [r for r in resolutions if r.is_pending],
            "closed": [r for r in resolutions if not r.is_pending],
            "plans": Plan.objects.filter(termination_date__isnull=True),
            "can_prepare": request.user.has_perm("plan_admin.add_resolution"),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("plan_admin.add_resolution", raise_exception=True)
def resolution_prepare(request: HttpRequest) -> HttpResponse:
    plans = list(Plan.objects.all())
    plan_id = request.POST.get("plan") or request.GET.get("plan")
    plan = next((p for p in plans if str(p.pk) == str(plan_id)), plans[0] if len(plans) == 1 else None)
    form = None
    if plan is not None:
        form = ResolutionPrepareForm(request.POST if request.method == "POST" else None, plan=plan)
        if request.method == "POST" and form.is_valid():
            try:
                resolution = form.submit(by=request.user)
            except PlanRuleViolation as refusal:
                form.add_refusal(refusal)
            else:
                messages.success(
                    request,
                    f"{resolution.reference} is out for signature: each director entitled "
                    "to sign has been emailed the link.",
                )
                return redirect("resolution-detail", pk=resolution.pk)
    return render(
        request,
        "plan_admin/board/resolution_prepare.html",
        {
            "plans": plans,
            "plan": plan,
            "form": form,
            "pool": pool_status(plan=plan) if plan else None,
        },
    )


@require_safe
@permission_required(VIEW, raise_exception=True)
def resolution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    resolution = get_object_or_404(_resolutions().prefetch_related("declines__director"), pk=pk)
    return render(request, "plan_admin/board/resolution_detail.html", _detail_context(request, resolution))


def _detail_context(request, resolution: Resolution, *, sign_form=None, decline_form=None, withdraw_form=None):
    user = request.user
    documents = {document.kind: document for document in resolution.documents.all()}
    for_signature = documents.get(ResolutionDocument.Kind.FOR_SIGNATURE)
    seat = next((s for s in resolution.signatories.all() if s.director_id == user.pk), None)
    signed = next((s for s in resolution.signatures.all() if s.signer_id == user.pk), None)
    declined = next((d for d in resolution.declines.all() if d.director_id == user.pk), None)
    may_sign = (
        resolution.is_pending
        and roles.is_board_member(user)
        and user.has_perm("plan_admin.sign_resolution")
        and seat is not None
        and seat.entitled
        and signed is None
        and declined is None
    )
    why_not = ""
    if resolution.is_pending and roles.is_board_member(user) and not may_sign:
        if signed:
            why_not = f"You signed it on {signed.signed_at:%B %-d, %Y at %H:%M}; it waits for the other directors."
        elif declined:
            why_not = "You declined to sign it."
        elif seat is None:
            why_not = "You are not named in this resolution."
        elif not seat.entitled:
            why_not = seat.recusal
    subjects = [item.subject for item in resolution.items.all()]
    effect = resolution_services.pool_effect(resolution.plan, subjects) if resolution.is_pending else None
    if may_sign and sign_form is None:
        sign_form = SignForm(
            resolution=resolution,
            request=request,
            initial={"document_sha256": for_signature.sha256 if for_signature else ""},
        )
    return {
        "resolution": resolution,
        "plan": resolution.plan,
        "items": list(resolution.items.all()),
        "documents": documents,
        "for_signature": for_signature,
        "signed_document": documents.get(ResolutionDocument.Kind.SIGNED),
        "entitled": [s for s in resolution.signatories.all() if s.entitled],
        "recused": [s for s in resolution.signatories.all() if not s.entitled],
        "signatures": list(resolution.signatures.all()),
        "declines": list(resolution.declines.all()),
        "withdrawal": getattr(resolution, "withdrawal", None) if resolution.status == "withdrawn" else None,
        "may_sign": may_sign,
        "why_not": why_not,
        "effect": effect,
        "sign_form": sign_form if may_sign else None,
        "decline_form": (decline_form or DeclineForm(resolution=resolution)) if may_sign else None,
        "may_withdraw": resolution.is_pending and user.has_perm("plan_admin.change_resolution"),
        "withdraw_form": withdraw_form or WithdrawForm(resolution=resolution),
        "may_view_documents": user.has_perm("plan_admin.view_resolutiondocument"),
    }


def _act(http, pk: int, form_class, *, success, **form_kwargs):
    request = http
    resolution = get_object_or_404(_resolutions().prefetch_related("declines"), pk=pk)
    form = form_class(request.POST, resolution=resolution, **form_kwargs)
    if form.is_valid():
        try:
            written = form.submit(by=request.user)
        except PlanRuleViolation as refusal:
            form.add_refusal(refusal)
        else:
            messages.success(request, success(written, Resolution.objects.get(pk=pk)))
            return redirect("resolution-detail", pk=pk)
    messages.error(
        request, "Nothing was recorded: " + " ".join(error for errors in form.errors.values() for error in errors)
    )
    key = {SignForm: "sign_form", DeclineForm: "decline_form", WithdrawForm: "withdraw_form"}[form_class]
    context = _detail_context(request, resolution, **{key: form})
    return render(request, "plan_admin/board/resolution_detail.html", context, status=200)


def _board_signer(view):
    def wrapped(request, *args, **kwargs):
        if not roles.is_board_member(request.user) or not request.user.has_perm("plan_admin.sign_resolution"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_POST
@_board_signer
def resolution_sign(request: HttpRequest, pk: int) -> HttpResponse:
    def said(signature, resolution) -> str:
        if resolution.status == Resolution.Status.EFFECTIVE:
            return (
                f"You signed {resolution.reference}. All the required signatures are in: it took effect today, "
                "its proposals are decided, and the signed, sealed document is below."
            )
        left = resolution.required_signatures - resolution.signatures.count()
        return f"You signed {resolution.reference}. It waits for {left:,} more signature{'s' if left != 1 else ''}."

    return _act(request, pk, SignForm, success=said, request=request, client_address=client_address(request))


@require_POST
@_board_signer
def resolution_decline(request: HttpRequest, pk: int) -> HttpResponse:
    def said(decline, resolution) -> str:
        if resolution.status == Resolution.Status.DECLINED:
            return f"You declined to sign {resolution.reference}: it is declined, decides nothing, and staff are told."
        return f"You declined to sign {resolution.reference}."

    return _act(request, pk, DeclineForm, success=said, client_address=client_address(request))


@require_POST
@permission_required("plan_admin.change_resolution", raise_exception=True)
def resolution_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        WithdrawForm,
        success=lambda withdrawal, resolution: f"{resolution.reference} is withdrawn; its proposals are open again.",
    )


@require_safe
@permission_required("plan_admin.view_resolutiondocument", raise_exception=True)
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})  # shown in the resolution's own page; no other site frames it
def resolution_document(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The stored PDF, after checking its bytes against the recorded SHA-256 (a mismatch is a 409, not the file)."""
    if kind not in ResolutionDocument.Kind.values:
        raise Http404("There is no such document.")
    document = get_object_or_404(ResolutionDocument.objects.select_related("resolution"), resolution_id=pk, kind=kind)
    try:
        data = storage.read(document.file_name, expected_sha256=document.sha256)
    except storage.DocumentAltered as problem:
        return HttpResponse(" ".join(problem.messages), status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type="application/pdf")
    name = f"{document.resolution.reference.replace(' ', '-')}-{kind.replace('_', '-')}.pdf"
    disposition = "inline" if request.GET.get("inline") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["X-Content-SHA256"] = document.sha256
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    preference, _ = (
        NotificationPreference.objects.get_or_create(user=request.user)
        if request.method == "POST"
        else (
            NotificationPreference.objects.filter(user=request.user).first()
            or NotificationPreference(user=request.user),
            False,
        )
    )
    form = PreferencesForm(request.POST if request.method == "POST" else None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Reminders are " + ("on." if form.instance.reminders else "off."))
        return redirect("notification-preferences")
    return render(request, "plan_admin/board/notification_preferences.html", {"form": form})


def resolutions_of(*, plan=None, designation=None) -> list[Resolution]:
    """The resolutions of a plan, or those that put a designation to the board, newest first, with documents."""
    resolutions = Resolution.objects.prefetch_related("documents").order_by("-prepared_at", "-pk")
    if designation is not None:
        resolutions = resolutions.filter(items__designation=designation)
    else:
        resolutions = resolutions.filter(plan=plan)
    return list(resolutions.distinct()[:50])


def history_entries(designation) -> list[dict]:
    """The designation's resolutions, as entries of its history (plan_admin.dashboard.designation_history)."""
    entries = []
    items = (
        ResolutionItem.objects.filter(designation=designation)
        .select_related("resolution__prepared_by")
        .prefetch_related("resolution__documents")
        .order_by("resolution__prepared_at")
    )
    for item in items:
        resolution = item.resolution
        entries.append(
            {
                "when": resolution.prepared_at,
                "who": resolution.prepared_by,
                "kind": "resolution",
                "what": f"Put to the board in {resolution.reference} ({resolution.get_kind_display().lower()})",
                "url": resolution.get_absolute_url(),
            }
        )
        if resolution.closed_at:
            entries.append(
                {
                    "when": resolution.closed_at,
                    "who": None,
                    "kind": "resolution",
                    "what": f"{resolution.reference} {resolution.get_status_display().lower()}",
                    "url": resolution.get_absolute_url(),
                    "documents": list(resolution.documents.all()),
                }
            )
    return entries


__all__ = ["awaiting_signature", "history_entries"]
