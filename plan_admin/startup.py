"""Checks that stop a production server from starting in a state that would lose or expose the ledger."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
import environ


def refuse_unsafe_production_start() -> None:
    """Raise ImproperlyConfigured when a non-DEBUG server would run on a throw-away secret or embedded SQLite.

    The embedded SQLite file is for `make run` and tests; a production ledger belongs on PostgreSQL unless the
    operator says otherwise with ALLOW_SQLITE_IN_PRODUCTION=true.
    """
    if settings.DEBUG:
        return
    if not settings.SECRET_KEY_FROM_ENV:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3") and not environ.Env().bool("ALLOW_SQLITE_IN_PRODUCTION", default=False):
        raise ImproperlyConfigured(
            "Refusing to serve the ledger from the embedded SQLite database with DEBUG off. "
            "Set DATABASE_URL to PostgreSQL, or ALLOW_SQLITE_IN_PRODUCTION=true to accept the risk."
        )
