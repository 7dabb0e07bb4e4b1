"""Spreadsheet downloads (and, with plan_admin.imports, uploads) for the admin's changelists.

`SpreadsheetAdminMixin` adds to a ModelAdmin:
- `<changelist>/export.xlsx` and `export.csv`: the changelist's current filtered (and searched) queryset through
  the same streaming writers as /reports/; needs `plan_admin.export_<model>`;
- the actions "Download selected as XLSX/CSV" (same writers, selected rows only);
- `<changelist>/import/` with a preview and a confirm step, and `import/template.xlsx|csv`; needs
  `plan_admin.import_<model>` (staff only in roles.py). The engine is plan_admin.imports.run_import.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .. import imports
from ..models import ImportRecord
from . import pending_imports, queries, responses
from .writers import Table

# What each model's changelist downloads, and which import kind it accepts.
EXPORT_TABLES: dict[str, Callable[..., Table]] = {
    "issuance": queries.issuance_table,
    "boarddesignation": queries.designation_table,
    "participant": queries.participant_table,
}
IMPORT_KINDS = {"participant": "participants", "boarddesignation": "designations", "issuance": "issuances"}


class UploadForm(forms.Form):
    file = forms.FileField(label="Spreadsheet (.xlsx or .csv)")
    decimal_separator = forms.ChoiceField(
        label="Decimal separator",
        required=False,
        initial="",
        choices=[
            ("", "Not declared: refuse any number that could have a decimal comma"),
            (".", "Point: 1,234.56 (0.15)"),
            (",", "Comma: 1.234,56 (0,15)"),
        ],
        help_text="How the file writes text numbers. Numbers stored as numbers in an XLSX are read as they are.",
    )


class SpreadsheetAdminMixin:
    change_list_template = "admin/plan_admin/import_export_change_list.html"
    actions = ["download_selected_xlsx", "download_selected_csv"]

    # --- permissions ---

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.export_{self.opts.model_name}")

    @property
    def import_kind(self) -> str | None:
        return IMPORT_KINDS.get(self.opts.model_name)

    def has_import_permission(self, request) -> bool:
        return self.import_kind is not None and request.user.has_perm(
            f"{self.opts.app_label}.import_{self.opts.model_name}"
        )

    # --- urls and changelist ---

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        urls = [path("export.<str:fmt>", wrap(self.export_view), name="{}_{}_export".format(*info))]
        if self.import_kind:
            urls += [
                path("import/", wrap(self.import_view), name="{}_{}_import".format(*info)),
                path(
                    "import/template.<str:fmt>",
                    wrap(self.import_template_view),
                    name="{}_{}_import_template".format(*info),
                ),
            ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_export": self.has_export_permission(request),
            "can_import": self.has_import_permission(request),
            "export_query": request.GET.urlencode(),
        }
        return super().changelist_view(request, extra_context)

    # --- downloads ---

    def _download(self, queryset, fmt: str):
        table = EXPORT_TABLES[self.opts.model_name](queryset)
        filename = responses.report_filename(self.opts.model_name, fmt)
        if fmt == "csv":
            return responses.csv_response(filename, table)
        return responses.xlsx_response(filename, tables=[table])

    def export_view(self, request, fmt: str):
        if not self.has_export_permission(request):
            raise PermissionDenied
        if fmt not in responses.FORMATS:
            raise Http404("Download as .xlsx or .csv.")
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return TemplateResponse(
                request,
                "reports/bad_filter.html",
                {"message": "The changelist's filters are not valid; clear them and try again."},
                status=400,
            )
        return self._download(changelist.get_queryset(request), fmt)

    @admin.action(description="Download selected as XLSX", permissions=["export"])
    def download_selected_xlsx(self, request, queryset):
        return self._download(queryset, "xlsx")

    @admin.action(description="Download selected as CSV", permissions=["export"])
    def download_selected_csv(self, request, queryset):
        return self._download(queryset, "csv")

    # --- imports: upload -> preview (everything run, then rolled back) -> confirm (run again, for real) ---

    def import_template_view(self, request, fmt: str):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if fmt == "csv":
            body, content_type = imports.template_csv(self.import_kind), responses.CSV_TYPE
        elif fmt == "xlsx":
            body, content_type = imports.template_xlsx(self.import_kind), responses.XLSX_TYPE
        else:
            raise Http404("Templates are .xlsx or .csv.")
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="import-{self.import_kind}-template.{fmt}"'
        return response

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        kind = self.import_kind
        importer = imports.IMPORTERS[kind]

        form, report, token = UploadForm(), None, None
        if request.method == "POST" and request.POST.get("action") == "confirm":
            stored = pending_imports.claim(request, kind=kind, token=request.POST.get("token", ""))
            if stored is None:
                messages.error(request, "That preview has expired or was already imported. Upload the file again.")
                return HttpResponseRedirect(request.path)
            try:
                report = imports.run_import(
                    kind,
                    stored,
                    by=request.user,
                    commit=True,
                    decimal_separator=stored.options.get("decimal_separator", ""),
                )
            finally:
                stored.close()
            if report.committed:
                skipped = f" ({len(report.skipped):,} already recorded, skipped)" if report.skipped else ""
                messages.success(request, f"Imported {len(report.done):,} {kind} from {stored.name}{skipped}.")
                return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
            messages.error(
                request, "The ledger changed since the preview: these rows are now refused. Nothing was imported."
            )
        elif request.method == "POST":
            form = UploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                separator = form.cleaned_data["decimal_separator"]
                report = imports.run_import(kind, upload, by=request.user, commit=False, decimal_separator=separator)
                if report.ok:
                    token = pending_imports.save(
                        request, kind=kind, upload=upload, options={"decimal_separator": separator}
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import {importer.title.lower()}",
            "importer": importer,
            "form": form,
            "report": report,
            "token": token,
            "max_mb": f"{settings.IMPORT_MAX_BYTES / (1024 * 1024):.0f}",
            "has_view_permission": self.has_view_permission(request),
            "recent_imports": ImportRecord.objects.filter(kind=kind).select_related("imported_by")[:10],
        }
        return TemplateResponse(request, "admin/plan_admin/import.html", context)
