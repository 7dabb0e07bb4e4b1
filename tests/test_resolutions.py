"""Resolutions of the board (issue 12): gathering, freezing, signing, declining, withdrawing, taking effect through
the votes' own decision code, the signed and sealed document, emails through a real SMTP server, and debt
settlements the board found adequate."""

import datetime
import hashlib
import io
import socket
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from plan_admin import exceptions, services
from plan_admin.documents import seal
from plan_admin.models import (
    BoardDesignation,
    DecisionSource,
    Issuance,
    NotificationPreference,
    Participant,
    Resolution,
    ResolutionNotice,
)
from plan_admin.services import resolutions as resolution_services
from tests import factories

pytestmark = pytest.mark.django_db
THIS_YEAR = datetime.date.today().year


@pytest.fixture
def people(staff_user, board_member, second_board_member):
    for user, (first, last) in ((board_member, ("Beatrice", "Moreau")), (second_board_member, ("Tomás", "Ibarra"))):
        user.first_name, user.last_name = first, last
        user.save(update_fields=["first_name", "last_name"])
    return staff_user, board_member, second_board_member


def propose(plan, staff, name: str, shares: int, **extra):
    person = factories.make_participant(name, by=staff, category=extra.pop("category", "key_employee"))
    return services.designation_propose(
        plan=plan,
        participant=person,
        year=THIS_YEAR,
        shares=shares,
        factors_considered="Retention through the financing.",
        by=staff,
        **extra,
    )


def stored(document) -> bytes:
    return storages["resolutions"].open(document.file_name, "rb").read()


