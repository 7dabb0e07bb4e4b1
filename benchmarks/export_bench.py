"""Export benchmark: 100,000 issuances to XLSX and CSV, ours next to the libraries' own streaming baselines.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plan_admin_bench_export .venv/bin/python benchmarks/export_bench.py

Variants, each measured in a fresh Python process per run (so that peak memory is that run's alone):
  ours_xlsx             the /reports/ issuance ledger download: report_response(...) -> FileResponse, drained
  ours_csv              the same report as CSV: the StreamingHttpResponse, drained to a file
  xlsxwriter_constant   baseline: the same values_list query, xlsxwriter constant_memory, write_row per row
  openpyxl_write_only   baseline: the same query, openpyxl write_only, append per row

Time is wall time from the query to the closed file, after Django is set up (the verdict uses it); time to first
byte (ttfb) is from the same start to the first non-empty chunk of the response, and first_rows the time to the
first chunk holding rows (ours stream both formats; the baselines write their file at close, so their first byte is
their total time: xlsxwriter and openpyxl assemble the zip only then). The child's CPU
time over the same span is recorded too, because on a shared machine the wall time of one run can double with the
load. Peak memory is the child's peak RSS from os.wait4 (ru_maxrss), Django and the libraries included; the
parent never imports Django, so a forked child does not inherit its memory. Each variant runs --runs times (default 3),
interleaved; the median is reported. Results go to benchmarks/results/export.json.

Data: `manage.py generate_ledger` (issuances=100_000, participants=5_000, years=20, seed=1), once per database; a
database already holding exactly that many issuances is reused. The database is created with createdb and migrated
when missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/plan_admin_bench_export"
RESULTS = ROOT / "benchmarks" / "results" / "export.json"
VARIANTS = ["ours_xlsx", "ours_csv", "xlsxwriter_constant", "openpyxl_write_only"]
BASELINES = ["xlsxwriter_constant", "openpyxl_write_only"]
TIME_LIMIT_RATIO = 1.5
MEMORY_LIMIT_MB = 150


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# --- one measurement (runs in its own process) -----------------------------------------------------------------


def measure(variant: str, out: str) -> dict:
    _django()
    import resource

    from plan_admin.reports import queries
    from plan_admin.reports.responses import REPORTS, report_response

    rss_after_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = 0
    ttfb = first_rows = None
    started, cpu_started = time.perf_counter(), time.process_time()
    if variant in ("ours_xlsx", "ours_csv"):
        response = report_response(REPORTS["issuances"], variant.split("_")[1], queries.ReportFilters())
        with open(out, "wb") as sink:
            for number, chunk in enumerate(response.streaming_content):
                if chunk and ttfb is None:
                    ttfb = time.perf_counter() - started
                if chunk and first_rows is None and (variant == "ours_csv" or number >= 1):
                    first_rows = time.perf_counter() - started  # the XLSX's first chunk is the package's parts
                sink.write(chunk if isinstance(chunk, bytes) else chunk.encode("utf-8"))
        response.close()
    elif variant == "xlsxwriter_constant":
        import xlsxwriter

        workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "remove_timezone": True})
        sheet = workbook.add_worksheet("Issuances")
        sheet.write_row(0, 0, queries.ISSUANCE_FIELDS)
        for rows, row in enumerate(queries.issuance_rows_query().iterator(chunk_size=queries.CHUNK_SIZE), start=1):
            sheet.write_row(rows, 0, row)
        workbook.close()
    elif variant == "openpyxl_write_only":
        import openpyxl

        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("Issuances")
        sheet.append(queries.ISSUANCE_FIELDS)
        recorded_at = queries.ISSUANCE_FIELDS.index("recorded_at")
        for row in queries.issuance_rows_query().iterator(chunk_size=queries.CHUNK_SIZE):
            row = list(row)
            row[recorded_at] = row[recorded_at].replace(tzinfo=None)  # openpyxl refuses aware datetimes
            sheet.append(row)
            rows += 1
        workbook.save(out)
    else:
        raise SystemExit(f"unknown variant {variant}")
    seconds = time.perf_counter() - started
    return {
        "variant": variant,
        "seconds": round(seconds, 3),
        "ttfb_seconds": round(ttfb if ttfb is not None else seconds, 3),
        "first_rows_seconds": round(first_rows if first_rows is not None else seconds, 3),
        "cpu_seconds": round(time.process_time() - cpu_started, 3),
        "bytes": os.path.getsize(out),
        "rss_after_setup_mb": round(rss_after_setup, 1),
    }


def run_child(variant: str, database_url: str) -> dict:
    """Run one measurement in a fresh interpreter; its peak RSS comes from wait4, for that child alone."""
    suffix = ".csv" if variant.endswith("csv") else ".xlsx"
    fd, out = tempfile.mkstemp(prefix=f"bench-{variant}-", suffix=suffix)
    os.close(fd)
    env = {**os.environ, "DATABASE_URL": database_url}
    try:
        child = subprocess.Popen(
            [sys.executable, __file__, "--measure", variant, "--out", out], env=env, stdout=subprocess.PIPE, cwd=ROOT
        )
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise SystemExit(f"{variant} failed with exit code {child.returncode}")
        result = json.loads(output.decode().strip().splitlines()[-1])
        result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux reports KiB
        return result
    finally:
        os.unlink(out)


# --- data -------------------------------------------------------------------------------------------------------


def prepare(database_url: str, *, issuances: int, participants: int, years: int, fresh: bool) -> dict:
    """Create, migrate and fill the database (in its own process: the parent stays free of Django, so that the
    children it forks do not inherit its memory into their peak RSS)."""
    os.environ["DATABASE_URL"] = database_url
    name = database_url.rsplit("/", 1)[-1]
    if database_url.startswith("postgres"):
        created = subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True, text=True
        )
        if created.returncode != 0 and "already exists" not in created.stderr:
            raise SystemExit(f"createdb failed: {created.stderr.strip()}")
    _django()
    from django.core.management import call_command

    from plan_admin.models import Issuance

    call_command("migrate", verbosity=0)
    count = Issuance.objects.count()
    if fresh or count != issuances:
        if count:
            call_command("flush", interactive=False, verbosity=0)
            # The flush removed the role groups, which a migration created; migrate does not run it again.
            from django.contrib.auth.models import Group, Permission

            from plan_admin.roles import sync_role_groups

            sync_role_groups(Group, Permission)
        started = time.perf_counter()
        call_command("generate_ledger", issuances=issuances, participants=participants, years=years, seed=1)
        print(f"generated {issuances:,} issuances in {time.perf_counter() - started:.1f} s", flush=True)
        count = Issuance.objects.count()
    import django
    import openpyxl
    import xlsxwriter
    from django.db import connection

    return {
        "issuances": count,
        "database": connection.vendor,
        "django": django.get_version(),
        "xlsxwriter": xlsxwriter.__version__,
        "openpyxl": openpyxl.__version__,
    }


# --- the run ----------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measure", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--issuances", type=int, default=100_000)
    parser.add_argument("--participants", type=int, default=5_000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--fresh", action="store_true", help="regenerate the ledger even if it is there")
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument(
        "--only-ours",
        action="store_true",
        help="measure only our XLSX export (make bench's million-issuance step): no baselines",
    )
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.out)))
        return

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if args.prepare_only:
        info = prepare(
            database_url, issuances=args.issuances, participants=args.participants, years=args.years, fresh=args.fresh
        )
        print(json.dumps(info))
        return
    command = [
        sys.executable,
        __file__,
        "--prepare-only",
        "--issuances",
        str(args.issuances),
        "--participants",
        str(args.participants),
        "--years",
        str(args.years),
    ] + (["--fresh"] if args.fresh else [])
    prepared = subprocess.run(
        command,
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    print("\n".join(prepared.stdout.strip().splitlines()[:-1]), flush=True)
    info = json.loads(prepared.stdout.strip().splitlines()[-1])
    variants = ["ours_xlsx"] if args.only_ours else VARIANTS
    runs: dict[str, list[dict]] = {variant: [] for variant in variants}
    for number in range(args.runs):
        for variant in variants:
            result = run_child(variant, database_url)
            runs[variant].append(result)
            print(
                f"run {number + 1}/{args.runs} {variant:22} {result['seconds']:7.2f} s  "
                f"(first byte {result['ttfb_seconds']:6.3f} s, rows {result['first_rows_seconds']:6.3f} s)  "
                f"(cpu {result['cpu_seconds']:6.2f} s)  peak {result['peak_rss_mb']:6.1f} MB  "
                f"{result['bytes'] / 1e6:6.1f} MB written  load {os.getloadavg()[0]:.1f}",
                flush=True,
            )

    summary = {}
    for variant, results in runs.items():
        summary[variant] = {
            "median_seconds": round(statistics.median(r["seconds"] for r in results), 3),
            "median_ttfb_seconds": round(statistics.median(r["ttfb_seconds"] for r in results), 3),
            "median_first_rows_seconds": round(statistics.median(r["first_rows_seconds"] for r in results), 3),
            "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in results), 3),
            "median_peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in results), 1),
            "max_peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            "bytes": results[-1]["bytes"],
        }
    if args.only_ours:
        document = {
            "benchmark": "export of the issuance ledger (ours only)",
            **info,
            "runs": args.runs,
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "summary": summary,
            "raw": runs,
        }
        Path(args.results).write_text(json.dumps(document, indent=2) + "\n")
        return
    fastest = min(BASELINES, key=lambda name: summary[name]["median_seconds"])
    ratio = summary["ours_xlsx"]["median_seconds"] / summary[fastest]["median_seconds"]
    cpu_ratio = summary["ours_xlsx"]["median_cpu_seconds"] / summary[fastest]["median_cpu_seconds"]
    verdict = {
        "fastest_baseline": fastest,
        "ours_xlsx_time_ratio": round(ratio, 3),
        "ours_xlsx_cpu_ratio": round(cpu_ratio, 3),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "time_limit_ratio": TIME_LIMIT_RATIO,
        "time_ok": ratio <= TIME_LIMIT_RATIO,
        "memory_limit_mb": MEMORY_LIMIT_MB,
        "memory_ok": all(summary[v]["max_peak_rss_mb"] < MEMORY_LIMIT_MB for v in ("ours_xlsx", "ours_csv")),
    }
    document = {
        "benchmark": "export of the issuance ledger",
        **info,
        "runs": args.runs,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "summary": summary,
        "verdict": verdict,
        "raw": runs,
    }
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(document, indent=2) + "\n")
    print()
    print(f"{'variant':22} {'median s':>9} {'ttfb s':>7} {'rows s':>7} {'cpu s':>7} {'peak MB':>8}")
    for variant in VARIANTS:
        line = summary[variant]
        print(
            f"{variant:22} {line['median_seconds']:9.2f} {line['median_ttfb_seconds']:7.3f} "
            f"{line['median_first_rows_seconds']:7.3f} {line['median_cpu_seconds']:7.2f} "
            f"{line['max_peak_rss_mb']:8.1f}"
        )
    print(
        f"ours_xlsx / {fastest} = {ratio:.2f} wall, {cpu_ratio:.2f} cpu (limit {TIME_LIMIT_RATIO}); "
        f"peak memory {'under' if verdict['memory_ok'] else 'OVER'} {MEMORY_LIMIT_MB} MB"
    )
    print(f"written to {args.results}")


if __name__ == "__main__":
    main()
