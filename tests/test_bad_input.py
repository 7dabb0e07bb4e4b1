"""Hostile and mistaken input through every door: admin forms, the vote view, and spreadsheet imports.

Every case gets a clear error, never a server error, and writes nothing (the whole ledger snapshot, history
included, is unchanged).
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from plan_admin import services
from plan_admin.imports import run_import
from tests import factories

pytestmark = pytest.mark.django_db

LONG = "x" * 10_001
HUGE = "1" + "0" * 20  # 10^20 shares
NOT_UTF8 = b"\xff\xfe\xfa broken"


@pytest.fixture
def ledger(plan, approved_designation, staff_user, board_member, superuser):
    """A plan with an approved 2024 designation, one issuance, and a second plan with its own designation."""
    issuance = factories.issue(approved_designation, by=staff_user, shares=1_000)
    other_plan = factories.make_plan(by=superuser, name="2010 Equity Plan")
    stranger = factories.make_participant("Priya Raman", by=staff_user)
    factories.make_designation(
        plan=other_plan, participant=stranger, year=2024, shares=500, staff=staff_user, approver=board_member
    )
    proposed = factories.make_designation(plan=plan, participant=stranger, year=2025, shares=10, staff=staff_user)
    return {
        "plan": plan,
        "designation": approved_designation,
        "issuance": issuance,
        "proposed": proposed,
        "other_plan": other_plan,
    }


def issuance_data(ledger, **overrides):
    data = {
        "designation": str(ledger["designation"].pk),
        "issue_date": "2024-06-30",
        "shares": "100",
        "kind": "compensation",
        "price_per_share": "0.15",
        "debt_amount": "",
        "debt_reference": "",
        "notes": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def proposal_data(ledger, **overrides):
    data = {
        "plan": str(ledger["plan"].pk),
        "participant": str(ledger["designation"].participant_id),
        "year": "2026",
        "shares": "100",
        "factors_considered": "Retention.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def csv_file(text: str | bytes, name: str = "rows.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text if isinstance(text, bytes) else text.encode(), content_type="text/csv")


ISSUANCE_HEADER = "plan,participant,issue_date,shares,price_per_share\n"
ROW = "2002 Stock Incentive Plan,Dana Whitfield,{date},{shares},{price}\n"


def issuance_csv(date="2024-06-30", shares="100", price="0.15"):
    return ISSUANCE_HEADER + ROW.format(date=date, shares=shares, price=price)


# (case id, door, input, the error the user must see)
CASES = [
    # --- the admin's issuance form -----------------------------------------------------------------------------
    ("issue-negative-shares", "issuance", {"shares": "-5"}, "Ensure this value is greater than or equal to 1."),
    ("issue-zero-shares", "issuance", {"shares": "0"}, "Ensure this value is greater than or equal to 1."),
    ("issue-fractional-shares", "issuance", {"shares": "1.5"}, "Enter a whole number of shares, in digits"),
    ("issue-decimal-comma-shares", "issuance", {"shares": "1,5"}, "Enter a whole number of shares, in digits"),
    ("issue-unicode-digit-shares", "issuance", {"shares": "²"}, "Enter a whole number of shares, in digits"),
    ("issue-huge-shares", "issuance", {"shares": HUGE}, "Ensure this value is less than or equal to"),
    ("issue-text-shares", "issuance", {"shares": "lots"}, "Enter a whole number of shares, in digits"),
    (
        "issue-price-below-par",
        "issuance",
        {"price_per_share": "0.0001"},
        "The price of $0.0001 per share is below the par value of $0.001.",
    ),
    ("issue-price-not-a-number", "issuance", {"price_per_share": "cheap"}, "Enter a number."),
    ("issue-price-negative", "issuance", {"price_per_share": "-1"}, "Ensure this value is greater than or equal to 0."),
    (
        "issue-date-before-plan",
        "issuance",
        {"issue_date": "2001-12-31"},
        "December 31, 2001 is before the plan&#x27;s effective date, March 1, 2002.",
    ),
    (
        "issue-date-after-termination",
        "issuance-terminated",
        {"issue_date": "2024-09-01"},
        "The plan was terminated on July 1, 2024: no shares may be issued on or after that date.",
    ),
    ("issue-date-malformed", "issuance", {"issue_date": "2024-13-45"}, "Enter a valid date."),
    ("issue-date-year-10000", "issuance", {"issue_date": "10000-01-01"}, "Enter a valid date."),
    (
        "issue-wrong-year",
        "issuance",
        {"issue_date": "2025-01-02"},
        "This designation is for 2024; shares issued on January 2, 2025 need a designation for 2025.",
    ),
    ("issue-notes-too-long", "issuance", {"notes": LONG}, "Ensure this value has at most 10000 characters"),
    (
        "issue-reference-too-long",
        "issuance",
        {"kind": "debt_settlement", "debt_amount": "10", "debt_reference": "r" * 201},
        "Ensure this value has at most 200 characters",
    ),
    (
        "issue-notes-not-utf8-bytes",
        "issuance-raw",
        {"notes": NOT_UTF8},
        "The form was not sent as UTF-8 text, so some characters could not be read. Nothing was recorded.",
    ),
    (
        "issue-notes-not-utf8-escaped",
        "issuance-raw",
        {"notes": b"%FF%FEbroken"},
        "Notes: some characters could not be read; enter UTF-8 text.",
    ),
    ("issue-proposed-designation-id", "issuance", {"designation": "proposed"}, "Select a valid choice."),
    ("issue-unknown-designation-id", "issuance", {"designation": "999999"}, "Select a valid choice."),
    ("issue-designation-id-not-a-number", "issuance", {"designation": "1 OR 1=1"}, "Select a valid choice."),
    ("issue-missing-shares", "issuance", {"shares": None}, "This field is required."),
    ("issue-missing-designation", "issuance", {"designation": None}, "This field is required."),
    ("issue-tampered-submission-key", "issuance", {"submission_key": "../../etc/passwd"}, "Enter a valid UUID."),
    ("issue-tampered-kind", "issuance", {"kind": "gift"}, "Select a valid choice. gift is not one of the available"),
    (
        "issue-debt-without-amount",
        "issuance",
        {"kind": "debt_settlement", "debt_reference": "INV-1"},
        "A debt settlement needs the amount of debt settled.",
    ),
    (
        "issue-debt-amount-huge",
        "issuance",
        {"kind": "debt_settlement", "debt_amount": HUGE, "debt_reference": "I"},
        "Ensure that there are no more than 16 digits in total.",
    ),
    # --- proposals, reserve changes, cancellations, participants, the plan's term ---------------------------------
    ("propose-year-0", "proposal", {"year": "0"}, "Ensure this value is greater than or equal to 1900."),
    ("propose-year-10000", "proposal", {"year": "10000"}, "Ensure this value is less than or equal to 2999."),
    (
        "propose-year-before-plan",
        "proposal",
        {"year": "2001"},
        "The plan took effect on March 1, 2002: no designation for 2001.",
    ),
    ("propose-huge-shares", "proposal", {"shares": HUGE}, "Ensure this value is less than or equal to"),
    (
        "propose-more-than-authorized",
        "proposal",
        {"shares": "10000001"},
        "10,000,001 shares is more than the plan&#x27;s 10,000,000 authorized shares.",
    ),
    (
        "propose-factors-too-long",
        "proposal",
        {"factors_considered": LONG},
        "Ensure this value has at most 10000 characters",
    ),
    ("propose-missing-factors", "proposal", {"factors_considered": None}, "This field is required."),
    ("propose-unknown-participant", "proposal", {"participant": "424242"}, "Select a valid choice."),
    ("reserve-zero", "reserve", {"shares": "0"}, "The change must add or remove at least one share."),
    ("reserve-huge", "reserve", {"shares": HUGE}, "Ensure this value is less than or equal to"),
    (
        "reserve-below-zero",
        "reserve",
        {"shares": "-10000001"},
        "The reserve is 10,000,000 shares: it cannot be reduced by 10,000,001.",
    ),
    ("reserve-decimal-comma", "reserve", {"shares": "1,5"}, "Enter a whole number of shares, in digits"),
    ("reserve-missing-explanation", "reserve", {"explanation": "   "}, "This field is required."),
    (
        "reserve-vote-below-committed",
        "reserve-vote",
        {"shares": -9_500_000},
        "would leave it below the 1,000,000 shares already issued (1,000) or committed to approved designations",
    ),
    ("cancel-missing-reason", "cancel", {"reason": ""}, "This field is required."),
    (
        "cancel-before-issue",
        "cancel",
        {"cancelled_on": "2024-01-01"},
        "The cancellation date may not precede the issue date, June 30, 2024.",
    ),
    ("participant-name-too-long", "participant", {"name": "n" * 201}, "Ensure this value has at most 200 characters"),
    ("participant-tampered-category", "participant", {"category": "ceo"}, "Select a valid choice."),
    (
        "effective-date-after-issuances",
        "effective-date",
        {"effective_date": "2024-07-01"},
        "1 issuance(s) are dated before July 1, 2024: cancel them first or choose an earlier date.",
    ),
    # --- the board's vote view --------------------------------------------------------------------------------------
    ("vote-tampered-decision", "vote", {"decision": "abstain"}, "Your vote was not recorded:"),
    ("vote-comment-too-long", "vote", {"decision": "approve", "comment": "c" * 5001}, "Your vote was not recorded:"),
    ("vote-missing-decision", "vote", {}, "Your vote was not recorded:"),
    # --- spreadsheet imports ----------------------------------------------------------------------------------------
    ("import-negative-shares", "import-issuances", issuance_csv(shares="-5"), "Row 2: Shares must be at least 1."),
    (
        "import-fractional-shares",
        "import-issuances",
        issuance_csv(shares="1.5"),
        "Row 2: shares (cell D2): expected a whole number, got '1.5'.",
    ),
    (
        "import-huge-shares",
        "import-issuances",
        issuance_csv(shares=HUGE),
        "Row 2: 100,000,000,000,000,000,000 shares is more than the ledger can record.",
    ),
    (
        "import-price-below-par",
        "import-issuances",
        issuance_csv(price="0.0001"),
        "Row 2: The price of $0.0001 per share is below the par value of $0.001.",
    ),
    (
        "import-price-not-a-number",
        "import-issuances",
        issuance_csv(price="free"),
        "Row 2: price_per_share (cell E2): expected a number of dollars, got 'free'.",
    ),
    (
        "import-impossible-date",
        "import-issuances",
        issuance_csv(date="2024-02-30"),
        "Row 2: issue_date (cell C2): expected a date as YYYY-MM-DD, got '2024-02-30'.",
    ),
    (
        "import-date-before-plan",
        "import-issuances",
        issuance_csv(date="2001-06-30"),
        "Row 2: Dana Whitfield has no 2001 designation under 2002 Stock Incentive Plan: the board must designate them "
        "first.",
    ),
    (
        "import-other-plans-designation",
        "import-issuances",
        "plan,participant,issue_date,shares,price_per_share\n2002 Stock Incentive Plan,Priya Raman,2024-06-30,5,0.15\n",
        "Row 2: Priya Raman has no 2024 designation under 2002 Stock Incentive Plan: the board must designate them "
        "first.",
    ),
    (
        "import-missing-column",
        "import-issuances",
        "plan,participant,shares\n2002 Stock Incentive Plan,Dana,5\n",
        "The header row (row 1) has missing columns issue_date, price_per_share. The columns of an import of issuances "
        "are: plan, participant, year, issue_date, shares, price_per_share, kind, debt_amount, debt_reference, "
        "reference, notes, source_reference (see the template).",
    ),
    (
        "import-not-utf8",
        "import-issuances",
        ISSUANCE_HEADER.encode() + NOT_UTF8 + b"\n",
        "The CSV file is not UTF-8 text (byte 52 cannot be read). Save it as “CSV UTF-8” and upload it again.",
    ),
    (
        "import-year-0",
        "import-designations",
        "plan,participant,year,shares,factors_considered\n2002 Stock Incentive Plan,Dana Whitfield,0,5,x\n",
        "Row 2: Enter a year between 1900 and 2999.",
    ),
    (
        "import-year-10000",
        "import-designations",
        "plan,participant,year,shares,factors_considered\n2002 Stock Incentive Plan,Dana Whitfield,10000,5,x\n",
        "Row 2: Enter a year between 1900 and 2999.",
    ),
    (
        "import-name-too-long",
        "import-participants",
        "name,category\n" + "n" * 300 + ",consultant\n",
        "Row 2: The name may be at most 200 characters.",
    ),
]


def submit(door: str, payload, ledger, client):
    """Send `payload` through `door`; return the text the user sees."""
    if door.startswith("import-"):
        report = run_import(door.removeprefix("import-"), csv_file(payload), by=client.user, commit=True)
        assert not report.ok and not report.committed
        return " ".join(f"Row {row}: {message}" if row else message for row, message in report.errors)
    if door == "issuance-raw":
        body = b"&".join(f"{k}={v}".encode() for k, v in issuance_data(ledger).items() if k != "notes")
        body += b"&notes=" + payload["notes"]
        response = client.post(
            reverse("admin:plan_admin_issuance_add"), body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code in (200, 400), response.status_code
        return response.content.decode()
    elif door == "issuance":
        if payload.get("designation") == "proposed":
            payload = {**payload, "designation": str(ledger["proposed"].pk)}
        response = client.post(reverse("admin:plan_admin_issuance_add"), issuance_data(ledger, **payload))
    elif door == "proposal":
        response = client.post(reverse("admin:plan_admin_boarddesignation_add"), proposal_data(ledger, **payload))
    elif door == "reserve":
        data = {"plan": str(ledger["plan"].pk), "shares": "5", "explanation": "Why.", **payload}
        response = client.post(reverse("admin:plan_admin_planproposal_add"), data)
    elif door == "reserve-vote":  # proposed by staff beforehand; refused when the board votes
        client.force_login(client.board_member)
        response = client.post(
            reverse("proposal-vote", args=[ledger["reserve proposal"].pk]), {"decision": "approve"}, follow=True
        )
    elif door == "cancel":
        data = {"cancelled_on": "2024-07-01", "reason": "Typo.", **payload}
        response = client.post(reverse("admin:plan_admin_issuance_cancel", args=[ledger["issuance"].pk]), data)
    elif door == "participant":
        data = {"name": "New Person", "category": "consultant", "email": "", "notes": "", **payload}
        response = client.post(reverse("admin:plan_admin_participant_add"), data)
    elif door == "effective-date":
        response = client.post(reverse("admin:plan_admin_plan_effective_date", args=[ledger["plan"].pk]), payload)
    elif door == "vote":
        client.force_login(client.board_member)
        response = client.post(reverse("designation-vote", args=[ledger["proposed"].pk]), payload, follow=True)
    else:  # pragma: no cover
        raise AssertionError(door)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_table_has_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("door", "payload", "expected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly_and_writes_nothing(
    door, payload, expected, ledger, client, staff_user, board_member
):
    client.force_login(staff_user)
    client.user, client.board_member = staff_user, board_member
    if door == "issuance-terminated":
        factories.terminate(
            ledger["plan"], termination_date=datetime.date(2024, 7, 1), staff=staff_user, approver=board_member
        )
        door = "issuance"
    if door == "reserve-vote":
        ledger["reserve proposal"] = services.reserve_change_propose(
            plan=ledger["plan"], explanation="Smaller.", by=staff_user, **payload
        )
    before = factories.ledger_snapshot()

    seen = submit(door, payload, ledger, client)

    if door.startswith("import-"):
        assert seen == expected, "an import names the row, the cell and the reason: the whole message is pinned"
    else:
        assert expected in seen
    assert factories.ledger_snapshot() == before
