"""/reports/: the report list with its filters, and each report's XLSX and CSV download.

The page needs `plan_admin.export_issuance`; each download needs its report's export permission. Bad filter values
are answered with 400 and the reason, not a server error.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from ..models import MAX_YEAR, MIN_YEAR, Participant, Plan
from . import queries
from .responses import FORMATS, REPORTS, report_response

PAGE_PERMISSION = "plan_admin.export_issuance"


def _bad_filter(request, error: queries.BadFilter):
    return render(request, "reports/bad_filter.html", {"message": str(error)}, status=400)


def index(request):
    if not request.user.has_perm(PAGE_PERMISSION):
        raise PermissionDenied
    try:
        filters = queries.parse_filters(request.GET)
    except queries.BadFilter as error:
        return _bad_filter(request, error)
    query = request.GET.urlencode()
    reports = [
        {"report": report, "allowed": request.user.has_perm(report.permission), "query": query}
        for report in REPORTS.values()
    ]
    return render(
        request,
        "reports/index.html",
        {
            "reports": reports,
            "filters": filters,
            "plans": Plan.objects.order_by("company_name", "name"),
            "categories": Participant.Category.choices,
            "category_label": dict(Participant.Category.choices).get(filters.category, ""),
            "today": timezone.localdate(),
            "min_year": MIN_YEAR,
            "max_year": MAX_YEAR,
        },
    )


def download(request, slug: str, fmt: str):
    report = REPORTS.get(slug)
    if report is None or fmt not in FORMATS:
        raise Http404("There is no such report.")
    if not request.user.has_perm(report.permission):
        raise PermissionDenied
    try:
        filters = queries.parse_filters(request.GET)
    except queries.BadFilter as error:
        return _bad_filter(request, error)
    return report_response(report, fmt, filters)


__all__ = ["download", "index"]
