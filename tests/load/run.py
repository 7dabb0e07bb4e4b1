"""HTTP load test: many logged-in staff clients post issuance forms to gunicorn on PostgreSQL at once.

The pool is fully committed to designations that two clients share, so that only some of the posts fit. Afterwards
exactly the issuances that fit are recorded, no response is a server error, every refused post shows its refusal, and
`manage.py reconcile` finds no drift.
Loopback only, bounded in count and time. Results go to benchmarks/results/loadtest.json.

    .venv/bin/python tests/load/run.py --clients 20 --posts 500 --workers 4
"""

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SHARES_PER_POST = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def recreate_database(server_url: str, name: str) -> str:
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=check, timeout=600
    )


SETUP_LEDGER = """
import datetime
from decimal import Decimal
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from plan_admin import roles, services
clients, authorized, password = {clients}, {authorized}, {password!r}
User = get_user_model()
root = User.objects.create_superuser("root", "root@example.com", password)
board = User.objects.create_user("board", password=password, is_staff=True)
board.groups.add(Group.objects.get(name=roles.BOARD))
from django.utils import timezone
plan = services.plan_create(company_name="Load Test Co.", name="Load Test Plan", par_value=Decimal("0.001"),
    initial_shares=authorized, board_approval_date=datetime.date(1999, 1, 1),
    effective_date=datetime.date(1999, 1, 1), by=root)
for n in range(clients):
    staff = User.objects.create_user(f"staff{{n}}", password=password, is_staff=True)
    staff.groups.add(Group.objects.get(name=roles.STAFF))
# The designations share the whole pool between them (rule 3: the plan is fully committed); the board approves
# them today, so issuances are dated today.
for n, shares in enumerate({designated}):
    person = services.participant_create(name=f"Participant {{n}}", category="key_employee", by=root)
    designation = services.designation_propose(plan=plan, participant=person, year=timezone.localdate().year,
        shares=shares, factors_considered="Load test.", by=root)
    services.designation_vote(designation=designation, voter=board, decision="approve")
    print("designation", designation.pk)
print("today", timezone.localdate().isoformat())
"""


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.successes = self.refusals = self.server_errors = self.unexplained = 0
        self.refusal_kinds: dict[str, int] = {}
        self.unexplained_kinds: dict[str, int] = {}
        self.latencies: list[float] = []

    def add(self, field: str, latency: float, kind: str | None = None):
        with self.lock:
            setattr(self, field, getattr(self, field) + 1)
            self.latencies.append(latency)
            if kind:
                kinds = self.refusal_kinds if field == "refusals" else self.unexplained_kinds
                kinds[kind] = kinds.get(kind, 0) + 1


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUBMISSION_KEY = re.compile(r'name="submission_key" value="([^"]+)"')
REFUSAL = re.compile(r"(would exceed the [\d,]+ authorized shares|would exceed [^<]*designation of [\d,]+ shares)")


def client_run(
    base: str,
    username: str,
    password: str,
    designation_id: int,
    issue_date: str,
    posts: int,
    tally: Tally,
    deadline: float,
):
    session = requests.Session()
    login_page = session.get(f"{base}/accounts/login/", timeout=30)
    token = CSRF.search(login_page.text).group(1)
    logged_in = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        timeout=30,
        allow_redirects=False,
    )
    assert logged_in.status_code == 302, f"{username} could not log in ({logged_in.status_code})"
    add_url = f"{base}/admin/plan_admin/issuance/add/"
    for _ in range(posts):
        if time.monotonic() > deadline:
            raise TimeoutError("the load test ran past its time bound")
        form = session.get(add_url, timeout=30)
        started = time.monotonic()
        response = session.post(
            add_url,
            timeout=60,
            allow_redirects=False,
            data={
                "csrfmiddlewaretoken": CSRF.search(form.text).group(1),
                "submission_key": SUBMISSION_KEY.search(form.text).group(1),
                "designation": designation_id,
                "issue_date": issue_date,
                "shares": SHARES_PER_POST,
                "kind": "compensation",
                "price_per_share": "0.05",
            },
        )
        latency = time.monotonic() - started
        if response.status_code >= 500:
            tally.add("server_errors", latency)
        elif response.status_code == 302:
            tally.add("successes", latency)
        elif response.status_code == 200 and (match := REFUSAL.search(response.text)):
            kind = "plan limit" if "authorized" in match.group(1) else "designation limit"
            tally.add("refusals", latency, kind)
        else:
            tally.add(
                "unexplained",
                latency,
                f"HTTP {response.status_code}: "
                + " ".join(re.findall(r'class="errornote[^"]*"[^>]*>(.*?)</', response.text, re.S))[:300],
            )


