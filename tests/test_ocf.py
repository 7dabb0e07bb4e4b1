"""Open Cap Format (issue 13): export validated against the official 1.2.0 schemas, import by replay through the
services, all or nothing, and the round trip.

The schemas and samples are read where they are shipped (settings.OCF_SCHEMA_DIR, ../shared/ocf-1.2.0), offline:
`reference_errors` validates with jsonschema and a referencing.Registry built here from the schema files, apart from
the code under test.
"""

import datetime
import hashlib
import io
import json
import shutil
import zipfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from plan_admin import services
from plan_admin.interop import ocf_export, ocf_schema
from plan_admin.interop.issuer import issuer_details_record
from plan_admin.interop.ocf_export import OcfExportRefused, export_plan
from plan_admin.interop.ocf_import import import_package
from plan_admin.models import Issuance, OcfObject, Participant, Plan, RecordConfirmation
from plan_admin.reconcile import reconcile
from tests import factories

SCHEMA_DIR = Path(settings.OCF_SCHEMA_DIR)
SAMPLES = SCHEMA_DIR.parent / "samples"
BASE = "https://schema.opencaptablecoalition.com/v/1.2.0/"


# --- the reference validation (jsonschema + a local registry, nothing from the code under test) ----------------------


def _registry():
    resources = []
    for path in SCHEMA_DIR.rglob("*.schema.json"):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def _validator(uri: str) -> Draft7Validator:
    schema = REGISTRY.contents(uri)
    return Draft7Validator(schema, registry=REGISTRY, format_checker=Draft7Validator.FORMAT_CHECKER)


OBJECT_SCHEMA = {}
for _uri in REGISTRY:
    if _uri.startswith(BASE + "objects/"):
        _spec = REGISTRY.contents(_uri).get("properties", {}).get("object_type", {})
        for _type in [_spec["const"]] if "const" in _spec else _spec.get("enum", []):
            OBJECT_SCHEMA[_type] = _uri


def reference_errors(directory: Path, *, whole_files: bool = True) -> list[str]:
    """Every schema error of the package in `directory`, and every md5 the manifest gets wrong.

    `whole_files` validates each file against its file schema in one go (the strictest reading); otherwise its
    wrapper and each item against the schema of its object_type, which is what the file schema says but faster."""
    manifest = json.loads((directory / "Manifest.ocf.json").read_text())
    errors = [
        f"Manifest: {e.message}" for e in _validator(BASE + "files/OCFManifestFile.schema.json").iter_errors(manifest)
    ]
    for key, entries in manifest.items():
        if not key.endswith("_files"):
            continue
        for entry in entries:
            path = directory / entry["filepath"]
            content = path.read_bytes()
            if hashlib.md5(content).hexdigest() != entry["md5"]:
                errors.append(f"{entry['filepath']}: md5 differs from the manifest")
            document = json.loads(content)
            file_schema = next(
                uri
                for uri in REGISTRY
                if uri.startswith(BASE + "files/")
                and REGISTRY.contents(uri)["properties"]["file_type"].get("const") == document["file_type"]
            )
            if whole_files:
                errors += [f"{path.name}: {e.message}" for e in _validator(file_schema).iter_errors(document)]
            else:
                errors += [
                    f"{path.name}: {e.message}" for e in _validator(file_schema).iter_errors({**document, "items": []})
                ]
                for item in document["items"]:
                    errors += [
                        f"{path.name} {item.get('id')}: {e.message}"
                        for e in _validator(OBJECT_SCHEMA[item["object_type"]]).iter_errors(item)
                    ]
    return errors


def items(directory: Path, name: str) -> list[dict]:
    return json.loads((directory / name).read_text())["items"]


