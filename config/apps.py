from django.contrib.admin.apps import AdminConfig


class PlanAdminAdminConfig(AdminConfig):
    """django.contrib.admin, with the site titled after the company and its plan."""

    default_site = "plan_admin.admin_site.PlanAdminSite"
