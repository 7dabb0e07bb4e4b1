"""Import benchmark: 10,000 issuance rows through plan_admin.imports.run_import (one CSV upload, all or nothing,
each row through services.issuance_record in its own savepoint) vs the same rows recorded through
services.issuance_record in a plain loop (one transaction per call), in the same run, on two identical plans.

    DATABASE_URL=postgres://... python benchmarks/import_bench.py --out import.json

Reports "not built yet" when plan_admin/imports.py does not exist.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import io
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import time_machine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import django_setup, write_json

YEAR = 2020


class _Abort(BaseException):
    """Raised from inside the import to stop it (BaseException: the import engine catches Exceptions per row)."""


PARTICIPANTS = 100
# The last tenth of the participants are creditors: their designations settle debt (the board found the debt
# adequate consideration at DEBT_PRICE or more), so their rows, a tenth of the import, are debt settlements.
DEBT_PARTICIPANTS = range(90, 100)
DEBT_PRICE = Decimal("0.01")


def is_creditor(index: int) -> bool:
    return index in DEBT_PARTICIPANTS


def make_plan(label: str, staff, board):
    from plan_admin import services

    plan = services.plan_create(
        company_name="Import Bench, Inc.",
        name=f"Import bench {label} {time.time_ns()}",
        par_value=Decimal("0.001"),
        initial_shares=10**12,
        board_approval_date=datetime.date(2019, 12, 1),
        effective_date=datetime.date(2020, 1, 1),
        by=staff,
    )
    designations = {}
    for index in range(PARTICIPANTS):
        participant = services.participant_create(
            name=f"Import bench {label} participant {index:03d} {plan.pk}", category="key_employee", by=staff
        )
        debt_terms = (
            {
                "kind": "debt_settlement",
                "debt_amount": Decimal(10**9) * DEBT_PRICE,
                "debt_reference": f"Bench loan {index:03d}",
                "price_per_share": DEBT_PRICE,
            }
            if is_creditor(index)
            else {}
        )
        designation = services.designation_propose(
            plan=plan,
            participant=participant,
            year=YEAR,
            shares=10**9,
            factors_considered="Benchmark.",
            by=staff,
            **debt_terms,
        )
        # The board decided on January 1 of the bench's year (time-machine: its votes date the decision today),
        # so that the rows' issue dates, spread over that year, follow the decision.
        with time_machine.travel(datetime.datetime(YEAR, 1, 1, 9, tzinfo=datetime.UTC), tick=False):
            services.designation_vote(designation=designation, voter=board, decision="approve")
        designations[index] = designation
    return plan, designations


def make_rows(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        debt = is_creditor(i % PARTICIPANTS)
        shares = rng.randrange(1, 500) * 100
        price = Decimal(rng.randrange(100, 3000)) / 10000
        rows.append(
            {
                "participant": i % PARTICIPANTS,
                "issue_date": datetime.date(YEAR, 1, 1) + datetime.timedelta(days=rng.randrange(365)),
                "shares": shares,
                "price_per_share": price,
                "kind": "debt_settlement" if debt else "compensation",
                "debt_amount": (shares * price).quantize(Decimal("0.01")) if debt else None,
                "debt_reference": f"INV-{i:05d}" if debt else "",
            }
        )
    return rows


def to_csv(rows: list[dict], plan, designations) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "plan",
            "participant",
            "year",
            "issue_date",
            "shares",
            "price_per_share",
            "kind",
            "debt_amount",
            "debt_reference",
            "notes",
        ]
    )
    for row in rows:
        writer.writerow(
            [
                plan.pk,
                designations[row["participant"]].participant.name,
                YEAR,
                row["issue_date"].isoformat(),
                row["shares"],
                row["price_per_share"],
                row["kind"],
                row["debt_amount"] if row["debt_amount"] is not None else "",
                row["debt_reference"],
                "",
            ]
        )
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--give-up-ratio",
        type=float,
        default=2.5,
        help="stop the import once it has taken this many times the plain loop's time",
    )
    args = parser.parse_args()
    django_setup()
    if importlib.util.find_spec("plan_admin.imports") is None:
        write_json(args.out, {"built": False, "note": "not built yet (plan_admin/imports.py is missing)"})
        print("  import: not built yet")
        return
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.files.uploadedfile import SimpleUploadedFile

    from plan_admin import roles, services
    from plan_admin.imports import run_import
    from plan_admin.models import Issuance
    from plan_admin.reconcile import reconcile

    User = get_user_model()
    staff, created = User.objects.get_or_create(username="bench-import-staff", defaults={"is_staff": True})
    if created:
        staff.groups.add(Group.objects.get(name=roles.STAFF))
    board, created = User.objects.get_or_create(username="bench-board", defaults={"is_staff": True})
    if created:
        board.groups.add(Group.objects.get(name=roles.BOARD))
    loop_plan, loop_designations = make_plan("loop", staff, board)
    import_plan, import_designations = make_plan("import", staff, board)
    rows = make_rows(args.rows, seed=5)
    content = to_csv(rows, import_plan, import_designations)

    # Every service call is timed (the import calls services.issuance_record through the module attribute), so
    # that the per-row cost at the start and at the end of each path can be compared.
    original = services.issuance_record
    calls: list[float] = []
    deadline = [float("inf")]

    def timed(**kwargs):
        if time.perf_counter() > deadline[0]:
            raise _Abort
        t0 = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            calls.append(time.perf_counter() - t0)

    services.issuance_record = timed
    original_many = services.issuance_record_many
    many_calls: list[float] = []

    def timed_many(**kwargs):
        t0 = time.perf_counter()
        try:
            return original_many(**kwargs)
        finally:
            many_calls.append(time.perf_counter() - t0)

    services.issuance_record_many = timed_many

    def call_profile(durations: list[float]) -> dict:
        if not durations:
            return {"rows_per_chunk": 0, "note": "no services.issuance_record calls (the import batches its rows)"}
        chunk = max(1, min(1000, len(durations) // 10))
        first, last = durations[:chunk], durations[-chunk:]
        return {
            "rows_per_chunk": chunk,
            "first_rows_median_ms": round(statistics.median(first) * 1000, 2),
            "last_rows_median_ms": round(statistics.median(last) * 1000, 2),
        }

    # The plain loop: one service call (one transaction) per row, values already parsed.
    started = time.perf_counter()
    for row in rows:
        services.issuance_record(
            designation=loop_designations[row["participant"]],
            issue_date=row["issue_date"],
            shares=row["shares"],
            price_per_share=row["price_per_share"],
            kind=row["kind"],
            debt_amount=row["debt_amount"],
            debt_reference=row["debt_reference"],
            by=staff,
        )
    loop_seconds = time.perf_counter() - started
    loop_calls = call_profile(calls)
    calls.clear()
    write_json(
        args.out,
        {
            "built": True,
            "rows": args.rows,
            "loop_seconds": round(loop_seconds, 2),
            "loop_service_calls": loop_calls,
            "import_finished": False,
        },
    )
    print(f"  plain loop {loop_seconds:.1f} s; importing...", flush=True)

    # The import: the CSV as an upload, parsed, each row through the service, all in one transaction.
    upload = SimpleUploadedFile("issuances.csv", content, content_type="text/csv")
    started = time.perf_counter()
    deadline[0] = started + args.give_up_ratio * loop_seconds
    try:
        report = run_import("issuances", upload, by=staff, commit=True)
    except _Abort:
        # Far past the goal: stop (the import's transaction rolls back) and report how far it got, and how the
        # per-row cost grew, instead of letting the bench run on.
        seconds = time.perf_counter() - started
        result = {
            "built": True,
            "rows": args.rows,
            "import_finished": False,
            "gave_up_after_seconds": round(seconds, 1),
            "give_up_ratio": args.give_up_ratio,
            "rows_done_when_stopped": len(calls),
            "loop_seconds": round(loop_seconds, 2),
            "loop_rows_per_second": round(args.rows / loop_seconds, 1),
            "loop_service_calls": loop_calls,
            "import_service_calls": call_profile(calls),
            "ratio_import_to_loop": f"> {args.give_up_ratio}",
            "report_ok": False,
        }
        print(
            f"  import stopped after {seconds:.0f} s (> {args.give_up_ratio}x the loop) at row {len(calls):,}; "
            f"service call median first rows {result['import_service_calls']['first_rows_median_ms']} ms, "
            f"last rows {result['import_service_calls']['last_rows_median_ms']} ms",
            flush=True,
        )
        write_json(args.out, result)
        return
    import_seconds = time.perf_counter() - started
    services.issuance_record = original
    import_calls = call_profile(calls)

    imported = Issuance.objects.filter(designation__plan=import_plan).count()
    looped = Issuance.objects.filter(designation__plan=loop_plan).count()
    loop_plan.refresh_from_db()
    import_plan.refresh_from_db()
    result = {
        "built": True,
        "rows": args.rows,
        "csv_bytes": len(content),
        "loop_seconds": round(loop_seconds, 2),
        "loop_rows_per_second": round(args.rows / loop_seconds, 1),
        "import_finished": True,
        "loop_service_calls": loop_calls,
        "import_service_calls": import_calls,
        "import_seconds": round(import_seconds, 2),
        "import_rows_per_second": round(args.rows / import_seconds, 1),
        "ratio_import_to_loop": round(import_seconds / loop_seconds, 3),
        "issuance_record_many_seconds": [round(t, 2) for t in many_calls],
        "report_ok": report.ok,
        "report_rows": report.rows,
        "report_errors": report.errors[:5],
        "issuances_written": {"import": imported, "loop": looped},
        "same_shares_issued": import_plan.issued_shares == loop_plan.issued_shares,
        "reconciles": reconcile(plan=import_plan).ok and reconcile(plan=loop_plan).ok,
    }
    print(
        f"  plain loop {loop_seconds:.1f} s, import {import_seconds:.1f} s "
        f"(ratio {result['ratio_import_to_loop']:.2f}), ok={report.ok}",
        flush=True,
    )
    write_json(args.out, result)


if __name__ == "__main__":
    main()
