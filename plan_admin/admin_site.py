from functools import wraps

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from .models import Plan
from .security.inputs import parse_id, parse_small_int

# Path arguments of admin views that name a row (or, for simple-history, a history row) by its integer id.
ID_ARGUMENTS = ("object_id", "version_id", "id", "pk", "content_type_id")
# The date hierarchy's query parameters (`<field>__year=2024`): Django reads them with int(), and a huge number
# overflows datetime before the changelist can refuse it.
DATE_PARTS = {"__year": 4, "__month": 2, "__day": 2}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def bad_request(request, message: str):
    return render(request, "400.html", {"message": message}, status=400)


def _odd_query(request) -> str | None:
    """Why the query string cannot be read as the admin reads it, or None."""
    if "_to_field" in request.GET and not request.GET["_to_field"]:
        return "The _to_field parameter is empty."
    for name, value in request.GET.items():
        for suffix, digits in DATE_PARTS.items():
            if name.endswith(suffix) and parse_small_int(value, digits=digits) is None:
                return f"The date filter {name} must be a number of at most {digits} digits."
    return None


def strict_admin_view(view):
    """Wrap an admin view so that no path or query value can make it fail with a server error.

    - an id argument that is not a row id (letters, "²", negative, beyond 64 bits) is 404, and so is an id of a
      ModelAdmin's model that does not exist (django-otp's device pages would fail on it);
    - query values the admin would crash on (an empty `_to_field`, a huge date-hierarchy year) are 400, and so is
      a filter the changelist refuses (IncorrectLookupParameters) in views that do not catch it themselves
      (django-import-export's export);
    - the simple-history "revert" page is read-only: it saves the old version on POST for anyone who may view the
      row, bypassing the services, so only safe methods reach it.
    """
    model_admin = getattr(view, "__self__", None)
    model = getattr(model_admin, "model", None)

    @wraps(view)
    def strict(request, *args, **kwargs):
        for name in ID_ARGUMENTS:
            if name in kwargs:
                row_id = parse_id(unquote(str(kwargs[name])))
                if row_id is None:
                    raise Http404(f"{kwargs[name]!s:.40} is not a record number.")
                if (
                    model is not None
                    and name in ("object_id", "id", "pk")
                    and (not model._default_manager.filter(pk=row_id).exists())
                ):
                    raise Http404(f"There is no {model._meta.verbose_name} number {row_id}.")
        problem = _odd_query(request)
        if problem:
            return bad_request(request, problem)
        if getattr(view, "__name__", "") == "history_form_view" and request.method not in SAFE_METHODS:
            raise PermissionDenied("History is read-only.")
        try:
            return view(request, *args, **kwargs)
        except IncorrectLookupParameters:
            return bad_request(request, "The list's filters are not valid; clear them and try again.")

    return strict


class PlanAdminSite(admin.AdminSite):
    """The staff's admin, titled with the company and its plan; every view behind `strict_admin_view`."""

    site_title = "Stock plan administration"
    index_title = "Plan ledger"

    def admin_view(self, view, cacheable=False):
        return super().admin_view(strict_admin_view(view), cacheable)

    def each_context(self, request):
        context = super().each_context(request)
        plan = Plan.objects.only("company_name", "name").order_by("pk").first()
        if plan is not None:
            context["site_header"] = f"{plan.company_name} · {plan.name}"
        else:
            context["site_header"] = "Stock plan administration"
        return context
