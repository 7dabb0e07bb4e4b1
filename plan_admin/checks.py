"""Deployment checks of our own, reported by `manage.py check --deploy`."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def secret_key_from_environment(app_configs, **kwargs):
    if settings.SECRET_KEY_FROM_ENV:
        return []
    return [
        Warning(
            "SECRET_KEY is not set in the environment: a random key is used and sessions end on every restart.",
            hint="Set SECRET_KEY to 50 or more random characters.",
            id="plan_admin.W001",
        )
    ]


@register(Tags.database, deploy=True)
def production_database(app_configs, **kwargs):
    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return []
    return [
        Warning(
            "The ledger is on the embedded SQLite database.",
            hint="Set DATABASE_URL to PostgreSQL for production (README: Running on PostgreSQL).",
            id="plan_admin.W002",
        )
    ]
