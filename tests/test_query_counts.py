"""Recording one issuance costs the same SQL whether the plan holds 10 or 10,000 issuances."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plan_admin.models import BoardDesignation, Issuance, Plan
from tests import factories

pytestmark = pytest.mark.django_db


def grow_ledger(designation, count: int) -> None:
    """Add `count` one-share issuances in bulk, keeping the counters equal to the ledger sums."""
    Issuance.objects.bulk_create(
        [
            Issuance(
                designation=designation,
                issue_date=datetime.date(designation.year, 1, 2),
                shares=1,
                price_per_share=Decimal("0.01"),
            )
            for _ in range(count)
        ],
        batch_size=2_000,
    )
    Plan.objects.filter(pk=designation.plan_id).update(issued_shares=F("issued_shares") + count)
    BoardDesignation.objects.filter(pk=designation.pk).update(issued_shares=F("issued_shares") + count)


def queries_to_record(record) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        record()
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("path", ["service", "admin form"])
def test_recording_one_issuance_costs_the_same_queries_at_10_and_10000(path, approved_designation, staff_user, client):
    client.force_login(staff_user)
    client.get(reverse("admin:plan_admin_issuance_add"))  # warm the session and content-type caches

    def record():
        if path == "service":
            factories.issue(approved_designation, by=staff_user, shares=5)
        else:
            response = client.post(
                reverse("admin:plan_admin_issuance_add"),
                {
                    "designation": approved_designation.pk,
                    "issue_date": "2024-06-30",
                    "shares": "5",
                    "kind": "compensation",
                    "price_per_share": "0.15",
                },
            )
            assert response.status_code == 302

    grow_ledger(approved_designation, 10 - 1)
    record()  # the 10th
    at_10 = queries_to_record(record)
    grow_ledger(approved_designation, 10_000 - Issuance.objects.count() - 1)
    assert Issuance.objects.count() == 9_999
    at_10_000 = queries_to_record(record)

    assert Issuance.objects.count() == 10_000
    assert len(at_10_000) == len(at_10), "\n".join(at_10_000)