def write_package(
    directory: Path, files: dict[str, dict], *, issuer: dict | None = None, as_of="2024-06-30", comments=None
) -> Path:
    """An OCF package of `files` (manifest key -> OCF file), with a manifest and right md5s."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {
        "ocf_version": "1.2.0",
        "file_type": "OCF_MANIFEST_FILE",
        "issuer": issuer
        or {
            "object_type": "ISSUER",
            "id": "issuer-1",
            "legal_name": "Example Holdings, Inc.",
            "formation_date": "2001-01-01",
            "country_of_formation": "US",
        },
        "as_of": as_of,
        "generated_at": "2024-06-30T12:00:00+00:00",
        "stock_plans_files": [],
        "stock_legend_templates_files": [],
        "stock_classes_files": [],
        "vesting_terms_files": [],
        "valuations_files": [],
        "transactions_files": [],
        "stakeholders_files": [],
    }
    if comments:
        manifest["comments"] = comments
    for key, document in files.items():
        name = f"{key}.ocf.json"
        content = json.dumps(document).encode()
        (directory / name).write_bytes(content)
        manifest[key].append(
            {"filepath": f"./{name}", "md5": hashlib.md5(content).hexdigest()}
        ) if key in manifest else manifest.setdefault(key, []).append(
            {"filepath": f"./{name}", "md5": hashlib.md5(content).hexdigest()}
        )
    (directory / "Manifest.ocf.json").write_text(json.dumps(manifest))
    return directory


def rewrite(directory: Path, name: str, change) -> None:
    """Change one file of an exported package with `change(document)`, and its md5 in the manifest."""
    path = directory / name
    document = json.loads(path.read_text())
    change(document)
    content = json.dumps(document).encode()
    path.write_bytes(content)
    manifest_path = directory / "Manifest.ocf.json"
    manifest = json.loads(manifest_path.read_text())
    for key, entries in manifest.items():
        if key.endswith("_files"):
            for entry in entries:
                if entry["filepath"] == f"./{name}":
                    entry["md5"] = hashlib.md5(content).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


def tomorrow():
    day = timezone.localdate() + datetime.timedelta(days=1)
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC), tick=True)


@pytest.fixture
def demo(db):
    call_command("load_reference_plan", stdout=io.StringIO())
    return Plan.objects.get(name="2002 Stock Incentive Plan")


def record_issuer(plan, by=None):
    issuer_details_record(
        plan=plan, formation_date=datetime.date(1990, 1, 2), country_of_formation="US", country_subdivision="DE", by=by
    )


# --- the schemas themselves ------------------------------------------------------------------------------------------


def test_missing_schema_directory_is_a_clear_refusal(settings, tmp_path, plan):
    settings.OCF_SCHEMA_DIR = tmp_path / "nowhere"
    with pytest.raises(ocf_schema.OcfSchemaMissing, match="OCF_SCHEMA_DIR"):
        export_plan(plan, tmp_path / "out")
    report = import_package(tmp_path, by=None)
    assert not report.ok and "OCF_SCHEMA_DIR" in report.errors[0]


def test_samples_validate_as_the_readme_says():
    """The readme of ../shared/ocf-1.2.0: every sample passes but the two TX_ISSUER_AUTHORIZED_SHARES_ADJUSTMENT."""
    failing = []
    for path in SAMPLES.glob("*.ocf.json"):
        document = json.loads(path.read_text())
        for obj in document.get("items", []):
            if not ocf_schema.item_allowed(document["file_type"], obj) or ocf_schema.check_object(obj):
                failing.append(obj["object_type"])
    assert sorted(failing) == ["TX_ISSUER_AUTHORIZED_SHARES_ADJUSTMENT"] * 2


# --- export ----------------------------------------------------------------------------------------------------------


def test_the_demo_ledger_exports_and_validates(demo, tmp_path):
    result = export_plan(demo, tmp_path / "demo")
    package = tmp_path / "demo"
    assert reference_errors(package) == []
    transactions = items(package, "Transactions.ocf.json")
    kinds = [tx["object_type"] for tx in transactions]
    assert kinds.count("TX_STOCK_ISSUANCE") == Issuance.objects.filter(designation__plan=demo).count()
    assert kinds.count("TX_STOCK_CANCELLATION") == kinds.count("TX_STOCK_PLAN_RETURN_TO_POOL") == 1
    # The plan's reserve: the initial authorization on the StockPlan, each later change as a running total.
    (stock_plan,) = items(package, "StockPlans.ocf.json")
    assert stock_plan["initial_shares_reserved"] == "10000000"
    (adjustment,) = [tx for tx in transactions if tx["object_type"] == "TX_STOCK_PLAN_POOL_ADJUSTMENT"]
    assert adjustment["shares_reserved"] == "12000000"
    # The board approval date of an issuance is its designation's decision; a debt settlement says so.
    settlement = next(tx for tx in transactions if "debt" in tx.get("consideration_text", ""))
    assert settlement["board_approval_date"] == f"{timezone.localdate().year - 1}-10-20"
    assert "$45,000.00" in settlement["consideration_text"] and "HE-118" in settlement["consideration_text"]
    # What OCF has no object for is in the board record, a Document with its md5.
    (document,) = items(package, "Documents.ocf.json")
    record = json.loads((package / document["path"]).read_text())
    assert hashlib.md5((package / document["path"]).read_bytes()).hexdigest() == document["md5"]
    assert {d["status"] for d in record["designations"]} >= {"approved", "lapsed", "proposed"}
    assert any(vote["voter"] == "board" for d in record["designations"] for vote in d["votes"])
    assert [p["status"] for p in record["proposals"]] == ["proposed"]
    assert result.counts["TX_STOCK_ISSUANCE"] == len(kinds) - 3


def test_ids_are_stable_across_exports(demo, tmp_path):
    export_plan(demo, tmp_path / "one")
    export_plan(demo, tmp_path / "two.ocf.zip")
    with zipfile.ZipFile(tmp_path / "two.ocf.zip") as archive:
        archive.extractall(tmp_path / "two")
    for name in ("Transactions.ocf.json", "Stakeholders.ocf.json", "StockPlans.ocf.json", "Documents.ocf.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_export_refused_without_the_issuers_details(plan, tmp_path):
    with pytest.raises(OcfExportRefused, match="date and country of formation"):
        export_plan(plan, tmp_path / "out")


def test_an_object_that_does_not_validate_stops_the_export_naming_it(demo, tmp_path, monkeypatch):
    monkeypatch.setitem(ocf_export.RELATIONSHIP, Participant.Category.CONSULTANT, "CONTRACTOR")
    with pytest.raises(OcfExportRefused) as refusal:
        export_plan(demo, tmp_path / "out")
    message = str(refusal.value)
    assert "Stakeholders.ocf.json: STAKEHOLDER" in message
    assert 'current_relationship: "CONTRACTOR" is not one of' in message


@pytest.mark.django_db
def test_a_generated_10000_issuance_ledger_exports_and_validates(tmp_path):
    call_command("generate_ledger", issuances=10_000, participants=500, years=5, seed=7, stdout=io.StringIO())
    plan = Plan.objects.get(name="Generated Stock Incentive Plan")
    record_issuer(plan)
    result = export_plan(plan, tmp_path / "generated.ocf.zip")
    with zipfile.ZipFile(tmp_path / "generated.ocf.zip") as archive:
        archive.extractall(tmp_path / "generated")
    assert reference_errors(tmp_path / "generated", whole_files=False) == []
    assert result.counts["TX_STOCK_ISSUANCE"] == 10_000
    cancelled = Issuance.objects.filter(designation__plan=plan).cancelled().count()
    assert result.counts["TX_STOCK_CANCELLATION"] == result.counts["TX_STOCK_PLAN_RETURN_TO_POOL"] == cancelled
    transactions = items(tmp_path / "generated", "Transactions.ocf.json")
    dates = [tx["date"] for tx in transactions]
    assert dates == sorted(dates)  # the order of the ledger
    issued = sum(int(tx["quantity"]) for tx in transactions if tx["object_type"] == "TX_STOCK_ISSUANCE")
    returned = sum(int(tx["quantity"]) for tx in transactions if tx["object_type"] == "TX_STOCK_CANCELLATION")
    plan.refresh_from_db()
    assert issued - returned == plan.issued_shares


# --- the round trip --------------------------------------------------------------------------------------------------


def _files(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


def _without_generation_time(files: dict[str, bytes]) -> dict:
    manifest = json.loads(files["Manifest.ocf.json"])
    assert manifest.pop("generated_at")
    return {**files, "Manifest.ocf.json": manifest}


def _empty_the_database() -> None:
    """Everything goes, as in a new database (flush keeps the append-only triggers; see plan_admin.db.sqlite3)."""
    call_command("flush", interactive=False, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_round_trip_of_the_demo_ledger_is_identical(tmp_path):
    factories.board_group()  # an earlier transactional test's flush removed the role groups
    call_command("load_reference_plan", stdout=io.StringIO())
    original = Plan.objects.get()
    with tomorrow():  # today's issuances become history entered from records the next day
        first = export_plan(original, tmp_path / "first")
        _empty_the_database()
        assert Plan.objects.count() == 0
        clerk = get_user_model().objects.create_user("clerk")
        report = import_package(tmp_path / "first", by=clerk)
        assert report.ok, "\n".join(report.lines())
        plan = report.plan
        second = export_plan(plan, tmp_path / "second")
    assert _without_generation_time(_files(tmp_path / "second")) == _without_generation_time(_files(tmp_path / "first"))
    assert first.files == second.files | {"Manifest.ocf.json": first.files["Manifest.ocf.json"]}
    assert reconcile(plan=plan).ok
    plan.refresh_from_db()
    assert plan.ledger_start_date == timezone.localdate() + datetime.timedelta(days=1)
    assert (plan.authorized_shares, plan.issued_shares, plan.committed_shares) == (
        original.authorized_shares,
        original.issued_shares,
        original.committed_shares,
    )
    # Everything entered waits for a board member's confirmation, as history entered from records does.
    assert RecordConfirmation.objects.count() == 0
    assert Issuance.objects.filter(entered_from_records=True).count() == Issuance.objects.count() == 9
    debt = Issuance.objects.get(kind=Issuance.Kind.DEBT_SETTLEMENT)
    assert (debt.debt_amount, debt.debt_reference) == (Decimal("45000.00"), "Invoices HE-118 to HE-124")


@pytest.mark.django_db(transaction=True)
def test_round_trip_of_a_generated_ledger_is_identical(tmp_path):
    factories.board_group()  # an earlier transactional test's flush removed the role groups
    call_command("generate_ledger", issuances=1_000, participants=100, years=4, seed=3, stdout=io.StringIO())
    plan = Plan.objects.get()
    record_issuer(plan)
    with tomorrow():
        export_plan(plan, tmp_path / "first.ocf.zip")
        _empty_the_database()
        report = import_package(tmp_path / "first.ocf.zip", by=None)
        assert report.ok, "\n".join(report.lines())
        export_plan(report.plan, tmp_path / "second.ocf.zip")
    for name in ("first", "second"):
        with zipfile.ZipFile(tmp_path / f"{name}.ocf.zip") as archive:
            archive.extractall(tmp_path / name)
    assert _without_generation_time(_files(tmp_path / "second")) == _without_generation_time(_files(tmp_path / "first"))
    assert reconcile(plan=report.plan).ok


# --- import: refusals, each naming its object, nothing written -------------------------------------------------------


@pytest.fixture
def exported_demo(demo, tmp_path):
    with tomorrow():
        export_plan(demo, tmp_path / "demo")
    return tmp_path / "demo"


def _refused(path, **options):
    before = factories.ledger_snapshot()
    with tomorrow():
        report = import_package(path, by=None, plan_name="Imported", **options)
    assert not report.ok and not report.committed and report.plan is None
    assert factories.ledger_snapshot() == before, "a refused import wrote to the ledger"
    return "\n".join(report.errors)


def test_a_missing_required_field_is_refused_with_the_field_named(exported_demo):
    def drop(document):
        del document["items"][0]["stakeholder_type"]

    rewrite(exported_demo, "Stakeholders.ocf.json", drop)
    errors = _refused(exported_demo)
    assert "(Stakeholders.ocf.json item 0): stakeholder_type: is required" in errors


def test_a_wrong_enum_is_refused_with_the_field_named(exported_demo):
    def person(document):
        document["items"][1]["stakeholder_type"] = "PERSON"

    rewrite(exported_demo, "Stakeholders.ocf.json", person)
    errors = _refused(exported_demo)
    assert 'stakeholder_type: "PERSON" is not one of INDIVIDUAL, INSTITUTION' in errors
    assert "(Stakeholders.ocf.json item 1)" in errors


def test_a_file_changed_after_export_is_refused_by_its_md5(exported_demo):
    path = exported_demo / "Transactions.ocf.json"
    path.write_bytes(path.read_bytes().replace(b'"quantity": "200000"', b'"quantity": "200001"', 1))
    errors = _refused(exported_demo)
    assert "Transactions.ocf.json: its md5 is" in errors and "changed or damaged" in errors


def _plan_package(directory: Path, transactions: list[dict], *, reserve="1000000") -> Path:
    """A small foreign package: one plan, one common class, two employees, and `transactions`."""
    return write_package(
        directory,
        {
            "stock_classes_files": {
                "file_type": "OCF_STOCK_CLASSES_FILE",
                "items": [
                    {
                        "object_type": "STOCK_CLASS",
                        "id": "common",
                        "name": "Common Stock",
                        "class_type": "COMMON",
                        "default_id_prefix": "CS-",
                        "initial_shares_authorized": "50000000",
                        "votes_per_share": "1",
                        "seniority": "1",
                        "par_value": {"amount": "0.001", "currency": "USD"},
                    }
                ],
            },
            "stock_plans_files": {
                "file_type": "OCF_STOCK_PLANS_FILE",
                "items": [
                    {
                        "object_type": "STOCK_PLAN",
                        "id": "plan",
                        "plan_name": "2020 Equity Plan",
                        "board_approval_date": "2020-01-10",
                        "initial_shares_reserved": reserve,
                        "stock_class_ids": ["common"],
                    }
                ],
            },
            "stakeholders_files": {
                "file_type": "OCF_STAKEHOLDERS_FILE",
                "items": [
                    {
                        "object_type": "STAKEHOLDER",
                        "id": "ann",
                        "name": {"legal_name": "Ann Lee"},
                        "stakeholder_type": "INDIVIDUAL",
                        "current_relationship": "EMPLOYEE",
                    },
                    {
                        "object_type": "STAKEHOLDER",
                        "id": "bo",
                        "name": {"legal_name": "Bo Chen"},
                        "stakeholder_type": "INDIVIDUAL",
                        "current_relationship": "ADVISOR",
                    },
                ],
            },
            "transactions_files": {"file_type": "OCF_TRANSACTIONS_FILE", "items": transactions},
        },
    )


def _issuance(tx_id, stakeholder, quantity, date="2021-03-01", approved="2021-02-01", **extra):
    return {
        "object_type": "TX_STOCK_ISSUANCE",
        "id": tx_id,
        "security_id": f"sec-{tx_id}",
        "custom_id": tx_id,
        "date": date,
        "stakeholder_id": stakeholder,
        "stock_class_id": "common",
        "stock_plan_id": "plan",
        "share_price": {"amount": "0.10", "currency": "USD"},
        "quantity": quantity,
        "board_approval_date": approved,
        "security_law_exemptions": [],
        "stock_legend_ids": [],
        **extra,
    }


@pytest.mark.django_db
def test_a_package_that_over_issues_the_plan_is_refused_with_nothing_written(tmp_path):
    package = _plan_package(
        tmp_path / "over",
        [
            _issuance("first", "ann", "600000"),
            _issuance("second", "bo", "600000", date="2021-04-01", approved="2021-03-15"),
        ],
    )
    errors = _refused(package, effective_date=datetime.date(2020, 1, 10))
    assert "StockIssuance second" in errors and "would over-commit the plan" in errors
    assert "400,000 remain" in errors
    assert Plan.objects.count() == 0


@pytest.mark.django_db
def test_a_package_that_issues_more_than_a_designation_is_refused_naming_the_issuance(demo, tmp_path):
    with tomorrow():
        export_plan(demo, tmp_path / "demo")

    def more(document):  # the ledger's first issuance: 200,000 of Dana Whitfield's 400,000 designated shares
        first = next(tx for tx in document["items"] if tx["object_type"] == "TX_STOCK_ISSUANCE")
        assert "Dana Whitfield for 400,000 shares" in first["comments"][0]
        first["quantity"] = "900000"

    rewrite(tmp_path / "demo", "Transactions.ocf.json", more)
    errors = _refused(tmp_path / "demo")
    assert "TX_STOCK_ISSUANCE" in errors and "would exceed Dana Whitfield's" in errors


@pytest.mark.django_db
def test_cancellations_of_more_than_was_issued_and_out_of_order_dates_are_refused(tmp_path):
    package = _plan_package(
        tmp_path / "bad",
        [
            _issuance("one", "ann", "1000"),
            {
                "object_type": "TX_STOCK_CANCELLATION",
                "id": "too-many",
                "security_id": "sec-one",
                "date": "2021-05-01",
                "quantity": "2000",
                "reason_text": "Mistake",
            },
            _issuance("early", "bo", "1000", date="2021-01-15", approved="2021-02-01"),
        ],
    )
    errors = _refused(package, effective_date=datetime.date(2020, 1, 10))
    assert 'TX_STOCK_CANCELLATION "too-many"' in errors and "more than was issued" in errors
    assert 'TX_STOCK_ISSUANCE "early"' in errors and "before its decision" in errors


@pytest.mark.django_db
def test_transactions_dated_today_wait_for_tomorrow(tmp_path):
    today = timezone.localdate().isoformat()
    package = _plan_package(tmp_path / "today", [_issuance("now", "ann", "10", date=today, approved=today)])
    before = factories.ledger_snapshot()
    report = import_package(package, by=None, effective_date=datetime.date(2020, 1, 10))
    assert not report.ok and "may not be later than today" in report.errors[0]
    assert factories.ledger_snapshot() == before


@pytest.mark.django_db
def test_a_foreign_package_imports_with_one_designation_per_participant_and_year(tmp_path, staff_user):
    package = _plan_package(
        tmp_path / "ok",
        [
            _issuance("a1", "ann", "1000"),
            _issuance("a2", "ann", "500", date="2021-06-01", approved="2021-05-01"),
            {
                "object_type": "TX_STOCK_CANCELLATION",
                "id": "c1",
                "security_id": "sec-a1",
                "date": "2021-07-01",
                "quantity": "1000",
                "reason_text": "Wrong certificate",
            },
            {
                "object_type": "TX_STOCK_PLAN_RETURN_TO_POOL",
                "id": "r1",
                "security_id": "sec-a1",
                "date": "2021-07-01",
                "quantity": "1000",
                "reason_text": "Wrong certificate",
                "stock_plan_id": "plan",
            },
            {
                "object_type": "TX_STOCK_PLAN_POOL_ADJUSTMENT",
                "id": "up",
                "date": "2021-09-01",
                "stock_plan_id": "plan",
                "board_approval_date": "2021-09-01",
                "shares_reserved": "1500000",
            },
            _issuance("b1", "bo", "2000", date="2022-02-01", approved="2022-01-20"),
        ],
    )
    report = import_package(package, by=staff_user, effective_date=datetime.date(2020, 1, 10))
    assert report.ok, "\n".join(report.lines())
    plan = report.plan
    assert (plan.authorized_shares, plan.issued_shares) == (1_500_000, 2_500)
    ann = plan.designations.get(participant__name="Ann Lee")
    assert (ann.year, ann.shares, ann.decided_on) == (2021, 1_500, datetime.date(2021, 2, 1))
    assert ann.decision_source == "records" and ann.confirmation if hasattr(ann, "confirmation") else True
    assert any("approved by the board on 2 dates" in note for note in report.notes)
    assert Participant.objects.get(name="Bo Chen").category == Participant.Category.CONSULTANT
    assert plan.ledger_start_date == datetime.date(2022, 2, 2)
    assert reconcile(plan=plan).ok
    assert not RecordConfirmation.objects.exists()  # waiting for the board
    # It exports again, with the package's ids and its board approval dates.
    record_issuer(plan)
    export_plan(plan, tmp_path / "again")
    assert reference_errors(tmp_path / "again") == []
    again = {tx["id"]: tx for tx in items(tmp_path / "again", "Transactions.ocf.json")}
    assert set(again) == {"a1", "a2", "c1", "r1", "up", "b1"}
    assert again["a2"]["board_approval_date"] == "2021-05-01" and again["a2"]["security_id"] == "sec-a2"
    assert json.loads((tmp_path / "again" / "Manifest.ocf.json").read_text())["issuer"]["id"] == "issuer-1"


def _edit_board_record(directory: Path, change) -> None:
    """Change the board record of an exported package with `change(record)`, and the md5s that name it."""
    (path,) = (directory / "documents").glob("plan-admin-board-record-*.json")
    record = json.loads(path.read_bytes())
    change(record)
    path.write_text(json.dumps(record))
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    rewrite(
        directory,
        "Documents.ocf.json",
        lambda document: [item.update(md5=md5) for item in document["items"] if item["path"].endswith(path.name)],
    )


def test_debt_settlements_without_their_designations_import_against_debt_settlement_designations(exported_demo):
    """A board record that names each issuance's kind and debt but not the designations (as a package of a plan
    that was itself imported from OCF): each participant's debt settlements of a year are issued against one
    designation for those debts, at the lowest price among them, so that the services accept them."""
    _edit_board_record(exported_demo, lambda record: record.update(designations=[]))
    with tomorrow():
        report = import_package(exported_demo, by=None, plan_name="Imported")
    assert report.ok, "\n".join(report.lines())
    settled = Issuance.objects.filter(designation__plan=report.plan, kind=Issuance.Kind.DEBT_SETTLEMENT)
    assert settled.exists(), "the demo ledger has debt settlements"
    for issuance in settled:
        designation = issuance.designation
        assert designation.is_debt_settlement and designation.consideration_finding
        assert designation.price_per_share <= issuance.price_per_share
        assert designation.debt_amount >= issuance.debt_amount
    assert reconcile(plan=report.plan).ok


def test_a_participants_year_mixing_debt_settlements_and_compensation_is_refused_naming_it(exported_demo):
    def mix(record):
        record.update(designations=[])
        by_designation = defaultdict(list)
        for entry in record["issuances"]:
            by_designation[entry["designation_id"]].append(entry)
        entries = next(
            group
            for group in by_designation.values()
            if len(group) > 1 and {entry["kind"] for entry in group} == {"compensation"}
        )
        entries[0].update(kind="debt_settlement", debt_amount="1000000.00", debt_reference="INV-MIX")

    _edit_board_record(exported_demo, mix)
    errors = _refused(exported_demo)
    assert "issuances mix debt settlements and compensation" in errors, errors


# --- the official samples ----------------------------------------------------------------------------------------


def _samples_copy(tmp_path) -> Path:
    target = tmp_path / "samples"
    shutil.copytree(SAMPLES, target)
    return target


def _fix_md5s(directory: Path) -> None:
    manifest_path = directory / "Manifest.ocf.json"
    manifest = json.loads(manifest_path.read_text())
    for key, entries in manifest.items():
        if key.endswith("_files"):
            for entry in entries:
                entry["md5"] = hashlib.md5((directory / entry["filepath"]).read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))


@pytest.mark.django_db
def test_the_samples_as_published_are_refused_clearly(tmp_path):
    """Their manifest's md5s are dummies (it says so), and they hold options, warrants, convertibles, vesting..."""
    errors = _refused(_samples_copy(tmp_path))
    assert "StockPlans.ocf.json: its md5 is" in errors
    assert 'TX_ISSUER_AUTHORIZED_SHARES_ADJUSTMENT "test-issuer-level-share-adjustment-minimal"' in errors
    assert "may not hold this object" in errors
    for what in (
        "TX_WARRANT_ISSUANCE (warrants)",
        "TX_CONVERTIBLE_ISSUANCE (convertibles)",
        "TX_EQUITY_COMPENSATION_ISSUANCE (options and other equity compensation)",
        "TX_VESTING_START (vesting)",
        "VESTING_TERMS (vesting)",
        "VALUATION (valuations)",
    ):
        assert "plan-admin does not hold" in errors and what in errors, what


