"""Import an OCF 1.2.0 package by replaying it through the services, as history entered from records.

    report = import_package("plan.ocf.zip", plan_name="2002 Stock Incentive Plan", by=user, commit=False)  # preview
    report = import_package("plan.ocf.zip", plan_name="2002 Stock Incentive Plan", by=user)               # for real

1. Read: the manifest, and every file it lists, each checked against its md5.
2. Validate: every file and every object against the official schemas (ocf_schema); each error names the file,
   the object and the field.
3. Fit: objects plan-admin does not hold (options and other equity compensation, warrants, convertibles, vesting,
   valuations, financings, transfers, repurchases...) are refused in one list, or, with `skip_unsupported`,
   skipped and listed. The package's stock plan (exactly one, or `stock_plan`), its class, and the transactions of
   that plan are checked against what plan-admin records (whole shares, dollars, full cancellations that return to
   the pool, stakeholders who are key employees, consultants or directors...).
4. Replay, in ONE transaction, in the order of the ledger (date; on one day: reserve increases, year closings and
   lapses, designations, issuances, cancellations, reserve decreases): services.plan_create (the StockPlan, its
   initial reserve, and a ledger start date the day after the last replayed event, which may not be in the
   future), participant_create, past_reserve_change_record, past_designation_record, issuance_record_many and
   issuance_cancel with `from_records=True`, plan_year_close and designation_lapse. Every refusal is collected,
   naming the OCF object; the replay goes on without the refused object (and what depends on it) so that one run
   lists them all. Then, unless `commit` is true and nothing was refused, everything is rolled back.

OCF has no designations. A package exported by plan-admin carries its board record (board_record.py): the replay
enters its decided designations, lapses and year closings as they were. Otherwise each participant's issuances of
one year are issued against one designation entered from records for that year, decided on the earliest board
approval date of those issuances, for the most shares they ever held at once. Everything entered waits on the
board's page for a board member's confirmation, as history entered from records always does.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import formatting as fmt
from .. import services
from ..exceptions import BatchRefused
from ..models import BoardDesignation, OcfObject, Plan
from ..reconcile import reconcile
from . import board_record, ocf_schema
from .ocf_ids import GENERATED_PREFIX, Kind, category_of, own_comments
from .package import PackageError, PackageReader, resolve

FILE_KEYS = {
    "stock_plans_files": "OCF_STOCK_PLANS_FILE",
    "stock_legend_templates_files": "OCF_STOCK_LEGEND_TEMPLATES_FILE",
    "stock_classes_files": "OCF_STOCK_CLASSES_FILE",
    "vesting_terms_files": "OCF_VESTING_TERMS_FILE",
    "valuations_files": "OCF_VALUATIONS_FILE",
    "transactions_files": "OCF_TRANSACTIONS_FILE",
    "stakeholders_files": "OCF_STAKEHOLDERS_FILE",
    "financings_files": "OCF_FINANCINGS_FILE",
    "documents_files": "OCF_DOCUMENTS_FILE",
}
HELD = {
    "STOCK_CLASS",
    "STOCK_PLAN",
    "STAKEHOLDER",
    "STOCK_LEGEND_TEMPLATE",
    "DOCUMENT",
    "TX_STOCK_ISSUANCE",
    "TX_STOCK_CANCELLATION",
    "TX_STOCK_PLAN_RETURN_TO_POOL",
    "TX_STOCK_PLAN_POOL_ADJUSTMENT",
}
MAX_LISTED = 50

# Replay order on one day.
PHASE = {"reserve+": 0, "closing": 1, "lapse": 1, "designation": 2, "issuance": 3, "cancellation": 4, "reserve-": 5}


def what_it_is(object_type: str) -> str:
    """Why plan-admin does not hold an object, in words."""
    if object_type.startswith(("TX_EQUITY_COMPENSATION", "TX_PLAN_SECURITY")):
        return "options and other equity compensation"
    if object_type.startswith("TX_WARRANT"):
        return "warrants"
    if object_type.startswith("TX_CONVERTIBLE"):
        return "convertibles"
    if object_type.startswith("TX_VESTING") or object_type == "VESTING_TERMS":
        return "vesting"
    if object_type == "VALUATION":
        return "valuations"
    if object_type == "FINANCING":
        return "financings"
    if object_type.startswith(("TX_STOCK_CLASS", "TX_ISSUER")):
        return "changes to the company's stock classes and authorized shares"
    return "stock transactions other than issuances, cancellations and pool adjustments of the plan"


@dataclass
class Located:
    obj: dict
    file: str
    index: int

    @property
    def name(self) -> str:
        return f"{ocf_schema.name_of(self.obj)} ({self.file} item {self.index})"

    @property
    def id(self) -> str:
        return self.obj.get("id", "")


@dataclass
class ImportReport:
    package: str = ""
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    plan: Plan | None = None
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        out = []
        if self.errors:
            out.append(f"Refused: {len(self.errors):,} problem(s); nothing was imported.")
            out += [f"  - {error}" for error in self.errors]
        if self.skipped:
            out.append("Not imported:")
            out += [f"  - {line}" for line in self.skipped]
        if self.notes:
            out.append("Notes:")
            out += [f"  - {line}" for line in self.notes]
        if self.done and not self.errors:
            out.append("Imported:" if self.committed else "Would import (nothing written yet):")
            out += [f"  - {line}" for line in self.done]
        return out


class Refused(Exception):
    """Stop reading: what is in report.errors already says why."""


def _whole(value, *, what: str) -> int:
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError):
        raise ValueError(f"{what} {value!r} is not a number") from None
    if number != number.to_integral_value():
        raise ValueError(f"{what} {value} is not a whole number of shares")
    return int(number)


def _dollars(monetary, *, what: str, places: int = 6) -> Decimal:
    if monetary.get("currency") != "USD":
        raise ValueError(f"{what} is in {monetary.get('currency')}: plan-admin records dollars (USD)")
    amount = Decimal(monetary["amount"])
    if amount.as_tuple().exponent < -places and amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"{what} {monetary['amount']} has more than {places} decimal places")
    return amount


def _day(text) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if isinstance(text, str) and text else None


def _debt_terms(entry: dict) -> dict:
    """A board-record designation's kind and debt terms, as the services take them (they check the values)."""
    kind = entry.get("kind") or "compensation"
    if kind == "compensation":
        return {}
    return {
        "debt_terms": {
            "kind": kind,
            "debt_amount": entry.get("debt_amount"),
            "debt_reference": entry.get("debt_reference") or "",
            "price_per_share": entry.get("price_per_share"),
        }
    }


