"""Reports of the plan ledger as real spreadsheets (XLSX) and CSV.

queries.py  what each report holds: columns and a stream of rows, built from `values_list(...).iterator()`
writers.py  the one streaming XLSX writer (xlsxwriter, constant_memory, temp file) and the streaming CSV writer;
            `escape_cell` is the formula-injection guard every writer applies to text
views.py    /reports/ and its downloads; the admin changelists reuse `responses.py` with their filtered querysets
"""
