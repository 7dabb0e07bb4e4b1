"""Designations: staff propose, withdraw and lapse them, and enter past ones from records; the board votes on its
own pages."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse

from .. import forms, selectors, services
from ..models import BoardDesignation, DesignationLapse, DesignationVote, Issuance
from ..reports.admin_mixins import SpreadsheetAdminMixin
from .base import LedgerAdmin, ReadOnlyAdmin
from .counts import CountedListMixin, counted_filters, row_ids
from .filters import DesignationYearFilter, YearFilter
from .formatted import FormattedFieldsMixin


class VoteInline(FormattedFieldsMixin, admin.TabularInline):
    model = DesignationVote
    fields = ["voter", "decision", "comment", "cast_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class IssuanceInline(FormattedFieldsMixin, admin.TabularInline):
    model = Issuance
    fields = ["issue_date", "shares", "kind", "price_per_share", "recorded_by", "cancelled"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by", "cancellation")

    @admin.display(boolean=True)
    def cancelled(self, issuance):
        return hasattr(issuance, "cancellation")


@admin.register(BoardDesignation)
class BoardDesignationAdmin(CountedListMixin, SpreadsheetAdminMixin, LedgerAdmin):
    add_form_class = forms.DesignationProposalForm
    add_title = "Propose a designation"
    add_success_message = "Proposed to the board: {obj}."
    change_form_template = "admin/plan_admin/boarddesignation/change_form.html"
    list_display = [
        "participant",
        "category",
        "year",
        "designated",
        "issued",
        "status",
        "decided_on",
        "plan",
        "proposed_by",
    ]
    ordering = ["-year", "-id"]  # served by an index; sorting 30,000 designations by participant name is not
    list_per_page = 50
    show_full_result_count = False  # no second count of every designation per view
    list_filter = ["status", YearFilter, "participant__category", "decision_source", "plan"]
    list_select_related = ["participant", "plan", "proposed_by"]
    search_fields = ["participant__name", "factors_considered"]
    inlines = [VoteInline, IssuanceInline]
    readonly_fields = [
        "plan",
        "participant",
        "designated_user",
        "year",
        "shares",
        "issued_shares",
        "factors_considered",
        "status",
        "proposed_by",
        "proposed_at",
        "decided_on",
        "decision_reference",
        "decision_source",
        "decided_at",
    ]

    @admin.display(description="Category", ordering="participant__category")
    def category(self, designation):
        return designation.participant.get_category_display()

    @admin.display(description="Shares", ordering="shares")
    def designated(self, designation):
        return f"{designation.shares:,}"

    @admin.display(description="Issued", ordering="issued_shares")
    def issued(self, designation):
        return f"{designation.issued_shares:,}"

    def count_from_totals(self, parameters) -> int | None:
        """Unfiltered, or filtered only by status, year and plan, the list's count comes from the designation
        totals (admin/counts.py)."""
        given = counted_filters(
            parameters, {"status__exact": "status", YearFilter.parameter_name: "year", "plan__id__exact": "plan_id"}
        )
        if given is None:
            return None
        status = given.pop("status", None)
        if status is not None and status not in BoardDesignation.Status.values:
            return None
        numbers = row_ids(given)
        if numbers is None:
            return None
        return selectors.designation_count(status=status, **numbers)

    def success_url_after(self, written) -> str:
        return reverse("admin:plan_admin_boarddesignation_change", args=[written.pk])

    def get_urls(self):
        return (
            [
                path("past/", self.admin_site.admin_view(self.past_view), name="plan_admin_boarddesignation_past"),
            ]
            + self.object_urls(
                ("withdraw", self.withdraw_view, "withdraw"),
                ("lapse", self.lapse_view, "lapse"),
            )
            + super().get_urls()
        )

    def past_view(self, request):
        if not request.user.has_perm("plan_admin.record_past_records"):
            raise PermissionDenied
        return self.service_form_view(
            request,
            form_class=forms.PastDesignationForm,
            form_kwargs=self.get_add_form_kwargs(request),
            title="Enter a past designation, from the board's records",
            success_message="{obj} entered from records.",
            log_addition=True,
            intro="A designation the board decided before the plan's ledger start date. It counts against the pool "
            "at once, and waits for a board member to confirm it against the minutes or consent you name; "
            "nothing new can be issued against it until then.",
        )

    def withdraw_view(self, request, object_id):
        return self.post_action(
            request,
            object_id,
            permission="plan_admin.change_boarddesignation",
            done="{obj} withdrawn.",
            act=lambda designation: services.designation_withdraw(designation=designation, by=request.user),
        )

    def lapse_view(self, request, object_id):
        designation = self.object_view(
            request,
            object_id,
            permission="plan_admin.add_designationlapse",
            queryset=BoardDesignation.objects.select_related("participant"),
        )
        return self.service_form_view(
            request,
            form_class=forms.LapseForm,
            form_kwargs={"designation": designation},
            title=f"Record the lapse of {designation}",
            obj=designation,
            success_message="{obj} recorded; its unissued shares are back in the pool.",
            success_url=reverse("admin:plan_admin_boarddesignation_change", args=[designation.pk]),
            intro=f"A designation is for one year only. After {designation.year}, its "
            f"{designation.unissued_shares:,} unissued shares can be released by recording its lapse.",
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_withdraw": request.user.has_perm("plan_admin.change_boarddesignation"),
            "can_lapse": request.user.has_perm("plan_admin.add_designationlapse"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_enter_past": request.user.has_perm("plan_admin.record_past_records"),
        }
        return super().changelist_view(request, extra_context)


@admin.register(DesignationVote)
class DesignationVoteAdmin(LedgerAdmin):
    list_display = ["designation", "voter", "decision", "cast_at"]
    list_filter = ["decision", DesignationYearFilter]
    list_select_related = ["designation__participant", "voter"]
    search_fields = ["designation__participant__name", "voter__username", "comment"]


@admin.register(DesignationLapse)
class DesignationLapseAdmin(ReadOnlyAdmin):
    list_display = ["designation", "lapsed_on", "released_shares", "reason", "recorded_by"]
    list_select_related = ["designation__participant", "recorded_by"]
    search_fields = ["designation__participant__name", "reason"]
