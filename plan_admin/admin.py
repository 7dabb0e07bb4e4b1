"""The staff's admin. Every write is a ServiceForm calling plan_admin.services; ledger rows are read-only.

Nothing is deleted from the ledger through the admin: mistakes are cancelled, proposals withdrawn.
"""

from django import forms as django_forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from . import forms, services
from .exceptions import PlanRuleViolation
from .imports import admin as _imports_admin  # noqa: F401 - registers the read-only record of imports
from .reports.admin_mixins import SpreadsheetAdminMixin
from .resources import ShareReserveChangeResource, SmallExportMixin
from .models import (
    BoardDesignation,
    DesignationVote,
    Issuance,
    IssuanceCancellation,
    Participant,
    Plan,
    ShareReserveChange,
)
from .selectors import plans_with_pool, pool_status


class LedgerAdmin(SimpleHistoryAdmin):
    """Base of every ledger admin: history visible, no deletion, writes through `service_form_view`."""

    add_form_class: type[forms.ServiceForm] | None = None
    add_title = ""

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if self.add_form_class is None:
            return super().add_view(request, form_url, extra_context)
        if not self.has_add_permission(request):
            raise PermissionDenied
        return self.service_form_view(
            request,
            form_class=self.add_form_class,
            form_kwargs=self.get_add_form_kwargs(request),
            title=self.add_title or f"Record {self.opts.verbose_name}",
            success_message="{obj} recorded.",
            log_addition=True,
        )

    def get_add_form_kwargs(self, request) -> dict:
        return {"initial": request.GET.dict()}

    def service_form_view(
        self,
        request: HttpRequest,
        *,
        form_class,
        title: str,
        success_message: str,
        form_kwargs: dict | None = None,
        log_addition: bool = False,
        success_url: str | None = None,
        obj=None,
    ):
        """Show `form_class`; on a valid POST call its service, turning a refusal into a form error."""
        form_kwargs = form_kwargs or {}
        if request.method == "POST":
            form = form_class(request.POST, **form_kwargs)
            if form.is_valid():
                try:
                    written = form.submit(by=request.user)
                except PlanRuleViolation as refusal:
                    form.add_refusal(refusal)
                else:
                    if log_addition:
                        self.log_addition(request, written, [{"added": {}}])
                    self.message_user(request, success_message.format(obj=written), messages.SUCCESS)
                    return HttpResponseRedirect(success_url or self.success_url_after(written))
        else:
            form = form_class(**form_kwargs)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "object": obj,
            "pools": plans_with_pool(),
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/plan_admin/service_form.html", context)

    def success_url_after(self, written) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")


@admin.register(Plan)
class PlanAdmin(LedgerAdmin):
    add_form_class = forms.PlanCreateForm
    add_title = "Set up a plan"
    change_form_template = "admin/plan_admin/plan/change_form.html"
    list_display = ["name", "company_name", "authorized", "issued", "effective", "terminated"]
    search_fields = ["name", "company_name"]
    fields = ["company_name", "name", "purpose", "stock_class", "required_approvals", "par_value",
              "board_approval_date", "effective_date", "termination_date", "termination_resolution",
              "authorized_shares", "issued_shares"]
    readonly_fields = ["par_value", "board_approval_date", "effective_date", "termination_date",
                       "termination_resolution", "authorized_shares", "issued_shares"]

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

    @admin.display(description="Effective", ordering="effective_date")
    def effective(self, plan):
        return plan.effective_date or "not yet recorded"

    @admin.display(description="Terminated", ordering="termination_date")
    def terminated(self, plan):
        return plan.termination_date or "—"

    def save_model(self, request, obj, form, change):
        # Only the descriptive fields are editable here; the form has validated them.
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
        return [
            path("<path:object_id>/effective-date/", self.admin_site.admin_view(self.effective_date_view),
                 name="plan_admin_plan_effective_date"),
            path("<path:object_id>/terminate/", self.admin_site.admin_view(self.terminate_view),
                 name="plan_admin_plan_terminate"),
        ] + super().get_urls()

    def _term_view(self, request, object_id, *, form_class, title, message):
        if not request.user.has_perm("plan_admin.record_plan_term"):
            raise PermissionDenied
        plan = get_object_or_404(Plan, pk=unquote(object_id))
        return self.service_form_view(
            request,
            form_class=form_class,
            form_kwargs={"plan": plan},
            title=f"{title}: {plan}",
            success_message=message,
            success_url=reverse("admin:plan_admin_plan_change", args=[plan.pk]),
            obj=plan,
        )

    def effective_date_view(self, request, object_id):
        return self._term_view(request, object_id, form_class=forms.EffectiveDateForm,
                               title="Record the effective date", message="Effective date of {obj} recorded.")

    def terminate_view(self, request, object_id):
        return self._term_view(request, object_id, form_class=forms.TerminationForm,
                               title="Record the plan's termination", message="{obj} recorded as terminated.")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        plan = self.get_object(request, unquote(object_id))
        extra_context = extra_context or {}
        if plan is not None:
            extra_context.update(
                pool=pool_status(plan=plan),
                reserve_changes=plan.reserve_changes.select_related("recorded_by"),
                can_record_term=request.user.has_perm("plan_admin.record_plan_term"),
                can_change_reserve=request.user.has_perm("plan_admin.add_sharereservechange"),
            )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ShareReserveChange)