@pytest.mark.django_db
def test_the_samples_with_what_plan_admin_does_not_hold_skipped_import_the_plan_and_list_the_rest(tmp_path):
    """The sample transactions are shapes rather than a ledger: none is issued under the sample stock plan. Skipping
    what plan-admin does not hold imports what fits (the plan, its class, its one employee) and lists the rest."""
    directory = _samples_copy(tmp_path)
    transactions = json.loads((directory / "Transactions.ocf.json").read_text())
    transactions["items"] = [
        tx for tx in transactions["items"] if tx["object_type"] != "TX_ISSUER_AUTHORIZED_SHARES_ADJUSTMENT"
    ]
    (directory / "Transactions.ocf.json").write_text(json.dumps(transactions))
    _fix_md5s(directory)
    with tomorrow():
        report = import_package(directory, by=None, skip_unsupported=True)
    assert report.ok, "\n".join(report.lines())
    skipped = "\n".join(report.skipped)
    assert 'TX_WARRANT_ISSUANCE (warrants): "test-warrant-issuance-minimal"' in skipped
    assert (
        'TX_STOCK_ISSUANCE not issued under the stock plan "257e5da9-5268-465c-84be-f6d4d4703a9b": '
        '"test-stock-issuance-minimal"' in skipped
    )
    assert "TX_STOCK_PLAN_POOL_ADJUSTMENT of other stock plans" in skipped and '"increase_sop_pool"' in skipped
    plan = report.plan
    assert (plan.name, plan.authorized_shares, plan.issued_shares) == ("2021 Stock Incentive Plan", 10_000_000, 0)
    assert list(Participant.objects.values_list("name", flat=True)) == ["Person X"]


