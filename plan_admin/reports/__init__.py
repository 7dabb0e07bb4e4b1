"""Reports of the plan ledger as real spreadsheets (XLSX) and CSV.

queries.py       what each report holds: columns and a stream of rows, built from `values_list(...).iterator()`;
                 `ReportFilters` is the one place a report's scope is decided
writers.py       Tables to XLSX (one Excel table per sheet, totals below) and to CSV (one table, BOM); `escape_cell`
                 is the one CSV formula-injection rule; `SheetNames` makes sheet names Excel accepts
xlsx.py          the streaming XLSX writer (the zip is deflated and sent while rows are read)
plan_history.py  the pool report's plan-history sheet: a reconciliation in live formulas
responses.py     the downloads (both streamed) and the list of reports
views.py         /reports/ and its downloads; the admin changelists reuse responses.py with their querysets
"""
