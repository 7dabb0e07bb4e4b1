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


@register(Tags.security, deploy=True)
def resolution_seal_key(app_configs, **kwargs):
    """Signed resolutions are sealed with the deployment's key; without it the last signature is refused."""
    from pathlib import Path

    key, cert = settings.RESOLUTION_SEAL_KEY, settings.RESOLUTION_SEAL_CERT
    if key and cert and Path(key).is_file() and Path(cert).is_file():
        return []
    return [
        Warning(
            "The seal key for signed resolutions is not configured or cannot be read: no resolution can take effect.",
            hint="Set RESOLUTION_SEAL_KEY and RESOLUTION_SEAL_CERT to PEM files (README: Keys, files and email in "
            "production; `manage.py create_seal_key` makes a self-signed pair).",
            id="plan_admin.W003",
        )
    ]