def _strip(obj: dict, derived: set[str]) -> dict:
    kept = {key: value for key, value in obj.items() if key not in derived and key != "comments"}
    comments = own_comments(obj.get("comments"))
    if comments:
        kept["comments"] = comments
    return kept


def _notes(obj: dict) -> str:
    prefix = GENERATED_PREFIX + "Notes: "
    return "\n".join(
        text[len(prefix) :] for text in obj.get("comments", []) if isinstance(text, str) and text.startswith(prefix)
    )


class _Import:
    def __init__(
        self,
        reader: PackageReader,
        report: ImportReport,
        *,
        plan_name,
        by,
        skip_unsupported,
        effective_date,
        required_approvals,
        stock_plan,
    ):
        self.reader = reader
        self.report = report
        self.plan_name = plan_name
        self.by = by
        self.skip_unsupported = skip_unsupported
        self.effective_date = effective_date
        self.required_approvals = required_approvals
        self.stock_plan_choice = stock_plan
        self.objects: dict[str, list[Located]] = defaultdict(list)
        self.contents: dict[str, bytes] = {}

    def error(self, text: str) -> None:
        self.report.errors.append(text)

    # --- 1 and 2: read and validate -------------------------------------------------------------------------------

    def read(self) -> None:
        manifest_name = self.reader.manifest_name
        try:
            self.manifest = json.loads(self.reader.read(manifest_name))
        except ValueError as error:
            self.error(f"{manifest_name}: not valid JSON ({error}).")
            raise Refused from None
        errors = ocf_schema.wrapper_errors(self.manifest, expected_file_type="OCF_MANIFEST_FILE")
        if errors:
            self.report.errors += [f"{manifest_name}: {error}" for error in errors]
            raise Refused
        for key, file_type in FILE_KEYS.items():
            for entry in self.manifest.get(key, []):
                self._read_file(entry, file_type)

    def _read_file(self, entry: dict, file_type: str) -> None:
        try:
            name = resolve(self.reader.manifest_name, entry["filepath"])
            content = self.reader.read(name)
        except PackageError as error:
            self.error(str(error))
            return
        md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
        if md5.lower() != entry["md5"].lower():
            self.error(
                f"{name}: its md5 is {md5}, the manifest says {entry['md5']}: the file was changed or damaged "
                "since the package was made."
            )
        try:
            document = json.loads(content)
        except ValueError as error:
            self.error(f"{name}: not valid JSON ({error}).")
            return
        errors = ocf_schema.wrapper_errors(document, expected_file_type=file_type)
        if errors:
            self.report.errors += [f"{name}: {error}" for error in errors]
            return
        for index, obj in enumerate(document["items"]):
            located = Located(obj, name, index)
            if not ocf_schema.item_allowed(file_type, obj):
                self.error(f"{located.name}: an {file_type} may not hold this object in OCF {ocf_schema.OCF_VERSION}.")
                continue
            errors = ocf_schema.check_object(obj)
            if errors:
                self.report.errors += [f"{located.name}: {error}" for error in errors]
                continue
            self.objects[obj["object_type"]].append(located)

    # --- 3: what fits -------------------------------------------------------------------------------------------

    def _unsupported(self, what: str, located: list[Located]) -> None:
        if not located:
            return
        ids = ", ".join(json.dumps(item.id) for item in located[:MAX_LISTED])
        more = f" and {len(located) - MAX_LISTED:,} more" if len(located) > MAX_LISTED else ""
        line = f"{len(located):,} {what}: {ids}{more}"
        if self.skip_unsupported:
            self.report.skipped.append(line + " (skipped: --skip-unsupported)")
        else:
            self.error(
                f"plan-admin does not hold {line}. Import without them with --skip-unsupported "
                '(the admin\'s "skip what plan-admin does not hold").'
            )

    def classify(self) -> None:
        by_reason: dict[str, list[Located]] = defaultdict(list)
        for object_type, located in sorted(self.objects.items()):
            if object_type not in HELD:
                by_reason[f"{object_type} ({what_it_is(object_type)})"] += located
        issuances = []
        for item in self.objects.get("TX_STOCK_ISSUANCE", []):
            if "vestings" in item.obj or "vesting_terms_id" in item.obj:
                by_reason["TX_STOCK_ISSUANCE with vesting (vesting)"].append(item)
            else:
                issuances.append(item)
        for reason, located in by_reason.items():
            self._unsupported(reason, located)

        plans = self.objects.get("STOCK_PLAN", [])
        if self.stock_plan_choice:
            plans = [item for item in plans if item.id == self.stock_plan_choice]
            if not plans:
                self.error(f"The package has no STOCK_PLAN {json.dumps(self.stock_plan_choice)}.")
                raise Refused
        if len(plans) != 1:
            listed = ", ".join(json.dumps(item.id) for item in self.objects.get("STOCK_PLAN", []))
            self.error(
                f"The package holds {len(plans)} stock plans ({listed or 'none'}): plan-admin imports one plan "
                "at a time; name it with --stock-plan."
                if plans
                else "The package holds no STOCK_PLAN: there is no plan to import."
            )
            raise Refused
        self.stock_plan = plans[0]
        plan_id = self.stock_plan.id

        outside = [item for item in issuances if item.obj.get("stock_plan_id") != plan_id]
        self.issuances = [item for item in issuances if item.obj.get("stock_plan_id") == plan_id]
        self._unsupported(f"TX_STOCK_ISSUANCE not issued under the stock plan {json.dumps(plan_id)}", outside)
        securities = {item.obj["security_id"]: item for item in self.issuances}
        dropped = {item.obj["security_id"] for item in issuances} - set(securities)
        self.cancellations, self.returns = [], []
        for object_type, target in (
            ("TX_STOCK_CANCELLATION", self.cancellations),
            ("TX_STOCK_PLAN_RETURN_TO_POOL", self.returns),
        ):
            skipped = []
            for item in self.objects.get(object_type, []):
                if item.obj["security_id"] in dropped or (
                    object_type == "TX_STOCK_PLAN_RETURN_TO_POOL"
                    and item.obj["stock_plan_id"] != plan_id
                    and item.obj["security_id"] not in securities
                ):
                    skipped.append(item)
                else:
                    target.append(item)
            if skipped:
                self._unsupported(f"{object_type} of securities that are not imported", skipped)
        adjustments = self.objects.get("TX_STOCK_PLAN_POOL_ADJUSTMENT", [])
        self.adjustments = [item for item in adjustments if item.obj["stock_plan_id"] == plan_id]
        self._unsupported(
            f"TX_STOCK_PLAN_POOL_ADJUSTMENT of other stock plans than {json.dumps(plan_id)}",
            [item for item in adjustments if item.obj["stock_plan_id"] != plan_id],
        )
        self.securities = securities

    # --- the board record, if the package has one ---------------------------------------------------------------

    def documents(self) -> None:
        self.kept_documents: list[tuple[Located, bytes | None]] = []
        self.record = {
            "designations": {},
            "issuances": {},
            "cancellations": {},
            "reserve_changes": {},
            "year_closings": {},
            "plan": None,
        }
        for item in self.objects.get("DOCUMENT", []):
            content = None
            path = item.obj.get("path")
            if isinstance(path, str):
                try:
                    name = resolve(self.reader.manifest_name, path)
                    if self.reader.exists(name):
                        content = self.reader.read(name)
                except PackageError as error:
                    self.error(f"{item.name}: {error}")
                    continue
            if content is not None:
                md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
                if md5.lower() != item.obj["md5"].lower():
                    self.error(f"{item.name}: its file's md5 is {md5}, the Document says {item.obj['md5']}.")
                    continue
                record = board_record.parse(content)
                if record is not None and record.get("stock_plan_id") == self.stock_plan.id:
                    self._take_record(record)
            self.kept_documents.append((item, content))

    def _take_record(self, record: dict) -> None:
        if isinstance(record.get("plan"), dict):
            self.record["plan"] = record["plan"]
        for section in ("designations", "issuances", "cancellations", "reserve_changes", "year_closings"):
            for entry in record.get(section) or []:
                if isinstance(entry, dict) and entry.get("id"):
                    self.record[section][entry["id"]] = entry

    # --- checks of fit, naming each object ----------------------------------------------------------------------

    def check(self) -> None:
        plan_obj = self.stock_plan.obj
        class_ids = plan_obj.get("stock_class_ids") or [plan_obj.get("stock_class_id")]
        classes = {item.id: item for item in self.objects.get("STOCK_CLASS", [])}
        if len(class_ids) != 1 or class_ids[0] not in classes:
            self.error(
                f"{self.stock_plan.name}: plan-admin's plan has one class of stock, in the package's "
                f"STOCK_CLASS objects; this plan names {', '.join(map(json.dumps, class_ids))}."
            )
            raise Refused
        self.stock_class = classes[class_ids[0]]
        others = [item for item in classes.values() if item is not self.stock_class]
        if others:
            self.report.skipped.append(
                f"{len(others):,} other STOCK_CLASS (not the plan's): "
                + ", ".join(json.dumps(item.id) for item in others)
            )
        if "par_value" not in self.stock_class.obj:
            self.error(f"{self.stock_class.name}: par_value is required by plan-admin (no share is issued below par).")
        else:
            try:
                self.par_value = _dollars(self.stock_class.obj["par_value"], what="par_value")
            except ValueError as error:
                self.error(f"{self.stock_class.name}: {error}.")
        try:
            self.initial_reserve = _whole(plan_obj["initial_shares_reserved"], what="initial_shares_reserved")
            if self.initial_reserve < 1:
                raise ValueError("initial_shares_reserved must be at least one share")
        except ValueError as error:
            self.error(f"{self.stock_plan.name}: {error}.")
        if not plan_obj.get("board_approval_date"):
            self.error(
                f"{self.stock_plan.name}: board_approval_date is required by plan-admin (the date the board "
                "authorized the plan's initial reserve)."
            )
        self.plan_terms = self.record["plan"] or {}
        if self.plan_terms.get("termination_date"):
            self.error(
                f"{self.stock_plan.name}: the board record says the plan was terminated on "
                f"{self.plan_terms['termination_date']}; plan-admin cannot enter a past termination from "
                "records (the board decides a termination by its votes in plan-admin)."
            )
        effective = _day(self.plan_terms.get("effective_date")) or self.effective_date
        if effective is None and self.issuances:
            self.error(
                f"{self.stock_plan.name}: OCF has no field for the plan's effective date, and the package does "
                "not say it: give it (--effective-date); no share is issued before it."
            )
        self.effective = effective

        stakeholders = {item.id: item for item in self.objects.get("STAKEHOLDER", [])}
        self.stakeholders = stakeholders
        self.participant_of: dict[str, object] = {}
        holders = {item.obj["stakeholder_id"] for item in self.issuances}
        holders |= {entry.get("stakeholder_id") for entry in self.record["designations"].values()}
        for item in self.issuances:
            if item.obj["stakeholder_id"] not in stakeholders:
                self.error(
                    f"{item.name}: stakeholder_id {json.dumps(item.obj['stakeholder_id'])} is not a "
                    "STAKEHOLDER of the package."
                )
        not_imported = []
        self.categories = {}
        for stakeholder_id, item in stakeholders.items():
            category = category_of(item.obj.get("current_relationship"))
            if category is None:
                if stakeholder_id in holders:
                    self.error(
                        f"{item.name}: holds shares under the plan, but its relationship to the company "
                        f"({item.obj.get('current_relationship', 'not given')}) is none of the plan's "
                        "participants (key employees, consultants, non-employee directors)."
                    )
                else:
                    not_imported.append(item)
                continue
            self.categories[stakeholder_id] = category
        if not_imported:
            self.report.skipped.append(
                f"{len(not_imported):,} STAKEHOLDER who hold nothing under the plan and are none of its participant "
                "categories: " + ", ".join(json.dumps(item.id) for item in not_imported)
            )

        self.issuance_values = {}
        seen_security = set()
        for item in self.issuances:
            obj = item.obj
            try:
                if obj["stock_class_id"] != self.stock_class.id:
                    raise ValueError(f"stock_class_id {json.dumps(obj['stock_class_id'])} is not the plan's class")
                if obj["security_id"] in seen_security:
                    raise ValueError(f"security_id {json.dumps(obj['security_id'])} is used by another issuance")
                seen_security.add(obj["security_id"])
                quantity = _whole(obj["quantity"], what="quantity")
                price = _dollars(obj["share_price"], what="share_price")
                self.issuance_values[item.id] = (quantity, price)
            except (ValueError, InvalidOperation) as error:
                self.error(f"{item.name}: {error}.")

        behavior = plan_obj.get("default_cancellation_behavior")
        returns = {(item.obj["security_id"]): item for item in self.returns}
        self.cancellation_of: dict[str, Located] = {}
        for item in self.cancellations:
            obj = item.obj
            issuance = self.securities.get(obj["security_id"])
            if issuance is None:
                self.error(
                    f"{item.name}: security_id {json.dumps(obj['security_id'])} is no TX_STOCK_ISSUANCE of the "
                    "plan in the package."
                )
                continue
            if obj["security_id"] in self.cancellation_of:
                self.error(f"{item.name}: the security {json.dumps(obj['security_id'])} is cancelled twice.")
                continue
            try:
                quantity = _whole(obj["quantity"], what="quantity")
            except ValueError as error:
                self.error(f"{item.name}: {error}.")
                continue
            issued = self.issuance_values.get(issuance.id, (None,))[0]
            if issued is not None and quantity > issued:
                self.error(
                    f"{item.name}: cancels {fmt.shares(quantity)} shares of an issuance of "
                    f"{fmt.shares(issued)}: more than was issued."
                )
                continue
            if (issued is not None and quantity != issued) or obj.get("balance_security_id"):
                self.error(
                    f"{item.name}: a partial cancellation ({fmt.shares(quantity)} of {fmt.shares(issued or 0)} "
                    "shares); plan-admin cancels an issuance in full and records the shares to keep as a new "
                    "issuance."
                )
                continue
            to_pool = returns.pop(obj["security_id"], None)
            if to_pool is None and behavior not in (None, "RETURN_TO_POOL"):
                self.error(
                    f"{item.name}: the shares are not returned to the pool (the plan's cancellation behavior is "
                    f"{behavior}); plan-admin returns every cancelled share to the plan's pool."
                )
                continue
            if to_pool is not None and (
                to_pool.obj["quantity"] != obj["quantity"] or to_pool.obj["date"] != obj["date"]
            ):
                self.error(
                    f"{to_pool.name}: returns {to_pool.obj['quantity']} shares on {to_pool.obj['date']} for a "
                    f"cancellation of {obj['quantity']} on {obj['date']}: plan-admin returns exactly what a "
                    "cancellation frees, on its date."
                )
                continue
            self.cancellation_of[obj["security_id"]] = item
            item.to_pool = to_pool
        for leftover in returns.values():
            self.error(
                f"{leftover.name}: returns shares to the pool without a TX_STOCK_CANCELLATION of the same "
                "security; plan-admin returns shares to the pool only by cancelling an issuance."
            )

        self.adjustment_values = {}
        for item in self.adjustments:
            try:
                self.adjustment_values[item.id] = _whole(item.obj["shares_reserved"], what="shares_reserved")
            except ValueError as error:
                self.error(f"{item.name}: {error}.")

    # --- 4: the replay ------------------------------------------------------------------------------------------

    def events(self) -> list[tuple]:
        events = []
        running = getattr(self, "initial_reserve", 0)
        for seq, item in enumerate(
            sorted(
                self.adjustments, key=lambda item: (item.obj.get("board_approval_date") or item.obj["date"], item.index)
            )
        ):
            total = self.adjustment_values.get(item.id)
            if total is None:
                continue
            delta = total - running
            running = total
            if delta == 0:
                self.report.notes.append(
                    f"{item.name}: leaves the reserve at {fmt.shares(total)} shares; nothing to record."
                )
                continue
            day = _day(item.obj.get("board_approval_date")) or _day(item.obj["date"])
            events.append((day, PHASE["reserve+" if delta > 0 else "reserve-"], seq, "reserve", (item, delta)))
        for item in self.issuances:
            if item.id in self.issuance_values:
                events.append((_day(item.obj["date"]), PHASE["issuance"], item.index, "issuance", item))
        for item in self.cancellation_of.values():
            events.append((_day(item.obj["date"]), PHASE["cancellation"], item.index, "cancellation", item))
        self.designation_plan(events)
        return sorted(events, key=lambda event: event[:3])

    def designation_plan(self, events: list) -> None:
        """The designations to enter: the board record's, or one per participant and year of the issuances."""
        self.designation_for: dict[str, str] = {}  # issuance id -> designation key
        self.designation_specs: dict[str, dict] = {}
        record = self.record["designations"]
        for entry in record.values():
            if entry.get("status") not in ("approved", "rejected", "lapsed") or not entry.get("decided_on"):
                continue
            key = entry["id"]
            self.designation_specs[key] = {
                "key": key,
                "ocf_id": entry["id"],
                "stakeholder_id": entry.get("stakeholder_id"),
                "year": entry.get("year"),
                "shares": entry.get("shares"),
                "factors": entry.get("factors_considered") or "",
                "decision": "reject" if entry["status"] == "rejected" else "approve",
                "decided_on": _day(entry["decided_on"]),
                "reference": entry.get("decision_reference") or "",
                "name": f"designation {json.dumps(entry['id'])} of the board record",
                **_debt_terms(entry),
            }
            lapse = entry.get("lapse")
            if isinstance(lapse, dict) and not lapse.get("year_closing_id"):
                events.append((_day(lapse["lapsed_on"]), PHASE["lapse"], 0, "lapse", (key, lapse)))
        left_out = [entry for entry in record.values() if entry["id"] not in self.designation_specs]
        if left_out:
            self.report.notes.append(
                f"{len(left_out):,} designation(s) of the board record that the board did not decide (proposed or "
                "withdrawn) stay in that document; only decided designations are entered from records."
            )
        for entry in self.record["year_closings"].values():
            events.append((_day(entry["closed_on"]), PHASE["closing"], entry.get("year", 0), "closing", entry))

        groups: dict[tuple, list[Located]] = defaultdict(list)
        for item in self.issuances:
            entry = self.record["issuances"].get(item.id)
            if entry and entry.get("designation_id") in self.designation_specs:
                self.designation_for[item.id] = entry["designation_id"]
            else:
                groups[(item.obj["stakeholder_id"], _day(item.obj["date"]).year)].append(item)
        issuer = self.manifest["issuer"]["legal_name"]
        for (stakeholder_id, year), items in groups.items():
            missing = [item for item in items if not item.obj.get("board_approval_date")]
            for item in missing:
                self.error(
                    f"{item.name}: board_approval_date is required: plan-admin issues shares only against a "
                    "designation of the board, and takes its decision date from it."
                )
            dates = sorted({_day(item.obj["board_approval_date"]) for item in items if item not in missing})
            if not dates:
                continue
            key = f"{stakeholder_id}/{year}"
            running = peak = 0
            flow = sorted(
                [(_day(item.obj["date"]), 0, self.issuance_values.get(item.id, (0,))[0]) for item in items]
                + [
                    (
                        _day(self.cancellation_of[item.obj["security_id"]].obj["date"]),
                        1,
                        -self.issuance_values.get(item.id, (0,))[0],
                    )
                    for item in items
                    if item.obj["security_id"] in self.cancellation_of
                ]
            )
            for _, _, quantity in flow:
                running += quantity
                peak = max(peak, running)
            name = (
                self.stakeholders[stakeholder_id].obj["name"]["legal_name"]
                if stakeholder_id in self.stakeholders
                else stakeholder_id
            )
            ids = ", ".join(item.id for item in items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")
            factors = (
                f"Entered from an OCF package, which has no designations: the board's approval of "
                f"{len(items)} issuance(s) to {name} in {year} ({ids})"
            )
            if len(dates) > 1:
                factors += ", approved on " + ", ".join(day.isoformat() for day in dates)
                self.report.notes.append(
                    f"{name}'s {year} issuances were approved by the board on {len(dates)} dates; plan-admin holds one "
                    f"designation per participant and year, decided on the first ({dates[0].isoformat()})."
                )
            self.designation_specs[key] = {
                **self._synthesized_debt_terms(items, name, year),
                "key": key,
                "ocf_id": "",
                "stakeholder_id": stakeholder_id,
                "year": year,
                "shares": peak,
                "factors": factors + ".",
                "decision": "approve",
                "decided_on": dates[0],
                "reference": f"OCF package of {issuer} as of {self.manifest['as_of']}: board approval date of the "
                "issuances"[:300],
                "name": f"the designation of {name} for {year} (from the board approval of StockIssuance {ids})",
            }
            for item in items:
                self.designation_for[item.id] = key
        for spec in self.designation_specs.values():
            if spec["decided_on"] is None:
                continue
            if spec["decision"] == "reject":
                # A rejected designation holds nothing, and the services refuse to enter one while the participant
                # has an approved designation for that year: rejections go first, whenever the board decided them.
                events.append((datetime.date.min, -1, 0, "designation", spec))
            else:
                events.append((spec["decided_on"], PHASE["designation"], 0, "designation", spec))

    def _synthesized_debt_terms(self, items: list, name: str, year: int) -> dict:
        """A synthesized designation settles debt when the board record says its issuances did: the debts they
        settled, at the lowest price among them. Debt settlements and compensation of one participant in one year
        cannot share a designation (the services refuse either kind against the other), so a mix is refused."""
        entries = [self.record["issuances"].get(item.id) or {} for item in items]
        debts = [entry for entry in entries if entry.get("kind") == "debt_settlement"]
        if not debts:
            return {}
        if len(debts) < len(entries):
            self.error(
                f"{name}'s {year} issuances mix debt settlements and compensation; plan-admin holds one "
                "designation per participant and year, of one kind, and the package's board record names "
                "no designation for them."
            )
            return {}
        try:
            amount = sum(Decimal(entry["debt_amount"]) for entry in debts)
        except (KeyError, TypeError, ArithmeticError):
            return {}  # the issuance itself is then refused naming its debt amount
        prices = [self.issuance_values[item.id][1] for item in items if item.id in self.issuance_values]
        references = sorted({entry.get("debt_reference") or "" for entry in debts} - {""})
        return {
            "debt_terms": {
                "kind": "debt_settlement",
                "debt_amount": amount,
                "debt_reference": "; ".join(references)[:200] or "Debts settled (OCF package)",
                "price_per_share": min(prices) if prices else None,
            }
        }

    def replay(self) -> None:
        """Replay what passed the checks; objects refused by them are left out (and the whole import is rolled
        back), so that one run names every refusal the replay can still find."""
        events = self.events()
        if not all(hasattr(self, name) for name in ("par_value", "initial_reserve")) or not self.stock_plan.obj.get(
            "board_approval_date"
        ):
            raise Refused  # no plan to replay into: the checks said why
        last = max(
            [event[0] for event in events if event[0] != datetime.date.min]
            + [spec["decided_on"] for spec in self.designation_specs.values() if spec["decided_on"]],
            default=None,
        )
        today = timezone.localdate()
        ledger_start = last + datetime.timedelta(days=1) if last else None
        if ledger_start and ledger_start > today:
            self.error(
                f"The package's last transaction is dated {last.isoformat()}: history entered from records must "
                "precede the plan's ledger start date, which may not be later than today. Import it after "
                f"{last.isoformat()}."
            )
            raise Refused
        plan_obj = self.stock_plan.obj
        name = self.plan_name or plan_obj["plan_name"]
        company = self.manifest["issuer"]["legal_name"]
        if Plan.objects.filter(company_name=company, name=name).exists():
            self.error(f'A plan "{name}" of {company} already exists: give the imported plan another name.')
            raise Refused
        initial = next((entry for entry in self.record["reserve_changes"].values() if entry.get("initial")), {})
        terms = self.plan_terms
        self.mappings: list[OcfObject] = []
        try:
            plan = services.plan_create(
                company_name=company,
                name=name,
                par_value=self.par_value,
                initial_shares=self.initial_reserve,
                board_approval_date=_day(plan_obj["board_approval_date"]),
                purpose=terms.get("purpose") or "",
                stock_class=self.stock_class.obj["name"],
                effective_date=self.effective,
                required_approvals=self.required_approvals or terms.get("required_approvals") or 1,
                resolution_reference=initial.get("resolution_reference") or f"OCF StockPlan {plan_obj['id']}"[:300],
                ledger_start_date=ledger_start,
                by=self.by,
            )
        except ValidationError as refusal:
            self.error(f"{self.stock_plan.name}: " + " ".join(refusal.messages))
            raise Refused from None
        self.plan = plan
        self.report.plan = plan
        self._map(
            Kind.STOCK_PLAN,
            plan.pk,
            plan_obj["id"],
            _strip(
                plan_obj,
                {
                    "object_type",
                    "id",
                    "plan_name",
                    "board_approval_date",
                    "initial_shares_reserved",
                    "default_cancellation_behavior",
                    "stock_class_ids",
                    "stock_class_id",
                },
            ),
        )
        self._map(
            Kind.STOCK_CLASS,
            plan.pk,
            self.stock_class.id,
            _strip(self.stock_class.obj, {"object_type", "id", "name", "par_value"}),
        )
        issuer = self.manifest["issuer"]
        self._map(Kind.ISSUER, None, issuer["id"], _strip(issuer, {"object_type", "id", "legal_name"}))
        self._map(Kind.RESERVE_CHANGE, plan.reserve_changes.get().pk, "", {})
        self.report.done.append(
            f'the plan "{name}" of {company}: {fmt.shares(self.initial_reserve)} shares reserved '
            f"on {plan_obj['board_approval_date']}, par {fmt.money(self.par_value)}, effective "
            f"{fmt.day(self.effective)}, ledger start date {fmt.day(ledger_start)}"
        )

        self.participants = {}
        for stakeholder_id, category in self.categories.items():
            item = self.stakeholders[stakeholder_id]
            emails = [email["email_address"] for email in item.obj.get("contact_info", {}).get("emails", [])]
            try:
                participant = services.participant_create(
                    name=item.obj["name"]["legal_name"],
                    category=category,
                    email=emails[0] if emails else "",
                    notes=_notes(item.obj),
                    by=self.by,
                )
            except ValidationError as refusal:
                self.error(f"{item.name}: " + " ".join(refusal.messages))
                continue
            self.participants[stakeholder_id] = participant
            self._map(Kind.STAKEHOLDER, participant.pk, stakeholder_id, _strip(item.obj, {"object_type", "id"}))
        self.report.counts["participants"] = len(self.participants)

        self.designations: dict[str, BoardDesignation] = {}
        self.refused_designations: set[str] = set()
        self.issued = {}
        batch: list = []
        for *_order, kind, payload in events:
            if kind == "issuance":
                batch.append(payload)
                continue
            self._issue(batch)
            batch = []
            getattr(self, f"_replay_{kind}")(payload)
        self._issue(batch)

        for item, content in self.kept_documents:
            row = OcfObject(
                plan=plan,
                kind=Kind.DOCUMENT,
                ocf_id=item.id,
                data=_strip(item.obj, {"object_type", "id"}),
                content=content,
                recorded_by=self.by,
            )
            row.data.pop("comments", None)
            if item.obj.get("comments"):
                row.data["comments"] = item.obj["comments"]
            self.mappings.append(row)
        for item in self.objects.get("STOCK_LEGEND_TEMPLATE", []):
            self._map(
                Kind.STOCK_LEGEND_TEMPLATE,
                None,
                item.id,
                {key: value for key, value in item.obj.items() if key not in ("object_type", "id")},
            )
        self._map(
            Kind.PACKAGE,
            None,
            "",
            {
                "source": self.report.package,
                "as_of": self.manifest["as_of"],
                "generated_at": self.manifest["generated_at"],
                **(
                    {"comments": own_comments(self.manifest.get("comments"))}
                    if own_comments(self.manifest.get("comments"))
                    else {}
                ),
            },
        )
        if self.report.errors:
            return
        OcfObject.objects.bulk_create(self.mappings, batch_size=2000)
        plan.refresh_from_db()
        check = reconcile(plan=plan)
        if not check.ok:
            self.report.errors += [f"After the replay: {problem}" for problem in check.problems]
        for key, count in sorted(self.report.counts.items()):
            self.report.done.append(f"{count:,} {key}")

    def _map(self, kind, local_id, ocf_id, data) -> None:
        self.mappings.append(
            OcfObject(plan=self.plan, kind=kind, local_id=local_id, ocf_id=ocf_id or "", data=data, recorded_by=self.by)
        )

    def _source(self, item: Located) -> str:
        return f"OCF package {self.report.package}: {item.obj['object_type']} {item.id}"[:300]

    def _replay_reserve(self, payload) -> None:
        item, delta = payload
        entry = self.record["reserve_changes"].get(item.id, {})
        try:
            change = services.past_reserve_change_record(
                plan=self.plan,
                shares=delta,
                board_approval_date=_day(item.obj.get("board_approval_date")) or _day(item.obj["date"]),
                resolution_reference=entry.get("resolution_reference") or self._source(item),
                note=entry.get("note") or "",
                by=self.by,
            )
        except ValidationError as refusal:
            self.error(f"{item.name}: " + " ".join(refusal.messages))
            return
        self._map(
            Kind.RESERVE_CHANGE,
            change.pk,
            item.id,
            _strip(item.obj, {"object_type", "id", "date", "board_approval_date", "stock_plan_id", "shares_reserved"}),
        )
        self.report.counts["reserve changes"] += 1

    def _replay_designation(self, spec: dict) -> None:
        participant = self.participants.get(spec["stakeholder_id"])
        if participant is None:
            self.error(f"{spec['name']}: its stakeholder {json.dumps(spec['stakeholder_id'])} was not imported.")
            return
        try:
            designation = services.past_designation_record(
                plan=self.plan,
                participant=participant,
                year=spec["year"],
                shares=spec["shares"],
                factors_considered=spec["factors"],
                decision=spec["decision"],
                decided_on=spec["decided_on"],
                decision_reference=spec["reference"],
                by=self.by,
                **spec.get("debt_terms", {}),
            )
        except ValidationError as refusal:
            self.error(f"{spec['name']}: " + " ".join(refusal.messages))
            self.refused_designations.add(spec["key"])
            return
        self.designations[spec["key"]] = designation
        self._map(Kind.DESIGNATION, designation.pk, spec["ocf_id"], {})
        self.report.counts["designations entered from records"] += 1

    def _replay_closing(self, entry: dict) -> None:
        try:
            closing = services.plan_year_close(
                plan=self.plan,
                year=entry["year"],
                reason=entry["reason"],
                closed_on=_day(entry["closed_on"]),
                by=self.by,
            )
        except ValidationError as refusal:
            self.error(
                f"year closing {json.dumps(entry['id'])} of the board record ({entry.get('year')}): "
                + " ".join(refusal.messages)
            )
            return
        self._map(Kind.YEAR_CLOSING, closing.pk, entry["id"], {})
        self.report.counts["year closings"] += 1

    def _replay_lapse(self, payload) -> None:
        key, lapse = payload
        designation = self.designations.get(key)
        if designation is None:
            return  # its designation was refused, and said so
        try:
            row = services.designation_lapse(
                designation=designation, reason=lapse["reason"], lapsed_on=_day(lapse["lapsed_on"]), by=self.by
            )
        except ValidationError as refusal:
            self.error(f"the lapse of designation {json.dumps(key)} of the board record: " + " ".join(refusal.messages))
            return
        self._map(Kind.LAPSE, row.pk, "", {})
        self.report.counts["lapses"] += 1

    def _issue(self, items: list[Located]) -> None:
        rows, located = [], []
        for item in items:
            key = self.designation_for.get(item.id)
            designation = self.designations.get(key)
            if designation is None:
                spec = self.designation_specs.get(key)
                if key in self.refused_designations or spec is None:
                    self.error(f"{item.name}: its designation was refused (above), so it cannot be issued.")
                else:
                    self.error(
                        f"{item.name}: the board approved its designation on {fmt.day(spec['decided_on'])}: "
                        f"shares cannot be issued against it on {fmt.day(_day(item.obj['date']))}, before its "
                        "decision."
                    )
                continue
            quantity, price = self.issuance_values[item.id]
            entry = self.record["issuances"].get(item.id, {})
            row = {
                "designation": designation,
                "issue_date": _day(item.obj["date"]),
                "shares": quantity,
                "price_per_share": price,
                "notes": _notes(item.obj),
                "from_records": True,
                "source_reference": entry.get("source_reference") or self._source(item),
            }
            if entry.get("kind") == "debt_settlement":
                row.update(
                    kind="debt_settlement",
                    debt_amount=Decimal(entry["debt_amount"]),
                    debt_reference=entry.get("debt_reference", ""),
                )
            elif "consideration_text" in item.obj and not entry:
                text = f"Consideration (OCF): {item.obj['consideration_text']}"
                row["notes"] = f"{row['notes']}\n{text}".strip()
            rows.append(row)
            located.append(item)
        while rows:
            try:
                issued = services.issuance_record_many(rows=rows, by=self.by, plan=self.plan)
            except BatchRefused as refusal:
                bad = {index for index, _ in refusal.row_errors}
                for index, message in refusal.row_errors:
                    self.error(f"{located[index].name}: {message}")
                rows = [row for index, row in enumerate(rows) if index not in bad]
                located = [item for index, item in enumerate(located) if index not in bad]
                continue
            for item, issuance, row in zip(located, issued, rows, strict=True):
                self.issued[item.obj["security_id"]] = issuance
                derived = {
                    "object_type",
                    "id",
                    "date",
                    "stakeholder_id",
                    "stock_class_id",
                    "stock_plan_id",
                    "share_price",
                    "quantity",
                }
                if row.get("kind") == "debt_settlement":
                    derived.add("consideration_text")
                self._map(Kind.ISSUANCE, issuance.pk, item.id, _strip(item.obj, derived))
            self.report.counts["issuances"] += len(issued)
            break

    def _replay_cancellation(self, item: Located) -> None:
        issuance = self.issued.get(item.obj["security_id"])
        if issuance is None:
            self.error(f"{item.name}: its issuance was refused (above), so it cannot be cancelled.")
            return
        entry = self.record["cancellations"].get(item.id, {})
        try:
            cancellation = services.issuance_cancel(
                issuance=issuance,
                cancelled_on=_day(item.obj["date"]),
                reason=item.obj["reason_text"],
                from_records=True,
                source_reference=entry.get("source_reference") or self._source(item),
                by=self.by,
            )
        except ValidationError as refusal:
            self.error(f"{item.name}: " + " ".join(refusal.messages))
            return
        basics = {"object_type", "id", "security_id", "date", "quantity", "reason_text"}
        data = {"cancellation": _strip(item.obj, basics)}
        to_pool = getattr(item, "to_pool", None)
        if to_pool is not None:
            data["return_to_pool"] = {"id": to_pool.id, **_strip(to_pool.obj, basics | {"stock_plan_id"})}
        self._map(Kind.CANCELLATION, cancellation.pk, item.id, data)
        self.report.counts["cancellations"] += 1


def import_package(
    source,
    *,
    by,
    plan_name: str | None = None,
    commit: bool = True,
    skip_unsupported: bool = False,
    effective_date: datetime.date | None = None,
    required_approvals: int | None = None,
    stock_plan: str | None = None,
) -> ImportReport:
    """Read, validate and replay the OCF package at `source` (a directory, a .zip, a manifest's path, or an open
    zip file) as a new plan. All or nothing: unless `commit` is true and nothing was refused, nothing is written.
    The report lists every refusal (each naming its OCF object), what was skipped, and what was (or would be)
    written."""
    report = ImportReport()
    try:
        ocf_schema.schema_dir()
        reader = PackageReader(source)
    except (PackageError, ocf_schema.OcfSchemaMissing) as error:
        report.errors.append(str(error))
        return report
    report.package = reader.name
    work = _Import(
        reader,
        report,
        plan_name=plan_name,
        by=by,
        skip_unsupported=skip_unsupported,
        effective_date=effective_date,
        required_approvals=required_approvals,
        stock_plan=stock_plan,
    )
    try:
        work.read()
        if report.errors:
            with contextlib.suppress(Refused):  # list what plan-admin does not hold too: one run says all it can
                work.classify()
            raise Refused
        work.classify()
        work.documents()
        work.check()
        with transaction.atomic():
            with contextlib.suppress(Refused):
                work.replay()
            if report.errors or not commit:
                transaction.set_rollback(True)
            else:
                report.committed = True
    except Refused:
        pass
    finally:
        reader.close()
    if not report.ok:
        report.plan = None
        report.committed = False
    return report