def test_a_written_consent_takes_effect_when_every_entitled_director_has_signed(plan, people):
    staff, beatrice, tomas = people
    dana = propose(plan, staff, "Dana Whitfield", 250_000)
    lee = propose(plan, staff, "Lee Park", 100_000, category="consultant")
    resolution = services.resolution_prepare(plan=plan, kind="written_consent", designations=[dana, lee], by=staff)
    assert (resolution.status, resolution.required_signatures) == ("pending", 2)
    document = resolution.documents.get(kind="for_signature")
    assert document.sha256 == hashlib.sha256(stored(document)).hexdigest()

    first = factories.sign(resolution, beatrice)
    resolution.refresh_from_db()
    dana.refresh_from_db()
    assert (resolution.status, dana.status) == ("pending", "proposed")
    assert first.previous_sha256 == document.sha256 and first.document_sha256 == document.sha256

    factories.sign(resolution, tomas, address="2001:db8::1")
    resolution.refresh_from_db()
    assert (resolution.status, resolution.effective_on) == ("effective", datetime.date.today())
    for designation in (dana, lee):
        designation.refresh_from_db()
        assert designation.status == "approved"
        assert designation.decided_on == datetime.date.today()
        assert designation.decision_source == DecisionSource.RESOLUTION
        assert designation.decision_reference == f"{resolution.reference}: written consent in lieu of a meeting"
    plan.refresh_from_db()
    assert plan.committed_shares == 350_000

    signed = resolution.documents.get(kind="signed")
    data = stored(signed)
    assert hashlib.sha256(data).hexdigest() == signed.sha256
    assert data.startswith(stored(document))  # the document signed, byte for byte, then the signature page
    assert resolution_services.chain_is_intact(resolution)
    assert signed.chain_sha256 == resolution.signatures.order_by("signed_at", "pk").last().chain_sha256
    assert seal.validate(data) == (True, True, True)
    tampered = bytearray(data)
    tampered[len(data) // 3] ^= 0x01
    assert seal.validate(bytes(tampered))[0] is False


def test_a_resolution_that_would_over_commit_the_pool_is_refused_at_the_last_signature(superuser, people):
    staff, beatrice, tomas = people
    plan = factories.make_plan(by=superuser, shares=1_000_000, name="Small plan")
    dana = propose(plan, staff, "Dana Whitfield", 600_000)
    lee = propose(plan, staff, "Lee Park", 300_000)
    resolution = services.resolution_prepare(plan=plan, kind="written_consent", designations=[dana, lee], by=staff)
    factories.sign(resolution, beatrice)
    # Meanwhile the board approves another designation by its votes: the pool no longer holds both.
    omar = factories.make_participant("Omar Haddad", by=staff)
    factories.make_designation(
        plan=plan, participant=omar, year=THIS_YEAR, shares=200_000, staff=staff, approver=beatrice
    )
    before = factories.ledger_snapshot()
    with pytest.raises(services.ResolutionRefused) as refusal:
        factories.sign(resolution, tomas)
    assert refusal.value.messages == [
        f"{resolution.reference} cannot take effect, so your signature was not recorded and nothing was decided: "
        "its designations of 900,000 shares together would over-commit the plan: of 1,000,000 authorized shares, 0 "
        f"are issued and 200,000 are committed to approved designations ({THIS_YEAR}: 200,000), so 800,000 remain. "
        "Staff can withdraw the resolution and put fewer proposals to the board, or the board can first increase "
        "the reserve."
    ]
    assert factories.ledger_snapshot() == before
    dana.refresh_from_db()
    assert dana.status == "proposed"  # refused whole: the first proposal, which fitted, is not decided either
    assert not resolution.documents.filter(kind="signed").exists()
    assert sorted(
        path.name for path in Path(storages["resolutions"].location, "resolutions", str(resolution.pk)).iterdir()
    ) == [resolution.documents.get().file_name.rsplit("/", 1)[1]]  # no signed file left behind


def test_a_reserve_increase_in_the_same_resolution_makes_room_for_its_designations(superuser, people):
    staff, beatrice, tomas = people
    plan = factories.make_plan(by=superuser, shares=100_000, name="Small plan")
    lee = factories.make_participant("Lee Park", by=staff)
    factories.make_designation(
        plan=plan, participant=lee, year=THIS_YEAR, shares=50_000, staff=staff, approver=beatrice
    )
    dana = propose(plan, staff, "Dana Whitfield", 90_000)
    increase = services.reserve_change_propose(plan=plan, shares=100_000, explanation="Room for Dana.", by=staff)
    resolution = services.resolution_prepare(
        plan=plan, kind="written_consent", designations=[dana], proposals=[increase], by=staff
    )
    assert [item.proposal_id or item.designation_id for item in resolution.items.order_by("position")] == [
        increase.pk,
        dana.pk,
    ]
    factories.sign(resolution, beatrice)
    factories.sign(resolution, tomas)
    plan.refresh_from_db()
    assert (plan.authorized_shares, plan.committed_shares) == (200_000, 140_000)
    change = plan.reserve_changes.get(proposal=increase)
    assert change.resolution_reference.startswith(resolution.reference)


def test_proposals_are_frozen_while_out_for_signature(plan, people):
    staff, beatrice, _ = people
    dana = propose(plan, staff, "Dana Whitfield", 1_000)
    increase = services.reserve_change_propose(plan=plan, shares=5, explanation="More.", by=staff)
    resolution = services.resolution_prepare(
        plan=plan, kind="written_consent", designations=[dana], proposals=[increase], by=staff
    )
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.InvalidTransition, match=f"out for signature in {resolution.reference}"):
        services.designation_withdraw(designation=dana, by=staff)
    with pytest.raises(exceptions.VoteRefused, match="the board decides it by signing that resolution"):
        services.designation_vote(designation=dana, voter=beatrice, decision="approve")
    with pytest.raises(exceptions.InvalidTransition, match="withdraw the resolution first"):
        services.plan_proposal_withdraw(proposal=increase, by=staff)
    with pytest.raises(exceptions.VoteRefused, match="out for signature"):
        services.plan_proposal_vote(proposal=increase, voter=beatrice, decision="approve")
    with pytest.raises(exceptions.InvalidTransition, match="already out for signature"):
        services.resolution_prepare(plan=plan, kind="written_consent", designations=[dana], by=staff)
    assert factories.ledger_snapshot() == before

    services.resolution_withdraw(resolution=resolution, reason="Wrong quarter.", by=staff)
    resolution.refresh_from_db()
    assert resolution.status == "withdrawn" and resolution.withdrawal.withdrawn_by == staff
    services.designation_withdraw(designation=dana, by=staff)  # open again
    with pytest.raises(exceptions.InvalidTransition, match="no longer out for signature"):
        factories.sign(resolution, beatrice)


