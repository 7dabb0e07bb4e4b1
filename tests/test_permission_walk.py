"""Walk EVERY URL pattern of the project as each role, with GET, and compare the answer with the table below.

The table is the project's access policy, written out: one row per URL name (or, for a pattern without a name,
its full route), one expected outcome per role. A URL pattern missing from the table fails the walk, so whoever
adds a URL must decide here who may open it.

To add a URL: add a row to EXPECTED, `"<namespace:>url-name": (anonymous, staff, board, auditor, superuser)`, using
the outcome constants below. If the pattern takes arguments that are not an object's pk (`pk`, `id`,
`object_id` of an admin model are filled in automatically), add a builder to KWARGS: `"url-name": lambda objs:
{...}` returning the kwargs (or a list of positional args) for `reverse()`. A non-admin pattern whose `pk` is
the pk of a model goes into URL_MODELS. The failure message lists every unlisted URL with the outcomes the walk
observed, as a starting point: check each against DESIGN.md before copying it.
"""

import datetime
import re
from collections.abc import Callable

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from plan_admin import services
from plan_admin.interop.issuer import issuer_details_record
from plan_admin.models import BoardDesignation, Issuance, Participant, Plan, PlanProposal, Resolution
from tests import factories

pytestmark = pytest.mark.django_db

# --- outcomes ------------------------------------------------------------------------------------------------------

OK = "200 ok"
LOGIN = "302 to login"  # the login page (the site's or the admin's), i.e. not logged in
REDIRECT = "3xx elsewhere"  # a redirect that is not to a login page
DENIED = "403 denied"
NOT_FOUND = "404 not found"
NOT_ALLOWED = "405 method not allowed"

ROLES = ("anonymous", "staff", "board", "auditor", "superuser")

# Rows used often: (anonymous, staff, board, auditor, superuser).
ALL = (LOGIN, OK, OK, OK, OK)  # every logged-in role may look
SUPERUSER_ONLY = (LOGIN, DENIED, DENIED, DENIED, OK)
STAFF_WRITES = (LOGIN, OK, DENIED, DENIED, OK)  # plan staff (and the superuser) record it
NOBODY = (LOGIN, DENIED, DENIED, DENIED, DENIED)  # ledger rows are never deleted or edited in place
PUBLIC = (OK, OK, OK, OK, OK)
POST_ONLY = (LOGIN, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED)

