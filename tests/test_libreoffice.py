"""Every export opened in LibreOffice (headless), recalculated, and compared with the ledger: the XLSX totals and
the plan-history checks ("OK") as LibreOffice computes them from the formulas, and the CSVs read as numbers, dates
and text (an escaped formula stays text).

The formulas' saved values are removed before LibreOffice opens the files, so every figure compared below is one
LibreOffice calculated. Needs Debian's libreoffice-calc-nogui (.ci/run installs it); in CI this test may not skip.
"""

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.db.models import Sum

from plan_admin.models import BoardDesignation, Issuance, Plan
from tests.test_reports import EVIL, download, ledger  # noqa: F401 - the ledger fixture

pytestmark = pytest.mark.django_db
SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"
REPORTS = ["issuances", "designations", "participants", "pool", "reserve"]
RECALCULATE_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def without_saved_values(data: bytes) -> bytes:
    """The workbook with every formula's saved value removed: only a recalculation can fill them in."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                content = re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", content)
            target.writestr(info.filename, content)
    return out.getvalue()


def libreoffice(tmp_path: Path, files: dict[str, bytes], infilter: str | None = None) -> dict[str, Path]:
    """Open `files` in headless LibreOffice (recalculating on load) and save them as XLSX; return the results."""
    if not Path(SOFFICE).exists():
        pytest.skip("LibreOffice is not installed (Debian: apt-get install libreoffice-calc-nogui)")
    profile = tmp_path / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALCULATE_ALWAYS)
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir(exist_ok=True)
    paths = []
    for name, data in files.items():
        (source / name).write_bytes(data)
        paths.append(str(source / name))
    command = [
        SOFFICE,
        "--headless",
        "--norestore",
        f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to",
        "xlsx:Calc MS Excel 2007 XML",
        "--outdir",
        str(out),
    ]
    if infilter:
        command.insert(2, f"--infilter={infilter}")
    finished = subprocess.run(command + paths, capture_output=True, text=True, timeout=300)
    results = {name: out / (Path(name).stem + ".xlsx") for name in files}
    missing = [name for name, path in results.items() if not path.exists()]
    assert not missing, f"LibreOffice did not convert {missing}: {finished.stdout} {finished.stderr}"
    return results


def labelled(sheet) -> dict[str, tuple]:
    return {row[0]: row for row in sheet.iter_rows(values_only=True) if isinstance(row[0], str)}


def test_every_export_recalculates_in_libreoffice_to_the_ledger(client, ledger, auditor, tmp_path):
    xlsx = {f"{slug}.xlsx": without_saved_values(download(client, auditor, slug, "xlsx")[1]) for slug in REPORTS}
    results = {name: openpyxl.load_workbook(path, data_only=True) for name, path in libreoffice(tmp_path, xlsx).items()}

    issued = Issuance.objects.aggregate(total=Sum("shares"))["total"]
    cancelled = Issuance.objects.cancelled().aggregate(total=Sum("shares"))["total"]
    plans = list(Plan.objects.order_by("pk"))
    totals = labelled(results["issuances.xlsx"].worksheets[0])
    assert totals["Total issued"][6] == issued
    assert totals["Cancelled"][6] == cancelled
    assert totals["Standing (net of cancellations)"][6] == sum(plan.issued_shares for plan in plans)
    consideration = sum(i.shares * i.price_per_share for i in Issuance.objects.all())
    assert totals["Total issued"][8] == pytest.approx(float(consideration))

    approved = BoardDesignation.objects.filter(status="approved")
    totals = labelled(results["designations.xlsx"].worksheets[0])
    assert totals["Total, approved designations"][5] == approved.aggregate(s=Sum("shares"))["s"]
    assert totals["Total, approved designations"][6] == approved.aggregate(s=Sum("issued_shares"))["s"]
    assert totals["Total, all designations"][5] == BoardDesignation.objects.aggregate(s=Sum("shares"))["s"]

    totals = labelled(results["participants.xlsx"].worksheets[0])
    assert totals["Total"][-1] == sum(plan.issued_shares for plan in plans)

    totals = labelled(results["reserve.xlsx"].worksheets[0])
    assert totals["Authorized shares (sum of changes)"][3] == sum(plan.authorized_shares for plan in plans)

    pool = results["pool.xlsx"]
    assert len(pool.worksheets) == 1 + len(plans)
    for plan, sheet in zip(plans, pool.worksheets[1:], strict=True):
        lines = labelled(sheet)
        assert lines["Authorized shares"][1] == plan.authorized_shares
        assert lines["Issued shares (net)"][1] == plan.issued_shares
        assert lines["Committed to approved designations (all years)"][1] == plan.committed_shares
        for check in [
            "Authorized agrees with the counter",
            "Issued agrees with the counter",
            "Committed agrees with the counter",
            "Within the reserve (issued net + committed ≤ authorized)",
        ]:
            assert lines[check][1] == "OK", (plan, check)


def test_every_csv_reads_in_libreoffice_as_numbers_dates_and_text(client, ledger, auditor, tmp_path):
    csvs = {f"{slug}.csv": download(client, auditor, slug, "csv")[1] for slug in REPORTS}
    results = {
        name: openpyxl.load_workbook(path)
        for name, path in libreoffice(tmp_path, csvs, infilter="CSV:44,34,76,1,,1033,false,true").items()
    }

    def table(name):
        rows = list(results[name].worksheets[0].iter_rows(values_only=True))
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]

    issuances = table("issuances.csv")
    assert sum(row["Shares"] for row in issuances) == Issuance.objects.aggregate(total=Sum("shares"))["total"]
    assert sum(row["Shares"] for row in issuances if row["Cancelled on"] is None) == sum(
        plan.issued_shares for plan in Plan.objects.all()
    )
    assert all(hasattr(row["Issue date"], "year") for row in issuances), "dates are dates"
    names = [
        cell
        for row in results["issuances.csv"].worksheets[0].iter_rows()
        for cell in row
        if isinstance(cell.value, str) and EVIL in cell.value
    ]
    assert names and all(cell.data_type == "s" and cell.value == "'" + EVIL for cell in names), (
        "the escaped formula stays text"
    )
    assert sum(row["Total shares"] for row in table("participants.csv")) == sum(
        plan.issued_shares for plan in Plan.objects.all()
    )
    for row in table("pool.csv"):
        assert row["Authorized"] == row["Authorized (ledger counter)"]
        assert row["Issued (net)"] == row["Issued (ledger counter)"]
    assert sum(row["Shares"] for row in table("reserve.csv")) == sum(
        plan.authorized_shares for plan in Plan.objects.all()
    )
    assert (
        sum(row["Designated shares"] for row in table("designations.csv"))
        == BoardDesignation.objects.aggregate(s=Sum("shares"))["s"]
    )