class ShareReserveChangeAdmin(SmallExportMixin, LedgerAdmin):
    resource_classes = [ShareReserveChangeResource]
    add_form_class = forms.ReserveChangeForm
    add_title = "Record a change to the share reserve"
    list_display = ["plan", "change", "board_approval_date", "resolution_reference", "recorded_by", "recorded_at"]
    list_filter = ["plan"]
    list_select_related = ["plan", "recorded_by"]
    search_fields = ["resolution_reference", "note"]
    date_hierarchy = "board_approval_date"

    @admin.display(description="Shares", ordering="shares")
    def change(self, obj):
        return f"{obj.shares:+,}"


class ParticipantForm(django_forms.ModelForm):
    class Meta:
        model = Participant
        fields = ["name", "category", "email", "user", "notes"]


@admin.register(Participant)
class ParticipantAdmin(SpreadsheetAdminMixin, SimpleHistoryAdmin):
    form = ParticipantForm
    list_display = ["name", "category", "email", "user"]
    list_filter = ["category"]
    list_select_related = ["user"]
    search_fields = ["name", "email"]
    autocomplete_fields = []

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in ParticipantForm.Meta.fields}
        if change:
            saved = services.participant_update(participant=obj, by=request.user, **data)
        else:
            saved = services.participant_create(by=request.user, **data)
        obj.pk = saved.pk


