"""Response headers: Content-Security-Policy with nothing inline allowed, Referrer-Policy, Permissions-Policy, and
`Cache-Control: no-store` on every page a logged-in user sees and on every download."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.fixture
def ledger(approved_designation, staff_user):
    factories.issue(approved_designation, by=staff_user, shares=1_000)
    return approved_designation


def _csp(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/", "/no-such-page/"])
def test_every_page_has_a_policy_that_allows_nothing_inline(client, url):
    response = client.get(url)
    policy = _csp(response)
    for directive in ("default-src", "script-src", "style-src"):
        assert policy[directive] == ["'self'"], directive
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_no_template_has_inline_script_style_or_event_handler():
    """The policy allows no inline script or style: none may be written in the first place (or rendered into a
    page: the browser tests fail on any violation)."""
    inline = re.compile(
        r"""\sstyle\s*=|<style[\s>]|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=\s*["']|javascript:""", re.I
    )
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)!r}"
        for path in TEMPLATES.rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert not offenders, offenders


def _pages(ledger, staff_user) -> list[str]:
    return [
        reverse("board-dashboard"),
        reverse("designation-detail", args=[ledger.pk]),
        reverse("plan-detail", args=[ledger.plan_id]),
        reverse("participant-detail", args=[ledger.participant_id]),
        reverse("reports"),
        reverse("admin:index"),
        reverse("admin:plan_admin_issuance_changelist"),
        reverse("password_change"),
        reverse("two-factor"),
    ]


def _downloads() -> list[str]:
    return [
        *(
            reverse("reports-download", args=[slug, fmt])
            for slug in ("issuances", "designations", "participants", "pool")
            for fmt in ("csv", "xlsx")
        ),
        reverse("admin:plan_admin_issuance_export", args=["csv"]),
        reverse("admin:plan_admin_participant_export", args=["xlsx"]),
        reverse("admin:plan_admin_issuance_import_template", args=["csv"]),
        reverse("admin:plan_admin_participant_import_template", args=["xlsx"]),
    ]


def test_every_authenticated_page_and_download_is_not_stored(client, staff_user, board_member, ledger):
    client.force_login(staff_user)
    for url in [*_pages(ledger, staff_user), *_downloads()]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    client.force_login(board_member)
    response = client.get(reverse("board-dashboard"))
    assert "no-store" in response["Cache-Control"]


def test_the_public_favicon_may_be_cached(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "public" in response["Cache-Control"]
