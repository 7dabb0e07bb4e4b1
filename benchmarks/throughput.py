"""Service throughput: services.issuance_record with 1 and 8 worker processes on ONE plan, next to a raw psycopg
baseline doing the minimum the rule needs (BEGIN; SELECT ... FOR UPDATE on the plan; INSERT the issuance; UPDATE
the plan's counter; COMMIT), in the same run, rounds interleaved. Each worker is its own process (spawn, with
django.setup() and its own connection), so the GIL plays no part. Then one in-process profile of the service.

    DATABASE_URL=postgres://... python benchmarks/throughput.py --out throughput.json
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import multiprocessing as mp
import os
import pstats
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import django_setup, summary_ms, write_json

DEADLOCK, SERIALIZATION = "40P01", "40001"
# The board approves the bench's designations today (its votes date the decision), so issuances are dated today.
ISSUE_DATE = datetime.date.today()
YEAR = ISSUE_DATE.year


def _sqlstate(error) -> str | None:
    while error is not None:
        state = getattr(error, "sqlstate", None)
        if state:
            return state
        error = error.__cause__
    return None


def _tally(errors: dict, error) -> None:
    state = _sqlstate(error)
    key = {DEADLOCK: "deadlocks", SERIALIZATION: "serialization_failures"}.get(state, f"other:{type(error).__name__}")
    errors[key] = errors.get(key, 0) + 1


def _run_loop(call, barrier, duration: float, queue) -> None:
    for _ in range(3):  # warm up: connection, statement caches, imports
        call()
    barrier.wait()
    errors: dict = {}
    latencies = []
    cpu_start = time.process_time()
    start = time.time()
    while time.time() - start < duration:
        t0 = time.perf_counter()
        try:
            call()
        except Exception as error:
            _tally(errors, error)
            continue
        latencies.append(time.perf_counter() - t0)
    end = time.time()
    cpu = time.process_time() - cpu_start
    queue.put(
        {
            "count": len(latencies),
            "start": start,
            "end": end,
            "errors": errors,
            "latencies": latencies,
            "cpu_seconds": cpu,
        }
    )


def service_worker(designation_id: int, user_id: int, barrier, duration: float, queue) -> None:
    django_setup()
    from django.contrib.auth import get_user_model

    from plan_admin import services
    from plan_admin.models import BoardDesignation

    designation = BoardDesignation.objects.get(pk=designation_id)
    user = get_user_model().objects.get(pk=user_id)

    def call():
        services.issuance_record(
            designation=designation, issue_date=ISSUE_DATE, shares=1, price_per_share=Decimal("0.10"), by=user
        )

    _run_loop(call, barrier, duration, queue)


def raw_worker(designation_id: int, user_id: int, plan_id: int, barrier, duration: float, queue) -> None:
    import psycopg

    connection = psycopg.connect(os.environ["DATABASE_URL"])

    def call():
        with connection.transaction():  # BEGIN ... COMMIT
            connection.execute("SELECT id FROM plan_admin_plan WHERE id = %s FOR UPDATE", (plan_id,))
            connection.execute(
                "INSERT INTO plan_admin_issuance (designation_id, issue_date, shares, kind, price_per_share, "
                "debt_amount, debt_reference, reference, notes, entered_from_records, source_reference, "
                "submission_key, recorded_by_id, recorded_at) "
                "VALUES (%s, %s, 1, 'compensation', 0.10, NULL, '', '', '', false, '', NULL, %s, now())",
                (designation_id, ISSUE_DATE, user_id),
            )
            connection.execute("UPDATE plan_admin_plan SET issued_shares = issued_shares + 1 WHERE id = %s", (plan_id,))

    connection.autocommit = True  # transaction() then sends exactly BEGIN and COMMIT
    _run_loop(call, barrier, duration, queue)
    connection.close()


def run_round(kind: str, workers: int, setup: dict, duration: float) -> dict:
    context = mp.get_context("spawn")
    barrier = context.Barrier(workers)
    queue = context.Queue()
    processes = []
    for index in range(workers):
        designation_id = setup["designations"][index % len(setup["designations"])]
        if kind == "service":
            args = (designation_id, setup["user"], barrier, duration, queue)
            target = service_worker
        else:
            args = (designation_id, setup["user"], setup["plan"], barrier, duration, queue)
            target = raw_worker
        process = context.Process(target=target, args=args)
        process.start()
        processes.append(process)
    results = [queue.get(timeout=duration + 180) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    total = sum(r["count"] for r in results)
    elapsed = max(r["end"] for r in results) - min(r["start"] for r in results)
    errors: dict = {}
    for r in results:
        for key, n in r["errors"].items():
            errors[key] = errors.get(key, 0) + n
    latencies = [x for r in results for x in r["latencies"]]
    return {
        "kind": kind,
        "workers": workers,
        "issuances": total,
        "seconds": round(elapsed, 3),
        "per_second": round(total / elapsed, 1),
        "errors": errors,
        "latency": summary_ms(latencies) if latencies else None,
        # Python-side CPU per issuance in the workers (PostgreSQL's own CPU not included).
        "client_cpu_ms_per_issuance": round(sum(r["cpu_seconds"] for r in results) / max(total, 1) * 1000, 3),
    }


def set_up(workers: int) -> dict:
    """A plan with a huge reserve and one approved designation per worker, through the services."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from plan_admin import roles, services

    User = get_user_model()
    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    board, created = User.objects.get_or_create(username="bench-board", defaults={"is_staff": True})
    if created:
        board.groups.add(Group.objects.get(name=roles.BOARD))
    plan = services.plan_create(
        company_name="Throughput Bench, Inc.",
        name=f"Throughput plan {time.time():.0f}",
        par_value=Decimal("0.001"),
        initial_shares=10**15,
        board_approval_date=datetime.date(1999, 12, 1),
        effective_date=datetime.date(2000, 1, 1),
        by=staff,
    )
    designations = []
    for index in range(workers):
        participant = services.participant_create(name=f"Throughput worker {index}", category="key_employee", by=staff)
        designation = services.designation_propose(
            plan=plan, participant=participant, year=YEAR, shares=10**12, factors_considered="Benchmark.", by=staff
        )
        services.designation_vote(designation=designation, voter=board, decision="approve")
        designations.append(designation.pk)
    return {"plan": plan.pk, "designations": designations, "user": staff.pk}


