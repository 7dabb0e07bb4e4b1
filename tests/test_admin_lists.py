"""The admin's issuance list on a large ledger stays exact: its count (from the issuance totals where they can
say it), its year filter (narrowed by issue date) and its search (designations first) list the same issuances as
the plain ORM filters would."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plan_admin import services
from plan_admin.models import Issuance
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("admin:plan_admin_issuance_changelist")


@pytest.fixture
def ledger(plan, superuser, staff_user, board_member):
    """Two plans; 2023 and 2024; a key employee, a consultant and a creditor (a debt settlement); one cancellation
    in each plan."""
    other = factories.make_plan(by=superuser, name="2010 Plan")
    dana = factories.make_participant("Dana Whitfield", by=staff_user)
    lee = factories.make_participant("Lee Chen", by=staff_user, category="consultant")
    creditor = factories.make_participant("Halvorsen Engineering LLC", by=staff_user, category="consultant")
    for each_plan in (plan, other):
        for year in (2023, 2024):
            for person in (dana, lee):
                designation = factories.make_designation(
                    plan=each_plan,
                    participant=person,
                    year=year,
                    shares=10_000,
                    staff=staff_user,
                    approver=board_member,
                )
                for shares in (100, 200):
                    factories.issue(designation, by=staff_user, shares=shares)
        mistaken = Issuance.objects.filter(designation__plan=each_plan).order_by("pk").first()
        services.issuance_cancel(
            issuance=mistaken, cancelled_on=datetime.date(2024, 12, 1), reason="Typo.", by=staff_user
        )
    factories.settle_debt_in_full(plan=plan, creditor=creditor, staff=staff_user, approver=board_member)
    return plan, other


def listed(client, query: str):
    response = client.get(f"{LIST}?{query}" if query else LIST)
    assert response.status_code == 200, query
    changelist = response.context["cl"]
    return changelist.result_count, sorted(issuance.pk for issuance in changelist.result_list)


def expected(**filters) -> tuple[int, list[int]]:
    rows = Issuance.objects.all()
    if "cancelled" in filters:
        rows = rows.cancelled() if filters.pop("cancelled") else rows.standing()
    rows = rows.filter(**filters)
    return rows.count(), sorted(rows.values_list("pk", flat=True))


def test_the_lists_count_and_rows_are_exact_for_every_filter_the_totals_count(client, superuser, ledger):
    plan, other = ledger
    client.force_login(superuser)
    cases = {
        "": {},
        "cancelled=no": {"cancelled": False},
        "cancelled=yes": {"cancelled": True},
        "designation__year=2023": {"designation__year": 2023},
        "designation__participant__category__exact=consultant": {"designation__participant__category": "consultant"},
        f"designation__plan__id__exact={other.pk}": {"designation__plan": other},
        f"cancelled=no&designation__year=2024&designation__plan__id__exact={plan.pk}"
        "&designation__participant__category__exact=key_employee": {
            "cancelled": False,
            "designation__year": 2024,
            "designation__plan": plan,
            "designation__participant__category": "key_employee",
        },
        "designation__year=2024&o=-3&p=1": {"designation__year": 2024},
    }
    for query, filters in cases.items():
        with CaptureQueriesContext(connection) as queries:
            found = listed(client, query)
        assert found == expected(**filters), query
        counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "plan_admin_issuance" in q["sql"]]
        assert not counts, f"{query}: the count should come from the issuance totals, not {counts}"


def test_the_lists_count_is_exact_where_the_totals_cannot_say_it(client, superuser, ledger):
    """Filters the totals do not count (kind, from records), a search, or odd values: the rows are counted."""
    client.force_login(superuser)
    cases = {
        "kind__exact=debt_settlement": {"kind": "debt_settlement"},
        "kind__exact=debt_settlement&designation__year=2024": {"kind": "debt_settlement", "designation__year": 2024},
        "kind__exact=compensation&designation__year=2023": {"kind": "compensation", "designation__year": 2023},
        "entered_from_records__exact=0": {"entered_from_records": False},
        "q=Lee": {"designation__participant__name__icontains": "Lee"},
        "q=INV-1": {"debt_reference": "INV-1"},
        "q=lee chen": {"designation__participant__name__icontains": "lee chen"},
        "designation__year=2025": {"designation__year": 2025},
    }
    for query, filters in cases.items():
        assert listed(client, query) == expected(**filters), query
    for odd in ("designation__year=20x4", "designation__year=0", "designation__year=99999", "cancelled=maybe"):
        response = client.get(f"{LIST}?{odd}")
        assert response.status_code in (200, 302, 400), odd  # never a server error
        if response.status_code == 200:
            count, rows = response.context["cl"].result_count, list(response.context["cl"].result_list)
            assert count == len(rows), odd


def test_a_search_matching_many_designations_lists_them_all(client, superuser, ledger, monkeypatch):
    from plan_admin.admin import issuances as issuance_admin

    client.force_login(superuser)
    monkeypatch.setattr(issuance_admin, "SEARCH_LISTED_DESIGNATIONS", 1)  # the subquery, not the list
    assert listed(client, "q=e") == expected(designation__participant__name__icontains="e")


DESIGNATIONS = reverse("admin:plan_admin_boarddesignation_changelist")


def test_the_designation_lists_count_comes_from_the_totals_and_is_exact(client, superuser, staff_user, ledger):
    """Unfiltered, or by status, year and plan: counted from the designation totals; any other filter, a search or
    an odd value: the rows are counted. Either way the count is the rows'."""
    from plan_admin.models import BoardDesignation

    plan, other = ledger
    mia = factories.make_participant("Mia Park", by=staff_user)
    services.designation_propose(
        plan=plan, participant=mia, year=2024, shares=100, factors_considered="Sales.", by=staff_user
    )
    client.force_login(superuser)
    from_totals = {
        "": {},
        "year=2023": {"year": 2023},
        f"plan__id__exact={other.pk}": {"plan": other},
        f"year=2024&plan__id__exact={plan.pk}&o=-1&p=1": {"year": 2024, "plan": plan},
        "year=2031": {"year": 2031},
        "status__exact=approved&year=2024": {"status": "approved", "year": 2024},
        f"status__exact=proposed&plan__id__exact={plan.pk}": {"status": "proposed", "plan": plan},
    }
    counted = {
        "status__exact=mystery": {"status": "mystery"},
        "participant__category__exact=consultant": {"participant__category": "consultant"},
        "q=Lee": {"participant__name__icontains": "Lee"},
        "year=20x4": None,
    }
    for query, filters in (from_totals | counted).items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{DESIGNATIONS}?{query}")
        assert response.status_code == 200, query
        changelist = response.context["cl"]
        rows = BoardDesignation.objects.none() if filters is None else BoardDesignation.objects.filter(**filters)
        assert changelist.result_count == rows.count(), query
        assert sorted(d.pk for d in changelist.result_list) == sorted(rows.values_list("pk", flat=True)), query
        counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "boarddesignation" in q["sql"]]
        if filters is not None:  # (an odd year filters to no rows: nothing to count)
            assert bool(counts) == (query not in from_totals), query


def test_every_lists_row_checkbox_is_djangos_own_html(superuser, staff_user, client):
    """The admins draw the row checkbox without a form widget (plan_admin/admin/formatted.py): the HTML is still
    Django's, escaping included, for every registered admin, and the list page carries one per row."""
    from django.contrib import admin
    from django.contrib.admin import ModelAdmin
    from django.test.html import parse_html

    from plan_admin.admin.formatted import FormattedFieldsMixin

    participant = factories.make_participant('Ayers & Sons <"Holdings">', by=staff_user)
    ours = [
        model_admin for model_admin in admin.site._registry.values() if isinstance(model_admin, FormattedFieldsMixin)
    ]
    assert len(ours) > 10
    for model_admin in ours:
        drawn = model_admin.action_checkbox(participant)
        assert parse_html(drawn) == parse_html(ModelAdmin.action_checkbox(model_admin, participant)), model_admin
    client.force_login(superuser)
    response = client.get(reverse("admin:plan_admin_participant_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="action-select"') == response.context["cl"].result_count
    assert 'aria-label="Select this object for an action - Ayers &amp; Sons &lt;&quot;Holdings&quot;&gt;"' in html