def test_a_decline_declines_a_written_consent_and_tells_staff(
    plan, people, mailoutbox, django_capture_on_commit_callbacks
):
    staff, beatrice, tomas = people
    dana = propose(plan, staff, "Dana Whitfield", 1_000)
    resolution = services.resolution_prepare(plan=plan, kind="written_consent", designations=[dana], by=staff)
    with pytest.raises(exceptions.InvalidInput, match="reason"):
        services.resolution_decline(resolution=resolution, director=tomas, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        services.resolution_decline(resolution=resolution, director=tomas, reason="Too early in the year.")
    resolution.refresh_from_db()
    dana.refresh_from_db()
    assert (resolution.status, dana.status) == ("declined", "proposed")
    assert [message.to for message in mailoutbox] == [[staff.email]]
    assert "was declined" in mailoutbox[0].subject
    with pytest.raises(exceptions.InvalidTransition):
        factories.sign(resolution, beatrice)


def test_recusals_by_name_and_who_may_sign(plan, people):
    staff, beatrice, tomas = people
    director = factories.make_participant(
        "Tomás Ibarra", by=staff, user=tomas, category=Participant.Category.NON_EMPLOYEE_DIRECTOR
    )
    own = services.designation_propose(
        plan=plan, participant=director, year=THIS_YEAR, shares=10_000, factors_considered="Board service.", by=staff
    )
    resolution = services.resolution_prepare(plan=plan, kind="written_consent", designations=[own], by=staff)
    recused = resolution.signatories.get(entitled=False)
    assert recused.director == tomas
    assert recused.recusal == (
        f"Tomás Ibarra is designated by the {THIS_YEAR} designation of Tomás Ibarra, and so "
        "does not sign this resolution."
    )
    assert resolution.required_signatures == 1
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.VoteRefused, match="Tomás Ibarra is designated by"):
        factories.sign(resolution, tomas)
    assert factories.ledger_snapshot() == before
    factories.sign(resolution, beatrice)
    own.refresh_from_db()
    assert own.status == "approved"


def test_a_meetings_record_needs_the_plans_required_approvals_and_is_dated_the_meeting(superuser, people):
    staff, beatrice, tomas = people
    third = factories.make_user("board3", role=factories.roles.BOARD)
    plan = factories.make_plan(by=superuser, required_approvals=2)
    dana = propose(plan, staff, "Dana Whitfield", 1_000)
    meeting = datetime.date.today() - datetime.timedelta(days=2)
    with factories.on_day(meeting - datetime.timedelta(days=1)):
        early = propose(plan, staff, "Lee Park", 500)
    with pytest.raises(exceptions.InvalidInput, match="was proposed after the meeting"):
        services.resolution_prepare(
            plan=plan,
            kind="meeting",
            designations=[dana],
            meeting_date=meeting,
            directors_present=[beatrice, tomas, third],
            by=staff,
        )
    resolution = services.resolution_prepare(
        plan=plan,
        kind="meeting",
        designations=[early],
        meeting_date=meeting,
        directors_present=[beatrice, tomas, third],
        by=staff,
    )
    assert resolution.required_signatures == 2
    factories.sign(resolution, beatrice)
    factories.sign(resolution, third)
    resolution.refresh_from_db()
    early.refresh_from_db()
    assert (resolution.status, early.status, early.decided_on) == ("effective", "approved", meeting)
    with pytest.raises(exceptions.InvalidTransition):
        factories.sign(resolution, tomas)


