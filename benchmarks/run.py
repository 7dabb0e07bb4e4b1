"""`make bench`: every benchmark of issue 5 against PostgreSQL, in one run, written to benchmarks/results/.

    make bench                                   # = .venv/bin/python benchmarks/run.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/plan_admin_bench .venv/bin/python benchmarks/run.py [--keep]

It creates (and at the end drops) its own databases next to DATABASE_URL's: <name> (migrated; the throughput and
import benches write there), <name>_1k and <name>_100k (copies of it with a generated ledger of 1,000 and
100,000 issuances), and <name>_1m (a copy made before any bench writes, for the million-issuance step).
Each part runs in its own process against one of them:

  generate    manage.py generate_ledger, timed, then manage.py reconcile on the result
  throughput  services.issuance_record vs a raw psycopg baseline, 1 and 8 worker processes   (throughput.py)
  pages       page latency and SQL query counts at 1,000 and 100,000 issuances               (pages.py)
  import      10,000 rows through plan_admin.imports.run_import vs a plain service loop       (import_bench.py)
  export      benchmarks/export_bench.py when it exists, on the 100,000 database; merged
  ocf         the OCF 1.2.0 export of the 100,000 database, time and peak memory          (ocf_bench.py)

Every figure is measured in this run; baselines (raw psycopg, the 1,000-issuance ledger, the plain loop) are
measured in the same run, next to what they are compared with. Writes results/results.json and results/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/plan_admin_bench"
PYTHON = sys.executable

GOAL_SERVICE_SHARE = 1 / 3
GOAL_PAGE_MEDIAN_MS = 150
GOAL_IMPORT_RATIO = 2.0
GOAL_GENERATE_SECONDS = 60
GOAL_HTTP_SHARE = 1 / 3
GOAL_SCALE_GENERATE_SECONDS = 300
GOAL_SCALE_RECONCILE_SECONDS = 30
GOAL_SCALE_EXPORT_MB = 150


def with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def admin_connection(url: str):
    import psycopg

    return psycopg.connect(with_db(url, "postgres"), autocommit=True)


def recreate(url: str, name: str, template: str | None = None) -> None:
    from psycopg import sql

    with admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop(url: str, name: str) -> None:
    from psycopg import sql

    with admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def run(command: list[str], database_url: str, *, timeout: float, check: bool = True) -> tuple[float, str, int]:
    """Run a part in its own process, echoing its output; return (seconds, output, exit status)."""
    print(f"$ DATABASE_URL={database_url} {shlex.join(command)}", flush=True)
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        if "No directory at" in line or "mw_instance = middleware" in line:
            continue  # whitenoise's warning about collectstatic, irrelevant here
        print("    " + line.rstrip(), flush=True)
        lines.append(line)
    process.wait(timeout=timeout)
    seconds = time.perf_counter() - started
    if check and process.returncode != 0:
        raise SystemExit(f"{command[1]} failed with exit status {process.returncode}")
    return seconds, "".join(lines), process.returncode


def machine(url: str) -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    with admin_connection(url) as conn:
        pg = conn.execute("SELECT version()").fetchone()[0]
        pg_settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('shared_buffers', 'synchronous_commit', 'fsync', 'max_connections', 'jit', 'work_mem')"
            ).fetchall()
        )
    import django

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "postgresql": pg.split(" on ")[0],
        "postgresql_settings": pg_settings,
        "python": platform.python_version(),
        "django": django.get_version(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "note": "a shared 2-core virtual machine: timings are noisy; compare ratios to same-run baselines",
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def scale_step(args, url: str, base: str, tmp: Path, pages_1k: dict | None) -> dict:
    """Generate a million issuances, reconcile them, measure every page and the XLSX export on them; drop them."""
    target = with_db(url, f"{base}_1m")  # made from the freshly migrated template in main(), before any bench wrote
    out: dict = {"issuances": args.scale_issuances, "participants": args.scale_participants}
    try:
        seconds, output, _ = run(
            [
                PYTHON,
                "manage.py",
                "generate_ledger",
                "--issuances",
                str(args.scale_issuances),
                "--participants",
                str(args.scale_participants),
                "--years",
                "20",
                "--seed",
                "1",
                "-v2",
            ],
            target,
            timeout=3600,
        )
        out["generate_seconds"] = round(seconds, 1)
        out["generate_output"] = output.strip().splitlines()[-1]
        seconds, output, status = run([PYTHON, "manage.py", "reconcile"], target, timeout=1200, check=False)
        out["reconcile_seconds"] = round(seconds, 1)
        out["reconcile_exit_status"] = status
        out["reconcile_output"] = output.strip()[-300:]
        pages_json = tmp / "pages_1m.json"
        run([PYTHON, "benchmarks/pages.py", "--out", str(pages_json)], target, timeout=3600)
        measured = json.loads(pages_json.read_text())["pages"]
        out["pages"] = {
            page: {**values, "queries_1k": (pages_1k or {}).get("pages", {}).get(page, {}).get("queries")}
            for page, values in measured.items()
        }
        export_json = tmp / "export_1m.json"
        _, output, status = run(
            [
                PYTHON,
                "benchmarks/export_bench.py",
                "--results",
                str(export_json),
                "--runs",
                "1",
                "--only-ours",
                "--issuances",
                str(args.scale_issuances),
                "--participants",
                str(args.scale_participants),
                "--years",
                "20",
            ],
            target,
            timeout=3600,
            check=False,
        )
        if status == 0 and export_json.exists():
            ours = json.loads(export_json.read_text()).get("summary", {}).get("ours_xlsx", {})
            out["export"] = {
                "seconds": ours.get("median_seconds"),
                "peak_rss_mb": ours.get("max_peak_rss_mb"),
                "first_rows_seconds": ours.get("median_first_rows_seconds"),
            }
        else:
            out["export"] = {"error": f"export_bench.py exited with status {status}", "tail": output[-1000:]}
    finally:
        if not args.keep:
            drop(url, f"{base}_1m")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["throughput", "pages", "import", "export", "ocf", "http", "scale"]
    )
    parser.add_argument("--scale-issuances", type=int, default=1_000_000)
    parser.add_argument("--scale-participants", type=int, default=50_000)
    parser.add_argument("--http-clients", type=int, default=24)
    parser.add_argument("--http-posts", type=int, default=1_200, help="posts per mode (admin form, raw baseline)")
    parser.add_argument("--issuances", type=int, default=100_000)
    parser.add_argument("--small-issuances", type=int, default=1_000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--export-runs", type=int, default=2, help="runs per variant of export_bench.py")
    parser.add_argument("--results", default=str(RESULTS))
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"The benchmarks need PostgreSQL; DATABASE_URL is {url!r}.")
    base = urlsplit(url).path.lstrip("/")
    small_name, big_name = f"{base}_1k", f"{base}_100k"
    base_url, small_url, big_url = url, with_db(url, small_name), with_db(url, big_name)
    results_dir = Path(args.results)
    results_dir.mkdir(parents=True, exist_ok=True)
    tmp = results_dir / "parts.tmp"
    tmp.mkdir(exist_ok=True)
    bench_started = time.perf_counter()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    results: dict = {"machine": machine(url), "load_average": {"start": load_average()}, "goals": {}}
    print(f"Machine: {results['machine']}", flush=True)

    # --- databases -------------------------------------------------------------------------------------------
    recreate(url, base)
    seconds, _, _ = run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], base_url, timeout=600)
    results["migrate_seconds"] = round(seconds, 1)
    recreate(url, small_name, template=base)
    recreate(url, big_name, template=base)
    if "scale" not in args.skip:
        # Not from the base database later: the throughput and HTTP benches write to it (their raw baselines move
        # only the plan's counter, which reconcile would rightly call drift).
        recreate(url, f"{base}_1m", template=base)

    # --- generate + reconcile ---------------------------------------------------------------------------------
    generate = {}
    for label, target, issuances, participants in (
        ("small", small_url, args.small_issuances, 200),
        ("large", big_url, args.issuances, 5_000),
    ):
        seconds, output, _ = run(
            [
                PYTHON,
                "manage.py",
                "generate_ledger",
                "--issuances",
                str(issuances),
                "--participants",
                str(participants),
                "--years",
                "20",
                "--seed",
                "1",
                "-v2",
            ],
            target,
            timeout=900,
        )
        reconcile_seconds, reconcile_output, status = run(
            [PYTHON, "manage.py", "reconcile"], target, timeout=600, check=False
        )
        generate[label] = {
            "issuances": issuances,
            "participants": participants,
            "years": 20,
            "seed": 1,
            "seconds": round(seconds, 1),
            "output": output.strip().splitlines()[-1],
            "phases": output.strip().splitlines()[0] if "Seconds:" in output else "",
            "reconcile_seconds": round(reconcile_seconds, 2),
            "reconcile_exit_status": status,
            "reconcile_output": reconcile_output.strip(),
        }
    results["generate"] = generate
    results["goals"]["generate_100k_under_60s"] = {
        "goal": f"generate {args.issuances:,} issuances in well under {GOAL_GENERATE_SECONDS} s",
        "measured": f"{generate['large']['seconds']} s (process wall time, Django start-up included)",
        "met": generate["large"]["seconds"] < GOAL_GENERATE_SECONDS and generate["large"]["reconcile_exit_status"] == 0,
    }

    # --- throughput -----------------------------------------------------------------------------------------
    if "throughput" not in args.skip:
        out = tmp / "throughput.json"
        run([PYTHON, "benchmarks/throughput.py", "--out", str(out)], base_url, timeout=900)
        throughput = json.loads(out.read_text())
        results["throughput"] = throughput
        s = throughput["summary"]
        results["goals"]["service_8_workers"] = {
            "goal": "services.issuance_record with 8 workers >= 1/3 of the raw psycopg baseline's rate",
            "measured": f"{s['service_8']['median_per_second']}/s vs raw {s['raw_8']['median_per_second']}/s "
            f"= {s['service_8']['ratio_to_raw']:.2f}",
            "met": s["service_8"]["ratio_to_raw"] >= GOAL_SERVICE_SHARE,
        }
        errors = sum(v["deadlocks"] + v["serialization_failures"] for v in s.values())
        results["goals"]["no_deadlocks"] = {
            "goal": "0 deadlocks / serialization failures",
            "measured": str(errors),
            "met": errors == 0,
        }

    # --- pages ----------------------------------------------------------------------------------------------
    if "pages" not in args.skip:
        pages = {}
        for label, target in (("1k", small_url), ("100k", big_url)):
            out = tmp / f"pages_{label}.json"
            run([PYTHON, "benchmarks/pages.py", "--out", str(out)], target, timeout=1200)
            pages[label] = json.loads(out.read_text())
        results["pages"] = pages
        comparison = {}
        for name, big in pages["100k"]["pages"].items():
            small = pages["1k"]["pages"].get(name, {})
            if not big.get("built"):
                comparison[name] = {"built": False}
                continue
            if "median_ms" not in big or "median_ms" not in small:
                comparison[name] = {"built": True, "error": big.get("error") or small.get("error")}
                continue
            comparison[name] = {
                "built": True,
                "queries_1k": small["queries"],
                "queries_100k": big["queries"],
                "same_query_count": small["queries"] == big["queries"],
                "median_ms_1k": small["median_ms"],
                "median_ms_100k": big["median_ms"],
                "p95_ms_1k": small["p95_ms"],
                "p95_ms_100k": big["p95_ms"],
                "ratio_100k_to_1k": round(big["median_ms"] / small["median_ms"], 2),
                "median_under_150ms": big["median_ms"] < GOAL_PAGE_MEDIAN_MS,
            }
        results["page_comparison"] = comparison
        built = {k: v for k, v in comparison.items() if v.get("built") and "error" not in v}
        results["goals"]["pages_same_query_count"] = {
            "goal": "query count identical at 1,000 and 100,000 issuances",
            "measured": ", ".join(
                f"{k}: {v['queries_1k']} vs {v['queries_100k']}" for k, v in built.items() if not v["same_query_count"]
            )
            or "identical on every page",
            "met": all(v["same_query_count"] for v in built.values()),
        }
        slow = {k: v["median_ms_100k"] for k, v in built.items() if not v["median_under_150ms"]}
        results["goals"]["pages_median_under_150ms"] = {
            "goal": "median < 150 ms at 100,000 issuances",
            "measured": ", ".join(f"{k}: {ms:.0f} ms" for k, ms in slow.items()) or "every page",
            "met": not slow,
        }

    # --- import ---------------------------------------------------------------------------------------------
    if "import" not in args.skip:
        out = tmp / "import.json"
        run(
            [PYTHON, "benchmarks/import_bench.py", "--out", str(out), "--rows", str(args.import_rows)],
            base_url,
            timeout=1800,
        )
        results["import"] = json.loads(out.read_text())
        imp = results["import"]
        if imp.get("built") and imp.get("import_finished"):
            ratio = imp["ratio_import_to_loop"]
            results["goals"]["import_within_2x"] = {
                "goal": f"import of {imp['rows']:,} rows within 2x the plain service loop",
                "measured": f"{imp['import_seconds']} s vs {imp['loop_seconds']} s = {ratio:.2f}x; "
                f"all written: {imp['report_ok']}",
                "met": ratio <= GOAL_IMPORT_RATIO and imp["report_ok"],
            }
            batch = sum(imp.get("issuance_record_many_seconds") or [])
            if batch:
                # Issue 11: the import (reading, checks, duplicates, references) around the batch service.
                results["goals"]["import_within_2x_batch"] = {
                    "goal": f"import of {imp['rows']:,} rows within 2x its services.issuance_record_many call",
                    "measured": f"{imp['import_seconds']} s vs {batch:.2f} s = {imp['import_seconds'] / batch:.2f}x",
                    "met": imp["import_seconds"] <= GOAL_IMPORT_RATIO * batch and imp["report_ok"],
                }
        elif imp.get("built"):
            results["goals"]["import_within_2x"] = {
                "goal": f"import of {imp['rows']:,} rows within 2x the plain service loop",
                "measured": f"stopped after {imp['gave_up_after_seconds']} s (> {imp['give_up_ratio']}x the loop's "
                f"{imp['loop_seconds']} s) at row {imp['rows_done_when_stopped']:,}",
                "met": False,
            }

    # --- export ---------------------------------------------------------------------------------------------
    export_script = HERE / "export_bench.py"
    if "export" in args.skip:
        pass
    elif export_script.exists():
        export_json = tmp / "export.json"  # merged below; the export helper's own results/export.json is left alone
        _, output, status = run(
            [PYTHON, "benchmarks/export_bench.py", "--results", str(export_json), "--runs", str(args.export_runs)],
            big_url,
            timeout=1800,
            check=False,
        )
        if status == 0 and export_json.exists():
            results["export"] = json.loads(export_json.read_text())
            verdict = results["export"].get("verdict", {})
            if verdict:
                summary = results["export"].get("summary", {}).get("ours_xlsx", {})
                if "median_ttfb_seconds" in summary:
                    results["goals"]["export_first_byte"] = {
                        "goal": "XLSX ledger's first bytes (and first rows) before the whole file is written",
                        "measured": f"first byte {summary['median_ttfb_seconds']} s, first rows "
                        f"{summary['median_first_rows_seconds']} s, whole file "
                        f"{summary['median_seconds']} s, peak {summary['max_peak_rss_mb']} MB",
                        "met": summary["median_first_rows_seconds"] < summary["median_seconds"],
                    }
                results["goals"]["export"] = {
                    "goal": f"XLSX export within {verdict.get('time_limit_ratio')}x the fastest streaming baseline "
                    f"and under {verdict.get('memory_limit_mb')} MB",
                    "measured": f"{verdict.get('ours_xlsx_time_ratio')}x of {verdict.get('fastest_baseline')}",
                    "met": bool(verdict.get("time_ok") and verdict.get("memory_ok")),
                }
        else:
            results["export"] = {"error": f"export_bench.py exited with status {status}", "output_tail": output[-2000:]}
    else:
        results["export"] = {"built": False, "note": "not built yet (benchmarks/export_bench.py is missing)"}

    # --- OCF export -----------------------------------------------------------------------------------------
    if "ocf" not in args.skip:
        ocf_json = tmp / "ocf.json"
        _, output, status = run(
            [
                PYTHON,
                "benchmarks/ocf_bench.py",
                "--results",
                str(ocf_json),
                "--runs",
                "2",
                "--issuances",
                str(args.issuances),
            ],
            big_url,
            timeout=1800,
            check=False,
        )
        results["ocf"] = (
            json.loads(ocf_json.read_text())
            if status == 0 and ocf_json.exists()
            else {"error": f"ocf_bench.py exited with status {status}", "output_tail": output[-2000:]}
        )

    # --- HTTP: the admin's issuance form against a raw endpoint in the same gunicorn ---------------------------
    if "http" not in args.skip:
        out = tmp / "http.json"
        _, _, status = run(
            [
                PYTHON,
                "tests/load/run.py",
                "--mode",
                "bench",
                "--clients",
                str(args.http_clients),
                "--posts",
                str(args.http_posts),
                "--workers",
                "4",
                "--output",
                str(out),
            ],
            base_url,
            timeout=1800,
            check=False,
        )
        if out.exists():
            http = json.loads(out.read_text())
            results["http"] = http
            results["goals"]["http_admin_share"] = {
                "goal": f"HTTP admin issuance with {args.http_clients} clients >= 1/3 of the raw endpoint's rate, "
                "no 5xx",
                "measured": f"{http['admin']['accepted_per_second']}/s vs raw {http['raw']['accepted_per_second']}/s "
                f"= {http['ratio_admin_to_raw']}; 5xx: "
                f"{http['admin']['server_errors'] + http['raw']['server_errors']}",
                "met": (http["ratio_admin_to_raw"] or 0) >= GOAL_HTTP_SHARE
                and status == 0
                and not http["admin"]["server_errors"],
            }

    # --- scale: a million issuances --------------------------------------------------------------------------
    if "scale" not in args.skip:
        results["scale"] = scale_step(args, url, base, tmp, results.get("pages", {}).get("1k"))
        scale = results["scale"]
        results["goals"]["scale_generate"] = {
            "goal": f"generate {args.scale_issuances:,} issuances ({args.scale_participants:,} participants) in "
            f"< {GOAL_SCALE_GENERATE_SECONDS} s",
            "measured": f"{scale['generate_seconds']} s",
            "met": scale["generate_seconds"] < GOAL_SCALE_GENERATE_SECONDS,
        }
        results["goals"]["scale_reconcile"] = {
            "goal": f"reconcile at {args.scale_issuances:,} issuances < {GOAL_SCALE_RECONCILE_SECONDS} s, no drift",
            "measured": f"{scale['reconcile_seconds']} s, exit status {scale['reconcile_exit_status']}",
            "met": scale["reconcile_seconds"] < GOAL_SCALE_RECONCILE_SECONDS and scale["reconcile_exit_status"] == 0,
        }
        if "pages" in scale:
            built = {k: v for k, v in scale["pages"].items() if "median_ms" in v}
            different = {k: v for k, v in built.items() if v.get("queries_1k") not in (None, v["queries"])}
            slow = {k: v["median_ms"] for k, v in built.items() if v["median_ms"] >= GOAL_PAGE_MEDIAN_MS}
            results["goals"]["scale_pages"] = {
                "goal": "at a million issuances, every page's query count as at 1,000 and its median < 150 ms",
                "measured": "; ".join(
                    [f"{k}: {v['queries_1k']} vs {v['queries']} queries" for k, v in different.items()]
                    + [f"{k}: {ms:.0f} ms" for k, ms in slow.items()]
                )
                or "every page",
                "met": not different and not slow,
            }
        if "export" in scale:
            peak = scale["export"].get("peak_rss_mb")
            results["goals"]["scale_export_memory"] = {
                "goal": f"XLSX export of {args.scale_issuances:,} issuances under {GOAL_SCALE_EXPORT_MB} MB peak",
                "measured": f"{scale['export'].get('seconds')} s, {peak} MB",
                "met": peak is not None and peak < GOAL_SCALE_EXPORT_MB,
            }

    results["load_average"]["end"] = load_average()
    results["total_seconds"] = round(time.perf_counter() - bench_started, 1)
    if not args.keep:
        for name in (small_name, big_name, base):
            drop(url, name)
    (results_dir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    from report import write_markdown

    (results_dir / "RESULTS.md").write_text(write_markdown(results))
    for part in tmp.iterdir():
        part.unlink()
    tmp.rmdir()
    print(f"\nWrote {results_dir / 'RESULTS.md'} and results.json in {results['total_seconds']:.0f} s.")
    for name, goal in results["goals"].items():
        print(f"  {'MET ' if goal['met'] else 'MISS'} {name}: {goal['measured']}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