EXPECTED: dict[str, tuple[str, str, str, str, str]] = {
    # The board's pages (plan_admin/urls.py).
    "home": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "board-dashboard": ALL,
    "designation-detail": ALL,
    "designation-vote": POST_ONLY,  # the POST itself: test_vote_post_needs_the_vote_permission
    # The vote's confirmation step (issue 15) writes nothing; its POST is board-only (tests/test_board_views.py).
    "designation-vote-confirm": POST_ONLY,
    "proposal-vote-confirm": POST_ONLY,
    "proposal-detail": ALL,
    "proposal-vote": POST_ONLY,  # the POST itself: tests/test_legal_record.py
    "past-records": ALL,
    "past-record-confirm": POST_ONLY,
    "plan-detail": ALL,
    "plan-ocf-export": ALL,  # the OCF download: view and export permissions (tests/test_ocf.py: 403 without)
    "participant-detail": ALL,
    # The site's icon: public, so that no browser logs a 404 for it.
    "favicon": PUBLIC,
    # Resolutions of the board (plan_admin/board/): staff prepare and withdraw, the board signs or declines (POSTs:
    # tests/test_resolutions.py), everyone with a role reads them and downloads their documents.
    "resolution-list": ALL,
    "resolution-prepare": STAFF_WRITES,
    "resolution-detail": ALL,
    "resolution-sign": POST_ONLY,
    "resolution-decline": POST_ONLY,
    "resolution-withdraw": POST_ONLY,
    "resolution-document": ALL,  # 403 to a user without the role: test_a_user_in_no_role_is_refused_every_page
    "notification-preferences": ALL,
    # Accounts (django.contrib.auth.urls).
    "login": PUBLIC,
    "logout": (LOGIN,) + (NOT_ALLOWED,) * 4,  # POST only, since Django 5.0
    "password_change": ALL,
    "password_change_done": ALL,
    # The second factor for board members (plan_admin/two_factor.py); off in tests unless a test turns it on.
    "two-factor": ALL,
    # A one-time second-factor enrolment link (the walk's token is not one: 404 for everyone logged in).
    "two-factor-enrol": (LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    # Enrolment links: issued and listed by the superuser only, never changed or deleted.
    "admin:plan_admin_enrolmentlink_changelist": SUPERUSER_ONLY,
    "admin:plan_admin_enrolmentlink_add": SUPERUSER_ONLY,
    "admin:plan_admin_enrolmentlink_history": SUPERUSER_ONLY,
    "admin:plan_admin_enrolmentlink_change": SUPERUSER_ONLY,  # read-only
    "admin:plan_admin_enrolmentlink_delete": NOBODY,
    "admin/plan_admin/enrolmentlink/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # The admin site.
    "admin:index": ALL,
    "admin:login": (OK, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "admin:logout": (LOGIN,) + (NOT_ALLOWED,) * 4,
    "admin:password_change": ALL,
    "admin:password_change_done": ALL,
    "admin:autocomplete": (LOGIN, DENIED, DENIED, DENIED, DENIED),  # no model admin uses autocomplete
    "admin:jsi18n": ALL,
    "admin:view_on_site": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "admin:app_list": ALL,
    "admin/(?P<url>.*)$": (LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    # Users and groups: the superuser's.
    "admin:auth_group_changelist": SUPERUSER_ONLY,
    "admin:auth_group_add": SUPERUSER_ONLY,
    "admin:auth_group_history": SUPERUSER_ONLY,
    "admin:auth_group_delete": SUPERUSER_ONLY,
    "admin:auth_group_change": SUPERUSER_ONLY,
    "admin/auth/group/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "admin:auth_user_password_change": SUPERUSER_ONLY,
    "admin:auth_user_changelist": SUPERUSER_ONLY,
    "admin:auth_user_add": SUPERUSER_ONLY,
    "admin:auth_user_history": SUPERUSER_ONLY,
    "admin:auth_user_delete": NOBODY,  # users are deactivated: the ledger keeps who did what
    "admin:auth_user_change": SUPERUSER_ONLY,
    "admin/auth/user/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # Plans: set up by the superuser; the term recorded by staff; seen by everyone.
    "admin:plan_admin_plan_changelist": ALL,
    "admin:plan_admin_plan_add": SUPERUSER_ONLY,
    "admin:plan_admin_plan_change": ALL,  # read-only except for the superuser
    "admin:plan_admin_plan_history": ALL,
    "admin:plan_admin_plan_simple_history": ALL,
    "admin:plan_admin_plan_delete": NOBODY,
    "admin:plan_admin_plan_effective_date": STAFF_WRITES,
    "admin:plan_admin_plan_propose_termination": STAFF_WRITES,  # a proposal; the board decides
    "admin:plan_admin_plan_close_year": STAFF_WRITES,
    "admin:plan_admin_plan_ledger_start": SUPERUSER_ONLY,
    "admin:plan_admin_plan_ocf_issuer": SUPERUSER_ONLY,  # set-up facts of the company, like the ledger start
    "admin:plan_admin_plan_import_ocf": STAFF_WRITES,  # history entered from records: record_past_records
    "admin/plan_admin/plan/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # The reserve: recorded by staff.
    "admin:plan_admin_sharereservechange_changelist": ALL,
    "admin:plan_admin_sharereservechange_add": STAFF_WRITES,
    "admin:plan_admin_sharereservechange_change": ALL,
    "admin:plan_admin_sharereservechange_history": ALL,
    "admin:plan_admin_sharereservechange_simple_history": ALL,
    "admin:plan_admin_sharereservechange_delete": NOBODY,
    "admin/plan_admin/sharereservechange/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # Participants: kept by staff.
    "admin:plan_admin_participant_changelist": ALL,
    "admin:plan_admin_participant_add": STAFF_WRITES,
    "admin:plan_admin_participant_change": ALL,  # a form for staff, read-only for the board and auditors
    "admin:plan_admin_participant_history": ALL,
    "admin:plan_admin_participant_simple_history": ALL,
    "admin:plan_admin_participant_delete": NOBODY,
    "admin/plan_admin/participant/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # Designations: proposed by staff, voted on by the board (on the board's pages), withdrawn by staff (POST).
    "admin:plan_admin_boarddesignation_changelist": ALL,
    "admin:plan_admin_boarddesignation_add": STAFF_WRITES,
    "admin:plan_admin_boarddesignation_change": ALL,
    "admin:plan_admin_boarddesignation_history": ALL,
    "admin:plan_admin_boarddesignation_simple_history": ALL,
    "admin:plan_admin_boarddesignation_delete": NOBODY,
    "admin:plan_admin_boarddesignation_withdraw": POST_ONLY,  # the withdrawal is a POST
    "admin:plan_admin_boarddesignation_past": STAFF_WRITES,  # history entered from records
    "admin:plan_admin_boarddesignation_lapse": STAFF_WRITES,
    "admin/plan_admin/boarddesignation/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # Votes: cast only on the board's pages.
    "admin:plan_admin_designationvote_changelist": ALL,
    "admin:plan_admin_designationvote_add": NOBODY,
    "admin:plan_admin_designationvote_change": ALL,
    "admin:plan_admin_designationvote_history": ALL,
    "admin:plan_admin_designationvote_simple_history": ALL,
    "admin:plan_admin_designationvote_delete": NOBODY,
    "admin/plan_admin/designationvote/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # Issuances: recorded and cancelled by staff, never edited or deleted.
    "admin:plan_admin_issuance_changelist": ALL,
    "admin:plan_admin_issuance_add": STAFF_WRITES,
    "admin:plan_admin_issuance_change": ALL,
    "admin:plan_admin_issuance_history": ALL,
    "admin:plan_admin_issuance_simple_history": ALL,
    "admin:plan_admin_issuance_delete": NOBODY,
    "admin:plan_admin_issuance_cancel": STAFF_WRITES,
    "admin:plan_admin_issuance_past": STAFF_WRITES,
    "admin:plan_admin_issuance_cancel_past": STAFF_WRITES,
    "admin/plan_admin/issuance/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    "admin:plan_admin_issuancecancellation_changelist": ALL,
    "admin:plan_admin_issuancecancellation_add": NOBODY,  # recorded from the issuance's page
    "admin:plan_admin_issuancecancellation_change": ALL,
    "admin:plan_admin_issuancecancellation_history": ALL,
    "admin:plan_admin_issuancecancellation_simple_history": ALL,
    "admin:plan_admin_issuancecancellation_delete": NOBODY,
    "admin/plan_admin/issuancecancellation/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # Proposals to change the plan: proposed and withdrawn (POST) by staff, decided by the board's votes.
    "admin:plan_admin_planproposal_changelist": ALL,
    "admin:plan_admin_planproposal_add": STAFF_WRITES,
    "admin:plan_admin_planproposal_change": ALL,
    "admin:plan_admin_planproposal_history": ALL,
    "admin:plan_admin_planproposal_simple_history": ALL,
    "admin:plan_admin_planproposal_delete": NOBODY,
    "admin:plan_admin_planproposal_withdraw": POST_ONLY,
    "admin/plan_admin/planproposal/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # Append-only rows with no history of their own: seen by everyone, written only by the services.
    **{
        f"admin:plan_admin_{model}_{action}": NOBODY if action in ("add", "delete") else ALL
        for model in ("planproposalvote", "planyearclosing", "designationlapse", "recordconfirmation")
        for action in ("changelist", "add", "history", "delete", "change")
    },
    **{
        f"admin/plan_admin/{model}/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT)
        for model in ("planproposalvote", "planyearclosing", "designationlapse", "recordconfirmation")
    },
    # The record of committed imports (plan_admin/imports/admin.py): read-only, for whoever sees the issuances.
    "admin:plan_admin_importrecord_changelist": ALL,
    "admin:plan_admin_importrecord_add": NOBODY,
    "admin:plan_admin_importrecord_change": ALL,
    "admin:plan_admin_importrecord_history": ALL,
    "admin:plan_admin_importrecord_delete": NOBODY,
    "admin/plan_admin/importrecord/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # Reports (plan_admin/reports/): board, auditors and staff download; each needs its export permission.
    "reports": ALL,
    "reports-download": ALL,
    # Spreadsheet export (everyone who may see the rows) and import (staff only), django-import-export.
    "admin:plan_admin_sharereservechange_export": ALL,
    "admin:plan_admin_participant_export": ALL,
    "admin:plan_admin_participant_import": STAFF_WRITES,
    "admin:plan_admin_participant_import_template": STAFF_WRITES,
    "admin:plan_admin_boarddesignation_export": ALL,
    "admin:plan_admin_boarddesignation_import": STAFF_WRITES,
    "admin:plan_admin_boarddesignation_import_template": STAFF_WRITES,
    "admin:plan_admin_issuance_export": ALL,
    "admin:plan_admin_issuance_import": STAFF_WRITES,
    "admin:plan_admin_issuance_import_template": STAFF_WRITES,
    # Board members' authenticator devices (django-otp): the superuser's (e.g. to remove a lost phone).
    **{
        f"admin:otp_totp_totpdevice_{action}": SUPERUSER_ONLY
        for action in ("changelist", "add", "history", "delete", "change", "config", "qrcode")
    },
    "admin/otp_totp/totpdevice/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT),
    # Login protection (django-axes): the superuser's; its records are not added by hand.
    **{
        f"admin:axes_{model}_{action}": NOBODY if action == "add" else SUPERUSER_ONLY
        for model in ("accessattempt", "accesslog", "accessfailurelog")
        for action in ("changelist", "add", "history", "delete", "change")
    },
    **{
        f"admin/axes/{model}/<path:object_id>/": (LOGIN, REDIRECT, REDIRECT, REDIRECT, REDIRECT)
        for model in ("accessattempt", "accesslog", "accessfailurelog")
    },
}

# Builders of reverse() arguments for patterns whose arguments are not filled in automatically.
# Each takes the `objects` dict of the walk (model class -> an existing instance, plus "user") and returns the
# kwargs dict (or list of positional args) for reverse().
KWARGS: dict[str, Callable[[dict], dict | list]] = {
    "admin:view_on_site": lambda objs: {
        "content_type_id": ContentType.objects.get_for_model(Plan).pk,
        "object_id": objs[Plan].pk,
    },
    "admin:app_list": lambda objs: {"app_label": "plan_admin"},
    "admin:auth_user_password_change": lambda objs: {"id": objs["user"].pk},
    "reports-download": lambda objs: {"slug": "issuances", "fmt": "csv"},
    "past-record-confirm": lambda objs: {"kind": "designation", "pk": objs["past designation"].pk},
    "two-factor-enrol": lambda objs: {"token": "not-a-token"},
    "resolution-document": lambda objs: {"pk": objs["resolution"].pk, "kind": "signed"},
    **{
        f"admin:otp_totp_totpdevice_{action}": lambda objs: {"pk": TOTPDevice.objects.order_by("pk").first().pk}
        for action in ("config", "qrcode")
    },
}

# Values for arguments of these names wherever no builder above applies (e.g. `export.<fmt>` admin URLs).
DEFAULT_KWARGS = {"fmt": "csv"}

# Non-admin URL names whose `pk` is the pk of this model.
URL_MODELS = {
    "designation-detail": BoardDesignation,
    "designation-vote": BoardDesignation,
    "designation-vote-confirm": BoardDesignation,
    "proposal-vote-confirm": PlanProposal,
    "proposal-detail": PlanProposal,
    "proposal-vote": PlanProposal,
    "plan-detail": Plan,
    "plan-ocf-export": Plan,
    "participant-detail": Participant,
    "resolution-detail": Resolution,
    "resolution-sign": Resolution,
    "resolution-decline": Resolution,
    "resolution-withdraw": Resolution,
}

# Rows the walk creates for admin models that nothing above writes (label -> fields), when none exists.
MISSING_ROWS = {
    "plan_admin.ImportRecord": {
        "kind": "participants",
        "sha256": "0" * 64,
        "file_name": "walk.csv",
        "file_size": 1,
        "rows": 1,
        "written": 1,
    },
    "otp_totp.TOTPDevice": lambda: {"user": get_user_model().objects.get(username="board"), "name": "walk"},
    "plan_admin.EnrolmentLink": lambda: {
        "user": get_user_model().objects.get(username="board"),
        "issued_by": get_user_model().objects.get(username="root"),
        "token_hash": "0" * 64,
        "issued_at": timezone.now(),
        "expires_at": timezone.now(),
    },
    "axes.AccessFailureLog": {
        "username": "board",
        "ip_address": "127.0.0.1",
        "user_agent": "walk",
        "http_accept": "*/*",
        "path_info": "/accounts/login/",
    },
}

# Patterns without a name are opened at these paths (route -> path); admin "<path:object_id>/" redirects are
# filled in automatically.
UNNAMED_PATHS = {
    "admin/(?P<url>.*)$": "/admin/no-such-page/",
}


# --- the walk --------------------------------------------------------------------------------------------------------


def iter_patterns(patterns=None, prefix: str = "", namespace: str | None = None):
    """Yield (key, name, route) for every URL pattern, recursively; key is the qualified name or the route."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from iter_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield (name or route), name, route


def _admin_model(text: str, *, route: bool = False):
    """The model of an admin URL name ("admin:plan_admin_plan_change") or route ("admin/plan_admin/plan/...")."""
    matches = []
    for model in admin.site._registry:
        opts = model._meta
        prefix = f"admin/{opts.app_label}/{opts.model_name}/" if route else f"admin:{opts.app_label}_{opts.model_name}_"
        if text.startswith(prefix):
            matches.append((len(prefix), model))
    return max(matches, key=lambda match: match[0])[1] if matches else None


def url_for(key: str, name: str | None, route: str, objects: dict) -> str:
    """A URL that opens the pattern with real objects, or a clear error naming what the table needs."""
    if name is None:
        if key in UNNAMED_PATHS:
            return UNNAMED_PATHS[key]
        model = _admin_model(route, route=True)
        if model is not None and route.endswith("<path:object_id>/"):
            return "/" + route.replace("<path:object_id>", str(objects[model].pk))
        raise AssertionError(f"Unnamed pattern {route!r}: add its path to UNNAMED_PATHS")
    if name in KWARGS:
        arguments = KWARGS[name](objects)
        return reverse(name, args=arguments) if isinstance(arguments, list) else reverse(name, kwargs=arguments)
    if name in URL_MODELS:
        return reverse(name, kwargs={"pk": objects[URL_MODELS[name]].pk})
    model = _admin_model(name)
    if model is not None and name.endswith("_simple_history"):
        instance = objects[model]
        record = instance.history.order_by("-history_id").first()
        return reverse(name, args=[instance.pk, record.history_id])
    if model is not None and "<path:object_id>" in route:
        return reverse(name, kwargs={"object_id": objects[model].pk})
    arguments = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)
    names = [group[0] or group[1] for group in arguments]
    try:
        return reverse(
            name, kwargs={argument: DEFAULT_KWARGS[argument] for argument in names if argument in DEFAULT_KWARGS}
        )
    except Exception as error:
        raise AssertionError(f"{name}: cannot build its URL ({error}); add a builder to KWARGS") from error


def outcome(response) -> str:
    code = response.status_code
    if code in (301, 302, 303, 307, 308):
        target = response.url.split("?")[0]
        logins = {resolve_url(settings.LOGIN_URL), reverse("admin:login")}
        return LOGIN if target in logins else REDIRECT
    return {200: OK, 403: DENIED, 404: NOT_FOUND, 405: NOT_ALLOWED}.get(code, f"{code}")


@pytest.fixture
def objects(superuser, staff_user, board_member, plan, participant, approved_designation):
    """One existing row of every model the admin shows (the first by pk), and a user for user-id URLs."""
    issued = factories.issue(approved_designation, by=staff_user, shares=1_000)
    mistaken = factories.issue(approved_designation, by=staff_user, shares=10)
    services.issuance_cancel(
        issuance=mistaken, cancelled_on=datetime.date(2024, 7, 1), reason="Duplicate", by=staff_user
    )
    # The legal record's rows: a closed year (with its lapse), a reserve proposal decided by a vote, and history
    # entered from records with its confirmation.
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
    unconfirmed = services.past_designation_record(
        plan=plan,
        participant=lee,
        year=2011,
        shares=100,
        factors_considered="From the minutes.",
        decision="approve",
        decided_on=datetime.date(2011, 2, 1),
        decision_reference="Minutes of February 1, 2011",
        by=staff_user,
    )
    services.past_record_confirm(record=past, by=board_member)
    # The issuer's details OCF requires (an OcfObject row), so that the plan downloads as OCF.
    issuer_details_record(plan=plan, formation_date=datetime.date(1988, 6, 1), country_of_formation="US", by=superuser)
    # Resolutions: one in effect (signed, sealed), one declined, one withdrawn, with their emails.
    resolution = factories.resolution_records(plan=plan, staff=staff_user, directors=[board_member])
    # A successful and a failed login through the login form, so the login-protection models (django-axes)
    # have rows too.
    login = reverse("login")
    Client().post(login, {"username": staff_user.username, "password": factories.PASSWORD})
    Client().post(login, {"username": board_member.username, "password": "wrong password"})
    for label, fields in MISSING_ROWS.items():
        model = apps.get_model(label)
        if not model._default_manager.exists():
            model._default_manager.create(**(fields() if callable(fields) else fields))
    found = {"user": board_member}
    for model in [*admin.site._registry, *apps.get_app_config("plan_admin").get_models()]:
        instance = model._default_manager.order_by("pk").first()
        assert instance is not None, f"The walk needs a {model.__name__} row: create one in the objects fixture"
        found[model] = instance
    found[Issuance] = issued
    found["past designation"] = unconfirmed
    found["resolution"] = resolution
    return found


@pytest.fixture
def clients(superuser, staff_user, board_member, auditor) -> dict[str, Client]:
    users = {"staff": staff_user, "board": board_member, "auditor": auditor, "superuser": superuser}
    clients = {"anonymous": Client()}
    for role, user in users.items():
        clients[role] = Client()
        clients[role].force_login(user)
    return clients


def test_every_url_pattern_is_in_the_table():
    """A new URL must be given its row in EXPECTED; a row for a URL that no longer exists must go."""
    keys = [key for key, _, _ in iter_patterns()]
    assert len(keys) == len(set(keys)), "two patterns share a key"
    missing = [key for key in keys if key not in EXPECTED]
    stale = sorted(set(EXPECTED) - set(keys))
    assert not missing, (
        "URL patterns missing from EXPECTED in tests/test_permission_walk.py (decide who may open each):\n  "
        + "\n  ".join(missing)
    )
    assert not stale, f"EXPECTED lists URLs that no longer exist: {stale}"


def test_every_url_answers_each_role_as_the_table_says(objects, clients):
    before = factories.ledger_snapshot()
    mismatches, unlisted = [], []
    for key, name, route in iter_patterns():
        try:
            url = url_for(key, name, route, objects)
        except Exception as error:
            (mismatches if key in EXPECTED else unlisted).append(f"  {key}: {error!r}")
            continue
        observed = tuple(outcome(clients[role].get(url)) for role in ROLES)
        expected = EXPECTED.get(key)
        if expected is None:
            unlisted.append(f"    {key!r}: {observed},  # {url}")
        elif observed != expected:
            diffs = ", ".join(
                f"{role}: expected {want}, got {got}"
                for role, want, got in zip(ROLES, expected, observed, strict=True)
                if want != got
            )
            mismatches.append(f"  {key} ({url}): {diffs}")
    assert not mismatches, "URLs answering differently from EXPECTED:\n" + "\n".join(mismatches)
    assert not unlisted, (
        "URLs missing from EXPECTED; observed (anonymous, staff, board, auditor, superuser) - check against "
        "DESIGN.md before copying:\n" + "\n".join(unlisted)
    )
    assert factories.ledger_snapshot() == before, "a GET wrote to the ledger"


@pytest.mark.parametrize("role", ["staff", "auditor"])
def test_vote_post_needs_the_vote_permission(role, clients, plan, participant, staff_user):
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2025, shares=1_000, staff=staff_user
    )
    before = factories.ledger_snapshot()
    response = clients[role].post(reverse("designation-vote", args=[designation.pk]), {"decision": "approve"})
    assert response.status_code == 403
    assert factories.ledger_snapshot() == before
    designation.refresh_from_db()
    assert designation.status == BoardDesignation.Status.PROPOSED


def test_anonymous_vote_post_is_sent_to_login_and_writes_nothing(clients, plan, participant, staff_user):
    designation = factories.make_designation(
        plan=plan, participant=participant, year=2025, shares=1_000, staff=staff_user
    )
    before = factories.ledger_snapshot()
    response = clients["anonymous"].post(reverse("designation-vote", args=[designation.pk]), {"decision": "approve"})
    assert outcome(response) == LOGIN
    assert factories.ledger_snapshot() == before


def test_a_user_in_no_role_is_refused_every_page(db, plan):
    """Logged in but in no group (and not staff): 403 on every board page, no admin."""
    nobody = get_user_model().objects.create_user(username="nobody", password=factories.PASSWORD)
    client = Client()
    client.force_login(nobody)
    for name in ["board-dashboard", "plan-detail", "resolution-list"]:
        url = reverse(name, args=[plan.pk]) if name == "plan-detail" else reverse(name)
        assert client.get(url).status_code == 403, name
    assert outcome(client.get(reverse("admin:index"))) == LOGIN


def test_resolution_documents_answer_403_without_the_role(db, plan, staff_user, board_member):
    """The PDFs of a resolution: board, staff and auditors download them; a user in no role gets 403 for each."""
    resolution = factories.resolution_records(plan=plan, staff=staff_user, directors=[board_member])
    nobody = get_user_model().objects.create_user(username="nobody", password=factories.PASSWORD, is_staff=True)
    client = Client()
    client.force_login(nobody)
    for kind in ("for_signature", "signed"):
        url = reverse("resolution-document", kwargs={"pk": resolution.pk, "kind": kind})
        assert client.get(url).status_code == 403, kind
        assert client.get(url + "?inline=1").status_code == 403, kind
    client.force_login(board_member)
    response = client.get(reverse("resolution-document", kwargs={"pk": resolution.pk, "kind": "signed"}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
