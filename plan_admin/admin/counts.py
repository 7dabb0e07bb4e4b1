"""Admin list counts from the counter tables the services keep, instead of COUNT(*) over the ledger.

Django's changelist counts its rows on every view: over a million issuances (345,000 designations) that one query
took longer than the rest of the page. When a list is filtered only by what a counter table counts, its count is
read from there, exactly; any other filter or a search falls back to counting the rows.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

LIST_PARAMETERS = {"o", "p"}  # order and page: no effect on the count


def counted_filters(parameters, filters: dict[str, str]) -> dict[str, str] | None:
    """The list's query `parameters` as keywords of a count: `filters` maps a parameter to its keyword. None when
    a parameter is not one of `filters` (a search, another filter) or is given more than once."""
    given = {}
    for name, values in parameters.lists():
        if name in LIST_PARAMETERS:
            continue
        if name not in filters or len(values) != 1:
            return None
        given[filters[name]] = values[0]
    return given


def row_ids(given: dict[str, str]) -> dict[str, int] | None:
    """The filters' values as plan ids or years; None when one is not (the list then counts its rows, and filters
    them as the filter does)."""
    if all(value.isascii() and value.isdigit() and len(value) <= 9 for value in given.values()):
        return {keyword: int(value) for keyword, value in given.items()}
    return None


class CountedPaginator(Paginator):
    """A paginator told its count (from a counter table) instead of counting the rows."""

    def __init__(self, *args, count: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


class CountedListMixin:
    """A ModelAdmin whose list count comes from `count_from_totals(request.GET)` when that is not None."""

    def count_from_totals(self, parameters) -> int | None:
        raise NotImplementedError

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        count = self.count_from_totals(request.GET)
        if count is None:
            return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        return CountedPaginator(queryset, per_page, orphans, allow_empty_first_page, count=count)