@pytest.mark.django_db
def test_the_samples_import_where_they_fit(tmp_path, staff_user):
    """The sample issuer, stock plan, classes and stakeholders, with the sample stock issuance and pool adjustment
    pointed at them (the samples' own ids point at objects the samples do not have)."""
    read = lambda name: json.loads((SAMPLES / name).read_text())  # noqa: E731
    samples = {tx["id"]: tx for tx in read("Transactions.ocf.json")["items"]}
    plan_id = "257e5da9-5268-465c-84be-f6d4d4703a9b"
    issuance = {
        **samples["test-stock-issuance-minimal"],
        "stakeholder_id": "stakeholder-sample-individual-all-fields",
        "stock_class_id": "8d8371e8-d41d-4a49-9f42-b91758fd155d",
        "stock_plan_id": plan_id,
        "board_approval_date": "2022-01-15",
    }
    adjustment = {**samples["increase_sop_pool"], "stock_plan_id": plan_id}
    package = write_package(
        tmp_path / "fit",
        {
            "stock_classes_files": read("StockClasses.ocf.json"),
            "stock_plans_files": read("StockPlans.ocf.json"),
            "stakeholders_files": read("Stakeholders.ocf.json"),
            "stock_legend_templates_files": read("StockLegends.ocf.json"),
            "transactions_files": {"file_type": "OCF_TRANSACTIONS_FILE", "items": [issuance, adjustment]},
        },
        issuer=read("Manifest.ocf.json")["issuer"],
        comments=["This is an optional comment"],
    )
    with tomorrow():
        report = import_package(package, by=staff_user, effective_date=datetime.date(2021, 1, 1))
    assert report.ok, "\n".join(report.lines())
    plan = report.plan
    assert (plan.name, plan.company_name, plan.par_value) == (
        "2021 Stock Incentive Plan",
        "ACME Industries",
        Decimal("0.0001"),
    )
    assert (plan.authorized_shares, plan.issued_shares) == (100_000_000, 1_000)
    assert list(Participant.objects.values_list("name", "category")) == [("Person X", "key_employee")]
    skipped = "\n".join(report.skipped)
    assert "Series Seed Preferred" not in skipped and "cc775778" in skipped  # the other class, listed
    assert "stakeholder-sample-institution-all-fields" in skipped  # an investor: no participant of the plan
    # Exported again, what plan-admin does not hold itself comes back as it came in.
    with tomorrow():
        export_plan(plan, tmp_path / "again")
    assert reference_errors(tmp_path / "again") == []
    manifest = json.loads((tmp_path / "again" / "Manifest.ocf.json").read_text())
    assert manifest["issuer"]["tax_ids"] == [{"tax_id": "34-2345123", "country": "US"}]
    assert manifest["comments"][0] == "This is an optional comment"
    (person,) = items(tmp_path / "again", "Stakeholders.ocf.json")
    assert person["id"] == "stakeholder-sample-individual-all-fields"
    assert person["tax_ids"] == [{"tax_id": "256-33-1234", "country": "US"}] and len(person["addresses"]) == 2
    assert items(tmp_path / "again", "StockLegends.ocf.json") == read("StockLegends.ocf.json")["items"]


