"""django-import-export resources, for the small exports where the library fits: the share-reserve history.

The big reports (issuances, designations, participants) stream through plan_admin.reports instead: the library
builds a whole export in memory. Imports do not use the library at all (see plan_admin.imports): it skips bad rows
and commits the rest, and a grant import must be all or nothing.

The library chooses the rows and columns (its export form); the files are written by the project's own writers
(plan_admin.reports.writers), like every other download: the CSV with a BOM and the one CSV escaping rule, the
XLSX as an Excel table with text unaltered, numbers as numbers and dates as dates.
"""

import datetime

from django.utils import timezone
from import_export import fields, resources, widgets
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from .models import ShareReserveChange
from .reports.writers import DATE, DATETIME, INT, PLAIN, PRICE, TEXT, Column, Table, iter_csv, iter_xlsx

TYPED_WIDGETS = (widgets.NumberWidget, widgets.DateWidget, widgets.DateTimeWidget, widgets.BooleanWidget)


class NativeResource(resources.ModelResource):
    """A resource whose numbers and dates stay numbers and dates in every format (not localized text such as
    "-1,000"); the writers escape text where the format needs it (CSV only)."""

    def export_field(self, field, instance, **kwargs):
        if isinstance(field.widget, TYPED_WIDGETS):
            return super().export_field(field, instance, **{**kwargs, "force_native_type": True})
        return super().export_field(field, instance, **kwargs)


EscapedResource = NativeResource  # the former name


class ShareReserveChangeResource(NativeResource):
    plan = fields.Field(attribute="plan__name", column_name="plan")
    recorded_by = fields.Field(attribute="recorded_by__username", column_name="recorded_by")

    class Meta:
        model = ShareReserveChange
        fields = [
            "id",
            "plan",
            "board_approval_date",
            "shares",
            "resolution_reference",
            "note",
            "recorded_by",
            "recorded_at",
        ]
        export_order = fields

    def get_queryset(self):
        return super().get_queryset().select_related("plan", "recorded_by")


def _kind(header: str, values: list) -> str:
    sample = next((value for value in values if value not in (None, "")), None)
    if isinstance(sample, bool) or sample is None or isinstance(sample, str):
        return TEXT
    if isinstance(sample, int):
        return PLAIN if header.lower() in {"id", "pk"} else INT
    if isinstance(sample, datetime.datetime):
        return DATETIME
    if isinstance(sample, datetime.date):
        return DATE
    return PRICE


def _native(value):
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


def dataset_table(dataset, title: str) -> Table:
    """A tablib Dataset (the library's export) as one of the project's Tables."""
    rows = [tuple(_native(value) for value in row) for row in dataset]
    headers = [str(header) for header in dataset.headers]
    columns = [
        Column(header, _kind(header, [row[index] for row in rows]), max(12, min(40, len(header) + 6)))
        for index, header in enumerate(headers)
    ]
    return Table(title=title, columns=columns, rows=rows)


class ProjectCSV(base_formats.CSV):
    """CSV through plan_admin.reports.writers.iter_csv: UTF-8 with a BOM, the one escaping rule."""

    def is_binary(self):
        return True  # export_data returns the encoded bytes, BOM included

    def export_data(self, dataset, **kwargs):
        return "".join(iter_csv(dataset_table(dataset, dataset.title or "Export"))).encode("utf-8")


class ProjectXLSX(base_formats.XLSX):
    """XLSX through plan_admin.reports.writers.iter_xlsx: an Excel table, text as text."""

    def export_data(self, dataset, **kwargs):
        return b"".join(iter_xlsx([dataset_table(dataset, dataset.title or "Export")]))


class SmallExportMixin(ExportMixin):
    """django-import-export's admin export, limited to CSV and XLSX written by the project's writers. It checks
    `plan_admin.export_<model>` (settings.IMPORT_EXPORT_EXPORT_PERMISSION_CODE); it offers no import."""

    @property
    def export_formats(self):
        return [ProjectCSV, ProjectXLSX]