def bench_client(
    base: str,
    username: str,
    password: str,
    designation_id: int,
    issue_date: str,
    posts: int,
    mode: str,
    latencies: list,
    failures: list,
    deadline: float,
) -> None:
    """Throughput mode: log in, read the CSRF token once, then post as fast as the server answers. "admin" posts the
    admin's issuance form (a fresh submission key per post, as each new form would carry); "raw" the baseline."""
    import uuid

    session = requests.Session()
    login_page = session.get(f"{base}/accounts/login/", timeout=30)
    token = CSRF.search(login_page.text).group(1)
    session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        timeout=30,
        allow_redirects=False,
    )
    form = session.get(f"{base}/admin/plan_admin/issuance/add/", timeout=30)
    token = CSRF.search(form.text).group(1)
    url = f"{base}/admin/plan_admin/issuance/add/" if mode == "admin" else f"{base}/bench/raw-issuance/"
    expected = 302 if mode == "admin" else 201
    for _ in range(posts):
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark ran past its time bound")
        data = {"csrfmiddlewaretoken": token, "designation": designation_id, "shares": SHARES_PER_POST}
        if mode == "admin":
            data |= {
                "submission_key": str(uuid.uuid4()),
                "issue_date": issue_date,
                "kind": "compensation",
                "price_per_share": "0.05",
            }
        started = time.monotonic()
        response = session.post(url, data=data, timeout=60, allow_redirects=False)
        latency = time.monotonic() - started
        if response.status_code != expected:
            failures.append(f"{mode} HTTP {response.status_code}")
        else:
            latencies.append(latency)


