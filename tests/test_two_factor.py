"""A second factor (django-otp, TOTP) for every privileged role when REQUIRE_SECOND_FACTOR is on; enrolment only
through a one-time, expiring link a superuser issues for a named user, never on first login."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from plan_admin.models import EnrolmentLink
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def required(settings):
    settings.REQUIRE_SECOND_FACTOR = True


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def issue_link(superuser, user) -> str:
    """Issue a link in the admin as the superuser; return the URL path shown to them."""
    admin = Client()
    admin.force_login(superuser)
    device = TOTPDevice.objects.create(user=superuser, name="root's phone", confirmed=True)
    admin.post(reverse("two-factor"), {"token": current_code(device)})
    response = admin.post(reverse("admin:plan_admin_enrolmentlink_add"), {"user": str(user.pk)})
    assert response.status_code == 200, response.status_code
    url = re.search(r"<code data-enrolment-link>([^<]+)</code>", response.content.decode()).group(1)
    return url.removeprefix("http://testserver")


def test_nobody_needs_a_code_when_not_required(client, board_member, staff_user, superuser):
    for user, url in [(board_member, "board-dashboard"), (staff_user, "admin:index"), (superuser, "admin:index")]:
        client.force_login(user)
        assert client.get(reverse(url)).status_code == 200


@pytest.mark.parametrize("role", ["board", "staff", "superuser"])
def test_a_privileged_user_without_a_device_is_told_to_ask_for_a_link(
    required, client, role, board_member, staff_user, superuser
):
    user = {"board": board_member, "staff": staff_user, "superuser": superuser}[role]
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor"))
    page = client.get(response["Location"]).content.decode()
    assert "Ask an administrator for an enrolment link" in page
    assert "<svg" not in page and "data-secret" not in page  # nothing to enrol with on first login
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert client.get(reverse("reports")).status_code == 302


def test_auditors_read_without_a_code(required, client, auditor):
    client.force_login(auditor)
    assert client.get(reverse("board-dashboard")).status_code == 200


def test_unverified_staff_cannot_record_and_board_cannot_vote(
    required, client, staff_user, board_member, plan, participant
):
    proposal = factories.make_designation(plan=plan, participant=participant, year=2024, shares=10, staff=staff_user)
    before = factories.ledger_snapshot()
    client.force_login(board_member)
    response = client.post(reverse("designation-vote", args=[proposal.pk]), {"decision": "approve"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor"))
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:plan_admin_participant_add"),
        {"name": "New Person", "category": "consultant", "email": "", "notes": ""},
    )
    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor"))
    assert factories.ledger_snapshot() == before


def test_enrolment_through_a_link_issued_by_a_superuser(required, client, superuser, staff_user):
    path = issue_link(superuser, staff_user)
    link = EnrolmentLink.objects.get(user=staff_user)
    assert link.issued_by == superuser and link.used_at is None and link.state == "open"
    assert link.expires_at - link.issued_at == datetime.timedelta(hours=24)
    assert path.split("/")[-2] not in link.token_hash  # only a hash of the token is stored

    client.force_login(staff_user)
    page = client.get(path)
    assert "Set up your second factor" in page.content.decode() and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=staff_user, confirmed=False)
    wrong = client.post(path, {"token": "000000"})
    assert "That code is not valid" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()

    done = client.post(path, {"token": current_code(device)})
    assert done.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert TOTPDevice.objects.get(user=staff_user).confirmed
    link.refresh_from_db()
    assert link.used_at is not None and link.state == "used"

    # One use only: the link is spent, also for its user.
    assert client.get(path).status_code == 410


def test_a_link_works_only_for_its_user_and_only_until_it_expires(
    required, client, superuser, staff_user, board_member
):
    path = issue_link(superuser, staff_user)
    client.force_login(board_member)
    assert client.get(path).status_code == 404
    assert not TOTPDevice.objects.filter(user=board_member).exists()

    EnrolmentLink.objects.filter(user=staff_user).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    client.force_login(staff_user)
    expired = client.get(path)
    assert expired.status_code == 410
    assert "Ask an administrator for a new one." in expired.content.decode()
    assert not TOTPDevice.objects.filter(user=staff_user).exists()

    Client().get(path)  # anonymous: sent to log in, nothing created
    assert not TOTPDevice.objects.filter(user=staff_user).exists()


def test_only_a_superuser_issues_links(client, staff_user, board_member):
    client.force_login(staff_user)
    before = EnrolmentLink.objects.count()
    response = client.post(reverse("admin:plan_admin_enrolmentlink_add"), {"user": str(staff_user.pk)})
    assert response.status_code == 403
    assert EnrolmentLink.objects.count() == before


def test_an_enrolled_user_enters_a_code_each_session(required, client, board_member):
    device = TOTPDevice.objects.create(user=board_member, name="phone", confirmed=True)
    client.force_login(board_member)
    page = client.get(reverse("two-factor"))
    assert "Enter your code" in page.content.decode()
    assert "<svg" not in page.content.decode()
    client.post(reverse("two-factor"), {"token": current_code(device)})
    assert client.get(reverse("board-dashboard")).status_code == 200
