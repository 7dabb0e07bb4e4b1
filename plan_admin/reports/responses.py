"""Download responses shared by /reports/ and the admin: XLSX and CSV, both streamed as they are written.

The XLSX's first bytes leave before the last row is read (see reports/xlsx.py), so neither response has a
Content-Length. A download that fails halfway (the database goes away) ends as a truncated file the spreadsheet
refuses to open, never as a file with rows missing: the zip directory comes last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import StreamingHttpResponse
from django.utils import timezone

from . import queries
from .writers import Table, iter_csv, iter_xlsx, write_xlsx  # noqa: F401 - write_xlsx re-exported

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
FORMATS = ("xlsx", "csv")


def _attachment(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(filename: str, *, tables: list[Table] = (), histories: list[queries.PlanHistory] = ()):
    return _attachment(
        StreamingHttpResponse(iter_xlsx(list(tables), list(histories)), content_type=XLSX_TYPE), filename
    )


def csv_response(filename: str, table: Table) -> StreamingHttpResponse:
    return _attachment(StreamingHttpResponse(iter_csv(table), content_type=CSV_TYPE), filename)


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    permission: str
    table: Callable[[queries.ReportFilters], Table]  # the report's table: the CSV, and the XLSX's first sheet
    histories: Callable[[queries.ReportFilters], list[queries.PlanHistory]] | None = None  # more XLSX sheets


REPORTS: dict[str, Report] = {
    report.slug: report
    for report in [
        Report(
            "issuances",
            "Issuance ledger",
            "Every issuance: participant, category, designation year, kind, date, shares, price, consideration, "
            "debt settled, references, notes, when and by whom it was recorded, and any cancellation; totals "
            "issued, cancelled and standing. Its columns are also an import's: see the README.",
            "plan_admin.export_issuance",
            lambda f: queries.issuance_table(filters=f),
        ),
        Report(
            "designations",
            "Designations by year",
            "Each yearly designation with its board votes, status, and shares issued against shares designated.",
            "plan_admin.export_boarddesignation",
            lambda f: queries.designation_table(filters=f),
        ),
        Report(
            "participants",
            "Participant summary",
            "Shares issued to each participant (net of cancellations) by designation year and in total.",
            "plan_admin.export_participant",
            lambda f: queries.participant_table(filters=f),
        ),
        Report(
            "pool",
            "Pool status and plan history",
            "Authorized, issued, cancelled, committed and available shares per plan. The XLSX adds one "
            "plan-history sheet per plan whose reconciliation is live formulas.",
            "plan_admin.export_plan",
            lambda f: queries.pool_table(f),
            histories=queries.plan_histories,
        ),
        Report(
            "reserve",
            "Reserve history",
            "Every board-approved change to the share reserve, with the authorized shares after each.",
            "plan_admin.export_sharereservechange",
            lambda f: queries.reserve_table(f),
        ),
    ]
}


def report_filename(slug: str, fmt: str, filters: queries.ReportFilters | None = None) -> str:
    parts = [f"plan-{slug}"]
    if filters is not None:
        if filters.plan:
            parts.append(f"plan{filters.plan.pk}")
        if filters.year:
            parts.append(str(filters.year))
        if filters.category:
            parts.append(filters.category.replace("_", "-"))
        if filters.as_of:
            parts.append(f"as-of-{filters.as_of:%Y%m%d}")
    parts.append(f"{timezone.localdate():%Y%m%d}")
    return "-".join(parts) + f".{fmt}"


def report_response(report: Report, fmt: str, filters: queries.ReportFilters):
    filename = report_filename(report.slug, fmt, filters)
    if fmt == "csv":
        return csv_response(filename, report.table(filters))
    if report.histories is not None:
        histories = report.histories(filters)
        return xlsx_response(filename, tables=[queries.pool_table(filters, histories)], histories=histories)
    return xlsx_response(filename, tables=[report.table(filters)])
