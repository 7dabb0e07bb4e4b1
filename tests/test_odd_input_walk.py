"""Walk EVERY URL pattern with odd values in its path and query, as every role, GET and POST: never a 5xx.

The walk reuses the permission walk's patterns and objects (tests/test_permission_walk.py). For each pattern:

1. each path argument in turn gets each of ODD_VALUES (letters, a Unicode digit, a negative and a huge number,
   zero, a fraction, an empty value, a NUL byte), the others keeping a real object's values;
2. the real URL gets every parameter it may read (the common ones, an admin changelist's filters and date
   hierarchy, an add form's fields) set to each odd value: all at once for every role (GET; POST for a few
   values), and, on pages that read filters, one at a time for the superuser (one bad parameter must not hide
   another's crash behind its own 400).

Every answer must be 2xx, 3xx or 4xx, and the ledger must not change.
"""

import logging
import re
import sys
from urllib.parse import quote, urlencode

import pytest
from django.contrib import admin
from django.core.signals import got_request_exception
from django.test import RequestFactory
from django.urls import resolve

from plan_admin.admin_site import ID_ARGUMENTS
from tests import factories
from tests.test_permission_walk import ROLES, clients, iter_patterns, objects, url_for  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

ODD_VALUES = ["abc", "²", "-1", "9" * 30, "", "\x00"]
# A form posted with every parameter set to one of these (the others are posted as query values only): posting
# re-renders whole forms, and the walk must stay well under a minute.
POSTED_VALUES = ["²", "9" * 30, ""]

# Query parameters that pages of this project, Django's admin or its add forms read.
COMMON_PARAMS = [
    "plan",
    "year",
    "category",
    "next",
    "page",
    "q",
    "o",
    "p",
    "e",
    "all",
    "_to_field",
    "_popup",
    "_changelist_filters",
    "id",
    "pk",
    "designation",
    "participant",
    "issuance",
    "token",
]

ARGUMENT = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<regex_name>\w+)>[^)]*\)")


def _route_with(route: str, values: dict[str, str]) -> str:
    """The path of `route` with each argument replaced by its (already quoted) value."""

    def replace(match):
        return values[match.group("name") or match.group("regex_name")]

    return "/" + ARGUMENT.sub(replace, route).lstrip("^").rstrip("$")


def _quoted(value: str) -> str:
    return quote(value, safe="")


def path_variants(route: str, valid_url: str) -> list[tuple[str, str]]:
    """The pattern's path with each argument in turn set to each odd value, with that argument's name."""
    names = [match.group("name") or match.group("regex_name") for match in ARGUMENT.finditer(route)]
    if not names:
        return []
    valid = {name: _quoted(str(value)) for name, value in resolve(valid_url.split("?")[0]).kwargs.items()}
    valid.update({name: "x" for name in names if name not in valid})
    variants = []
    for name in names:
        for value in ODD_VALUES:
            variants.append((_route_with(route, {**valid, name: _quoted(value)}), name))
    return variants


ADMIN_PARAMS = ["_changelist_filters", "_popup", "_to_field", "next"]
CHANGELIST_PARAMS = ["o", "p", "q", "e", "all"]
PAGE_PARAMS = ["plan", "year", "category", "next"]
# Admin views whose parameters are also walked one at a time (the others get them all at once).
READS_FILTERS = ("_changelist", "_add", "_export", "_import", "_import_template")


def params_read_by(name: str | None, superuser) -> list[str]:
    """The parameters a pattern's view reads: an admin view's (with a changelist's filters and date hierarchy and
    an add form's fields), or the board's and report pages' filters."""
    if not name or not name.startswith("admin:"):
        return PAGE_PARAMS
    params = list(ADMIN_PARAMS)
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if name in (info + "changelist", info + "export"):
            request = RequestFactory().get("/")
            request.user = superuser
            changelist = model_admin.get_changelist_instance(request)
            params += CHANGELIST_PARAMS
            for spec in changelist.filter_specs:
                params += spec.expected_parameters()
            if model_admin.date_hierarchy:
                params += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
        elif name == info + "add":
            form_class = getattr(model_admin, "add_form_class", None) or model_admin.form
            params += list(form_class.base_fields)
    return sorted(set(params))


# An admin URL's row id is refused by the admin site's wrapper (plan_admin/admin_site.py, strict_admin_view)
# before any view runs, the same way for every role the admin lets in: an odd id is walked by the superuser (past
# every permission check) and by an anonymous visitor (stopped at the login); the walk had taken a quarter of the
# suite's time, most of it repeating that one check for each role.
ROLES_PAST_THE_ID_CHECK = ("anonymous", "superuser")


def _checked_before_the_view(name: str | None, argument: str) -> bool:
    return bool(name and name.startswith("admin:")) and argument in ID_ARGUMENTS


def _relogin(clients, users):
    """A POST to a logout URL logs the role out: log it in again so the walk goes on as that role."""
    for role, user in users.items():
        clients[role].force_login(user)


@pytest.fixture
def quiet_request_log():
    """Each refused request logs a warning with its traceback: thousands of them only slow the walk down."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def test_no_url_answers_a_server_error_to_odd_input(
    objects, clients, superuser, staff_user, board_member, auditor, quiet_request_log
):
    users = {"staff": staff_user, "board": board_member, "auditor": auditor, "superuser": superuser}
    for client in clients.values():
        client.raise_request_exception = False  # a server error is counted, not raised
    before = _ledger_without_own_settings()
    failures, requests, raised = [], 0, []

    def remember(sender, request, **kwargs):
        raised.append(sys.exc_info()[1])

    got_request_exception.connect(remember)

    def check(role, method, url, data=None):
        nonlocal requests
        requests += 1
        raised.clear()
        client = clients[role]
        response = client.post(url, data or {}) if method == "POST" else client.get(url)
        if response.status_code >= 500 and not any(url in failure for failure in failures):
            error = f"{type(raised[-1]).__name__}: {str(raised[-1])[:120]}" if raised else ""
            failures.append(f"  {response.status_code} {method} {url} as {role}: {error}")

    for key, name, route in iter_patterns():
        valid_url = url_for(key, name, route, objects)
        walked = [
            (url, True, None, ROLES_PAST_THE_ID_CHECK if _checked_before_the_view(name, argument) else ROLES)
            for url, argument in path_variants(route, valid_url)
        ]
        params = params_read_by(name, superuser)
        for value in ODD_VALUES:
            everything = dict.fromkeys({*COMMON_PARAMS, *params}, value)
            walked.append((f"{valid_url}?{urlencode(everything)}", value in POSTED_VALUES, everything, ROLES))
        for url, post, data, roles in walked:
            for role in roles:
                check(role, "GET", url)
                if post:
                    check(role, "POST", url, data)
            if name and "logout" in name:
                _relogin(clients, users)
        if not name or not name.startswith("admin:") or name.endswith(READS_FILTERS):
            for param in params:
                for value in ODD_VALUES:
                    check("superuser", "GET", f"{valid_url}?{urlencode({param: value})}")

    got_request_exception.disconnect(remember)
    assert not failures, f"{len(failures)} of {requests} requests answered a server error:\n" + "\n".join(failures)
    assert _ledger_without_own_settings() == before, "an odd request wrote to the ledger"


def _ledger_without_own_settings() -> dict:
    """The ledger snapshot, less each user's own email-reminder setting: that form is a single checkbox, so any POST
    to it, odd values included, is a valid choice (reminders on or off) and saves it. It is not the ledger."""
    snapshot = factories.ledger_snapshot()
    del snapshot["NotificationPreference"]
    return snapshot
