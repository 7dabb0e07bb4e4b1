"""Imports racing: the same file confirmed twice at once, and one reference in two files at once, record once.

The unique SHA-256 of ImportRecord and the plan lock the import takes before it reads the recorded references are
what is under test, so the imports run in threads with real commits (`transaction=True`).
"""

import pytest

from plan_admin.imports import run_import
from plan_admin.models import ImportRecord, Issuance
from tests import factories
from tests.spreadsheets import csv_file
from tests.test_concurrency import assert_counters_match_ledger, race

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = ["plan", "participant", "year", "issue_date", "shares", "price_per_share", "reference", "notes"]


@pytest.fixture
def pool(superuser, staff_user, board_member):
    plan = factories.make_plan(by=superuser, shares=10_000_000, name="Race Plan")
    dana = factories.make_participant("Dana Whitfield", by=staff_user)
    factories.make_designation(
        plan=plan, participant=dana, year=2024, shares=1_000_000, staff=staff_user, approver=board_member
    )
    return plan


def test_the_same_file_confirmed_twice_at_once_imports_once(pool, staff_user):
    content = csv_file(
        [
            HEADER,
            [pool.name, "Dana Whitfield", 2024, "2024-06-30", 1_000, "0.15", "", "a"],
            [pool.name, "Dana Whitfield", 2024, "2024-07-30", 2_000, "0.15", "", "b"],
        ]
    ).read()

    def confirm():
        from django.core.files.uploadedfile import SimpleUploadedFile

        return run_import("issuances", SimpleUploadedFile("same.csv", content), by=staff_user, commit=True)

    results, _, errors = race([confirm, confirm])
    assert not errors, errors
    committed = [report for report in results if report.committed]
    refused = [report for report in results if not report.committed]
    assert len(committed) == 1 and len(refused) == 1
    assert refused[0].file_error.startswith("This file was already imported on ")
    assert Issuance.objects.count() == 2 and ImportRecord.objects.count() == 1
    assert_counters_match_ledger(pool)


def test_one_reference_in_two_files_at_once_is_recorded_once(pool, staff_user):
    def importer(notes):
        rows = [HEADER, [pool.name, "Dana Whitfield", 2024, "2024-06-30", 1_000, "0.15", "G-1", notes]]
        return lambda: run_import("issuances", csv_file(rows, name=f"{notes}.csv"), by=staff_user, commit=True)

    results, _, errors = race([importer("first"), importer("second")])
    assert not errors, errors
    assert sorted(report.committed for report in results) == [False, True]
    refused = next(report for report in results if not report.committed)
    assert refused.errors[0][1].startswith("Reference 'G-1' is already recorded as issuance #")
    assert Issuance.objects.filter(reference="G-1").count() == 1
    assert_counters_match_ledger(pool)
