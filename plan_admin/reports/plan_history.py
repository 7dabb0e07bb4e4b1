"""The plan-history sheet an auditor can check by hand: reserve changes, issued and cancelled shares per year,
and a reconciliation whose figures are live formulas over the rows above them, compared with the ledger's counters.

Every formula carries its computed value, so a reader that does not recalculate shows the same figures. Text is
written as text, unaltered.
"""

from __future__ import annotations

from .queries import PlanHistory
from .xlsx import HEADER, Cell, StreamingWorkbook


def write_plan_history(book: StreamingWorkbook, index: int, history: PlanHistory) -> None:
    plan = history.plan
    with book.sheet(index, widths=[34, 18, 18, 18, 22, 30, 14], freeze_rows=1) as sheet:
        as_of = f" as of {history.as_of:%Y-%m-%d}" if history.as_of else ""
        sheet.row([Cell(f"Plan history: {plan}{as_of}", "title")])
        sheet.row(["Class of stock", plan.stock_class])
        sheet.row(["Par value per share", Cell(plan.par_value, "par")])
        sheet.row(["Effective date", plan.effective_date or "not yet recorded"])
        sheet.row(["Terminated on", plan.termination_date or "in effect"])
        sheet.skip()

        # Reserve history: the initial reserve and every change, with the authorized shares after each.
        sheet.row([Cell("Share reserve", "bold")])
        sheet.row(
            [
                Cell(title, HEADER)
                for title in [
                    "Change",
                    "Board approval date",
                    "Shares",
                    "Authorized after",
                    "Resolution reference",
                    "Note",
                    "Recorded by",
                ]
            ]
        )
        running = 0
        first = sheet.next_row
        for number, (board_date, shares, resolution, note, recorder, _recorded_at) in enumerate(history.reserve):
            running += shares
            row = sheet.next_row
            formula = f"C{row}" if number == 0 else f"D{row - 1}+C{row}"
            sheet.row(
                [
                    "Initial reserve" if number == 0 else ("Increase" if shares > 0 else "Decrease"),
                    Cell(board_date, "date"),
                    Cell(shares, "int"),
                    Cell(running, "int", formula),
                    resolution or None,
                    note or None,
                    recorder or None,
                ]
            )
        last = sheet.next_row - 1
        reserve_span = f"C{first}:C{last}" if history.reserve else None
        authorized_cell = f"C{sheet.next_row}"
        sheet.row(
            [
                Cell("Authorized shares (sum of changes)", "total_label"),
                None,
                Cell(history.authorized, "total_int", f"SUM({reserve_span})" if reserve_span else "0"),
            ]
        )
        sheet.skip()

        # Issued, cancelled and committed shares per designation year.
        sheet.row([Cell("Shares by designation year", "bold")])
        sheet.row(
            [
                Cell(title, HEADER)
                for title in [
                    "Year",
                    "Issued (gross)",
                    "Cancelled",
                    "Issued (net)",
                    "Approved designations",
                    "Committed (unissued approved)",
                ]
            ]
        )
        first = sheet.next_row
        for line in history.years:
            row = sheet.next_row
            sheet.row(
                [
                    line.year,
                    Cell(line.issued, "int"),
                    Cell(line.cancelled, "int"),
                    Cell(line.issued - line.cancelled, "int", f"B{row}-C{row}"),
                    Cell(line.designated, "int"),
                    Cell(line.committed, "int"),
                ]
            )
        last = sheet.next_row - 1
        totals = (
            history.issued,
            history.cancelled,
            history.net_issued,
            sum(line.designated for line in history.years),
            sum(line.committed for line in history.years),
        )
        sheet.row(
            [Cell("Total", "total_label")]
            + [
                Cell(value, "total_int", f"SUM({letter}{first}:{letter}{last})")
                for letter, value in zip("BCDEF", totals, strict=True)
            ]
        )
        sheet.skip()

        # The reconciliation: live formulas, then the ledger's counters and whether they agree.
        sheet.row([Cell("Reconciliation", "bold")])
        cells = {}

        def line(label, key, formula, value):
            cells[key] = f"B{sheet.next_row}"
            sheet.row([label, Cell(value, "int", formula)])

        line("Authorized shares", "authorized", authorized_cell, history.authorized)
        line("Issued shares (gross)", "issued", f"SUM(B{first}:B{last})", history.issued)
        line("Cancelled shares", "cancelled", f"SUM(C{first}:C{last})", history.cancelled)
        line("Issued shares (net)", "net", f"{cells['issued']}-{cells['cancelled']}", history.net_issued)
        line("Committed to approved designations (all years)", "committed", f"SUM(F{first}:F{last})", history.committed)
        line(
            "Available (authorized - issued - committed)",
            "available",
            f"{cells['authorized']}-{cells['net']}-{cells['committed']}",
            history.available,
        )
        sheet.skip()
        if history.as_of:
            # The counters describe today's ledger, not the ledger as it stood then.
            within = history.net_issued + history.committed <= history.authorized
            sheet.row(
                [
                    "Within the reserve (issued net + committed ≤ authorized)",
                    Cell(
                        "OK" if within else "OVER",
                        "ok",
                        f'IF({cells["net"]}+{cells["committed"]}<={cells["authorized"]},"OK","OVER")',
                    ),
                ]
            )
            sheet.row(["The ledger's counters describe today's ledger: they are compared in a report taken today."])
            return
        counter_authorized = f"B{sheet.next_row}"
        sheet.row(["Ledger counter: authorized shares", Cell(plan.authorized_shares, "int")])
        counter_issued = f"B{sheet.next_row}"
        sheet.row(["Ledger counter: issued shares (net)", Cell(plan.issued_shares, "int")])
        counter_committed = f"B{sheet.next_row}"
        sheet.row(["Ledger counter: committed shares", Cell(plan.committed_shares, "int")])
        for label, ours, counter, agrees in (
            (
                "Authorized agrees with the counter",
                cells["authorized"],
                counter_authorized,
                history.authorized == plan.authorized_shares,
            ),
            ("Issued agrees with the counter", cells["net"], counter_issued, history.net_issued == plan.issued_shares),
            (
                "Committed agrees with the counter",
                cells["committed"],
                counter_committed,
                history.committed == plan.committed_shares,
            ),
        ):
            sheet.row([label, Cell("OK" if agrees else "MISMATCH", "ok", f'IF({ours}={counter},"OK","MISMATCH")')])
        within = history.net_issued + history.committed <= history.authorized
        sheet.row(
            [
                "Within the reserve (issued net + committed ≤ authorized)",
                Cell(
                    "OK" if within else "OVER",
                    "ok",
                    f'IF({cells["net"]}+{cells["committed"]}<={cells["authorized"]},"OK","OVER")',
                ),
            ]
        )


__all__ = ["write_plan_history"]
