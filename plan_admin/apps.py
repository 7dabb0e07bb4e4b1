from django.apps import AppConfig


class PlanAdminConfig(AppConfig):
    name = "plan_admin"
    verbose_name = "Stock plan ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)
        from .security import sessions  # noqa: F401  (stamps each login's start)
