from django.contrib import admin

from .models import Plan


class PlanAdminSite(admin.AdminSite):
    """The staff's admin, titled with the company and its plan."""

    site_title = "Stock plan administration"
    index_title = "Plan ledger"

    def each_context(self, request):
        context = super().each_context(request)
        plan = Plan.objects.only("company_name", "name").order_by("pk").first()
        if plan is not None:
            context["site_header"] = f"{plan.company_name} · {plan.name}"
        else:
            context["site_header"] = "Stock plan administration"
        return context
