"""Board members can be required to confirm each session with an authenticator app's code (django-otp)."""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def required(settings):
    settings.BOARD_REQUIRES_SECOND_FACTOR = True


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def test_board_member_needs_no_code_when_not_required(client, board_member):
    client.force_login(board_member)
    assert client.get(reverse("board-dashboard")).status_code == 200


def test_board_member_enrols_then_reaches_the_board(required, client, board_member):
    client.force_login(board_member)
    response = client.get(reverse("board-dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("two-factor") + "?next=%2Fboard%2F"

    page = client.get(response["Location"])
    assert "Set up your second factor" in page.content.decode()
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=board_member, confirmed=False)

    wrong = client.post(reverse("two-factor"), {"token": "000000", "next": "/board/"})
    assert "That code is not valid" in wrong.content.decode()
    assert client.get(reverse("board-dashboard")).status_code == 302

    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong code above throttles the next try
    device.throttling_failure_timestamp = None
    device.save()
    verified = client.post(reverse("two-factor"), {"token": current_code(device), "next": "/board/"})
    assert verified.status_code == 302 and verified["Location"] == "/board/"
    assert client.get(reverse("board-dashboard")).status_code == 200
    assert TOTPDevice.objects.get(user=board_member).confirmed


def test_unverified_board_member_cannot_vote(required, client, board_member, plan, participant, staff_user):
    proposal = factories.make_designation(plan=plan, participant=participant, year=2024, shares=10, staff=staff_user)
    client.force_login(board_member)
    before = factories.ledger_snapshot()
    response = client.post(reverse("designation-vote", args=[proposal.pk]), {"decision": "approve"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor"))
    assert factories.ledger_snapshot() == before


def test_enrolled_board_member_enters_a_code_each_session(required, client, board_member):
    device = TOTPDevice.objects.create(user=board_member, name="phone", confirmed=True)
    client.force_login(board_member)
    page = client.get(reverse("two-factor"))
    assert "Enter your code" in page.content.decode()
    assert "<svg" not in page.content.decode()  # the secret is shown only while enrolling
    client.post(reverse("two-factor"), {"token": current_code(device)})
    assert client.get(reverse("board-dashboard")).status_code == 200


def test_staff_are_not_asked_for_a_code(required, client, staff_user):
    client.force_login(staff_user)
    assert client.get(reverse("admin:index")).status_code == 200
