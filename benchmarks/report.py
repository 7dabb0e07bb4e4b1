"""RESULTS.md from the results dictionary that run.py builds (every figure from the same run)."""

from __future__ import annotations

from pathlib import Path


def _yes(flag) -> str:
    return "yes" if flag else "**no**"


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def write_markdown(results: dict) -> str:
    m = results["machine"]
    out = [
        "# Benchmarks (issues 5 and 14)",
        "",
        "Written by `make bench` (`benchmarks/run.py`); every figure below was measured in the run that wrote this "
        "file, baselines included. The full figures are in `results.json`.",
        "",
        f"**Machine:** {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; {m['postgresql']}; "
        f"Python {m['python']}, Django {m['django']}; {m['date']}. "
        f"Load average at start {results['load_average']['start']}, at end {results['load_average'].get('end')}: "
        "a load average above 1 means something else was running on the 2 cores, so absolute timings are noisy: "
        "read the ratios to the same-run baselines.",
        f"Whole run: {results.get('total_seconds', 0):.0f} s.",
        "",
        "## Goals",
        "",
    ]
    out += _table(
        ["goal", "measured", "met"], [[g["goal"], g["measured"], _yes(g["met"])] for g in results["goals"].values()]
    )

    g = results.get("generate", {})
    if g:
        out += ["## Ledger generation and reconcile", ""]
        out += _table(
            ["ledger", "generate_ledger (s)", "reconcile (s)", "reconcile exit status", "result"],
            [
                [
                    f"{v['issuances']:,} issuances, {v['participants']:,} participants, {v['years']} years",
                    v["seconds"],
                    v["reconcile_seconds"],
                    v["reconcile_exit_status"],
                    v["reconcile_output"],
                ]
                for v in g.values()
            ],
        )
        out += [
            "Times are process wall times (Django start-up included). "
            f"Phases of the large run: {g.get('large', {}).get('phases', '')}",
            "",
        ]

    t = results.get("throughput")
    if t:
        s = t["summary"]
        out += [
            "## Service throughput (one plan, `services.issuance_record`, 1 and 8 worker processes)",
            "",
            f"{len(t['rounds']) // 4} interleaved rounds of {t['duration_s']} s per configuration; median of the "
            "rounds. Raw baseline: psycopg, `BEGIN; SELECT id FROM plan_admin_plan WHERE id=%s FOR UPDATE; "
            "INSERT INTO plan_admin_issuance ...; UPDATE plan_admin_plan SET issued_shares = issued_shares + 1; "
            "COMMIT`.",
            "",
        ]
        rows = []
        for key, v in s.items():
            kind, workers = key.split("_")
            rows.append(
                [
                    "raw psycopg" if kind == "raw" else "services.issuance_record",
                    workers,
                    f"{v['median_per_second']:,.0f}",
                    ", ".join(f"{x:,.0f}" for x in v["rounds_per_second"]),
                    v["median_latency_ms"],
                    v["p95_latency_ms"],
                    v.get("client_cpu_ms_per_issuance", ""),
                    f"{v['ratio_to_raw']:.2f}" if "ratio_to_raw" in v else "1 (baseline)",
                    v["deadlocks"],
                    v["serialization_failures"],
                    v["other_errors"],
                ]
            )
        out += _table(
            [
                "writer",
                "workers",
                "issuances/s (median)",
                "rounds",
                "latency median (ms)",
                "latency p95 (ms)",
                "client CPU per issuance (ms)",
                "ratio to raw",
                "deadlocks",
                "serialization failures",
                "other errors",
            ],
            rows,
        )
        p = t["profile"]
        out += [
            f"**Where the service's time goes** (one process, {p['calls']} calls): median call "
            f"{p['median_call_ms']} ms. Django's query log sees {p['statements_per_call']} statements per call and "
            f"{p['median_db_ms']} ms in them: the hot path's own statements (plan_admin/services/ledger_sql.py: the "
            "locking read of the plan and, in the same round trip, the read of the designation; then one statement "
            "that inserts the issuance and its history row and moves the designation's counter, the issuance "
            "totals and the plan's counters) go straight to psycopg, prepared once per connection, and appear in "
            "the profile below instead. The raw baseline makes 3 round trips between BEGIN and COMMIT, writing one "
            "row and one counter; the service makes 2, writing two rows (the issuance and its history) and three "
            "counters. Statements in Django's log:",
            "",
            "```",
            *p["statements"],
            "```",
            "",
            "<details><summary>cProfile, by own time</summary>",
            "",
            "```",
            p["cprofile_tottime"].strip(),
            "```",
            "</details>",
            "",
        ]
        holders = t.get("lock_holders")
        if holders:
            labels = {
                "issuance_record": "an issuance (`issuance_record`)",
                "issuance_cancel": "its cancellation (`issuance_cancel`)",
                "designation_vote_approving": "a board member's deciding vote: an approval (`designation_vote`)",
            }
            out += [
                "**The writers that share the plan lock** (one process, one plan, each call on its own): each takes "
                "the lock once its values are cleaned and holds it to its COMMIT, so its call time is an upper bound "
                "of the time it holds the lock. Statements: those in Django's query log, BEGIN and COMMIT included "
                "(the hot path's own go straight to psycopg and are not in it).",
                "",
                *_table(
                    ["writer", "calls", "median call (ms)", "p95 call (ms)", "statements in Django's log"],
                    [
                        [
                            labels.get(name, name),
                            values["calls"],
                            values["median_call_ms"],
                            values["p95_call_ms"],
                            values["statements_per_call"],
                        ]
                        for name, values in holders.items()
                    ],
                ),
            ]

    pages = results.get("page_comparison")
    if pages:
        big = results["pages"]["100k"]["pages"]
        out += [
            "## Page latency (Django test client, superuser, >= 20 requests after 3 warm-up)",
            "",
            f"The 1,000-issuance ledger is the baseline. {results['pages']['1k']['issuances']:,} and "
            f"{results['pages']['100k']['issuances']:,} issuances in the two databases.",
            "",
        ]
        rows = []
        for name, v in pages.items():
            if not v.get("built"):
                rows.append([name, "not built yet", "", "", "", "", "", "", "", ""])
            elif "error" in v:
                rows.append([name, f"error: {v['error']}", "", "", "", "", "", "", "", ""])
            else:
                rows.append(
                    [
                        f"{name} ({big[name]['note']})" if big[name].get("note") else name,
                        v["queries_1k"],
                        v["queries_100k"],
                        v["median_ms_1k"],
                        v["p95_ms_1k"],
                        v["median_ms_100k"],
                        v["p95_ms_100k"],
                        big[name].get("sql_ms_one_request", ""),
                        v["ratio_100k_to_1k"],
                        _yes(v["median_under_150ms"]),
                    ]
                )
        out += _table(
            [
                "page",
                "queries @1k",
                "queries @100k",
                "median @1k (ms)",
                "p95 @1k (ms)",
                "median @100k (ms)",
                "p95 @100k (ms)",
                "SQL of one request @100k (ms)",
                "100k / 1k",
                "median < 150 ms",
            ],
            rows,
        )
        slow = [
            (n, big[n]) for n, v in pages.items() if v.get("built") and "error" not in v and not v["median_under_150ms"]
        ]
        if slow:
            out += ["<details><summary>Slowest SQL of the slow pages at 100,000 issuances</summary>", ""]
            for name, figures in slow:
                out += [f"**{name}** `{figures['url']}`", ""]
                for q in figures.get("slowest_queries", []):
                    out += [f"- {q['ms']} ms: `{q['sql'][:300]}`"]
                out += [""]
            out += ["</details>", ""]

    imp = results.get("import")
    if imp:
        out += ["## Import (10,000 issuance rows)", ""]
        if not imp.get("built"):
            out += [imp.get("note", "not built yet"), ""]
        else:
            loop_calls, import_calls = imp.get("loop_service_calls", {}), imp.get("import_service_calls", {})
            if imp.get("import_finished"):
                out += _table(
                    [
                        "path",
                        "seconds",
                        "rows/s",
                        "ratio",
                        "service call, first rows (median ms)",
                        "service call, last rows (median ms)",
                    ],
                    [
                        [
                            "plain loop of services.issuance_record (baseline)",
                            imp["loop_seconds"],
                            imp["loop_rows_per_second"],
                            "1",
                            loop_calls.get("first_rows_median_ms"),
                            loop_calls.get("last_rows_median_ms"),
                        ],
                        [
                            "run_import('issuances', CSV upload, commit=True)",
                            imp["import_seconds"],
                            imp["import_rows_per_second"],
                            f"{imp['ratio_import_to_loop']:.2f}",
                            import_calls.get("first_rows_median_ms"),
                            import_calls.get("last_rows_median_ms"),
                        ],
                    ],
                )
                out += [
                    f"Import report ok: {imp['report_ok']}, rows {imp['report_rows']:,}; issuances written "
                    f"{imp['issuances_written']}; both plans reconcile: {imp['reconciles']}.",
                    "",
                ]
            else:
                out += _table(
                    [
                        "path",
                        "seconds",
                        "rows done",
                        "service call, first rows (median ms)",
                        "service call, last rows (median ms)",
                    ],
                    [
                        [
                            "plain loop of services.issuance_record (baseline)",
                            imp["loop_seconds"],
                            imp["rows"],
                            loop_calls.get("first_rows_median_ms"),
                            loop_calls.get("last_rows_median_ms"),
                        ],
                        [
                            f"run_import (stopped at {imp['give_up_ratio']}x the loop)",
                            imp["gave_up_after_seconds"],
                            imp["rows_done_when_stopped"],
                            import_calls.get("first_rows_median_ms"),
                            import_calls.get("last_rows_median_ms"),
                        ],
                    ],
                )
            out += [
                f"First/last rows: the median service call over the first and the last "
                f"{loop_calls.get('rows_per_chunk', '')} rows of the loop and "
                f"{import_calls.get('rows_per_chunk', '')} rows of the import (a tenth of its rows, at most "
                "1,000). Inside the import every row is one more savepoint in one long transaction that updates "
                "the same Plan and designation rows again; in the loop each call commits.",
                "",
            ]

    exp = results.get("export")
    if exp:
        out += ["## Export (benchmarks/export_bench.py, 100,000 issuances)", ""]
        if "summary" in exp:
            out += _table(
                [
                    "variant",
                    "median seconds",
                    "time to first byte (s)",
                    "time to first rows (s)",
                    "median peak RSS (MB)",
                    "max peak RSS (MB)",
                    "bytes",
                ],
                [
                    [
                        k,
                        v["median_seconds"],
                        v.get("median_ttfb_seconds", ""),
                        v.get("median_first_rows_seconds", ""),
                        v["median_peak_rss_mb"],
                        v["max_peak_rss_mb"],
                        f"{v['bytes']:,}",
                    ]
                    for k, v in exp["summary"].items()
                ],
            )
            out += [
                "Time to first byte: ours stream (the XLSX's first chunk is its package parts, then the sheet's "
                "rows every 500 rows); the baselines write the whole file before its first byte, as xlsxwriter "
                "assembles the zip at close.",
                "",
            ]
            out += [f"Verdict: {exp.get('verdict')}", ""]
        else:
            out += [str(exp.get("note") or exp.get("error")), ""]
    ocf = results.get("ocf")
    if ocf:
        out += ["## OCF export (benchmarks/ocf_bench.py, 100,000 issuances, every object validated)", ""]
        if "runs" in ocf:
            out += _table(
                ["run", "seconds", "CPU seconds", "peak RSS (MB)", "RSS after set-up (MB)", "zip (MB)"],
                [
                    [
                        index + 1,
                        run["seconds"],
                        run["cpu_seconds"],
                        run["peak_rss_mb"],
                        run["rss_after_setup_mb"],
                        run["zip_mb"],
                    ]
                    for index, run in enumerate(ocf["runs"])
                ],
            )
            out += [f"Median {ocf['median_seconds']} s, peak {ocf['median_peak_rss_mb']} MB.", ""]
        else:
            out += [str(ocf.get("error")), ""]
    http = results.get("http")
    if http:
        out += ["## HTTP: the admin's issuance form against a raw endpoint in the same gunicorn", ""]
        out += _table(
            ["endpoint", "accepted", "accepted / s", "p50 (ms)", "p95 (ms)", "failures", "5xx"],
            [
                [
                    name,
                    http[key]["accepted"],
                    http[key]["accepted_per_second"],
                    http[key]["p50_ms"],
                    http[key]["p95_ms"],
                    http[key]["failures"],
                    http[key]["server_errors"],
                ]
                for name, key in (("admin issuance form (services)", "admin"), ("raw psycopg endpoint", "raw"))
            ],
        )
        out += [
            f"{http['clients']} clients, {http['gunicorn_workers']} gunicorn workers, "
            f"{http['posts_per_mode']:,} posts per endpoint; ratio {http['ratio_admin_to_raw']}. The raw "
            "endpoint (benchmarks/bench_urls.py) runs behind the same middleware: lock, designation check, "
            "insert, counters; no form, no history row.",
            "",
        ]

    scale = results.get("scale")
    if scale:
        out += [
            f"## A million issuances ({scale['issuances']:,} issuances, {scale['participants']:,} participants)",
            "",
        ]
        out += [
            f"generate_ledger: {scale.get('generate_seconds')} s; reconcile: {scale.get('reconcile_seconds')} s "
            f"(exit status {scale.get('reconcile_exit_status')}); XLSX export: {scale.get('export')}",
            "",
        ]
        if scale.get("pages"):
            out += _table(
                ["page", "queries (1,000)", "queries (1,000,000)", "median (ms)", "p95 (ms)"],
                [
                    [
                        name,
                        values.get("queries_1k"),
                        values.get("queries"),
                        values.get("median_ms"),
                        values.get("p95_ms"),
                    ]
                    for name, values in scale["pages"].items()
                    if "median_ms" in values
                ],
            )

    misses = Path(__file__).with_name("MISSES.md")  # hand-written: why a goal is missed, kept beside the figures
    if misses.exists():
        out += ["", misses.read_text().strip()]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # rewrite RESULTS.md from results.json: python benchmarks/report.py [results dir]
    import json
    import sys

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("results"))
    (folder / "RESULTS.md").write_text(write_markdown(json.loads((folder / "results.json").read_text())))
