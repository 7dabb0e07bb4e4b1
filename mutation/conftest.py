"""Copied to the root of the mutation-testing work tree (.mutate/) by mutation/run.py; never used by `make test`.

mutmut forks one process per mutant from a process that has already read the settings, so every fork would share
the settings' per-process SQLite file, and each would migrate a new one (seconds, for each of thousands of
mutants). Here each test session copies a database migrated once (mutation/run.py makes it) to a file of its own
and removes it at the end.

Which tests check which mutant: mutmut's stats run maps each test to every mutated function it reaches, its
fixtures' set-up included, so a central service (a designation's approval, the plan lock, whole shares) would be
checked by nearly every test, most of which reach it only to build their starting ledger (the `plan` and
`approved_designation` fixtures). Here the functions reached during a test's set-up are forgotten at the end of
it: a mutant is checked by the tests whose own body (or teardown) reaches its function. See
docs/mutation-testing.md.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":
        from mutmut.state import state

        state()._stats.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """mutmut runs a mutant's tests fastest first, stopping at the first failure, but times only their call: a
    refusal test that runs in 2 ms after 60 ms of fixtures (a plan, users, an approved designation) looked
    cheapest. Its set-up is added to the time mutmut orders by."""
    yield
    if call.when == "setup" and os.environ.get("MUTANT_UNDER_TEST") == "stats":
        from mutmut.state import state

        durations = state().duration_by_test
        durations[item.nodeid] = durations.get(item.nodeid, 0) + call.duration


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
