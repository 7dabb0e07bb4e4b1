"""A written consent in a real browser (issue 12): staff gather two proposals; each of two board members reads the
PDF in the page and signs with the password; the second signature decides both designations, dated today; the
signed PDF downloads, its SHA-256 is the one recorded, pyHanko validates its seal, and a changed byte fails."""

import datetime
import hashlib

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from plan_admin.models import Resolution, ResolutionDocument
from plan_admin.services import resolutions as resolution_services
from tests import factories
from tests.e2e.test_board_browser import log_in, log_out
from tests.e2e.test_legal_record_browser import people  # noqa: F401 - the same four users
from tests.test_resolutions import validate_with_cli

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_gather_a_written_consent_and_two_directors_sign_it(
    page, people, screenshot, tmp_path, settings, live_server
):
    settings.SITE_URL = live_server.url
    staff = people["staff"]
    plan = factories.make_plan(by=people["root"])
    this_year = datetime.date.today().year
    dana = factories.make_designation(
        plan=plan,
        participant=factories.make_participant("Dana Whitfield", by=staff),
        year=this_year,
        shares=250_000,
        staff=staff,
        factors="Led the refinancing; retention through the 2027 financing.",
    )
    lee = factories.make_designation(
        plan=plan,
        participant=factories.make_participant("Lee Park", by=staff, category="consultant"),
        year=this_year,
        shares=75_000,
        staff=staff,
        factors="Consulting on the patent portfolio.",
    )

    # Staff gather both proposals into a written consent.
    log_in_as_staff(page)
    page.goto(reverse("resolution-prepare"))
    page.get_by_label("Written consent in lieu of a meeting").check()
    page.get_by_label(f"Dana Whitfield – {this_year}: 250,000 shares").check()
    page.get_by_label(f"Lee Park – {this_year}: 75,000 shares").check()
    page.get_by_role("button", name="Send out for signature").click()
    expect(page.locator(".message.success")).to_contain_text("is out for signature")
    resolution = Resolution.objects.get()
    expect(page.get_by_test_id("resolution-status")).to_have_text("Out for signature")
    page.get_by_role("button", name="Log out").click()

    for number, username in enumerate(["board", "board2"], start=1):
        log_in(page, username)
        awaiting = page.get_by_test_id("awaiting-signature")
        expect(awaiting).to_contain_text("1 resolution of the board awaits your signature")
        page.locator(f"#resolution-{resolution.pk}").get_by_role("link", name="Read and sign").click()
        viewer = page.get_by_test_id("document-viewer")
        expect(viewer).to_be_visible()
        pdf = page.request.get(viewer.get_attribute("src"))
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
        document = resolution.documents.get(kind=ResolutionDocument.Kind.FOR_SIGNATURE)
        assert hashlib.sha256(pdf.body()).hexdigest() == document.sha256
        expect(page.get_by_test_id("document-sha256")).to_have_text(document.sha256)
        if number == 1:
            screenshot(page, "resolution-sign")
        page.get_by_label("Your password").fill(factories.PASSWORD)
        page.get_by_role("button", name=f"Sign {resolution.reference}").click(no_wait_after=True)
        if number == 1:
            expect(page.locator(".message.success")).to_contain_text("It waits for 1 more signature", timeout=60_000)
            dana.refresh_from_db()
            assert dana.status == "proposed"
        else:
            # The last signature decides, renders the signature page and seals the file: give a loaded machine time.
            expect(page.locator(".message.success")).to_contain_text("it took effect today", timeout=60_000)
        log_out(page)

    today = datetime.date.today()
    for designation in (dana, lee):
        designation.refresh_from_db()
        assert (designation.status, designation.decided_on, designation.decision_source) == (
            "approved",
            today,
            "resolution",
        )
    resolution.refresh_from_db()
    assert (resolution.status, resolution.effective_on) == ("effective", today)

    # The designation page names the resolution; the signed PDF downloads from it.
    log_in(page, "board")
    page.goto(reverse("designation-detail", args=[dana.pk]))
    expect(page.get_by_test_id("deciding-resolution")).to_contain_text(resolution.reference)
    expect(page.get_by_test_id("decided-on")).to_have_text(today.strftime("%B %-d, %Y"))
    with page.expect_download() as download_info:
        page.get_by_test_id("resolutions").get_by_role("link", name="Signed and sealed document").click()
    downloaded = tmp_path / "signed.pdf"
    download_info.value.save_as(downloaded)
    data = downloaded.read_bytes()
    signed = resolution.documents.get(kind=ResolutionDocument.Kind.SIGNED)
    assert hashlib.sha256(data).hexdigest() == signed.sha256
    # The hash chain: the signed file begins with the exact bytes each director signed, and its recorded chain
    # ends in the last signature's link, each link following from the one before.
    signatures = list(resolution.signatures.order_by("signed_at", "pk"))
    for_signature = resolution.documents.get(kind=ResolutionDocument.Kind.FOR_SIGNATURE)
    assert hashlib.sha256(data[: for_signature.size]).hexdigest() == for_signature.sha256
    assert {signature.document_sha256 for signature in signatures} == {for_signature.sha256}
    assert signed.chain_sha256 == signatures[-1].chain_sha256 and resolution_services.chain_is_intact(resolution)
    assert validate_with_cli(downloaded).returncode == 0
    changed = bytearray(data)
    changed[len(data) // 2] ^= 0x01
    tampered = tmp_path / "changed.pdf"
    tampered.write_bytes(bytes(changed))
    assert validate_with_cli(tampered).returncode != 0
    page.goto(reverse("resolution-detail", args=[resolution.pk]))
    expect(page.get_by_test_id("resolution-status")).to_have_text("In effect")
    screenshot(page, "resolution-in-effect")


def log_in_as_staff(page):
    page.goto(reverse("login"))
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Plan ledger")).to_be_visible()