def _timed_calls(calls) -> dict:
    """Run each of `calls` once: the median and p95 time of a call, the time Django's query timer saw it wait on
    the database, and the statements one call sent through Django."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    db_seconds, total_seconds, statements = [], [], []
    for call in calls:
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            call()
        total_seconds.append(time.perf_counter() - t0)
        db_seconds.append(sum(float(q["time"]) for q in captured.captured_queries))
        statements = [q["sql"] for q in captured.captured_queries]
    return {
        "calls": len(total_seconds),
        "statements_per_call": len(statements),
        "statements": [s[:160] for s in statements],
        "median_call_ms": round(statistics.median(total_seconds) * 1000, 3),
        "p95_call_ms": round(sorted(total_seconds)[int(len(total_seconds) * 0.95)] * 1000, 3),
        "median_db_ms": round(statistics.median(db_seconds) * 1000, 3),
        "db_share": round(sum(db_seconds) / sum(total_seconds), 3),
    }


def profile_service(setup: dict, calls: int) -> dict:
    """One process, `calls` service calls: cProfile's top functions, and the SQL of one call with DB vs total time."""
    from django.contrib.auth import get_user_model

    from plan_admin import services
    from plan_admin.models import BoardDesignation

    designation = BoardDesignation.objects.get(pk=setup["designations"][0])
    user = get_user_model().objects.get(pk=setup["user"])

    def call():
        services.issuance_record(
            designation=designation, issue_date=ISSUE_DATE, shares=1, price_per_share=Decimal("0.10"), by=user
        )

    for _ in range(20):
        call()
    timed = _timed_calls([call] * calls)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        call()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(25)
    by_own = io.StringIO()
    pstats.Stats(profiler, stream=by_own).sort_stats("tottime").print_stats(15)
    return {
        **timed,
        "cprofile_cumulative": out.getvalue().split("\n", 1)[-1][:6000],
        "cprofile_tottime": by_own.getvalue().split("\n", 1)[-1][:4000],
    }


