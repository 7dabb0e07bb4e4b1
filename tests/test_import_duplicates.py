"""Nothing is imported twice: identical rows in one file, the same file again, and issuance references that make a
re-import skip what is already recorded (and refuse what would change it)."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from plan_admin import services
from plan_admin.imports import run_import
from plan_admin.models import ImportRecord, Issuance
from tests import factories
from tests.spreadsheets import csv_file, xlsx_file

pytestmark = pytest.mark.django_db

HEADER = ["plan", "participant", "year", "issue_date", "shares", "price_per_share", "reference", "notes"]


@pytest.fixture
def pool(superuser, staff_user, board_member):
    plan = factories.make_plan(by=superuser, shares=10_000_000, name="Dup Plan")
    for name in ["Dana Whitfield", "Lee Chen"]:
        person = factories.make_participant(name, by=staff_user)
        factories.make_designation(
            plan=plan, participant=person, year=2024, shares=100_000, staff=staff_user, approver=board_member
        )
    return plan


def grant(plan, name="Dana Whitfield", date="2024-06-30", shares=1_000, reference="", notes=""):
    return [plan.name, name, 2024, date, shares, "0.15", reference, notes]


@pytest.mark.parametrize("make_file", [csv_file, xlsx_file])
def test_identical_rows_are_named_and_refused(client, pool, staff_user, make_file):
    rows = [HEADER, grant(pool), grant(pool, "Lee Chen"), grant(pool, shares="1,000")]
    client.force_login(staff_user)
    before = factories.ledger_snapshot()
    page = client.post(
        reverse("admin:plan_admin_issuance_import"), {"action": "preview", "file": make_file(rows)}
    ).content.decode()
    assert (
        "<td>4</td><td>This row repeats row 2 exactly: the same issuance twice. Delete one of them (if both are "
        "meant, tell them apart, e.g. with a reference or a note).</td>"
    ) in page
    assert "1 of 3 rows cannot be imported, so nothing was imported" in page
    assert 'name="token"' not in page
    report = run_import("issuances", make_file(rows), by=staff_user, commit=True)
    assert report.errors == [
        (
            4,
            "This row repeats row 2 exactly: the same issuance twice. Delete one of them (if "
            "both are meant, tell them apart, e.g. with a reference or a note).",
        )
    ]
    assert factories.ledger_snapshot() == before


def test_identical_participant_rows_are_refused(staff_user):
    rows = [["name", "category"], ["Ana Ruiz", "consultant"], ["Ana Ruiz", "Consultant"]]
    before = factories.ledger_snapshot()
    report = run_import("participants", csv_file(rows), by=staff_user, commit=True)
    assert report.errors == [
        (
            3,
            "This row repeats row 2 exactly: the same participant twice. Delete one of them (if "
            "both are meant, tell them apart, e.g. with a reference or a note).",
        )
    ]
    assert factories.ledger_snapshot() == before


def test_the_same_file_again_is_refused_with_when_and_by_whom(client, pool, staff_user):
    staff_user.first_name, staff_user.last_name = "Sam", "Staff"
    staff_user.save()
    rows = [HEADER, grant(pool), grant(pool, "Lee Chen")]
    first = run_import("issuances", csv_file(rows, name="june.csv"), by=staff_user, commit=True)
    assert first.committed
    record = ImportRecord.objects.get()
    assert (record.kind, record.file_name, record.rows, record.written, record.imported_by) == (
        "issuances",
        "june.csv",
        2,
        2,
        staff_user,
    )
    assert len(record.sha256) == 64
    moment = timezone.localtime(record.imported_at)

    other = get_user_model().objects.create_user("clerk", is_staff=True)
    before = factories.ledger_snapshot()
    again = run_import("issuances", csv_file(rows, name="june (copy).csv"), by=other, commit=True)
    expected = (
        f"This file was already imported on {moment:%B} {moment.day}, {moment.year} at {moment:%H:%M} by Sam "
        "Staff (june.csv, 2 rows, 2 written). The same file is never imported twice."
    )
    assert again.errors == [(None, expected)]
    assert factories.ledger_snapshot() == before

    client.force_login(staff_user)  # the preview says it too, before anything is confirmed
    page = client.post(
        reverse("admin:plan_admin_issuance_import"), {"action": "preview", "file": csv_file(rows)}
    ).content.decode()
    assert "This file was already imported on" in page and 'name="token"' not in page


def test_a_previewed_file_is_not_recorded(pool, staff_user):
    rows = [HEADER, grant(pool)]
    assert run_import("issuances", csv_file(rows), by=staff_user, commit=False).ok
    assert not ImportRecord.objects.exists()
    assert run_import("issuances", csv_file(rows), by=staff_user, commit=True).committed


def test_references_make_a_re_import_skip_what_is_recorded(pool, staff_user):
    first = [HEADER, grant(pool, reference="G-1"), grant(pool, "Lee Chen", reference="G-2")]
    assert run_import("issuances", csv_file(first), by=staff_user, commit=True).committed
    assert set(Issuance.objects.values_list("reference", flat=True)) == {"G-1", "G-2"}
    g1 = Issuance.objects.get(reference="G-1")
    assert g1.history.get().reference == "G-1", "the history row carries the reference too"

    second = first + [grant(pool, shares=500, reference="G-3")]  # another file: G-1, G-2 again and a new G-3
    report = run_import("issuances", xlsx_file(second), by=staff_user, commit=True)
    assert report.committed, report.errors
    assert report.skipped == [
        (2, f"Already recorded as issuance #{g1.pk} (Reference 'G-1'): skipped."),
        (3, f"Already recorded as issuance #{Issuance.objects.get(reference='G-2').pk} (Reference 'G-2'): skipped."),
    ]
    assert [number for number, _ in report.done] == [4]
    assert Issuance.objects.count() == 3
    pool.refresh_from_db()
    assert pool.issued_shares == 2_500


def test_a_reference_recorded_with_other_values_is_refused(pool, staff_user):
    assert run_import(
        "issuances", csv_file([HEADER, grant(pool, reference="G-1")]), by=staff_user, commit=True
    ).committed
    g1 = Issuance.objects.get()
    before = factories.ledger_snapshot()
    report = run_import(
        "issuances", csv_file([HEADER, grant(pool, shares=2_000, reference="G-1")]), by=staff_user, commit=True
    )
    assert report.errors == [
        (
            2,
            (
                f"Reference 'G-1' is already recorded as issuance #{g1.pk} with other values: shares (ledger 1,000, "
                "this row 2,000). An import never changes a recorded issuance: leave the row as recorded, or cancel "
                "the issuance "
                "in the admin and import the grant as a new row (new reference, no issuance number)."
            ),
        )
    ]
    assert factories.ledger_snapshot() == before


def test_a_reference_twice_in_one_file_is_refused(pool, staff_user):
    rows = [HEADER, grant(pool, reference="G-1"), grant(pool, "Lee Chen", reference="G-1")]
    before = factories.ledger_snapshot()
    report = run_import("issuances", csv_file(rows), by=staff_user, commit=True)
    assert report.errors == [
        (3, "reference (cell G3): 'G-1' is also the reference of row 2; a reference names one issuance.")
    ]
    assert factories.ledger_snapshot() == before


def test_a_cancelled_reference_never_comes_back(pool, staff_user):
    rows = [HEADER, grant(pool, reference="G-1")]
    assert run_import("issuances", csv_file(rows), by=staff_user, commit=True).committed
    g1 = Issuance.objects.get()
    services.issuance_cancel(issuance=g1, cancelled_on=datetime.date(2024, 7, 1), reason="Typo", by=staff_user)
    before = factories.ledger_snapshot()
    report = run_import("issuances", csv_file(rows + [grant(pool, "Lee Chen")]), by=staff_user, commit=True)
    assert report.errors == [
        (
            2,
            f"Reference 'G-1' is issuance #{g1.pk}, which was cancelled on July 1, 2024; this "
            "row has no cancellation date. An import never brings a cancelled issuance back: "
            "delete the row.",
        )
    ]
    assert factories.ledger_snapshot() == before


def test_the_database_backstops_a_reference_per_designation(pool, staff_user):
    from django.db import IntegrityError, transaction

    assert run_import(
        "issuances", csv_file([HEADER, grant(pool, reference="G-1")]), by=staff_user, commit=True
    ).committed
    g1 = Issuance.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Issuance.objects.create(
            designation=g1.designation,
            issue_date=g1.issue_date,
            shares=1,
            price_per_share=g1.price_per_share,
            reference="G-1",
        )


def test_reference_confirm_in_the_admin_reports_skipped_rows(client, pool, staff_user):
    assert run_import(
        "issuances", csv_file([HEADER, grant(pool, reference="G-1")]), by=staff_user, commit=True
    ).committed
    client.force_login(staff_user)
    url = reverse("admin:plan_admin_issuance_import")
    rows = [HEADER, grant(pool, reference="G-1"), grant(pool, "Lee Chen", reference="G-2")]
    page = client.post(url, {"action": "preview", "file": xlsx_file(rows)}).content.decode()
    assert "1 row will be recorded; 1 is already recorded and will be skipped." in page
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    response = client.post(url, {"action": "confirm", "token": token}, follow=True)
    assert "Imported 1 issuances from import.xlsx (1 already recorded, skipped)." in response.content.decode()
    assert Issuance.objects.count() == 2


def test_auditors_see_the_record_of_imports_read_only(client, pool, staff_user, auditor):
    assert run_import(
        "issuances", csv_file([HEADER, grant(pool)], name="july.csv"), by=staff_user, commit=True
    ).committed
    record = ImportRecord.objects.get()
    client.force_login(auditor)
    page = client.get(reverse("admin:plan_admin_importrecord_changelist")).content.decode()
    assert "july.csv" in page and record.sha256[:12] in page
    detail = client.get(reverse("admin:plan_admin_importrecord_change", args=[record.pk])).content.decode()
    assert record.sha256 in detail
    assert (
        client.post(reverse("admin:plan_admin_importrecord_delete", args=[record.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert ImportRecord.objects.count() == 1
