"""Pages outside the admin. Each checks its permission; writes go through plan_admin.forms and services."""

from django.shortcuts import redirect


def home(request):
    """Send each user to where their work is."""
    return redirect("admin:index")
