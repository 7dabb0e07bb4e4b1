"""WSGI entry point (gunicorn config.wsgi:application). Refuses an unsafe production start."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from plan_admin.startup import refuse_unsafe_production_start  # noqa: E402  (needs settings loaded)

refuse_unsafe_production_start()