class VoteInline(admin.TabularInline):
    model = DesignationVote
    fields = ["voter", "decision", "comment", "cast_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class IssuanceInline(admin.TabularInline):
    model = Issuance
    fields = ["issue_date", "shares", "kind", "price_per_share", "recorded_by", "cancelled"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by", "cancellation")

    @admin.display(boolean=True)
    def cancelled(self, issuance):
        return hasattr(issuance, "cancellation")


@admin.register(BoardDesignation)
class BoardDesignationAdmin(SpreadsheetAdminMixin, LedgerAdmin):
    add_form_class = forms.DesignationProposalForm
    add_title = "Propose a designation"
    change_form_template = "admin/plan_admin/boarddesignation/change_form.html"
    list_display = ["participant", "category", "year", "designated", "issued", "status", "plan", "proposed_by"]
    ordering = ["-year", "-id"]  # served by an index; sorting 30,000 designations by participant name is not
    list_per_page = 50
    list_filter = ["status", "year", "participant__category", "plan"]
    list_select_related = ["participant", "plan", "proposed_by"]
    search_fields = ["participant__name", "factors_considered"]
    inlines = [VoteInline, IssuanceInline]
    readonly_fields = ["plan", "participant", "year", "shares", "issued_shares", "factors_considered", "status",
                       "proposed_by", "proposed_at", "decided_at"]

    @admin.display(description="Category", ordering="participant__category")
    def category(self, designation):
        return designation.participant.get_category_display()

    @admin.display(description="Shares", ordering="shares")
    def designated(self, designation):
        return f"{designation.shares:,}"

    @admin.display(description="Issued", ordering="issued_shares")
    def issued(self, designation):
        return f"{designation.issued_shares:,}"

    def get_urls(self):
        return [
            path("<path:object_id>/withdraw/", self.admin_site.admin_view(self.withdraw_view),
                 name="plan_admin_boarddesignation_withdraw"),
        ] + super().get_urls()

    def withdraw_view(self, request, object_id):
        if request.method != "POST" or not request.user.has_perm("plan_admin.change_boarddesignation"):
            raise PermissionDenied
        designation = get_object_or_404(BoardDesignation, pk=unquote(object_id))
        try:
            services.designation_withdraw(designation=designation, by=request.user)
        except PlanRuleViolation as refusal:
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
        else:
            self.message_user(request, f"{designation} withdrawn.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:plan_admin_boarddesignation_change", args=[designation.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_withdraw": request.user.has_perm("plan_admin.change_boarddesignation"),
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(DesignationVote)
class DesignationVoteAdmin(LedgerAdmin):
    list_display = ["designation", "voter", "decision", "cast_at"]
    list_filter = ["decision", "designation__year"]
    list_select_related = ["designation__participant", "voter"]
    search_fields = ["designation__participant__name", "voter__username", "comment"]

    def has_add_permission(self, request):
        return False


class CancelledFilter(admin.SimpleListFilter):
    title = "cancelled"
    parameter_name = "cancelled"

    def lookups(self, request, model_admin):
        return [("no", "Standing"), ("yes", "Cancelled")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.cancelled()
        if self.value() == "no":
            return queryset.standing()
        return queryset


@admin.register(Issuance)
class IssuanceAdmin(SpreadsheetAdminMixin, LedgerAdmin):
    add_form_class = forms.IssuanceForm
    add_title = "Record an issuance"
    change_form_template = "admin/plan_admin/issuance/change_form.html"
    list_display = ["id", "issue_date", "participant", "category", "year", "kind", "shares_display", "price_per_share",
                    "debt_amount", "standing"]
    list_display_links = ["id", "issue_date"]
    list_filter = [CancelledFilter, "kind", "designation__year", "designation__participant__category",
                   "designation__plan"]
    list_select_related = ["designation__participant", "cancellation"]
    search_fields = ["designation__participant__name", "debt_reference"]  # see get_search_results
    search_help_text = "A participant's name (or part of it), or a debt reference exactly."
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ["designation", "issue_date", "shares", "kind", "price_per_share", "debt_amount",
                       "debt_reference", "notes", "recorded_by", "recorded_at"]

    def get_search_results(self, request, queryset, search_term):
        """Match participants by name in their own (small) table, and debt references exactly.

        The admin's default joins every issuance to its participant and compares each text column row by row,
        which reads the whole ledger on every search; these two conditions are index lookups.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        designations = BoardDesignation.objects.filter(participant__name__icontains=term).values("pk")
        return queryset.filter(Q(designation__in=designations) | Q(debt_reference=term)), False

    @admin.display(description="Participant", ordering="designation__participant__name")
    def participant(self, issuance):
        return issuance.designation.participant.name

    @admin.display(description="Category")
    def category(self, issuance):
        return issuance.designation.participant.get_category_display()

    @admin.display(description="Year", ordering="designation__year")
    def year(self, issuance):
        return issuance.designation.year

    @admin.display(description="Shares", ordering="shares")
    def shares_display(self, issuance):
        return f"{issuance.shares:,}"

    @admin.display(description="Standing", boolean=True)
    def standing(self, issuance):
        return not hasattr(issuance, "cancellation")

    def get_urls(self):
        return [
            path("<path:object_id>/cancel/", self.admin_site.admin_view(self.cancel_view),
                 name="plan_admin_issuance_cancel"),
        ] + super().get_urls()

    def cancel_view(self, request, object_id):
        if not request.user.has_perm("plan_admin.add_issuancecancellation"):
            raise PermissionDenied
        issuance = get_object_or_404(Issuance.objects.select_related("designation__participant"), pk=unquote(object_id))
        return self.service_form_view(
            request,
            form_class=forms.CancellationForm,
            form_kwargs={"issuance": issuance},
            title=f"Cancel issuance #{issuance.pk}: {issuance}",
            success_message="{obj} recorded; the shares are back in the pool.",
            success_url=reverse("admin:plan_admin_issuance_change", args=[issuance.pk]),
            obj=issuance,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_cancel": request.user.has_perm("plan_admin.add_issuancecancellation"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related(
            "designation__participant", "designation__plan", "recorded_by", "cancellation__recorded_by"
        )
        return queryset.filter(pk=object_id).first() if str(object_id).isdigit() else None


@admin.register(IssuanceCancellation)
class IssuanceCancellationAdmin(LedgerAdmin):
    list_display = ["issuance", "cancelled_on", "reason", "recorded_by"]
    list_select_related = ["issuance__designation__participant", "recorded_by"]
    search_fields = ["reason", "issuance__designation__participant__name"]

    def has_add_permission(self, request):
        return False  # cancellations are recorded from the issuance's page

