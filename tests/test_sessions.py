"""Sessions end after the configured inactivity (every request counts as activity, not only session writes) and
after an absolute lifetime whatever the activity. The clock is controlled: django.utils.timezone.now is moved."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def clock(monkeypatch):
    """A clock the test moves forward; Django's session expiry and the lifetime checks both read it."""
    start = timezone.now()

    class Clock:
        now = start

        def advance(self, delta):
            self.now += delta

    controlled = Clock()
    monkeypatch.setattr(timezone, "now", lambda: controlled.now)
    return controlled


def page(client):
    return client.get(reverse("admin:index"))


def is_logged_out(response) -> bool:
    return response.status_code == 302 and response["Location"].split("?")[0] in {
        reverse("admin:login"),
        reverse("login"),
    }


def test_each_request_keeps_the_session_alive(client, clock, staff_user, settings):
    settings.SESSION_IDLE_SECONDS = 8 * 3600
    settings.SESSION_ABSOLUTE_SECONDS = 48 * 3600
    client.force_login(staff_user)
    for _ in range(4):  # 4 x 7h59 = almost 32 hours of steady work: each request is activity
        clock.advance(8 * HOUR - MINUTE)
        assert page(client).status_code == 200
    clock.advance(8 * HOUR + MINUTE)
    ended = page(client)
    assert is_logged_out(ended)
    assert "_auth_user_id" not in client.session
    login_page = client.get(ended["Location"])
    assert "Your session ended after 480 minutes without activity." in login_page.content.decode()


def test_a_session_ends_after_its_absolute_lifetime_whatever_the_activity(client, clock, staff_user, settings):
    settings.SESSION_IDLE_SECONDS = 8 * 3600
    settings.SESSION_ABSOLUTE_SECONDS = 12 * 3600
    client.force_login(staff_user)
    for _ in range(11):
        clock.advance(HOUR)
        assert page(client).status_code == 200
    clock.advance(HOUR)
    ended = page(client)
    assert is_logged_out(ended)
    login_page = client.get(ended["Location"])
    assert "Your session ended 12 hours after you logged in." in login_page.content.decode()
    # A new login starts a new lifetime.
    client.force_login(staff_user)
    assert page(client).status_code == 200


def test_a_post_after_the_session_ended_writes_nothing(client, clock, staff_user, approved_designation, settings):
    from tests import factories

    client.force_login(staff_user)
    clock.advance(datetime.timedelta(seconds=settings.SESSION_IDLE_SECONDS + 1))
    before = factories.ledger_snapshot()
    response = client.post(
        reverse("admin:plan_admin_participant_add"),
        {"name": "Late Person", "category": "consultant", "email": "", "notes": ""},
    )
    assert is_logged_out(response)
    assert factories.ledger_snapshot() == before


def test_the_defaults(settings):
    assert settings.SESSION_IDLE_SECONDS == 8 * 3600
    assert settings.SESSION_COOKIE_AGE > settings.SESSION_IDLE_SECONDS  # Django's expiry: a backstop
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
