"""Settings for the HTTP benchmark's gunicorn: the project's own, plus the raw baseline endpoint
(benchmarks/bench_urls.py). Never used outside `make bench`."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
