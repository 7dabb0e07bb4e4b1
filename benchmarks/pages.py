"""Page latency through Django's test client, logged in as a superuser (force_login), against the ledger in
DATABASE_URL (one generated plan). Median and p95 over >= 20 requests after warm-up, and the number of SQL queries
of one request (CaptureQueriesContext).

    DATABASE_URL=postgres://... python benchmarks/pages.py --out pages.json

Pages whose URL name is not in the URLconf yet are reported as "not built yet".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import django_setup, summary_ms, write_json


def pages_to_measure() -> list[tuple[str, str | None, str]]:
    """(label, url or None, note) for every page; url None means not built yet."""
    from django.db.models import Count
    from django.urls import NoReverseMatch, reverse

    from plan_admin.models import BoardDesignation, Issuance, Participant, Plan

    plan = Plan.objects.annotate(n=Count("designations__issuances")).order_by("-n").first()
    # A year in the middle of the plan's life, and the participant with the most issuances (the heaviest page).
    years = sorted(set(BoardDesignation.objects.filter(plan=plan).values_list("year", flat=True)))
    mid_year = years[len(years) // 2]
    busiest = Participant.objects.annotate(n=Count("designations__issuances")).order_by("-n", "pk").first()
    issuances = reverse("admin:plan_admin_issuance_changelist")
    pages = [
        ("admin issuance list", issuances, "first page"),
        (
            "admin issuance list, filtered",
            f"{issuances}?{urlencode({'kind__exact': 'debt_settlement', 'designation__year': mid_year})}",
            f"debt settlements of {mid_year}",
        ),
        ("admin issuance list, search", f"{issuances}?{urlencode({'q': busiest.name})}", f"q={busiest.name}"),
        ("admin issuance list, standing", f"{issuances}?cancelled=no", "CancelledFilter"),
        (
            "admin issuance change page",
            reverse(
                "admin:plan_admin_issuance_change",
                args=[Issuance.objects.filter(designation__plan=plan).latest("pk").pk],
            ),
            "latest issuance",
        ),
        ("admin plan change page", reverse("admin:plan_admin_plan_change", args=[plan.pk]), ""),
        ("admin designation list", reverse("admin:plan_admin_boarddesignation_changelist"), "first page"),
        ("admin participant list", reverse("admin:plan_admin_participant_changelist"), "first page"),
    ]
    candidates = {
        "board-dashboard": [[]],
        "plan-detail": [[plan.pk]],
        "participant-detail": [[busiest.pk]],
        "reports": [[], [plan.pk]],
    }
    for name, arg_lists in candidates.items():
        url = None
        for args in arg_lists:
            try:
                url = reverse(name, args=args)
                break
            except NoReverseMatch:
                continue
        note = {"participant-detail": f"{busiest.name}, the participant with the most issuances"}.get(name, "")
        pages.append((name, url, note if url else "not built yet"))
    return pages


def measure(client, url: str, requests: int, warmup: int, time_limit: float) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        response = client.get(url)
    if response.status_code != 200:
        return {
            "status": response.status_code,
            "error": f"HTTP {response.status_code}",
            "location": response.get("Location", ""),
        }
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    queries = list(captured.captured_queries)  # now: the log is emptied by the next request
    size = len(response.content) if not response.streaming else None
    times = []
    started = time.perf_counter()
    while len(times) < requests:
        t0 = time.perf_counter()
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - started > time_limit and len(times) >= 5:
            break
    slowest = sorted(queries, key=lambda q: -float(q["time"]))[:3]
    return {
        "status": response.status_code,
        "queries": len(queries),
        "sql_ms_one_request": round(sum(float(q["time"]) for q in queries) * 1000, 1),
        "bytes": size,
        **summary_ms(times),
        "slowest_queries": [{"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:400]} for q in slowest],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=40.0, help="seconds per page before stopping early")
    args = parser.parse_args()
    django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from plan_admin.models import Issuance

    # Not setup_test_environment(): it instruments every template render so the test client can keep a copy of
    # each context, which costs a page like the admin's changelist 15-25 ms that no real request pays.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    User = get_user_model()
    user = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser(
        "bench-admin", "bench-admin@example.com", None
    )
    client = Client(raise_request_exception=False)
    client.force_login(user)
    results = {"issuances": Issuance.objects.count(), "pages": {}}
    for label, url, note in pages_to_measure():
        if url is None:
            results["pages"][label] = {"built": False, "note": note}
            print(f"  {label:<34} not built yet", flush=True)
            continue
        try:
            figures = measure(client, url, args.requests, args.warmup, args.time_limit)
        except Exception as error:
            figures = {"error": f"{type(error).__name__}: {error}"[:500]}
        results["pages"][label] = {"built": True, "url": url, "note": note, **figures}
        shown = (
            f"median {figures['median_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  {figures['queries']:3d} queries"
            if "median_ms" in figures
            else figures.get("error")
        )
        print(f"  {label:<34} {shown}", flush=True)
    write_json(args.out, results)


if __name__ == "__main__":
    main()