@pytest.mark.django_db
def test_a_partial_sample_cancellation_is_refused(tmp_path):
    sample = next(
        tx
        for tx in json.loads((SAMPLES / "Transactions.ocf.json").read_text())["items"]
        if tx["id"] == "test-stock-cancellation-minimal"
    )
    package = _plan_package(
        tmp_path / "partial", [_issuance("one", "ann", "1000"), {**sample, "security_id": "sec-one"}]
    )
    errors = _refused(package, effective_date=datetime.date(2020, 1, 10))
    assert 'TX_STOCK_CANCELLATION "test-stock-cancellation-minimal"' in errors and "partial cancellation" in errors


@pytest.mark.django_db
def test_unsupported_objects_are_listed_and_skipped_only_when_asked(tmp_path):
    warrant = {
        "object_type": "TX_VESTING_START",
        "id": "v1",
        "security_id": "sec-one",
        "date": "2021-03-01",
        "vesting_condition_id": "start",
    }
    package = _plan_package(tmp_path / "mixed", [_issuance("one", "ann", "1000"), warrant])
    errors = _refused(package, effective_date=datetime.date(2020, 1, 10))
    assert 'plan-admin does not hold 1 TX_VESTING_START (vesting): "v1"' in errors
    with tomorrow():
        report = import_package(package, by=None, skip_unsupported=True, effective_date=datetime.date(2020, 1, 10))
    assert report.ok, "\n".join(report.lines())
    assert any('TX_VESTING_START (vesting): "v1"' in line and "skipped" in line for line in report.skipped)
    assert report.plan.issued_shares == 1_000


