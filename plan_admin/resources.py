"""django-import-export resources, for the small exports where the library fits: the share-reserve history.

The big reports (issuances, designations, participants) stream through plan_admin.reports instead: the library
builds a whole export in memory. Imports do not use the library at all (see plan_admin.imports): it skips bad rows
and commits the rest, and a grant import must be all or nothing.

Every text value goes through plan_admin.reports.writers.escape_cell, the same formula-injection guard as the
reports; numbers and dates are left as they are.
"""

from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.admin import ExportMixin

from .models import ShareReserveChange
from .reports.writers import escape_cell

TYPED_WIDGETS = (widgets.NumberWidget, widgets.DateWidget, widgets.DateTimeWidget, widgets.BooleanWidget)


class EscapedResource(resources.ModelResource):
    """A resource whose text cells cannot be read as formulas by a spreadsheet, and whose numbers and dates stay
    numbers and dates in every format (not localized text such as "-1,000")."""

    def export_field(self, field, instance, **kwargs):
        if isinstance(field.widget, TYPED_WIDGETS):
            return super().export_field(field, instance, **{**kwargs, "force_native_type": True})
        return escape_cell(super().export_field(field, instance, **kwargs))


class ShareReserveChangeResource(EscapedResource):
    plan = fields.Field(attribute="plan__name", column_name="plan")
    recorded_by = fields.Field(attribute="recorded_by__username", column_name="recorded_by")

    class Meta:
        model = ShareReserveChange
        fields = ["id", "plan", "board_approval_date", "shares", "resolution_reference", "note", "recorded_by",
                  "recorded_at"]
        export_order = fields

    def get_queryset(self):
        return super().get_queryset().select_related("plan", "recorded_by")


class SmallExportMixin(ExportMixin):
    """django-import-export's admin export, limited to CSV and XLSX. It checks `plan_admin.export_<model>`
    (settings.IMPORT_EXPORT_EXPORT_PERMISSION_CODE); it offers no import."""

    @property
    def export_formats(self):
        return [base_formats.CSV, base_formats.XLSX]
