"""Fixtures shared by every test: users in each role, a plan with an approved designation.

With CI=true a skipped test fails the run: CI must prove every test ran (no missing database or browser).
"""

import datetime
import os
from decimal import Decimal

import pytest

from tests import factories

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"Skipped in CI, which counts as a failure: {reason}"


@pytest.fixture(scope="session")
def seal_key(tmp_path_factory):
    """A throw-away seal key and self-signed certificate for the resolutions' signed documents."""
    from plan_admin.documents import seal

    folder = tmp_path_factory.mktemp("seal")
    key, cert = folder / "seal-key.pem", folder / "seal-cert.pem"
    seal.create_key(key_path=key, cert_path=cert, common_name="Test seal", organization="plan-admin tests")
    return key, cert


@pytest.fixture(autouse=True)
def _resolution_files(settings, tmp_path, seal_key):
    """Resolutions' PDFs go to the test's own directory, sealed with the test key; links point at the test host."""
    settings.STORAGES = {
        **settings.STORAGES,
        "resolutions": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "files")},
        },
    }
    settings.RESOLUTION_SEAL_KEY, settings.RESOLUTION_SEAL_CERT = str(seal_key[0]), str(seal_key[1])


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; the production hasher's cost only slows them down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser(db):
    return factories.make_user("root", role=None, superuser=True)


@pytest.fixture
def staff_user(db):
    return factories.make_user("staff", role=factories.roles.STAFF)


@pytest.fixture
def board_member(db):
    return factories.make_user("board", role=factories.roles.BOARD)


@pytest.fixture
def second_board_member(db):
    return factories.make_user("board2", role=factories.roles.BOARD)


@pytest.fixture
def auditor(db):
    return factories.make_user("auditor", role=factories.roles.AUDITORS)


@pytest.fixture
def plan(db, superuser):
    """The reference plan's terms, 10,000,000 shares, effective 2002-03-01, one approval needed."""
    return factories.make_plan(by=superuser)


@pytest.fixture
def participant(db, staff_user):
    return factories.make_participant("Dana Whitfield", by=staff_user)


@pytest.fixture
def approved_designation(plan, participant, staff_user, board_member):
    """An approved 2024 designation of 1,000,000 shares."""
    return factories.make_designation(
        plan=plan, participant=participant, year=2024, shares=1_000_000, staff=staff_user, approver=board_member
    )


@pytest.fixture
def issue_kwargs():
    """A valid issuance's fields for the `approved_designation` (2024)."""
    return {
        "issue_date": datetime.date(2024, 6, 30),
        "shares": 1_000,
        "price_per_share": Decimal("0.15"),
    }
