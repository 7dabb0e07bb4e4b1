"""Copied to the root of the mutation-testing work tree (.mutate/) by mutation/run.py; never used by `make test`.

mutmut forks one process per mutant from a process that has already read the settings, so every fork would share
the settings' per-process SQLite file, and each would migrate a new one (seconds, for each of thousands of
mutants). Here each test session copies a database migrated once (mutation/run.py makes it) to a file of its own
and removes it at the end.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    from django.db import connections

    template = Path(os.environ["PLAN_ADMIN_MUTATE_TEMPLATE_DB"])
    copy = Path(tempfile.gettempdir()) / f"plan_admin_mutate-{os.getpid()}.sqlite3"
    shutil.copyfile(template, copy)
    with django_db_blocker.unblock():
        for connection in connections.all():
            connection.close()
            connection.settings_dict["NAME"] = str(copy)
            connection.settings_dict.setdefault("TEST", {})["NAME"] = str(copy)
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            connection.close()
    copy.unlink(missing_ok=True)