# --- commands, the download and the admin's import -----------------------------------------------------------------


def test_export_and_import_commands(demo, tmp_path):
    out = io.StringIO()
    with tomorrow():
        call_command("export_ocf", plan=demo.pk, out=str(tmp_path / "plan.ocf.zip"), stdout=out)
        assert "every object validates" in out.getvalue()
        out = io.StringIO()
        call_command("import_ocf", str(tmp_path / "plan.ocf.zip"), plan_name="Copy", dry_run=True, stdout=out)
    assert "Dry run: nothing was written." in out.getvalue()
    assert not Plan.objects.filter(name="Copy").exists()
    with pytest.raises(CommandError, match="refused"):
        call_command("import_ocf", str(tmp_path / "plan.ocf.zip"), plan_name="Copy", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not empty"):
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "x").write_text("x")
        call_command("export_ocf", plan=demo.pk, out=str(tmp_path / "full"), stdout=io.StringIO())


@pytest.mark.parametrize("role", ["board_member", "staff_user", "auditor"])
def test_the_plan_page_downloads_the_package(role, request, plan):
    record_issuer(plan)
    client = Client()
    client.force_login(request.getfixturevalue(role))
    page = client.get(reverse("plan-detail", args=[plan.pk]))
    assert reverse("plan-ocf-export", args=[plan.pk]).encode() in page.content
    response = client.get(reverse("plan-ocf-export", args=[plan.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert json.loads(archive.read("Manifest.ocf.json"))["issuer"]["legal_name"] == plan.company_name


def test_the_download_needs_the_export_permission(plan):
    record_issuer(plan)
    viewer = get_user_model().objects.create_user("viewer", password=factories.PASSWORD)
    viewer.user_permissions.add(Permission.objects.get(codename="view_plan"))
    client = Client()
    client.force_login(viewer)
    assert client.get(reverse("plan-detail", args=[plan.pk])).status_code == 200
    assert client.get(reverse("plan-ocf-export", args=[plan.pk])).status_code == 403


def test_the_download_says_what_is_missing(plan, auditor):
    client = Client()
    client.force_login(auditor)
    response = client.get(reverse("plan-ocf-export", args=[plan.pk]))
    assert response.status_code == 409 and b"date and country of formation" in response.content


def test_the_admin_import_previews_then_imports_all_or_nothing(tmp_path, staff_user, board_member):
    package = _plan_package(tmp_path / "pkg", [_issuance("one", "ann", "1000")])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in package.iterdir():
            archive.write(path, path.name)
    url = reverse("admin:plan_admin_plan_import_ocf")
    board = Client()
    board.force_login(board_member)
    assert board.get(url).status_code == 403
    client = Client()
    upload = io.BytesIO(buffer.getvalue())
    upload.name = "pkg.zip"
    before = factories.ledger_snapshot()
    with tomorrow():
        client.force_login(staff_user)
        preview = client.post(
            url, {"action": "preview", "file": upload, "effective_date": "2020-01-10", "plan_name": "Imported plan"}
        )
        assert preview.status_code == 200, preview.content
        assert b"Preview: ready to import" in preview.content
        assert factories.ledger_snapshot() == before  # a preview writes nothing
        token = preview.context["token"]
        done = client.post(
            url,
            {
                "action": "confirm",
                "token": token,
                "effective_date": "2020-01-10",
                "plan_name": "Imported plan",
                "required_approvals": "",
                "skip_unsupported": "False",
            },
        )
    plan = Plan.objects.get(name="Imported plan")
    assert done.status_code == 302 and done["Location"] == reverse("admin:plan_admin_plan_change", args=[plan.pk])
    assert plan.issued_shares == 1_000
    assert OcfObject.objects.filter(plan=plan, kind="issuance", ocf_id="one").exists()


def test_the_admin_import_shows_every_refusal(tmp_path, staff_user):
    package = _plan_package(tmp_path / "pkg", [_issuance("big", "ann", "2000000")])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in package.iterdir():
            archive.write(path, f"pkg/{path.name}")  # a zip of the folder
    upload = io.BytesIO(buffer.getvalue())
    upload.name = "pkg.zip"
    client = Client()
    before = factories.ledger_snapshot()
    with tomorrow():
        client.force_login(staff_user)
        response = client.post(
            reverse("admin:plan_admin_plan_import_ocf"),
            {"action": "preview", "file": upload, "effective_date": "2020-01-10"},
        )
    assert b"nothing was imported" in response.content and b"StockIssuance big" in response.content
    assert factories.ledger_snapshot() == before


def test_issuer_details_are_recorded_by_the_superuser(plan, superuser, staff_user):
    url = reverse("admin:plan_admin_plan_ocf_issuer", args=[plan.pk])
    staff = Client()
    staff.force_login(staff_user)
    assert staff.get(url).status_code == 403
    client = Client()
    client.force_login(superuser)
    response = client.post(url, {"formation_date": "1988-06-01", "country_of_formation": "1a"})
    assert response.status_code == 200 and b"two-letter ISO code" in response.content
    response = client.post(
        url,
        {
            "formation_date": "1988-06-01",
            "country_of_formation": "us",
            "country_subdivision": "nv",
            "class_authorized_shares": "50000000",
        },
    )
    assert response.status_code == 302
    row = OcfObject.objects.filter(plan=plan, kind="issuer").get()
    assert row.data == {
        "formation_date": "1988-06-01",
        "country_of_formation": "US",
        "country_subdivision_of_formation": "NV",
    }
    assert services  # the ledger's own services are untouched by these details