def test_a_signer_must_sign_the_document_as_stored(plan, people):
    staff, beatrice, _ = people
    resolution = services.resolution_prepare(
        plan=plan, kind="written_consent", designations=[propose(plan, staff, "Dana Whitfield", 1_000)], by=staff
    )
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.InvalidInput, match="not the one out for signature"):
        services.resolution_sign(resolution=resolution, signer=beatrice, document_sha256="0" * 64)
    document = resolution.documents.get()
    with storages["resolutions"].open(document.file_name, "wb") as handle:
        handle.write(b"%PDF-1.7 altered")
    with pytest.raises(exceptions.PlanRuleViolation, match="has changed since it was recorded"):
        factories.sign(resolution, beatrice)
    assert factories.ledger_snapshot() == before
    client = Client()
    client.force_login(beatrice)
    response = client.get(reverse("resolution-document", args=[resolution.pk, "for_signature"]))
    assert response.status_code == 409 and b"has changed since it was recorded" in response.content


def test_characters_the_font_cannot_print_are_refused_not_dropped(plan, people):
    staff, *_ = people
    designation = propose(plan, staff, "田中 Holdings", 1_000)
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.InvalidInput, match="cannot print these characters: “中” \\(U\\+4E2D\\), “田”"):
        services.resolution_prepare(plan=plan, kind="written_consent", designations=[designation], by=staff)
    assert factories.ledger_snapshot() == before


def test_the_record_of_a_resolution_cannot_be_rewritten(plan, people):
    staff, beatrice, tomas = people
    resolution = services.resolution_prepare(
        plan=plan, kind="written_consent", designations=[propose(plan, staff, "Dana Whitfield", 1_000)], by=staff
    )
    factories.sign(resolution, beatrice)
    factories.sign(resolution, tomas)

    def refused(sql, params=()):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
        except IntegrityError:
            return True
        return False

    for change in ("status = 'pending'", "title = 'x'", "effective_on = '2001-01-01'", "required_signatures = 1"):
        assert refused(f"UPDATE plan_admin_resolution SET {change} WHERE id = %s", [resolution.pk]), change
    for table in ("resolutionsignature", "resolutiondocument", "resolutionitem", "resolutionsignatory"):
        assert refused(f"UPDATE plan_admin_{table} SET id = id"), table
        assert refused(f"DELETE FROM plan_admin_{table}"), table


# --- the pages ----------------------------------------------------------------------------------------------------


def test_signing_in_the_page_needs_the_password(plan, people):
    staff, beatrice, tomas = people
    resolution = services.resolution_prepare(
        plan=plan, kind="written_consent", designations=[propose(plan, staff, "Dana Whitfield", 1_000)], by=staff
    )
    client = Client()
    client.force_login(beatrice)
    page = client.get(reverse("resolution-detail", args=[resolution.pk]))
    document = resolution.documents.get()
    assert document.sha256 in page.content.decode()
    assert b'<iframe class="document-viewer"' in page.content
    before = factories.ledger_snapshot()
    wrong = client.post(
        reverse("resolution-sign", args=[resolution.pk]),
        {"password": "not my password", "document_sha256": document.sha256},
    )
    assert wrong.status_code == 200 and "That is not your password: nothing was signed." in wrong.content.decode()
    assert factories.ledger_snapshot() == before
    right = client.post(
        reverse("resolution-sign", args=[resolution.pk]),
        {"password": factories.PASSWORD, "document_sha256": document.sha256},
        REMOTE_ADDR="192.0.2.7",
    )
    assert right.status_code == 302
    signature = resolution.signatures.get()
    assert (signature.signer, signature.client_address, signature.document_sha256) == (
        beatrice,
        "192.0.2.7",
        document.sha256,
    )
    dashboard = Client()
    dashboard.force_login(tomas)
    html = dashboard.get(reverse("board-dashboard")).content.decode()
    assert html.index("Awaiting your signature") < html.index("plans-heading")


@pytest.mark.parametrize("role", ["staff_user", "auditor", "superuser"])
def test_only_board_members_sign(role, request, plan, people):
    staff, *_ = people
    resolution = services.resolution_prepare(
        plan=plan, kind="written_consent", designations=[propose(plan, staff, "Dana Whitfield", 1_000)], by=staff
    )
    client = Client()
    client.force_login(request.getfixturevalue(role))
    before = factories.ledger_snapshot()
    for name in ("resolution-sign", "resolution-decline"):
        response = client.post(
            reverse(name, args=[resolution.pk]),
            {"password": factories.PASSWORD, "reason": "x", "document_sha256": resolution.documents.get().sha256},
        )
        assert response.status_code == 403
    assert factories.ledger_snapshot() == before