def profile_lock_holders(setup: dict, calls: int) -> dict:
    """The writers that share the plan lock, one process, `calls` calls each: an issuance, its cancellation, and a
    board member's deciding vote (an approval: the bench plan needs one). Each takes the lock once its values are
    cleaned and holds it to its COMMIT, so its call time is an upper bound of the time it holds the lock.
    Statements: those in Django's query log; the hot path's own (ledger_sql) go straight to psycopg and are not
    in it."""
    from django.contrib.auth import get_user_model

    from plan_admin import services
    from plan_admin.models import BoardDesignation, Plan

    User = get_user_model()
    staff = User.objects.get(pk=setup["user"])
    board = User.objects.get(username="bench-board")
    plan = Plan.objects.get(pk=setup["plan"])
    designation = BoardDesignation.objects.get(pk=setup["designations"][0])
    proposals = []
    for index in range(calls):
        participant = services.participant_create(name=f"Vote bench {index}", category="consultant", by=staff)
        proposals.append(
            services.designation_propose(
                plan=plan, participant=participant, year=YEAR, shares=1_000, factors_considered="Benchmark.", by=staff
            )
        )
    issuances = []

    def record():
        issuances.append(
            services.issuance_record(
                designation=designation, issue_date=ISSUE_DATE, shares=1, price_per_share=Decimal("0.10"), by=staff
            )
        )

    def cancel(issuance):
        return lambda: services.issuance_cancel(issuance=issuance, cancelled_on=ISSUE_DATE, reason="Bench.", by=staff)

    def approve(proposal):
        return lambda: services.designation_vote(designation=proposal, voter=board, decision="approve")

    return {
        "issuance_record": _timed_calls([record] * calls),
        "issuance_cancel": _timed_calls([cancel(issuance) for issuance in issuances]),
        "designation_vote_approving": _timed_calls([approve(proposal) for proposal in proposals]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=2.5)
    parser.add_argument("--profile-calls", type=int, default=300)
    args = parser.parse_args()
    setup = set_up(max(args.workers))
    from django.db import connection

    connection.close()  # the parent holds no connection (and no lock) during the rounds
    rounds = []
    for round_number in range(args.rounds):
        for workers in args.workers:
            for kind in ("raw", "service"):
                result = run_round(kind, workers, setup, args.duration)
                result["round"] = round_number + 1
                print(
                    f"  round {round_number + 1}: {kind:<7} x{workers}: {result['per_second']:>8.1f}/s "
                    f"errors={result['errors']}",
                    flush=True,
                )
                rounds.append(result)
    summary = {}
    for workers in args.workers:
        for kind in ("raw", "service"):
            these = [r for r in rounds if r["workers"] == workers and r["kind"] == kind]
            summary[f"{kind}_{workers}"] = {
                "median_per_second": round(statistics.median(r["per_second"] for r in these), 1),
                "rounds_per_second": [r["per_second"] for r in these],
                "client_cpu_ms_per_issuance": round(
                    statistics.median(r["client_cpu_ms_per_issuance"] for r in these), 3
                ),
                "median_latency_ms": round(
                    statistics.median(r["latency"]["median_ms"] for r in these if r["latency"]), 2
                ),
                "p95_latency_ms": round(statistics.median(r["latency"]["p95_ms"] for r in these if r["latency"]), 2),
                "deadlocks": sum(r["errors"].get("deadlocks", 0) for r in these),
                "serialization_failures": sum(r["errors"].get("serialization_failures", 0) for r in these),
                "other_errors": sum(n for r in these for k, n in r["errors"].items() if k.startswith("other")),
            }
        raw = summary[f"raw_{workers}"]["median_per_second"]
        summary[f"service_{workers}"]["ratio_to_raw"] = round(
            summary[f"service_{workers}"]["median_per_second"] / raw, 3
        )
    profile = profile_service(setup, args.profile_calls)
    lock_holders = profile_lock_holders(setup, args.profile_calls)
    from plan_admin.models import Plan
    from plan_admin.reconcile import reconcile

    # The raw baseline updates only the plan's counter (the brief's minimum), so the designations' counters lag
    # behind by design: reconcile reports that for the bench plan, which is dropped with the bench database.
    plan = Plan.objects.get(pk=setup["plan"])
    write_json(
        args.out,
        {
            "setup": setup,
            "duration_s": args.duration,
            "rounds": rounds,
            "summary": summary,
            "profile": profile,
            "lock_holders": lock_holders,
            "plan_issued_after": plan.issued_shares,
            "plan_reconcile_problems": len(reconcile(plan=plan).problems),
        },
    )


if __name__ == "__main__":
    main()
