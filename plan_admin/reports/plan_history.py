"""The plan-history sheet an auditor can check by hand: reserve changes, issued and cancelled shares per year,
and a reconciliation whose figures are live formulas over the rows above them, compared with the ledger's counters.

Every formula carries its computed value, so a reader that does not recalculate shows the same figures.
"""

from __future__ import annotations

from .queries import PlanHistory
from .writers import DATE, INT, XlsxReport, escape_cell


def write_plan_history(report: XlsxReport, history: PlanHistory) -> None:
    plan = history.plan
    sheet = report.add_sheet(f"History {plan.name}")
    f = report.formats
    for col, width in enumerate([34, 18, 18, 18, 22, 30, 14]):
        sheet.set_column(col, col, width)
    text = sheet.write_string
    row = 0
    text(row, 0, escape_cell(f"Plan history: {plan}"), f["title"])
    row += 1
    text(row, 0, "Class of stock")
    text(row, 1, escape_cell(plan.stock_class))
    row += 1
    text(row, 0, "Par value per share")
    sheet.write_number(row, 1, float(plan.par_value), f["price"])
    row += 1
    text(row, 0, "Effective date")
    if plan.effective_date:
        sheet.write_datetime(row, 1, plan.effective_date, f[DATE])
    else:
        text(row, 1, "not yet recorded")
    row += 1
    text(row, 0, "Terminated on")
    if plan.termination_date:
        sheet.write_datetime(row, 1, plan.termination_date, f[DATE])
    else:
        text(row, 1, "in effect")
    row += 2

    # Reserve history: the initial reserve and every change, with the authorized shares after each.
    text(row, 0, "Share reserve", f["bold"])
    row += 1
    header_row = row
    for col, title in enumerate(["Change", "Board approval date", "Shares", "Authorized after",
                                 "Resolution reference", "Note", "Recorded by"]):
        text(row, col, title, f["header"])
    sheet.freeze_panes(1, 0)
    running = 0
    first = header_row + 2  # 1-based row of the first change
    for number, (board_date, shares, resolution, note, recorder, _recorded_at) in enumerate(history.reserve):
        row += 1
        running += shares
        text(row, 0, "Initial reserve" if number == 0 else ("Increase" if shares > 0 else "Decrease"))
        sheet.write_datetime(row, 1, board_date, f[DATE])
        sheet.write_number(row, 2, shares, f[INT])
        excel_row = row + 1
        formula = f"=C{excel_row}" if number == 0 else f"=D{excel_row - 1}+C{excel_row}"
        sheet.write_formula(row, 3, formula, f[INT], running)
        for col, value in ((4, resolution), (5, note), (6, recorder)):
            if value:
                text(row, col, escape_cell(value))
    last = row + 1
    row += 1
    text(row, 0, "Authorized shares (sum of changes)", f["total_label"])
    reserve_span = f"C{first}:C{last}" if history.reserve else None
    sheet.write_formula(row, 2, f"=SUM({reserve_span})" if reserve_span else "=0", f["total_int"],
                        history.authorized)
    authorized_cell = f"C{row + 1}"
    row += 2

    # Issued, cancelled and committed shares per designation year.
    text(row, 0, "Shares by designation year", f["bold"])
    row += 1
    for col, title in enumerate(["Year", "Issued (gross)", "Cancelled", "Issued (net)",
                                 "Approved designations", "Committed (unissued approved)"]):
        text(row, col, title, f["header"])
    first = row + 2
    for line in history.years:
        row += 1
        excel_row = row + 1
        sheet.write_number(row, 0, line.year)  # General format: 2024, not 2,024
        sheet.write_number(row, 1, line.issued, f[INT])
        sheet.write_number(row, 2, line.cancelled, f[INT])
        sheet.write_formula(row, 3, f"=B{excel_row}-C{excel_row}", f[INT], line.issued - line.cancelled)
        sheet.write_number(row, 4, line.designated, f[INT])
        sheet.write_number(row, 5, line.committed, f[INT])
    last = row + 1
    row += 1
    text(row, 0, "Total", f["total_label"])
    totals = (history.issued, history.cancelled, history.net_issued,
              sum(line.designated for line in history.years), sum(line.committed for line in history.years))
    for col, value in zip(range(1, 6), totals):
        letter = "ABCDEF"[col]
        sheet.write_formula(row, col, f"=SUM({letter}{first}:{letter}{last})", f["total_int"], value)
    year_span = (first, last)
    row += 2

    # The reconciliation: live formulas, then the ledger's counters and whether they agree.
    text(row, 0, "Reconciliation", f["bold"])
    row += 1
    cells = {}

    def line(label, key, formula, value):
        nonlocal row
        text(row, 0, label)
        sheet.write_formula(row, 1, formula, f[INT], value)
        cells[key] = f"B{row + 1}"
        row += 1

    line("Authorized shares", "authorized", f"={authorized_cell}", history.authorized)
    line("Issued shares (gross)", "issued", f"=SUM(B{year_span[0]}:B{year_span[1]})", history.issued)
    line("Cancelled shares", "cancelled", f"=SUM(C{year_span[0]}:C{year_span[1]})", history.cancelled)
    line("Issued shares (net)", "net", f"={cells['issued']}-{cells['cancelled']}", history.net_issued)
    line("Committed to approved designations (all years)", "committed",
         f"=SUM(F{year_span[0]}:F{year_span[1]})", history.committed)
    line("Available (authorized - issued - committed)", "available",
         f"={cells['authorized']}-{cells['net']}-{cells['committed']}", history.available)
    row += 1
    text(row, 0, "Ledger counter: authorized shares")
    sheet.write_number(row, 1, plan.authorized_shares, f[INT])
    counter_authorized = f"B{row + 1}"
    row += 1
    text(row, 0, "Ledger counter: issued shares (net)")
    sheet.write_number(row, 1, plan.issued_shares, f[INT])
    counter_issued = f"B{row + 1}"
    row += 1
    text(row, 0, "Ledger counter: committed shares")
    sheet.write_number(row, 1, plan.committed_shares, f[INT])
    counter_committed = f"B{row + 1}"
    row += 1
    for label, ours, counter, agrees in (
        ("Authorized agrees with the counter", cells["authorized"], counter_authorized,
         history.authorized == plan.authorized_shares),
        ("Issued agrees with the counter", cells["net"], counter_issued, history.net_issued == plan.issued_shares),
        ("Committed agrees with the counter", cells["committed"], counter_committed,
         history.committed == plan.committed_shares),
    ):
        text(row, 0, label)
        sheet.write_formula(row, 1, f'=IF({ours}={counter},"OK","MISMATCH")', f["ok"], "OK" if agrees else "MISMATCH")
        row += 1
    text(row, 0, "Within the reserve (issued net + committed ≤ authorized)")
    sheet.write_formula(row, 1, f'=IF({cells["net"]}+{cells["committed"]}<={cells["authorized"]},"OK","OVER")',
                        f["ok"], "OK" if history.net_issued + history.committed <= history.authorized else "OVER")


__all__ = ["write_plan_history"]
