"""Deployment defaults and login protection."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests import factories

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k3#v9!q0-production-like-secret-key-for-the-deploy-check-xq7z2m8w4r",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/plan_admin_deploycheck",
    "ALLOWED_HOSTS": "plans.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://plans.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "BEHIND_TLS_PROXY": "true",
    "TRUSTED_PROXY_COUNT": "1",
    "REQUIRE_SECOND_FACTOR": "true",
}


def run_python(args, env_overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }  # the browser tests' setting, not a deployment's
    env.update(env_overrides)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_documented_production_settings(seal_key):
    environment = {**PRODUCTION_ENV, "RESOLUTION_SEAL_KEY": str(seal_key[0]), "RESOLUTION_SEAL_CERT": str(seal_key[1])}
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_reports_missing_production_settings():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], {"DEBUG": "false"})
    assert result.returncode != 0
    for check_id in (
        "security.W004",
        "security.W008",
        "security.W012",
        "security.W016",
        "plan_admin.W001",
        "plan_admin.W002",
        "plan_admin.W003",
    ):
        assert check_id in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("overrides", "refusal"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY must be set in the environment when DEBUG is off."),
        ({"DEBUG": "false", "SECRET_KEY": "k3#v9!q0-ab" * 6}, "Refusing to serve the ledger from the embedded SQLite"),
        ({"DEBUG": "false", "SECRET_KEY": "x"}, "it has 1 characters; it needs at least 50 random characters."),
        (
            {"DEBUG": "false", "SECRET_KEY": "k3#v9!q0-ab" * 4, "ALLOW_SQLITE_IN_PRODUCTION": "true"},
            "it has 44 characters",
        ),
        (
            {
                "DEBUG": "false",
                "SECRET_KEY": "django-insecure-" + "k3#v9!q0-ab" * 6,
                "ALLOW_SQLITE_IN_PRODUCTION": "true",
            },
            "the mark of a development key",
        ),
        (
            {"DEBUG": "false", "SECRET_KEY": "x" * 60, "ALLOW_SQLITE_IN_PRODUCTION": "true"},
            "fewer than 5 different characters",
        ),
    ],
)
def test_production_server_refuses_unsafe_start(overrides, refusal):
    result = run_python(["-c", "import config.wsgi"], overrides)
    assert result.returncode != 0
    assert refusal in result.stderr


def test_production_server_starts_on_sqlite_only_when_allowed():
    result = run_python(
        ["-c", "import config.wsgi; print('started')"],
        {"DEBUG": "false", "SECRET_KEY": "k3#v9!q0-ab" * 6, "ALLOW_SQLITE_IN_PRODUCTION": "true"},
    )
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("login_url", [reverse("login"), reverse("admin:login")])
def test_repeated_failed_logins_lock_the_account_on_that_address(client, staff_user, login_url, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(login_url, {"username": "staff", "password": "wrong password"})
        assert response.status_code in (200, 429)
    locked = client.post(login_url, {"username": "staff", "password": factories.PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_correct_login_works_and_resets_failures(client, staff_user):
    client.post(reverse("login"), {"username": "staff", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "staff", "password": factories.PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_user.pk)


def test_sessions_expire_and_passwords_are_validated(settings):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_IDLE_SECONDS <= 8 * 60 * 60
    with pytest.raises(ValidationError):
        validate_password("password1")
    validate_password("a-long passphrase nobody guesses 7")


@pytest.mark.django_db
def test_every_page_requires_login(client):
    for url in (reverse("home"), reverse("admin:index"), reverse("admin:plan_admin_issuance_add")):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]
