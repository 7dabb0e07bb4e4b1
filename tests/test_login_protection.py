"""Login protection behind the TLS proxy: lockouts follow the client's address, not the proxy's, and one address
guessing many usernames (password spraying) is blocked."""

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the TLS proxy: REMOTE_ADDR of every request behind it
ATTACKER = "198.51.100.7"
MEMBER = "203.0.113.20"


@pytest.fixture
def behind_proxy(settings):
    settings.BEHIND_TLS_PROXY = True
    settings.TRUSTED_PROXY_COUNT = 1


def via_proxy(client_address: str, forged: str = "") -> dict:
    """Request headers as the proxy sends them: it appends the address it received the request from."""
    chain = f"{forged}, {client_address}" if forged else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain, "HTTP_X_FORWARDED_PROTO": "https"}


def log_in(client: Client, username: str, password: str, address: str, **forged):
    return client.post(reverse("login"), {"username": username, "password": password}, **via_proxy(address, **forged))


def test_an_attackers_failures_do_not_lock_out_the_member_from_elsewhere(behind_proxy, settings, board_member):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        log_in(attacker, "board", "wrong password", ATTACKER)
    locked = log_in(attacker, "board", factories.PASSWORD, ATTACKER)
    assert locked.status_code == 429
    assert "_auth_user_id" not in attacker.session

    member = Client()
    response = log_in(member, "board", factories.PASSWORD, MEMBER)
    assert response.status_code == 302
    assert member.session["_auth_user_id"] == str(board_member.pk)


def test_a_forged_forwarded_for_entry_does_not_pick_the_address(behind_proxy, settings, board_member):
    """The client may send its own X-Forwarded-For: only the entry the proxy appended counts."""
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(attacker, "board", "wrong password", ATTACKER, forged=MEMBER)
    assert log_in(Client(), "board", factories.PASSWORD, MEMBER).status_code == 302
    assert log_in(Client(), "board", factories.PASSWORD, ATTACKER, forged=MEMBER).status_code == 429


def test_one_address_trying_many_usernames_is_blocked(behind_proxy, settings, staff_user):
    settings.LOGIN_FAILURES_PER_ADDRESS = 8
    sprayer = Client()
    for number in range(settings.LOGIN_FAILURES_PER_ADDRESS):
        response = log_in(sprayer, f"user{number}", "Spring2026!", ATTACKER)
        assert response.status_code == 200 if number < settings.LOGIN_FAILURES_PER_ADDRESS - 1 else 429
    # Blocked for every username now, a real one with its right password included ...
    blocked = log_in(sprayer, "staff", factories.PASSWORD, ATTACKER)
    assert blocked.status_code == 429
    assert "Too many failed logins" in blocked.content.decode()
    assert "_auth_user_id" not in sprayer.session
    # ... and only that address.
    assert log_in(Client(), "staff", factories.PASSWORD, MEMBER).status_code == 302


def test_without_the_proxy_setting_the_forwarded_header_is_ignored(settings, board_member):
    settings.BEHIND_TLS_PROXY = False
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "board", "wrong password", ATTACKER)
    # Every request came from REMOTE_ADDR (the "proxy"): locked there, whatever X-Forwarded-For says.
    assert log_in(Client(), "board", factories.PASSWORD, MEMBER).status_code == 429
