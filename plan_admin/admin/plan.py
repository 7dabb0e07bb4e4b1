"""The plan, its reserve, the proposals to change it, and the closing of its years."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from .. import forms, services
from ..interop.admin import OcfPlanAdminMixin
from ..models import Plan, PlanProposal, PlanProposalVote, PlanYearClosing, ShareReserveChange
from ..resources import ShareReserveChangeResource, SmallExportMixin
from ..selectors import pool_status
from .base import LedgerAdmin, ReadOnlyAdmin
from .formatted import FormattedFieldsMixin


@admin.register(Plan)
class PlanAdmin(OcfPlanAdminMixin, LedgerAdmin):
    add_form_class = forms.PlanCreateForm
    add_title = "Set up a plan"
    change_form_template = "admin/plan_admin/plan/change_form.html"
    list_display = ["name", "company_name", "authorized", "issued", "committed", "effective", "terminated"]
    search_fields = ["name", "company_name"]
    fields = [
        "company_name",
        "name",
        "purpose",
        "stock_class",
        "required_approvals",
        "par_value",
        "board_approval_date",
        "effective_date",
        "ledger_start_date",
        "termination_date",
        "termination_resolution",
        "authorized_shares",
        "issued_shares",
        "committed_shares",
    ]
    readonly_fields = [
        "par_value",
        "board_approval_date",
        "effective_date",
        "ledger_start_date",
        "termination_date",
        "termination_resolution",
        "authorized_shares",
        "issued_shares",
        "committed_shares",
    ]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="Authorized", ordering="authorized_shares")
    def authorized(self, plan):
        return f"{plan.authorized_shares:,}"

    @admin.display(description="Issued", ordering="issued_shares")
    def issued(self, plan):
        return f"{plan.issued_shares:,}"

    @admin.display(description="Committed", ordering="committed_shares")
    def committed(self, plan):
        return f"{plan.committed_shares:,}"

    @admin.display(description="Effective", ordering="effective_date")
    def effective(self, plan):
        return plan.effective_date or "not yet recorded"

    @admin.display(description="Terminated", ordering="termination_date")
    def terminated(self, plan):
        return plan.termination_date or "—"

    def save_model(self, request, obj, form, change):
        # Only the descriptive fields are editable here; the form has validated them. A refusal is shown on the
        # form by changeform_view below.
        services.plan_update_details(
            plan=obj,
            company_name=obj.company_name,
            name=obj.name,
            purpose=obj.purpose,
            stock_class=obj.stock_class,
            required_approvals=obj.required_approvals,
            by=request.user,
        )

    def success_url_after(self, written) -> str:
        return reverse("admin:plan_admin_plan_change", args=[written.pk])

    def get_urls(self):
        return (
            self.object_urls(
                ("effective-date", self.effective_date_view, "effective_date"),
                ("ledger-start", self.ledger_start_view, "ledger_start"),
                ("close-year", self.close_year_view, "close_year"),
                ("propose-termination", self.propose_termination_view, "propose_termination"),
            )
            + super().get_urls()
        )

    def _plan_form_view(self, request, object_id, *, permission, form_class, title, message, intro=""):
        plan = self.object_view(request, object_id, permission=permission)
        return self.service_form_view(
            request,
            form_class=form_class,
            form_kwargs={"plan": plan},
            title=f"{title}: {plan}",
            success_message=message,
            success_url=reverse("admin:plan_admin_plan_change", args=[plan.pk]),
            obj=plan,
            intro=intro,
        )

    def effective_date_view(self, request, object_id):
        return self._plan_form_view(
            request,
            object_id,
            permission="plan_admin.record_plan_term",
            form_class=forms.EffectiveDateForm,
            title="Record the effective date",
            message="Effective date of {obj} recorded.",
        )

    def ledger_start_view(self, request, object_id):
        if not request.user.is_superuser:
            raise PermissionDenied
        return self._plan_form_view(
            request,
            object_id,
            permission="plan_admin.change_plan",
            form_class=forms.LedgerStartForm,
            title="Set the ledger start date",
            message="Ledger start date of {obj} recorded.",
            intro="Before this date, the plan's history is entered from the board's records and confirmed by a board "
            "member; from this date on, plan-admin is the book of record.",
        )

    def close_year_view(self, request, object_id):
        return self._plan_form_view(
            request,
            object_id,
            permission="plan_admin.close_plan_year",
            form_class=forms.YearCloseForm,
            title="Close a year",
            message="{obj} recorded: the year's designations have lapsed.",
            intro="A designation is for one year only (plan 3.1). Closing a year that is over lapses its approved "
            "designations: their unissued shares return to the pool, and nothing more can be issued, proposed "
            "or approved for that year.",
        )

    def propose_termination_view(self, request, object_id):
        return self._plan_form_view(
            request,
            object_id,
            permission="plan_admin.add_planproposal",
            form_class=forms.TerminationProposalForm,
            title="Propose the plan's termination",
            message="{obj}: proposed to the board.",
            intro="The plan remains in effect until terminated by action of the Board: this proposal goes to the "
            "board members, who decide it by their votes.",
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        plan = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if plan is not None:
            user = request.user
            extra_context.update(
                pool=pool_status(plan=plan),
                reserve_changes=plan.reserve_changes.select_related("recorded_by"),
                proposals=plan.proposals.filter(status=PlanProposal.Status.PROPOSED),
                can_record_term=user.has_perm("plan_admin.record_plan_term"),
                can_propose=user.has_perm("plan_admin.add_planproposal"),
                can_close_year=user.has_perm("plan_admin.close_plan_year"),
                can_set_ledger_start=user.is_superuser,
            )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ShareReserveChange)
class ShareReserveChangeAdmin(SmallExportMixin, LedgerAdmin):
    """Reserve changes as the board decided them: written when the board approves a proposal; history before the
    ledger start date is entered here from records."""

    resource_classes = [ShareReserveChangeResource]
    add_form_class = forms.PastReserveChangeForm
    add_permission = "plan_admin.record_past_records"
    add_title = "Enter a past change to the share reserve, from records"
    list_display = [
        "plan",
        "change",
        "board_approval_date",
        "resolution_reference",
        "from_records",
        "recorded_by",
        "recorded_at",
    ]
    list_filter = ["plan", "entered_from_records"]
    list_select_related = ["plan", "recorded_by"]
    search_fields = ["resolution_reference", "note"]
    date_hierarchy = "board_approval_date"

    @admin.display(description="Shares", ordering="shares")
    def change(self, obj):
        return f"{obj.shares:+,}"

    @admin.display(description="From records", boolean=True, ordering="entered_from_records")
    def from_records(self, obj):
        return obj.entered_from_records


class ProposalVoteInline(FormattedFieldsMixin, admin.TabularInline):
    model = PlanProposalVote
    fields = ["voter", "decision", "comment", "cast_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PlanProposal)
class PlanProposalAdmin(LedgerAdmin):
    """Staff propose a change to the share reserve (here) or the plan's termination (from the plan's page); the
    board decides by votes on its own pages."""

    add_form_class = forms.ReserveChangeProposalForm
    add_title = "Propose a change to the share reserve"
    add_success_message = "Proposed to the board: {obj}."
    change_form_template = "admin/plan_admin/planproposal/change_form.html"
    list_display = ["__str__", "plan", "status", "proposed_by", "proposed_at", "decided_on"]
    list_filter = ["status", "kind", "plan"]
    list_select_related = ["plan", "proposed_by"]
    inlines = [ProposalVoteInline]
    readonly_fields = [
        "plan",
        "kind",
        "shares",
        "termination_date",
        "explanation",
        "status",
        "proposed_by",
        "proposed_at",
        "decided_on",
        "decision_reference",
        "decision_source",
        "decided_at",
    ]

    def success_url_after(self, written) -> str:
        return reverse("admin:plan_admin_planproposal_change", args=[written.pk])

    def get_urls(self):
        return self.object_urls(("withdraw", self.withdraw_view, "withdraw")) + super().get_urls()

    def withdraw_view(self, request, object_id):
        return self.post_action(
            request,
            object_id,
            permission="plan_admin.change_planproposal",
            done="Withdrawn: {obj}.",
            act=lambda proposal: services.plan_proposal_withdraw(proposal=proposal, by=request.user),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_withdraw": request.user.has_perm("plan_admin.change_planproposal"),
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(PlanProposalVote)
class PlanProposalVoteAdmin(ReadOnlyAdmin):
    list_display = ["proposal", "voter", "decision", "cast_at"]
    list_filter = ["decision"]
    list_select_related = ["proposal__plan", "voter"]


@admin.register(PlanYearClosing)
class PlanYearClosingAdmin(ReadOnlyAdmin):
    list_display = ["plan", "year", "closed_on", "reason", "recorded_by", "recorded_at"]
    list_filter = ["plan", "year"]
    list_select_related = ["plan", "recorded_by"]