def test_board_members_and_auditors_may_not_prepare_or_withdraw(plan, people, auditor):
    staff, beatrice, _ = people
    resolution = services.resolution_prepare(
        plan=plan, kind="written_consent", designations=[propose(plan, staff, "Dana Whitfield", 1_000)], by=staff
    )
    for user in (beatrice, auditor):
        client = Client()
        client.force_login(user)
        assert client.post(reverse("resolution-withdraw", args=[resolution.pk]), {"reason": "x"}).status_code == 403
        assert client.post(reverse("resolution-prepare"), {"plan": plan.pk}).status_code == 403


# --- email through a real SMTP server -----------------------------------------------------------------------------


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        import email

        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp_server(settings):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.SITE_URL = "https://plans.example.com"
    settings.RESOLUTION_REMINDER_DAYS = 3
    yield inbox
    controller.stop()


def _body(message) -> str:
    return message.get_payload(decode=True).decode()


def test_emails_bring_the_board_to_the_page_without_figures(
    plan, people, smtp_server, django_capture_on_commit_callbacks
):
    staff, beatrice, tomas = people
    dana = propose(plan, staff, "Dana Whitfield", 250_000)
    lee = propose(plan, staff, "Lee Park", 125_000)
    with django_capture_on_commit_callbacks(execute=True):
        resolution = services.resolution_prepare(plan=plan, kind="written_consent", designations=[dana, lee], by=staff)
    assert sorted(message["To"] for message in smtp_server.messages) == sorted([beatrice.email, tomas.email])
    link = f"https://plans.example.com/resolutions/{resolution.pk}/"
    for message in smtp_server.messages:
        body = _body(message)
        assert link in body
        for figure in ("250,000", "250000", "125,000", "125000", "10,000,000", "375,000", "shares"):
            assert figure not in body and figure not in message["Subject"], figure
        assert "Dana" not in body and "Lee Park" not in body
    # Sent again (a retried commit hook): still one invitation per director per resolution.
    from plan_admin.notifications import resolutions as notices

    assert notices.send_invitations(resolution.pk) == 0
    assert len(smtp_server.messages) == 2

    # Reminders: after the interval, once per interval; never to a director who turned them off.
    NotificationPreference.objects.create(user=tomas, reminders=False)
    sent_at = resolution.notices.get(recipient=beatrice).sent_at
    day = datetime.timedelta(days=1)
    assert notices.send_reminders(now=sent_at + 2 * day) == 0
    assert notices.send_reminders(now=sent_at + 3 * day) == 1
    assert notices.send_reminders(now=sent_at + 4 * day) == 0
    assert notices.send_reminders(now=sent_at + 5 * day) == 0
    assert notices.send_reminders(now=sent_at + 6 * day) == 1
    reminders = [message for message in smtp_server.messages if message["Subject"].startswith("Reminder")]
    assert [message["To"] for message in reminders] == [beatrice.email, beatrice.email]
    assert link in _body(reminders[0]) and "shares" not in _body(reminders[0])

    # Once she signs, no more reminders; when the last director signs, staff are told.
    factories.sign(resolution, beatrice)
    assert notices.send_reminders(now=sent_at + 30 * day) == 0
    tomas_pref = NotificationPreference.objects.get(user=tomas)
    tomas_pref.reminders = True
    tomas_pref.save()
    with django_capture_on_commit_callbacks(execute=True):
        factories.sign(resolution, tomas)
    told = smtp_server.messages[-1]
    assert told["To"] == staff.email and "has taken effect" in told["Subject"] and link in _body(told)
    assert ResolutionNotice.objects.filter(resolution=resolution).count() == len(smtp_server.messages)


