"""The ledger as a legal record (issue 9): nothing recorded is rewritten, by any role, by any path, even raw SQL.

- Every model's history version page refuses the POST that used to write the old version back, for every role.
- The database refuses UPDATE and DELETE of the append-only tables, DELETE of any ledger row, and any change to a
  decision or proposal once recorded, on PostgreSQL and on SQLite.
- Board decisions are the board's: the designated user is fixed when proposed, and a superuser is not the board.
"""

import datetime
import threading
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from plan_admin import exceptions, services
from plan_admin.db import append_only
from plan_admin.imports import run_import
from plan_admin.interop.issuer import issuer_details_record
from plan_admin.models import Issuance, Participant, Plan
from tests import factories

ROLES = ("staff_user", "board_member", "auditor", "superuser")


@pytest.fixture
def full_ledger(superuser, staff_user, board_member, second_board_member, plan, participant, approved_designation):
    """At least one row in every ledger table: issuances, a cancellation, votes, a reserve proposal decided by
    votes, a closed year with its lapse, and history entered from records with its confirmation."""
    factories.issue(approved_designation, by=staff_user, shares=1_000)
    mistaken = factories.issue(approved_designation, by=staff_user, shares=10)
    services.issuance_cancel(
        issuance=mistaken, cancelled_on=datetime.date(2024, 7, 1), reason="Duplicate", by=staff_user
    )
    lee = factories.make_participant("Lee Chen", by=staff_user)
    factories.make_designation(
        plan=plan, participant=lee, year=2023, shares=500, staff=staff_user, approver=board_member
    )
    services.plan_year_close(plan=plan, year=2023, reason="Year over.", by=staff_user)
    factories.change_reserve(plan, shares=1_000, staff=staff_user, approver=board_member)
    services.plan_set_ledger_start(plan=plan, ledger_start_date=datetime.date(2020, 1, 1), by=superuser)
    past = services.past_designation_record(
        plan=plan,
        participant=lee,
        year=2010,
        shares=100,
        factors_considered="From the minutes.",
        decision="approve",
        decided_on=datetime.date(2010, 2, 1),
        decision_reference="Minutes of February 1, 2010",
        by=staff_user,
    )
    services.past_record_confirm(record=past, by=board_member)
    upload = SimpleUploadedFile("people.csv", b"name,category\nMia Park,consultant\n")
    assert run_import("participants", upload, by=staff_user, commit=True).committed  # an ImportRecord row
    issuer_details_record(
        plan=plan, formation_date=datetime.date(1988, 6, 1), country_of_formation="US", by=superuser
    )  # an OCF row (plan_admin.models.OcfObject)
    factories.resolution_records(plan=plan, staff=staff_user, directors=[board_member, second_board_member])
    plan.refresh_from_db()
    return plan


# --- finding 1: history pages wrote old versions back ------------------------------------------------------------

HISTORY_MODELS = [model for model in apps.get_app_config("plan_admin").get_models() if hasattr(model, "history")]


