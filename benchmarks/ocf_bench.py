"""OCF export benchmark: a 100,000-issuance ledger exported as an OCF 1.2.0 package (.zip), every object validated.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plan_admin_bench_ocf .venv/bin/python benchmarks/ocf_bench.py
    .venv/bin/python benchmarks/ocf_bench.py --runs 3 --results benchmarks/results/ocf.json

Each run is a fresh Python process (so that its peak memory is its own): Django set up, then
plan_admin.interop.ocf_export.export_plan(plan, "<tmp>/plan.ocf.zip") timed from the call to the closed zip. Peak
memory is the child's peak RSS (os.wait4's ru_maxrss: Django, the compiled schemas and the export together); the
child also reports its RSS after set-up, so that what the export itself adds shows. The median of the runs is
reported, with the machine. `make bench` runs it on its 100,000-issuance database (benchmarks/run.py, part "ocf").

Data: `manage.py generate_ledger --issuances 100000 --participants 5000 --years 20 --seed 1`, generated once per
database (created with createdb and migrated when missing); a database holding a plan with exactly that many
issuances is reused. The issuer details OCF requires are recorded once (fictional: formed 1990-01-02 in Delaware).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/plan_admin_bench_ocf"
RESULTS = ROOT / "benchmarks" / "results" / "ocf.json"


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def child(out: str) -> None:
    """One measured export (runs in its own process); prints its result as JSON."""
    import resource

    _django()
    from plan_admin.interop.ocf_export import export_plan
    from plan_admin.models import Issuance, Plan

    plan = max(Plan.objects.all(), key=lambda p: Issuance.objects.filter(designation__plan=p).count())
    rss_after_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time()
    started = time.perf_counter()
    result = export_plan(plan, out)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "cpu_seconds": round(time.process_time() - cpu, 2),
                "rss_after_setup_mb": round(rss_after_setup, 1),
                "zip_mb": round(Path(out).stat().st_size / 1e6, 1),
                "objects": dict(result.counts),
            }
        )
    )


def run_child(database_url: str) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        out = str(Path(directory) / "plan.ocf.zip")
        env = {**os.environ, "DATABASE_URL": database_url}
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", out],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stdout = process.stdout.read()
        stderr = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            raise SystemExit(f"The export failed:\n{stderr[-3000:]}")
        result = json.loads(stdout.strip().splitlines()[-1])
        result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux reports KiB
        return result


def prepare(database_url: str, *, issuances: int) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    os.environ["DATABASE_URL"] = database_url
    listed = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
    )
    if listed.stdout.strip() != "1":
        created = subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True, text=True
        )
        if created.returncode:
            raise SystemExit(f"createdb failed: {created.stderr.strip()}")
    _django()
    import datetime

    from django.core.management import call_command

    from plan_admin.interop.issuer import issuer_details, issuer_details_record
    from plan_admin.models import Issuance, Plan

    call_command("migrate", verbosity=0)
    plans = [
        plan for plan in Plan.objects.all() if Issuance.objects.filter(designation__plan=plan).count() == issuances
    ]
    if not plans:
        call_command("generate_ledger", issuances=issuances, participants=5_000, years=20, seed=1)
        plans = [
            plan for plan in Plan.objects.all() if Issuance.objects.filter(designation__plan=plan).count() == issuances
        ]
    for plan in plans:
        if not issuer_details(plan):
            issuer_details_record(
                plan=plan,
                formation_date=datetime.date(1990, 1, 2),
                country_of_formation="US",
                country_subdivision="DE",
                by=None,
            )


def machine(database_url: str) -> dict:
    cpu = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    memory = ""
    try:
        kib = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    version = subprocess.run(
        ["psql", database_url, "-Atc", "SHOW server_version"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "postgresql": version,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--issuances", type=int, default=100_000)
    parser.add_argument("--results", default=str(RESULTS))
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"The benchmark runs on PostgreSQL; DATABASE_URL is {database_url!r}.")
    prepare(database_url, issuances=args.issuances)
    runs = []
    for index in range(args.runs):
        runs.append(run_child(database_url))
        print(f"run {index + 1}: {runs[-1]['seconds']} s, peak {runs[-1]['peak_rss_mb']} MB", flush=True)
    results = {
        "what": f"OCF 1.2.0 export of {args.issuances:,} issuances to a .zip, every object validated",
        "machine": machine(database_url),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "runs": runs,
        "median_seconds": statistics.median(run["seconds"] for run in runs),
        "median_cpu_seconds": statistics.median(run["cpu_seconds"] for run in runs),
        "median_peak_rss_mb": statistics.median(run["peak_rss_mb"] for run in runs),
        "median_rss_after_setup_mb": statistics.median(run["rss_after_setup_mb"] for run in runs),
    }
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"median {results['median_seconds']} s (CPU {results['median_cpu_seconds']} s), peak RSS "
        f"{results['median_peak_rss_mb']} MB ({results['median_rss_after_setup_mb']} MB after set-up); "
        f"written to {args.results}"
    )


if __name__ == "__main__":
    main()