def test_send_reminders_command_and_the_opt_out_page(plan, people, smtp_server, django_capture_on_commit_callbacks):
    import time_machine

    staff, beatrice, tomas = people
    with django_capture_on_commit_callbacks(execute=True):
        services.resolution_prepare(
            plan=plan, kind="written_consent", designations=[propose(plan, staff, "Dana Whitfield", 1_000)], by=staff
        )
    client = Client()
    client.force_login(tomas)
    assert client.get(reverse("notification-preferences")).status_code == 200
    assert client.post(reverse("notification-preferences"), {}).status_code == 302  # unchecked: reminders off
    assert NotificationPreference.objects.get(user=tomas).reminders is False
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3, minutes=1)):
        call_command("send_reminders", stdout=io.StringIO())
        call_command("send_reminders", stdout=io.StringIO())
    reminders = [message["To"] for message in smtp_server.messages if message["Subject"].startswith("Reminder")]
    assert reminders == [beatrice.email]


# --- debt settlements the board found adequate ----------------------------------------------------------------------


@pytest.fixture
def settlement(plan, people):
    """An approved debt-settlement designation: $45,000 of Halvorsen's invoices at $0.15 per share."""
    staff, beatrice, tomas = people
    designation = propose(
        plan,
        staff,
        "Halvorsen Engineering LLC",
        300_000,
        category="consultant",
        kind="debt_settlement",
        debt_amount=Decimal("45000.00"),
        debt_reference="Invoices HE-118 to HE-124",
        price_per_share=Decimal("0.15"),
    )
    resolution = services.resolution_prepare(plan=plan, kind="written_consent", designations=[designation], by=staff)
    factories.sign(resolution, beatrice)
    factories.sign(resolution, tomas)
    designation.refresh_from_db()
    return designation


def test_the_boards_approval_records_its_finding_on_the_consideration(settlement, plan):
    assert settlement.status == "approved"
    assert settlement.consideration_finding.startswith(
        "The board finds that the cancellation of $45,000.00 of debt owed by the company to Halvorsen Engineering "
        "LLC (Invoices HE-118 to HE-124) is adequate consideration for the issuance of up to 300,000 shares of "
        "Common Stock at $0.15 per share, which is not less than the par value of $0.001 per share"
    )
    resolution = Resolution.objects.get()
    text = stored(resolution.documents.get(kind="for_signature"))
    assert len(text) > 1000
    with connection.cursor() as cursor, pytest.raises(IntegrityError), transaction.atomic():
        cursor.execute("UPDATE plan_admin_boarddesignation SET debt_amount = 99999 WHERE id = %s", [settlement.pk])


def test_debt_settlement_terms_are_checked_when_proposed(plan, people):
    staff, *_ = people
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.PriceBelowPar, match="not adequate consideration"):
        propose(
            plan,
            staff,
            "Halvorsen",
            1_000,
            kind="debt_settlement",
            debt_amount=Decimal("1"),
            debt_reference="INV-1",
            price_per_share=Decimal("0.0001"),
        )
    with pytest.raises(exceptions.InvalidInput, match=r"come to \$150.00, more than the \$100.00 debt"):
        propose(
            plan,
            staff,
            "Halvorsen 2",
            1_000,
            kind="debt_settlement",
            debt_amount=Decimal("100"),
            debt_reference="INV-1",
            price_per_share=Decimal("0.15"),
        )
    with pytest.raises(exceptions.InvalidInput, match="Only a debt-settlement designation names a debt"):
        propose(plan, staff, "Dana", 1_000, debt_amount=Decimal("100"))
    assert factories.ledger_snapshot()["BoardDesignation"] == before["BoardDesignation"]


def test_a_debt_settlement_against_a_compensation_designation_is_refused(settlement, approved_designation, staff_user):
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.DebtSettlementRefused) as refusal:
        factories.issue(
            approved_designation,
            by=staff_user,
            shares=1_000,
            kind="debt_settlement",
            debt_amount=Decimal("150.00"),
            debt_reference="INV-9",
        )
    assert refusal.value.messages == [
        "This issuance settles debt, but the 2024 designation of Dana Whitfield is for compensation: a debt "
        "settlement must be made against a designation for that debt, whose approval records the board's finding "
        "that cancelling it is adequate consideration for the shares."
    ]
    with pytest.raises(exceptions.DebtSettlementRefused, match="record this issuance as a debt settlement"):
        factories.issue(settlement, by=staff_user, shares=1_000, on=datetime.date.today())
    assert factories.ledger_snapshot() == before


