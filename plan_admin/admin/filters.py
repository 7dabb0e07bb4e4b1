"""List filters that stay cheap on a large ledger."""

import datetime

from django.contrib import admin
from django.db.models import Max, Min

from ..models import BoardDesignation


class YearFilter(admin.SimpleListFilter):
    """The designation years, from the first any designation names to the last.

    Django's default filter for a field lists its values with SELECT DISTINCT over every row, on each view of the
    list: over a million-issuance ledger's 345,000 designations that alone took 110-150 ms. The first and the last
    year are two lookups in the designations' year index. A year in between without designations is listed too; it
    filters to an empty list. The parameter is the one Django's default filter used, so bookmarked links still work.
    """

    title = "year"
    parameter_name = "year"  # the path from the listed model to the designation's year
    field_path = "year"

    def lookups(self, request, model_admin):
        bounds = BoardDesignation.objects.aggregate(first=Min("year"), last=Max("year"))
        if bounds["first"] is None:
            return []
        return [(str(year), str(year)) for year in range(bounds["first"], bounds["last"] + 1)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not (value.isascii() and value.isdigit() and len(value) <= 4):
            return queryset.none()
        return queryset.filter(**{self.field_path: int(value)})


class DesignationYearFilter(YearFilter):
    """The year of the row's designation (issuances, votes)."""

    parameter_name = field_path = "designation__year"


class IssuanceYearFilter(DesignationYearFilter):
    """The year of the issuance's designation, which is also the year of its issue date (the services refuse an
    issuance dated outside its designation's year, and `reconcile` checks it): the date range lets the list read
    the year's rows from its newest-first index instead of walking back through every later year."""

    def queryset(self, request, queryset):
        filtered = super().queryset(request, queryset)
        value = self.value()
        if value is None or not (value.isascii() and value.isdigit() and 1 <= int(value) <= 9998):
            return filtered  # every row, or none for a value that is no year
        year = int(value)
        return filtered.filter(issue_date__gte=datetime.date(year, 1, 1), issue_date__lt=datetime.date(year + 1, 1, 1))
