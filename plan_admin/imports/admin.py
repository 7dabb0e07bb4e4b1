"""The record of committed imports in the admin: read-only, for everyone who may see the issuances (staff, the
board, auditors). Rows are written only by the import engine."""

from django.contrib import admin

from ..admin.formatted import FormattedFieldsMixin
from ..models import ImportRecord


@admin.register(ImportRecord)
class ImportRecordAdmin(FormattedFieldsMixin, admin.ModelAdmin):
    list_display = ["imported_at", "kind", "file_name", "rows", "written", "skipped", "imported_by", "short_sha256"]
    list_filter = ["kind"]
    list_select_related = ["imported_by"]
    search_fields = ["file_name", "sha256"]
    date_hierarchy = "imported_at"
    fields = [
        "kind",
        "file_name",
        "file_size",
        "sha256",
        "rows",
        "written",
        "skipped",
        "decimal_separator",
        "imported_by",
        "imported_at",
    ]
    readonly_fields = fields

    @admin.display(description="SHA-256")
    def short_sha256(self, obj):
        return obj.sha256[:12] + "…"

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("plan_admin.view_issuance")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