def test_a_debt_settlement_may_not_settle_more_debt_than_the_board_approved(settlement, staff_user):
    today = datetime.date.today()
    factories.issue(
        settlement,
        by=staff_user,
        shares=200_000,
        on=today,
        kind="debt_settlement",
        debt_amount=Decimal("30000.00"),
        debt_reference="Invoices HE-118 to HE-121",
    )
    before = factories.ledger_snapshot()
    with pytest.raises(exceptions.DebtSettlementRefused) as refusal:
        factories.issue(
            settlement,
            by=staff_user,
            shares=100_000,
            on=today,
            kind="debt_settlement",
            debt_amount=Decimal("20000.00"),
            debt_reference="Invoices HE-122 to HE-124",
        )
    assert refusal.value.messages == [
        f"This issuance would settle $20,000.00 of debt, more than the board approved: the {THIS_YEAR} designation "
        "of Halvorsen Engineering LLC names $45,000.00 of debt (Invoices HE-118 to HE-124), of which $30,000.00 is "
        "already settled, so $15,000.00 remain."
    ]
    with pytest.raises(exceptions.DebtSettlementRefused, match=r"below the \$0.15 per share"):
        factories.issue(
            settlement,
            by=staff_user,
            shares=100,
            on=today,
            price=Decimal("0.10"),
            kind="debt_settlement",
            debt_amount=Decimal("10.00"),
            debt_reference="HE-122",
        )
    # A batch is refused whole, its rows counted against each other.
    with pytest.raises(exceptions.BatchRefused, match="more than the board approved"):
        services.issuance_record_many(
            rows=[
                {
                    "designation": settlement,
                    "issue_date": today,
                    "shares": 50_000,
                    "price_per_share": Decimal("0.15"),
                    "kind": "debt_settlement",
                    "debt_amount": Decimal("10000.00"),
                    "debt_reference": "HE-122",
                },
                {
                    "designation": settlement,
                    "issue_date": today,
                    "shares": 50_000,
                    "price_per_share": Decimal("0.15"),
                    "kind": "debt_settlement",
                    "debt_amount": Decimal("10000.00"),
                    "debt_reference": "HE-123",
                },
            ],
            by=staff_user,
        )
    assert factories.ledger_snapshot() == before
    # Cancelling a settlement frees its debt for another.
    first = Issuance.objects.get(designation=settlement)
    services.issuance_cancel(issuance=first, cancelled_on=today, reason="Wrong invoices.", by=staff_user)
    factories.issue(
        settlement,
        by=staff_user,
        shares=100_000,
        on=today,
        kind="debt_settlement",
        debt_amount=Decimal("20000.00"),
        debt_reference="Invoices HE-122 to HE-124",
    )


def test_the_debt_settlement_refusal_shows_on_the_issuance_form(settlement, approved_designation, staff_user):
    client = Client()
    client.force_login(staff_user)
    before = factories.ledger_snapshot()
    response = client.post(
        reverse("admin:plan_admin_issuance_add"),
        {
            "designation": approved_designation.pk,
            "issue_date": "2024-06-30",
            "shares": "1,000",
            "kind": "debt_settlement",
            "price_per_share": "0.15",
            "debt_amount": "150",
            "debt_reference": "INV-9",
        },
    )
    assert response.status_code == 200
    assert (
        "This issuance settles debt, but the 2024 designation of Dana Whitfield is for compensation"
        in response.content.decode()
    )
    assert factories.ledger_snapshot() == before