def test_the_history_models_are_the_ones_the_record_expects():
    assert {model.__name__ for model in HISTORY_MODELS} == {
        "Plan",
        "ShareReserveChange",
        "Participant",
        "BoardDesignation",
        "DesignationVote",
        "Issuance",
        "IssuanceCancellation",
        "PlanProposal",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("model", HISTORY_MODELS, ids=lambda model: model.__name__)
def test_history_version_page_never_writes_the_old_version_back(full_ledger, model, request, subtests):
    """Every role, on one ledger (each role a subtest: building the ledger once per role and model took a fifth of
    the file's time)."""
    instance = model.objects.order_by("pk").first()
    oldest = instance.history.order_by("history_id").first()
    url = reverse(f"admin:plan_admin_{model._meta.model_name}_simple_history", args=[instance.pk, oldest.history_id])
    old = {name: value for name, value in model_to_dict(oldest.instance).items() if value is not None}
    for role in ROLES:
        with subtests.test(role=role):
            client = Client(enforce_csrf_checks=True)
            client.force_login(request.getfixturevalue(role))
            page = client.get(url)
            assert page.status_code == 200  # history stays visible
            cookies = page.cookies if "csrftoken" in page.cookies else client.cookies
            token = cookies["csrftoken"].value
            before = factories.ledger_snapshot()
            current = model_to_dict(model.objects.get(pk=instance.pk))

            response = client.post(url, {**old, "_save": "Save", "csrfmiddlewaretoken": token}, HTTP_X_CSRFTOKEN=token)

            assert response.status_code in (403, 405)  # refused by the admin site's wrapper, and by the view itself
            assert factories.ledger_snapshot() == before
            assert model_to_dict(model.objects.get(pk=instance.pk)) == current


# --- append-only in the database itself ---------------------------------------------------------------------------


def refused(sql: str, params=()) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError as error:
        assert "plan_admin" in str(error)
        return True
    return False


def count_rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return cursor.fetchone()[0]


# The tables and changes below are subtests of one test each, on one ledger: a test per table built the ledger
# once per table, 60 times in all.


@pytest.mark.django_db
def test_raw_sql_cannot_update_or_delete_an_append_only_table(full_ledger, subtests):
    for table in append_only.APPEND_ONLY_TABLES:
        with subtests.test(table=table):
            rows = count_rows(table)
            assert rows > 0, f"the fixture leaves {table} empty: nothing would be tested"
            column = "history_id" if "historical" in table else "id"
            assert refused(f"UPDATE {table} SET {column} = {column}")
            assert refused(f"DELETE FROM {table}")
            assert count_rows(table) == rows


@pytest.mark.django_db
def test_raw_sql_cannot_delete_a_ledger_row(full_ledger, subtests):
    for table in append_only.NO_DELETE_TABLES:
        with subtests.test(table=table):
            assert refused(f"DELETE FROM {table}")


DESIGNATION_CHANGES = [
    ("shares = shares + 1", False),
    ("year = year - 1", False),
    ("participant_id = participant_id", True),
    ("designated_user_id = proposed_by_id", False),
    ("proposed_by_id = NULL", False),
    ("factors_considered = 'rewritten'", False),
    ("status = 'proposed'", False),  # a decision never moves backwards
    ("status = 'rejected'", False),
    ("decided_on = '2001-01-01'", False),
    ("decision_reference = 'rewritten'", False),
    ("issued_shares = issued_shares", True),  # the services' counter
    ("status = 'lapsed'", True),  # the one way an approved designation moves on
]


@pytest.mark.django_db
def test_raw_sql_cannot_rewrite_a_decided_designation(full_ledger, approved_designation, subtests):
    for change, allowed in DESIGNATION_CHANGES:
        with subtests.test(change=change), transaction.atomic():
            sql = f"UPDATE plan_admin_boarddesignation SET {change} WHERE id = %s"
            assert refused(sql, [approved_designation.pk]) is not allowed
            transaction.set_rollback(True)  # an allowed change is undone: each change meets the same designation


@pytest.mark.django_db
def test_raw_sql_cannot_rewrite_a_proposal_the_board_decided(full_ledger):
    proposal = full_ledger.proposals.get()
    for change in ("shares = 5", "status = 'rejected'", "decided_on = '2001-01-01'", "explanation = 'x'"):
        assert refused(f"UPDATE plan_admin_planproposal SET {change} WHERE id = %s", [proposal.pk]), change


# Tables of the app that are not the plan's ledger: security records whose rows change (a link is used once).
# Not the record: second-factor enrolment links, and the issuance totals (counters derived from the ledger's rows,
# which `reconcile` recomputes and checks, like the counters of the plan and designation rows).
NOT_THE_LEDGER = {"plan_admin_enrolmentlink", "plan_admin_issuancetotal", "plan_admin_designationtotal"}


@pytest.mark.django_db
def test_every_table_of_the_record_is_guarded(full_ledger):
    """A new ledger table must be given its place in plan_admin/db/append_only.py."""
    tables = {model._meta.db_table for model in apps.get_app_config("plan_admin").get_models()}
    assert tables - NOT_THE_LEDGER == set(append_only.ALL_TABLES)


@pytest.mark.django_db
def test_the_triggers_survive_a_table_rebuild(full_ledger):
    """SQLite rebuilds a table for most ALTERs, dropping its triggers; post_migrate puts them back."""
    from django.core.management import call_command

    append_only.uninstall(connection, ["plan_admin_issuance"])
    assert not refused("UPDATE plan_admin_issuance SET id = id")
    call_command("migrate", verbosity=0)  # nothing to migrate: post_migrate still runs
    assert refused("UPDATE plan_admin_issuance SET id = id")


# --- finding 4: the board's decisions are the board's -------------------------------------------------------------


@pytest.mark.django_db
def test_relinking_a_participant_does_not_let_the_director_vote_on_herself(plan, staff_user, second_board_member):
    director = factories.make_participant(
        "Elena Sorokina", by=staff_user, user=second_board_member, category=Participant.Category.NON_EMPLOYEE_DIRECTOR
    )
    designation = factories.make_designation(
        plan=plan, participant=director, year=2025, shares=50_000, staff=staff_user
    )
    services.participant_update(
        participant=director, name=director.name, category=director.category, user=None, by=staff_user
    )
    director.refresh_from_db()
    assert director.user is None and director.history.count() == 2  # the relinking is recorded
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.VoteRefused, match="This designation is of you"):
        services.designation_vote(designation=designation, voter=second_board_member, decision="approve")
    assert factories.ledger_snapshot() == before
    client = Client()
    client.force_login(second_board_member)
    html = client.get(reverse("board-dashboard")).content.decode()
    assert "This designation is for you, so you cannot vote on it." in html


@pytest.mark.django_db
def test_a_superuser_is_refused_the_vote_page_unless_on_the_board(client, superuser, plan, participant, staff_user):
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2025, shares=1_000, staff=staff_user
    )
    client.force_login(superuser)
    before = factories.ledger_snapshot()
    response = client.post(reverse("designation-vote", args=[designation.pk]), {"decision": "approve"})
    assert response.status_code == 403
    assert factories.ledger_snapshot() == before


