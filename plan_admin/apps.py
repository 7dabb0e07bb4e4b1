from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _reinstall_append_only_triggers(sender, using, **kwargs) -> None:
    """A migration that rebuilds a table (SQLite does for most ALTERs) drops its triggers: put them back."""
    from django.db import connections

    from .db import append_only

    append_only.install(connections[using])


class PlanAdminConfig(AppConfig):
    name = "plan_admin"
    verbose_name = "Stock plan ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)
        from .security import sessions  # noqa: F401  (stamps each login's start)

        post_migrate.connect(_reinstall_append_only_triggers, sender=self, dispatch_uid="plan_admin_append_only")