def test_pyhanko_cli_validates_the_seal_and_rejects_a_changed_byte(plan, people, tmp_path):
    staff, beatrice, tomas = people
    resolution = services.resolution_prepare(
        plan=plan, kind="written_consent", designations=[propose(plan, staff, "Dana Whitfield", 1_000)], by=staff
    )
    factories.sign(resolution, beatrice)
    factories.sign(resolution, tomas)
    data = stored(resolution.documents.get(kind="signed"))
    good, bad = tmp_path / "signed.pdf", tmp_path / "changed.pdf"
    good.write_bytes(data)
    changed = bytearray(data)
    changed[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(changed))
    assert validate_with_cli(good).returncode == 0
    result = validate_with_cli(bad)
    assert result.returncode != 0 and "INTACT" not in result.stdout


def validate_with_cli(path: Path) -> subprocess.CompletedProcess:
    """`pyhanko sign validate` against the deployment's certificate, as README tells an auditor to run it."""
    import shutil
    import sys

    cli = shutil.which("pyhanko") or str(Path(sys.executable).parent / "pyhanko")
    return subprocess.run(
        [
            cli,
            "sign",
            "validate",
            "--trust",
            settings.RESOLUTION_SEAL_CERT,
            "--trust-replace",
            "--no-revocation-check",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_designation_page_shows_the_resolution_that_decided_it(settlement, people):
    _staff, beatrice, _ = people
    client = Client()
    client.force_login(beatrice)
    html = client.get(reverse("designation-detail", args=[settlement.pk])).content.decode()
    resolution = Resolution.objects.get()
    assert 'data-testid="deciding-resolution"' in html and resolution.reference in html
    assert reverse("resolution-document", args=[resolution.pk, "signed"]) in html
    assert "The board finds that the cancellation of $45,000.00" in html
    plan_page = client.get(reverse("plan-detail", args=[settlement.plan_id])).content.decode()
    assert reverse("resolution-document", args=[resolution.pk, "signed"]) in plan_page
    assert BoardDesignation.objects.get(pk=settlement.pk).decision_source == "resolution"


def test_a_director_with_an_authenticator_signs_with_its_code(plan, people):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff, beatrice, _ = people
    device = TOTPDevice.objects.create(user=beatrice, name="phone", confirmed=True)
    resolution = services.resolution_prepare(
        plan=plan, kind="written_consent", designations=[propose(plan, staff, "Dana Whitfield", 1_000)], by=staff
    )
    document = resolution.documents.get()
    client = Client()
    client.force_login(beatrice)
    url = reverse("resolution-sign", args=[resolution.pk])
    before = factories.ledger_snapshot()
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    for token in ("", f"{(int(code) + 1) % 1_000_000:06d}"):
        response = client.post(
            url, {"password": factories.PASSWORD, "token": token, "document_sha256": document.sha256}
        )
        assert "That code is not valid" in response.content.decode()
    assert factories.ledger_snapshot() == before
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # django-otp slows retries down
    response = client.post(url, {"password": factories.PASSWORD, "token": code, "document_sha256": document.sha256})
    assert response.status_code == 302
    assert resolution.signatures.get().second_factor is True


def test_the_last_signers_page_shows_the_over_commitment_and_nothing_is_decided(superuser, people):
    staff, beatrice, tomas = people
    plan = factories.make_plan(by=superuser, shares=1_000_000, name="Small plan")
    dana = propose(plan, staff, "Dana Whitfield", 700_000)
    lee = propose(plan, staff, "Lee Park", 400_000)
    resolution = services.resolution_prepare(plan=plan, kind="written_consent", designations=[dana, lee], by=staff)
    factories.sign(resolution, beatrice)
    client = Client()
    client.force_login(tomas)
    page = client.get(reverse("resolution-detail", args=[resolution.pk])).content.decode()
    assert "the last signature will be refused" in page  # said before anyone tries
    before = factories.ledger_snapshot()
    response = client.post(
        reverse("resolution-sign", args=[resolution.pk]),
        {"password": factories.PASSWORD, "document_sha256": resolution.documents.get().sha256},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        f"{resolution.reference} cannot take effect, so your signature was not recorded and nothing was decided: "
        "its designations of 1,100,000 shares together would over-commit the plan: of 1,000,000 authorized "
        "shares, 0 are issued and 0 are committed to approved designations (none), so 1,000,000 remain."
    ) in html.replace("&#x27;", "'")
    assert factories.ledger_snapshot() == before
