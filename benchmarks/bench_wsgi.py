"""gunicorn entry point for the HTTP benchmark: the project's WSGI application with benchmarks/bench_settings.py."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bench_settings")

from config.wsgi import application  # noqa: F401
