"""Download responses shared by /reports/ and the admin: XLSX from a temp file, CSV streamed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from . import queries
from .plan_history import write_plan_history
from .writers import Table, XlsxReport, iter_csv

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
FORMATS = ("xlsx", "csv")


def write_xlsx(path: str, *, tables: list[Table] = (), histories: list[queries.PlanHistory] = ()) -> None:
    with XlsxReport(path) as report:
        for table in tables:
            report.write_table(table)
        for history in histories:
            write_plan_history(report, history)


def xlsx_response(filename: str, **content) -> FileResponse:
    fd, path = tempfile.mkstemp(prefix="plan-report-", suffix=".xlsx")
    os.close(fd)
    try:
        write_xlsx(path, **content)
        size = os.path.getsize(path)
        source = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    finally:
        os.unlink(path)  # the open file stays readable; nothing is left behind in /tmp
    response = FileResponse(source, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
    response["Content-Length"] = str(size)
    return response


def csv_response(filename: str, tables: list[Table]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(iter_csv(tables), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    description: str
    permission: str
    tables: Callable[[queries.ReportFilters], list[Table]]
    histories: Callable[[queries.ReportFilters], list[queries.PlanHistory]] | None = None  # XLSX only


REPORTS: dict[str, Report] = {
    report.slug: report
    for report in [
        Report("issuances", "Issuance ledger",
               "Every issuance: participant, category, designation year, kind, date, shares, price, consideration, "
               "debt settled, who recorded it and any cancellation; totals issued, cancelled and standing.",
               "plan_admin.export_issuance", lambda f: [queries.issuance_table(filters=f)]),
        Report("designations", "Designations by year",
               "Each yearly designation with its board votes, status, and shares issued against shares designated.",
               "plan_admin.export_boarddesignation", lambda f: [queries.designation_table(filters=f)]),
        Report("participants", "Participant summary",
               "Shares issued to each participant (net of cancellations) by designation year and in total.",
               "plan_admin.export_participant", lambda f: [queries.participant_table(filters=f)]),
        Report("pool", "Pool status and plan history",
               "Authorized, issued, cancelled, committed and available shares, with every change to the reserve. "
               "The XLSX has one plan-history sheet per plan whose reconciliation is live formulas.",
               "plan_admin.export_plan", lambda f: queries.pool_tables(f), histories=queries.plan_histories),
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
    parts.append(f"{timezone.localdate():%Y%m%d}")
    return "-".join(parts) + f".{fmt}"


def report_response(report: Report, fmt: str, filters: queries.ReportFilters):
    filename = report_filename(report.slug, fmt, filters)
    if fmt == "csv":
        return csv_response(filename, report.tables(filters))
    if report.histories is not None:
        return xlsx_response(filename, tables=report.tables(filters)[:1], histories=report.histories(filters))
    return xlsx_response(filename, tables=report.tables(filters))