def bench(args) -> int:
    """`make bench`'s HTTP step: the admin's issuance form against the raw baseline endpoint (benchmarks/bench_urls.py),
    in the same gunicorn, with the same clients; every post fits (each client has its own designation per mode)."""
    posts_per_client = -(-args.posts // args.clients)
    room = posts_per_client * SHARES_PER_POST
    designated = [room] * (2 * args.clients)
    password = secrets.token_urlsafe(16)
    database_url = recreate_database(args.server, "plan_admin_httpbench")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "AXES_FAILURE_LIMIT": "1000",
        "LOGIN_FAILURES_PER_ADDRESS": "100000",
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings",
    }
    manage(env, "migrate", "--noinput")
    created = manage(
        env,
        "shell",
        "-c",
        SETUP_LEDGER.format(clients=args.clients, authorized=sum(designated), password=password, designated=designated),
    )
    designation_ids = [int(line.split()[1]) for line in created.stdout.splitlines() if line.startswith("designation ")]
    today = next(line.split()[1] for line in created.stdout.splitlines() if line.startswith("today "))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "benchmarks.bench_wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    results = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "clients": args.clients,
        "gunicorn_workers": args.workers,
        "posts_per_mode": posts_per_client * args.clients,
    }
    try:
        for _ in range(120):
            try:
                requests.get(f"{base}/accounts/login/", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.5)
        for offset, mode in enumerate(("admin", "raw")):
            latencies, failures, errors = [], [], []
            deadline = time.monotonic() + args.time_limit

            def worker(
                n: int,
                mode=mode,
                latencies=latencies,
                failures=failures,
                errors=errors,
                deadline=deadline,
                offset=offset,
            ):
                try:
                    bench_client(
                        base,
                        f"staff{n}",
                        password,
                        designation_ids[offset * args.clients + n],
                        today,
                        posts_per_client,
                        mode,
                        latencies,
                        failures,
                        deadline,
                    )
                except BaseException as error:
                    errors.append(repr(error))

            threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - started
            ordered = sorted(latencies)
            results[mode] = {
                "accepted": len(latencies),
                "failures": len(failures),
                "failure_kinds": sorted(set(failures))[:5],
                "client_errors": errors[:3],
                "seconds": round(elapsed, 2),
                "accepted_per_second": round(len(latencies) / elapsed, 1) if elapsed else None,
                "p50_ms": round(1000 * ordered[len(ordered) // 2], 1) if ordered else None,
                "p95_ms": round(1000 * ordered[int(len(ordered) * 0.95)], 1) if ordered else None,
                "server_errors": sum(1 for failure in failures if " 5" in failure),
            }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    reconcile = manage(env, "reconcile", check=False)
    results["ratio_admin_to_raw"] = (
        round(results["admin"]["accepted_per_second"] / results["raw"]["accepted_per_second"], 3)
        if results.get("raw", {}).get("accepted_per_second")
        else None
    )
    results["reconcile_exit_status"] = reconcile.returncode  # the raw baseline writes no history; counters agree
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    ok = all(results[mode]["failures"] == 0 and not results[mode]["client_errors"] for mode in ("admin", "raw"))
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--posts", type=int, default=500, help="posts in total, spread over the clients")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--fit", type=float, default=0.2, help="share of the posts the pool can take")
    parser.add_argument("--server", default=os.environ.get("LOADTEST_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds before the test gives up")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "loadtest.json"))
    parser.add_argument(
        "--mode",
        choices=["check", "bench"],
        default="check",
        help="check: the CI load test (only some posts fit); bench: throughput against the raw baseline endpoint",
    )
    args = parser.parse_args()
    if args.mode == "bench":
        return bench(args)

    posts_per_client = -(-args.posts // args.clients)
    fitting_posts = int(args.posts * args.fit)
    authorized = fitting_posts * SHARES_PER_POST
    # Two clients share each designation; the designations together hold exactly the pool (the plan is fully
    # committed), so every post past a designation's share is refused, whichever client sends it.
    n_designations = max(1, args.clients // 2)
    per_designation = [
        fitting_posts // n_designations + (1 if n < fitting_posts % n_designations else 0)
        for n in range(n_designations)
    ]
    designated = [posts * SHARES_PER_POST for posts in per_designation]
    assert all(posts > 0 for posts in per_designation), "more designations than posts that fit"
    assert all(2 * posts_per_client >= posts for posts in per_designation), "each designation must fill up"
    password = secrets.token_urlsafe(16)
    database_url = recreate_database(args.server, "plan_admin_loadtest")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "AXES_FAILURE_LIMIT": "1000",
    }
    manage(env, "migrate", "--noinput")
    created = manage(
        env,
        "shell",
        "-c",
        SETUP_LEDGER.format(clients=args.clients, authorized=authorized, password=password, designated=designated),
    )
    designation_ids = [int(line.split()[1]) for line in created.stdout.splitlines() if line.startswith("designation ")]
    today = next(line.split()[1] for line in created.stdout.splitlines() if line.startswith("today "))
    assert len(designation_ids) == n_designations, created.stdout + created.stderr

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(120):
            try:
                requests.get(f"{base}/accounts/login/", timeout=10)
                break
            except requests.RequestException:  # workers still starting
                time.sleep(0.5)
        tally = Tally()
        deadline = time.monotonic() + args.time_limit
        started = time.monotonic()
        failures: list[BaseException] = []

        def worker(n: int):
            try:
                client_run(
                    base,
                    f"staff{n}",
                    password,
                    designation_ids[n % n_designations],
                    today,
                    posts_per_client,
                    tally,
                    deadline,
                )
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    with psycopg.connect(database_url) as connection:
        issued, authorized_now = connection.execute(
            "SELECT issued_shares, authorized_shares FROM plan_admin_plan"
        ).fetchone()
        recorded = connection.execute("SELECT count(*) FROM plan_admin_issuance").fetchone()[0]
    reconcile = manage(env, "reconcile", check=False)
    latencies = sorted(tally.latencies)
    total = posts_per_client * args.clients
    results = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "clients": args.clients,
        "designations": n_designations,
        "gunicorn_workers": args.workers,
        "requests": total,
        "successes": tally.successes,
        "expected_successes": fitting_posts,
        "refusals": tally.refusals,
        "refusal_kinds": tally.refusal_kinds,
        "server_errors": tally.server_errors,
        "unexplained_responses": tally.unexplained,
        "unexplained_kinds": tally.unexplained_kinds,
        "client_failures": [repr(f) for f in failures],
        "seconds": round(elapsed, 2),
        "posts_per_second": round(total / elapsed, 1) if elapsed else None,
        "median_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
        "p95_ms": round(1000 * latencies[int(len(latencies) * 0.95)], 1) if latencies else None,
        "issued_shares": issued,
        "authorized_shares": authorized_now,
        "issuance_rows": recorded,
        "reconcile_exit_status": reconcile.returncode,
        "reconcile_output": reconcile.stdout.strip()[-500:],
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))

    problems = []
    if failures:
        problems.append(f"{len(failures)} client(s) failed: {failures[0]!r}")
    if tally.server_errors or tally.unexplained:
        problems.append(
            f"{tally.server_errors} server errors, {tally.unexplained} responses neither success nor refusal"
        )
    if tally.successes != fitting_posts or recorded != fitting_posts or issued != authorized:
        problems.append(
            f"{tally.successes} successes and {recorded} rows for {fitting_posts} that fit; issued "
            f"{issued} of {authorized}"
        )
    if tally.successes + tally.refusals != total:
        problems.append(f"{tally.successes + tally.refusals} answered of {total}")
    if reconcile.returncode != 0:
        problems.append("reconcile reported drift: " + reconcile.stdout + reconcile.stderr)
    for problem in problems:
        print("LOAD TEST FAILED:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
