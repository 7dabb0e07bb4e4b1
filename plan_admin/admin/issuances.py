"""Issuances and cancellations: recorded by staff through the services, never edited, never deleted."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import path, reverse

from .. import formatting, forms, selectors
from ..models import BoardDesignation, Issuance, IssuanceCancellation, Participant
from ..reports.admin_mixins import SpreadsheetAdminMixin
from .base import LedgerAdmin, object_pk
from .counts import CountedListMixin, counted_filters, row_ids
from .filters import IssuanceYearFilter

# A search matching more designations than this compares the ids in the database (a subquery) rather than as a list.
SEARCH_LISTED_DESIGNATIONS = 1_000
# The list's parameters that the issuance totals can count: filter -> the keyword of selectors.issuance_count.
COUNTED_FILTERS = {
    "cancelled": "cancelled",
    "designation__year": "year",
    "designation__participant__category__exact": "category",
    "designation__plan__id__exact": "plan_id",
}


def counted_from_totals(parameters) -> int | None:
    """The exact number of issuances the list shows for these query parameters, from the issuance totals; None
    when a filter or a search is one the totals do not count (the list then counts its rows)."""
    given = counted_filters(parameters, COUNTED_FILTERS)
    if given is None:
        return None
    cancelled = {None: None, "yes": True, "no": False}.get(given.pop("cancelled", None), "?")
    category = given.pop("category", None)
    if cancelled == "?" or (category is not None and category not in Participant.Category.values):
        return None
    numbers = row_ids(given)
    if numbers is None:
        return None
    return selectors.issuance_count(cancelled=cancelled, category=category, **numbers)


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
class IssuanceAdmin(CountedListMixin, SpreadsheetAdminMixin, LedgerAdmin):
    add_form_class = forms.IssuanceForm
    add_title = "Record an issuance"
    change_form_template = "admin/plan_admin/issuance/change_form.html"
    list_display = [
        "id",
        "issue_date",
        "participant",
        "category",
        "year",
        "kind",
        "shares_display",
        "price_per_share",
        "debt_amount",
        "standing",
    ]
    list_display_links = ["id", "issue_date"]
    list_filter = [
        CancelledFilter,
        "kind",
        IssuanceYearFilter,
        "designation__participant__category",
        "entered_from_records",
        "designation__plan",
    ]
    list_select_related = ["designation__participant", "cancellation"]
    search_fields = ["designation__participant__name", "debt_reference"]  # see get_search_results
    search_help_text = "A participant's name (or part of it), or a debt reference exactly."
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = [
        "designation",
        "issue_date",
        "shares",
        "kind",
        "price_per_share",
        "debt_amount",
        "debt_reference",
        "notes",
        "entered_from_records",
        "source_reference",
        "recorded_by",
        "recorded_at",
    ]

    def count_from_totals(self, parameters) -> int | None:
        """Filtered only by what the issuance totals count (standing or cancelled, year, category, plan), the
        list's count comes from them (admin/counts.py)."""
        return counted_from_totals(parameters)

    def get_search_results(self, request, queryset, search_term):
        """Match participants by name in their own (small) table, and debt references exactly.

        The admin's default joins every issuance to its participant and compares each text column row by row,
        which reads the whole ledger on every search. Here the matching designations are read first (on
        PostgreSQL the name is found through a trigram index), then the issuances of those designations and
        those with the debt reference: two index lookups the database can combine.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        designations = BoardDesignation.objects.filter(participant__name__icontains=term).values_list("pk", flat=True)
        listed = list(designations[: SEARCH_LISTED_DESIGNATIONS + 1])
        matching = designations if len(listed) > SEARCH_LISTED_DESIGNATIONS else listed
        return queryset.filter(Q(designation__in=matching) | Q(debt_reference=term)), False

    @admin.display(description="Participant", ordering="designation__participant__name")
    def participant(self, issuance):
        return issuance.designation.participant.name

    @admin.display(description="Category")
    def category(self, issuance):
        return issuance.designation.participant.get_category_display()

    @admin.display(description="Year", ordering="designation__year")
    def year(self, issuance):
        return formatting.year(issuance.designation.year)

    @admin.display(description="Shares", ordering="shares")
    def shares_display(self, issuance):
        return formatting.shares(issuance.shares)

    def view_on_site(self, issuance):
        """The issuance's board-facing page: its designation's history, at the issuance's row (not the admin's
        content-type redirect, which the board's roles never need)."""
        return issuance.get_absolute_url()

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and obj.kind != Issuance.Kind.DEBT_SETTLEMENT:
            # A compensation issuance settles no debt: no empty debt fields, no hint about debts.
            fields = [name for name in fields if not name.startswith(("debt_amount", "debt_reference"))]
        return fields

    @admin.display(description="Standing", boolean=True)
    def standing(self, issuance):
        return not hasattr(issuance, "cancellation")

    def get_urls(self):
        return (
            [
                path("past/", self.admin_site.admin_view(self.past_view), name="plan_admin_issuance_past"),
            ]
            + self.object_urls(
                ("cancel", self.cancel_view, "cancel"),
                ("cancel-past", self.cancel_past_view, "cancel_past"),
            )
            + super().get_urls()
        )

    def past_view(self, request):
        if not request.user.has_perm("plan_admin.record_past_records"):
            raise PermissionDenied
        return self.service_form_view(
            request,
            form_class=forms.PastIssuanceForm,
            form_kwargs=self.get_add_form_kwargs(request),
            title="Enter a past issuance, from records",
            success_message="{obj} entered from records.",
            log_addition=True,
            intro="An issuance made before the plan's ledger start date. The same rules hold as for any issuance; it "
            "waits for a board member to confirm it against the document you name.",
        )

    def _cancel(self, request, object_id, *, form_class, permission, title, intro=""):
        issuance = self.object_view(
            request,
            object_id,
            permission=permission,
            queryset=Issuance.objects.select_related("designation__participant"),
        )
        return self.service_form_view(
            request,
            form_class=form_class,
            form_kwargs={"issuance": issuance},
            title=f"{title} #{issuance.pk}: {issuance}",
            success_message="{obj} recorded; the shares are back in the pool.",
            success_url=reverse("admin:plan_admin_issuance_change", args=[issuance.pk]),
            obj=issuance,
            intro=intro,
        )

    def cancel_view(self, request, object_id):
        return self._cancel(
            request,
            object_id,
            form_class=forms.CancellationForm,
            title="Cancel issuance",
            permission="plan_admin.add_issuancecancellation",
        )

    def cancel_past_view(self, request, object_id):
        if not request.user.has_perm("plan_admin.add_issuancecancellation"):
            raise PermissionDenied
        return self._cancel(
            request,
            object_id,
            form_class=forms.PastCancellationForm,
            title="Enter a past cancellation of issuance",
            permission="plan_admin.record_past_records",
            intro="A cancellation made before the plan's ledger start date, entered from records.",
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_cancel": request.user.has_perm("plan_admin.add_issuancecancellation"),
            "can_enter_past": request.user.has_perm("plan_admin.record_past_records"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_enter_past": request.user.has_perm("plan_admin.record_past_records"),
        }
        return super().changelist_view(request, extra_context)

    def get_object(self, request, object_id, from_field=None):
        try:
            pk = object_pk(object_id)
        except Exception:
            return None
        queryset = self.get_queryset(request).select_related(
            "designation__participant", "designation__plan", "recorded_by", "cancellation__recorded_by"
        )
        return queryset.filter(pk=pk).first()


@admin.register(IssuanceCancellation)
class IssuanceCancellationAdmin(LedgerAdmin):
    list_display = ["issuance", "cancelled_on", "reason", "entered_from_records", "recorded_by"]
    list_select_related = ["issuance__designation__participant", "recorded_by"]
    search_fields = ["reason", "issuance__designation__participant__name"]