@pytest.mark.django_db
def test_a_superuser_on_the_board_votes_only_after_the_second_factor(
    client, superuser, plan, participant, staff_user, settings
):
    settings.REQUIRE_SECOND_FACTOR = True
    superuser.groups.add(factories.board_group())
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2025, shares=1_000, staff=staff_user
    )
    client.force_login(superuser)
    before = factories.ledger_snapshot()
    response = client.post(reverse("designation-vote", args=[designation.pk]), {"decision": "approve"})
    assert response.status_code == 302 and response.url.startswith(reverse("two-factor"))
    assert factories.ledger_snapshot() == before


# --- finding 5: submission keys ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_resubmitting_a_corrected_form_is_refused_with_what_was_recorded(client, staff_user, approved_designation):
    client.force_login(staff_user)
    key = str(uuid.uuid4())
    data = {
        "designation": approved_designation.pk,
        "issue_date": "2024-06-30",
        "shares": "15,000",
        "kind": "compensation",
        "price_per_share": "0.15",
        "submission_key": key,
    }
    client.post(reverse("admin:plan_admin_issuance_add"), data)
    issuance = Issuance.objects.get()
    before = factories.ledger_snapshot()
    response = client.post(reverse("admin:plan_admin_issuance_add"), {**data, "shares": "1,500"})
    assert response.status_code == 200
    assert f"already submitted, and recorded issuance #{issuance.pk}: 15,000 shares" in response.content.decode()
    assert factories.ledger_snapshot() == before
    again = client.post(reverse("admin:plan_admin_issuance_add"), data)  # the same values: the same issuance
    assert again.status_code == 302 and Issuance.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_key_posted_at_once_against_two_plans_records_one_row(superuser, staff_user, board_member, participant):
    plans = [factories.make_plan(by=superuser, name=f"Plan {n}") for n in range(2)]
    designations = [
        factories.make_designation(
            plan=plan, participant=participant, year=2024, shares=1_000, staff=staff_user, approver=board_member
        )
        for plan in plans
    ]
    key = uuid.uuid4()
    barrier = threading.Barrier(2)
    outcomes = []

    def post(designation):
        try:
            barrier.wait(timeout=30)
            outcomes.append(
                services.issuance_record(
                    designation=designation,
                    issue_date=datetime.date(2024, 6, 30),
                    shares=10,
                    price_per_share=Decimal("0.15"),
                    submission_key=key,
                    by=staff_user,
                )
            )
        except exceptions.PlanRuleViolation as refusal:
            outcomes.append(refusal)
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(designation,)) for designation in designations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Issuance.objects.count() == 1
    kinds = sorted(type(outcome).__name__ for outcome in outcomes)
    assert kinds == ["InvalidTransition", "Issuance"], outcomes
    assert sum(plan.issued_shares for plan in Plan.objects.all()) == 10


# --- finding 3: dates -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_issuance_may_not_precede_the_boards_decision(plan, participant, staff_user, board_member):
    designation = factories.make_designation(
        plan=plan,
        participant=participant,
        year=2024,
        shares=1_000,
        staff=staff_user,
        approver=board_member,
        decided_on=datetime.date(2024, 5, 1),
    )
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.DesignationNotApproved) as refusal:
        factories.issue(designation, by=staff_user, shares=10, on=datetime.date(2024, 4, 30))
    assert refusal.value.messages == [
        "The board approved this designation on May 1, 2024: shares cannot be issued "
        "against it on April 30, 2024, before its decision."
    ]
    assert factories.ledger_snapshot() == before
    factories.issue(designation, by=staff_user, shares=10, on=datetime.date(2024, 5, 1))  # the day itself


@pytest.mark.django_db
def test_an_issuance_may_not_be_dated_in_the_future(plan, participant, staff_user, board_member):
    today = datetime.date.today()
    designation = factories.make_designation(
        plan=plan, participant=participant, year=today.year, shares=1_000, staff=staff_user, approver=board_member
    )
    tomorrow = today + datetime.timedelta(days=1)
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.InvalidInput, match="may not be dated in the future"):
        factories.issue(designation, by=staff_user, shares=10, on=tomorrow)
    assert factories.ledger_snapshot() == before
    factories.issue(designation, by=staff_user, shares=10, on=today)


@pytest.mark.django_db
def test_a_confirmation_needs_the_members_explicit_check(full_ledger, client, board_member, staff_user):
    record = services.past_designation_record(
        plan=full_ledger,
        participant=factories.make_participant("Noa Park", by=staff_user),
        year=2012,
        shares=10,
        factors_considered="From the minutes.",
        decision="approve",
        decided_on=datetime.date(2012, 2, 1),
        decision_reference="Minutes of February 1, 2012",
        by=staff_user,
    )
    client.force_login(board_member)
    url = reverse("past-record-confirm", args=["designation", record.pk])
    before = factories.ledger_snapshot()
    response = client.post(url, {"comment": "Looks fine."}, follow=True)
    assert "Tick the box to say you checked the record against its source document." in response.content.decode()
    assert factories.ledger_snapshot() == before
    client.post(url, {"checked": "on"})
    assert record.confirmation.confirmed_by == board_member
